"""Each test against an independent computation of its published formula.

The references below are written from the papers with plain Python loops over asset-events
and days (math, no vectorization), on a five asset-event panel; only distribution functions
come from scipy. They share no code with eventstudy.inference.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from inference_panels import tiny_panel
from scipy import stats

from eventstudy import inference as inf
from eventstudy.conventions import Conventions

WINDOWS = [(0, 0), (-1, 1), (0, 1)]
TOL = dict(rel=1e-10, abs=1e-12)


# --- plain-loop building blocks ------------------------------------------------------------
def rows(p):
    return range(len(p.sigma))


def cols(p, start, end):
    return range(start - int(p.taus[0]), end - int(p.taus[0]) + 1)


def car(p, i, start, end):
    return sum(p.ar[i, t] for t in cols(p, start, end))


def quad(p, i, s):
    a = p.xtx_inv[i]
    return sum(s[u] * a[u, v] * s[v] for u in range(len(s)) for v in range(len(s)))


def car_var(p, i, start, end):
    s = [sum(p.x_event[p.x_rows[i], t, c] for t in cols(p, start, end)) for c in range(p.k[i])]
    return p.sigma[i] ** 2 * ((end - start + 1) + quad(p, i, s))


def scar(p, i, start, end):
    return car(p, i, start, end) / math.sqrt(car_var(p, i, start, end))


def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs)


def sd(xs):
    xs = list(xs)
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def finite(x):
    return not math.isnan(x)


def p_norm(z, alt="two-sided"):
    return {"two-sided": 2 * stats.norm.sf(abs(z)), "greater": stats.norm.sf(z),
            "less": stats.norm.cdf(z)}[alt]


def p_t(t, df, alt="two-sided"):
    return {"two-sided": 2 * stats.t.sf(abs(t), df), "greater": stats.t.sf(t, df),
            "less": stats.t.cdf(t, df)}[alt]


def corr_pairwise(x, y):
    pairs = [(a, b) for a, b in zip(x, y, strict=True) if finite(a) and finite(b)]
    mx, my = mean(a for a, _ in pairs), mean(b for _, b in pairs)
    sxy = sum((a - mx) * (b - my) for a, b in pairs)
    sxx = sum((a - mx) ** 2 for a, _ in pairs)
    syy = sum((b - my) ** 2 for _, b in pairs)
    return sxy / math.sqrt(sxx * syy)


def rbar(p):
    n = len(p.sigma)
    day0 = list(p.keys["day0"])
    total = 0.0
    for i in range(n):
        for j in range(n):
            if i != j and day0[i] == day0[j]:
                total += corr_pairwise(p.est_resid[i], p.est_resid[j])
    return total / (n * (n - 1))


def avg_ranks(values):
    """Ranks 1..M of the finite values (ties averaged), NaN elsewhere."""
    idx = [k for k, v in enumerate(values) if finite(v)]
    order = sorted(idx, key=lambda k: values[k])
    out = [math.nan] * len(values)
    pos = 0
    while pos < len(order):
        end = pos
        while end + 1 < len(order) and values[order[end + 1]] == values[order[pos]]:
            end += 1
        for q in range(pos, end + 1):
            out[order[q]] = (pos + end) / 2 + 1
        pos = end + 1
    return out


def score_stat(p, scores, start, end, scale):
    """Sum of the window's daily mean (or sqrt-scaled) scores over sqrt(L) S."""
    l1 = p.est_resid.shape[1]
    days = len(scores[0])
    ubar = []
    for t in range(days):
        vals = [scores[i][t] for i in range(len(scores)) if finite(scores[i][t])]
        if vals:
            ubar.append(sum(vals) / (len(vals) if scale == "mean" else math.sqrt(len(vals))))
        else:
            ubar.append(math.nan)
    s = math.sqrt(mean(u**2 for u in ubar if finite(u)))
    window = [ubar[l1 + c] for c in cols(p, start, end)]
    return sum(window) / (math.sqrt(len(window)) * s)


def combined(p, i):
    return list(p.est_resid[i]) + list(p.ar[i])


# --- the tests -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def panel():
    return tiny_panel()


def check(results, expected_stats, expected_p, dist=None):
    assert [(r.start, r.end) for r in results] == WINDOWS
    for r, s, pv in zip(results, expected_stats, expected_p, strict=True):
        assert r.statistic == pytest.approx(s, **TOL), r
        assert r.pvalue == pytest.approx(pv, **TOL), r
        assert r.n == 5 or r.test in ("sign", "wilcoxon")
        if dist is not None:
            assert r.distribution == dist


def test_t_csect(panel):
    ts = []
    for w in WINDOWS:
        x = [car(panel, i, *w) for i in rows(panel)]
        ts.append(mean(x) / (sd(x) / math.sqrt(5)))
    check(inf.t_csect(panel, WINDOWS), ts, [p_t(t, 4) for t in ts], "t(4)")


def test_t_pooled(panel):
    zs = []
    for w in WINDOWS:
        x = [car(panel, i, *w) for i in rows(panel)]
        v = sum(car_var(panel, i, *w) for i in rows(panel))
        zs.append(mean(x) / (math.sqrt(v) / 5))
    check(inf.t_pooled(panel, WINDOWS), zs, [p_norm(z) for z in zs], "N(0,1)")


def test_t_cda(panel):
    l1 = panel.est_resid.shape[1]
    aar_est = [mean(panel.est_resid[i, t] for i in rows(panel) if finite(panel.est_resid[i, t]))
               for t in range(l1)]
    s = sd(aar_est)
    ts = []
    for w in WINDOWS:
        x = [car(panel, i, *w) for i in rows(panel)]
        ts.append(mean(x) / (s * math.sqrt(w[1] - w[0] + 1)))
    check(inf.t_cda(panel, WINDOWS), ts, [p_t(t, l1 - 1) for t in ts], f"t({l1 - 1})")


def patell_z(p, w):
    num = sum(scar(p, i, *w) for i in rows(p))
    den = sum((p.nobs[i] - 2) / (p.nobs[i] - 4) for i in rows(p))
    return num / math.sqrt(den)


def test_patell(panel):
    zs = [patell_z(panel, w) for w in WINDOWS]
    check(inf.patell(panel, WINDOWS), zs, [p_norm(z) for z in zs])


def bmp_t(p, w):
    x = [scar(p, i, *w) for i in rows(p)]
    return mean(x) / (sd(x) / math.sqrt(len(x)))


def test_bmp(panel):
    ts = [bmp_t(panel, w) for w in WINDOWS]
    check(inf.bmp(panel, WINDOWS), ts, [p_t(t, 4) for t in ts], "t(4)")


def test_mean_cross_correlation_matches_pandas_pairwise(panel):
    import pandas as pd

    r = pd.DataFrame(panel.est_resid.T).corr().to_numpy()  # pairwise-complete
    by_hand = (r[0, 1] + r[0, 2] + r[1, 2] + r[3, 4]) * 2 / (5 * 4)
    assert rbar(panel) == pytest.approx(by_hand, rel=1e-12)
    res = inf.kp(panel, [(0, 0)])[0]
    assert res.note == f"r̄ = {by_hand:.4f}"


def test_kp(panel):
    r = rbar(panel)
    ts = [bmp_t(panel, w) * math.sqrt((1 - r) / (1 + 4 * r)) for w in WINDOWS]
    check(inf.kp(panel, WINDOWS), ts, [p_t(t, 4) for t in ts], "t(4)")


def test_patell_adj(panel):
    r = rbar(panel)
    zs = [patell_z(panel, w) / math.sqrt(1 + 4 * r) for w in WINDOWS]
    check(inf.patell_adj(panel, WINDOWS), zs, [p_norm(z) for z in zs])


def test_kp_equals_bmp_when_every_event_date_differs():
    p = tiny_panel()
    p.keys["day0"] = [f"2024-0{m}-01" for m in range(1, 6)]
    for a, b in zip(inf.kp(p, WINDOWS), inf.bmp(p, WINDOWS), strict=True):
        assert a.statistic == pytest.approx(b.statistic, rel=1e-12)


def lamb_reference(p, w, ddof="k", pe="mean"):
    l1 = p.est_resid.shape[1]
    clusters = {0: [0, 1, 2], 1: [3, 4]}
    length = w[1] - w[0] + 1
    v = 0.0
    for members in clusters.values():
        port = [mean(p.est_resid[i, t] for i in members if finite(p.est_resid[i, t]))
                for t in range(l1)]
        if ddof == "k":
            s2 = sum(e**2 for e in port) / (l1 - 2)
        else:
            s2 = sd(port) ** 2
        qs = []
        for i in members:
            s = [sum(p.x_event[p.x_rows[i], t, c] for t in cols(p, *w)) for c in range(2)]
            qs.append(quad(p, i, s))
        if pe == "mean":
            q = mean(qs)
        else:  # L^2 / mean(L1) + mean of the centered parts
            q = length**2 / mean(p.nobs[i] for i in members) + mean(
                qs[j] - length**2 / p.nobs[i] for j, i in enumerate(members))
        v += (len(members) / 5) ** 2 * s2 * (length + q)
    x = [car(p, i, *w) for i in rows(p)]
    return mean(x) / math.sqrt(v)


@pytest.mark.parametrize("gaps", [False, True])
def test_lamb(gaps):
    p = tiny_panel(with_gaps=gaps)
    zs = [lamb_reference(p, w) for w in WINDOWS]
    check(inf.lamb(p, WINDOWS), zs, [p_norm(z) for z in zs], "N(0,1)")


def test_lamb_estudy2_variant(panel):
    conv = Conventions(sigma_ddof="1", lamb_pe="estudy2")
    zs = [lamb_reference(panel, w, ddof="1", pe="estudy2") for w in WINDOWS]
    check(inf.lamb(panel, WINDOWS, conventions=conv), zs, [p_norm(z) for z in zs])


def test_skew_t(panel):
    ts = []
    for w in WINDOWS:
        x = [car(panel, i, *w) for i in rows(panel)]
        m, s = mean(x), sd(x)
        g = sum((v - m) ** 3 for v in x) / (5 * s**3)
        ratio = m / s
        ts.append(math.sqrt(5) * (ratio + g * ratio**2 / 3 + g / 30))
    check(inf.skew_t(panel, WINDOWS), ts, [p_t(t, 4) for t in ts], "t(4)")


def test_bootstrap_reproduces_documented_sign_flips(panel):
    b = 200
    v = np.random.default_rng(7).choice(np.array([-1.0, 1.0]), size=(b, 5))
    stats_, ps = [], []
    for w in WINDOWS:
        x = [car(panel, i, *w) for i in rows(panel)]
        t = mean(x) / (sd(x) / math.sqrt(5))
        hits = 0
        for row in v:
            xs = [row[i] * x[i] for i in range(5)]
            hits += abs(mean(xs) / (sd(xs) / math.sqrt(5))) >= abs(t) * (1 - 1e-12)  # ties
        stats_.append(t)
        ps.append((1 + hits) / (b + 1))
    check(inf.bootstrap(panel, WINDOWS, n_boot=b, random_state=7), stats_, ps)


def test_bootstrap_approaches_the_exact_sign_flip_randomization_test(panel):
    x = [car(panel, i, -1, 1) for i in rows(panel)]
    t = mean(x) / (sd(x) / math.sqrt(5))
    flips = list(itertools.product([-1, 1], repeat=5))
    exact = mean(
        abs(mean(f[i] * x[i] for i in range(5)) / (sd([f[i] * x[i] for i in range(5)])
                                                  / math.sqrt(5))) >= abs(t) - 1e-12
        for f in flips
    )
    res = inf.bootstrap(panel, [(-1, 1)], n_boot=20000, random_state=1)[0]
    assert res.pvalue == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / 20000))


def test_sign(panel):
    zs, ps = [], []
    for w in WINDOWS:
        x = [car(panel, i, *w) for i in rows(panel)]
        pos = sum(v > 0 for v in x)
        zs.append((pos - 2.5) / math.sqrt(5 / 4))
        upper = sum(math.comb(5, j) for j in range(pos, 6)) / 32
        lower = sum(math.comb(5, j) for j in range(0, pos + 1)) / 32
        ps.append(min(1.0, 2 * min(upper, lower)))
    check(inf.sign(panel, WINDOWS), zs, ps, "binomial(5, 0.5)")


def test_gsign(panel):
    shares = []
    for i in rows(panel):
        e = [v for v in panel.est_resid[i] if finite(v)]
        shares.append(sum(v > 0 for v in e) / len(e))
    p_hat = mean(shares)
    zs = []
    for w in WINDOWS:
        pos = sum(car(panel, i, *w) > 0 for i in rows(panel))
        zs.append((pos - 5 * p_hat) / math.sqrt(5 * p_hat * (1 - p_hat)))
    check(inf.gsign(panel, WINDOWS), zs, [p_norm(z) for z in zs])


def test_rank(panel):
    scores = []
    for i in rows(panel):
        series = combined(panel, i)
        k = avg_ranks(series)
        m = sum(finite(v) for v in series)
        scores.append([r / (m + 1) - 0.5 if finite(r) else math.nan for r in k])
    zs = [score_stat(panel, scores, *w, "mean") for w in WINDOWS]
    check(inf.rank(panel, WINDOWS), zs, [p_norm(z) for z in zs])


def test_mrank(panel):
    p = panel
    l2 = p.ar.shape[1]
    sar = [[p.ar[i, t] / (p.sigma[i] * math.sqrt(1 + quad(p, i, p.x_event[p.x_rows[i], t])))
            for t in range(l2)] for i in rows(p)]
    day_sd = [sd(sar[i][t] for i in rows(p)) for t in range(l2)]
    scores = []
    for i in rows(p):
        series = [e / p.sigma[i] for e in p.est_resid[i]] + [sar[i][t] / day_sd[t]
                                                            for t in range(l2)]
        k = avg_ranks(series)
        m = sum(finite(v) for v in series)
        scores.append([r / (m + 1) - 0.5 if finite(r) else math.nan for r in k])
    zs = [score_stat(p, scores, *w, "sqrt") for w in WINDOWS]
    check(inf.mrank(p, WINDOWS), zs, [p_norm(z) for z in zs])


def test_cz_sign(panel):
    scores = []
    for i in rows(panel):
        series = combined(panel, i)
        vals = sorted(v for v in series if finite(v))
        mid = len(vals) // 2
        med = vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2
        scores.append([math.copysign(1.0, v - med) if finite(v) and v != med else
                       (0.0 if finite(v) else math.nan) for v in series])
    zs = [score_stat(panel, scores, *w, "sqrt") for w in WINDOWS]
    check(inf.cz_sign(panel, WINDOWS), zs, [p_norm(z) for z in zs])


def grank_reference(p, w):
    z = [scar(p, i, *w) for i in rows(p)]
    s = sd(z)
    u = []
    for i in rows(p):
        series = [e / p.sigma[i] for e in p.est_resid[i]] + [z[i] / s]
        k = avg_ranks(series)
        m = sum(finite(v) for v in series)
        u.append([r / (m + 1) - 0.5 if finite(r) else math.nan for r in k])
    n = len(u)
    big_t = len(u[0])
    ubar, n_t = [], []
    for t in range(big_t):
        vals = [u[i][t] for i in range(n) if finite(u[i][t])]
        ubar.append(mean(vals))
        n_t.append(len(vals))
    s_u = math.sqrt(sum(n_t[t] / n * ubar[t] ** 2 for t in range(big_t)) / big_t)
    zstat = ubar[-1] / s_u
    t_stat = zstat * math.sqrt((big_t - 2) / (big_t - 1 - zstat**2))
    m_i = [sum(finite(v) for v in u[i]) for i in range(n)]
    z_var = sum((m - 1) / (12 * (m + 1)) for m in m_i) / n**2
    return t_stat, big_t - 2, ubar[-1] / math.sqrt(z_var)


def test_grank_t(panel):
    ref = [grank_reference(panel, w) for w in WINDOWS]
    check(inf.grank(panel, WINDOWS), [r[0] for r in ref], [p_t(r[0], r[1]) for r in ref],
          "t(7)")


def test_grank_z(panel):
    ref = [grank_reference(panel, w) for w in WINDOWS]
    res = inf.TESTS["grank_z"](panel, WINDOWS)
    assert {r.test for r in res} == {"grank_z"}
    check(res, [r[2] for r in ref], [p_norm(r[2]) for r in ref], "N(0,1)")


def test_wilcoxon_exact(panel):
    zs, ps = [], []
    for w in WINDOWS:
        x = [car(panel, i, *w) for i in rows(panel)]
        ranks = avg_ranks([abs(v) for v in x])
        w_plus = sum(r for r, v in zip(ranks, x, strict=True) if v > 0)
        zs.append((w_plus - 5 * 6 / 4) / math.sqrt(5 * 6 * 11 / 24))
        # exact null distribution of W+ by enumerating the 2^5 sign patterns
        dist = [sum(r for r, f in zip(range(1, 6), flips, strict=True) if f)
                for flips in itertools.product([0, 1], repeat=5)]
        upper = mean(d >= w_plus for d in dist)
        lower = mean(d <= w_plus for d in dist)
        ps.append(min(1.0, 2 * min(upper, lower)))
    check(inf.wilcoxon(panel, WINDOWS), zs, ps, "exact signed-rank (n=5)")


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_one_sided_pvalues(panel, alternative):
    for name, dist in (("t_csect", "t"), ("patell", "z"), ("gsign", "z")):
        for r in inf.TESTS[name](panel, WINDOWS, alternative):
            expected = (p_t(r.statistic, 4, alternative) if dist == "t"
                        else p_norm(r.statistic, alternative))
            assert r.pvalue == pytest.approx(expected, **TOL)
            assert r.alternative == alternative


def test_cached_window_quantities_are_read_only_and_match_direct_formulas():
    p = tiny_panel()  # a fresh panel: its cache starts empty
    day = p.window_slice(0, 0).start
    np.testing.assert_array_equal(p.car(0, 0), p.ar[:, day])
    # CLM eq. 4.4.9 for one day, with s'(X'X)^{-1}s written out.
    x = p.x_event[p.x_rows, day]
    quad = np.array([x[i] @ p.xtx_inv[i] @ x[i] for i in range(len(p))])
    np.testing.assert_allclose(p.car_var(0, 0), p.sigma**2 * (1 + quad), rtol=1e-14)
    np.testing.assert_allclose(p.ar_var()[:, day], p.sigma**2 * (1 + quad), rtol=1e-14)
    for value in (p.car(0, 0), p.car(-1, 1), p.car_var(0, 0), p.scar(-1, 1), p.ar_var()):
        with pytest.raises(ValueError, match="read-only"):
            value[0] = 0.0
    assert np.isfinite(p.ar).all()  # nothing written through the single-day view


def test_kp_with_interleaved_event_dates():
    """Asset-events of one day 0 that are not adjacent rows (their residuals are copied)."""
    p = tiny_panel().subset(np.array([0, 3, 1, 4, 2]))  # day-0 clusters {0, 2, 4} and {1, 3}
    assert list(p.keys["day0"].factorize()[0]) == [0, 1, 0, 1, 0]
    r = rbar(p)
    assert r == pytest.approx(rbar(tiny_panel()), rel=1e-12)  # the same pairs
    ts = [bmp_t(p, w) * math.sqrt((1 - r) / (1 + 4 * r)) for w in WINDOWS]
    check(inf.kp(p, WINDOWS), ts, [p_t(t, 4) for t in ts], "t(4)")
