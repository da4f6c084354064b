"""The vectorized rank tests against the straightforward per-row, per-window computation.

``eventstudy.inference.nonparametric`` ranks rows with one integer sort, sums the daily scores
of all windows a block of rows at a time, and lets GRANK insert each window's SCAR into ranks
of the residuals computed once. The references here do it the slow way (as the package did
before): :func:`scipy.stats.rankdata` row by row, and for each window a copy of its usable
rows, ranked afresh for GRANK. The panel has missing days, exact ties (rounded values, a
SCAR equal to residuals), unusable rows (NaN or zero sigma) and windows whose usable rows
differ; its rows are summed in one block or in several on threads, and the numbers must agree
to 1e-12 relative (1e-14 absolute).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from inference_panels import simulate_panel
from scipy import stats

from eventstudy import _parallel
from eventstudy import inference as inf
from eventstudy.abnormal import ARPanel
from eventstudy.conventions import get_conventions
from eventstudy.inference import nonparametric
from eventstudy.inference._core import with_pe
from eventstudy.inference.nonparametric import _count_at_most, _row_ranks

TOL = dict(rtol=1e-12, atol=1e-14)
CONVENTIONS = ["clm", "estudy2"]


# --- references: the per-row, per-window computation ----------------------------------------
def rankdata_rows(x):
    """Average ranks of each row over its non-NaN values, one scipy call per row."""
    return np.array([stats.rankdata(row, nan_policy="omit") for row in x]).reshape(x.shape)


def usable(p, start, end):
    car = p.ar[:, p.window_slice(start, end)].sum(axis=1)
    return np.isfinite(car) & np.isfinite(p.sigma) & (p.sigma > 0)


def score_reference(p, scores, windows, scale, conv):
    """Window statistics from daily scores, copying each window's usable rows."""
    l1 = p.est_resid.shape[1]
    out = []
    for start, end in windows:
        s = scores[usable(p, start, end)]
        n = len(s)
        count = np.isfinite(s).sum(axis=0)
        days = count > 0
        norm = count if scale == "mean" else np.sqrt(count)
        with np.errstate(invalid="ignore", divide="ignore"):
            ubar = np.where(days, np.nansum(s, axis=0) / norm, np.nan)
            if conv.score_scaling == "estudy2":
                ubar = ubar * n / count
        length = np.isfinite(s).sum(axis=1).mean() if conv.score_scaling == "estudy2" \
            else days.sum()
        sd = np.sqrt(np.nansum(ubar**2) / length)
        sl = p.window_slice(start, end)
        window = ubar[l1 + sl.start:l1 + sl.stop]
        out.append(window.sum() / (np.sqrt(window.size) * sd))
    return out


def uniform(series):
    return rankdata_rows(series) / (np.isfinite(series).sum(axis=1, keepdims=True) + 1.0)


def rank_reference(p, windows, conv):
    series = np.concatenate([p.est_resid, p.ar], axis=1)
    if conv.rank_scores == "raw":
        scores = rankdata_rows(series) - (np.isfinite(series).sum(axis=1, keepdims=True) + 1) / 2
    else:
        scores = uniform(series) - 0.5
    return score_reference(p, scores, windows, "mean", conv)


def mrank_reference(p, windows, conv):
    if conv.mrank_returns == "raw":
        series = np.concatenate([p.est_resid, p.ar], axis=1)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            sar = with_pe(p, conv.prediction_error).sar()
            event = sar / np.nanstd(sar, axis=0, ddof=1, keepdims=True)
            series = np.concatenate([p.est_resid / p.sigma[:, None], event], axis=1)
    return score_reference(p, uniform(series) - 0.5, windows, "sqrt", conv)


def cz_sign_reference(p, windows, conv):
    series = np.concatenate([p.est_resid, p.ar], axis=1)
    scores = np.sign(series - np.nanmedian(series, axis=1, keepdims=True))
    return score_reference(p, scores, windows, "sqrt", conv)


def grank_reference(p, windows, conv):
    """(GRANK-T, its df, GRANK-Z) per window, each window's rows ranked afresh."""
    pe = with_pe(p, conv.prediction_error)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = p.est_resid / p.sigma[:, None]
    out = []
    for start, end in windows:
        ok = usable(p, start, end)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = pe.scar(start, end)[ok]
        n = len(z)
        series = np.column_stack([est[ok], z / np.std(z, ddof=1)])
        u = uniform(series) - 0.5
        count = np.isfinite(u).sum(axis=0)
        days = count > 0
        ubar = np.nanmean(u[:, days], axis=0)
        n_t = days.sum()
        zstat = ubar[-1] / np.sqrt(np.mean(count[days] / n * ubar**2))
        t_i = np.isfinite(u).sum(axis=1)
        z_grank = ubar[-1] / np.sqrt(np.sum((t_i - 1) / (12 * (t_i + 1))) / n**2)
        out.append((zstat * np.sqrt((n_t - 2) / (n_t - 1 - zstat**2)), n_t - 2, z_grank))
    return out


# --- panels ---------------------------------------------------------------------------------
def windows_of(p):
    return [(int(t), int(t)) for t in p.taus] + [(-1, 1), (0, 1), (-2, 2)]


def gappy_panel(seed: int = 7) -> ARPanel:
    """Market-model asset-events with missing days, ties, a SCAR* equal to a residual, and
    unusable rows; event days -2..2, so every window has its own usable rows."""
    rng = np.random.default_rng(seed)
    p = simulate_panel(rng, n=60, l1=40, l2=5, abnormal=0.004)
    # Rounded residuals and ARs: ties within rows and between the two parts.
    est = np.round(p.est_resid, 3)
    ar = np.round(p.ar, 3)
    est[rng.random(est.shape) < 0.05] = np.nan
    est[3, :] = np.nan  # no estimation residual at all
    ar[[5, 9, 17], [0, 2, 4]] = np.nan  # each misses a different event day
    sigma = p.sigma.copy()
    sigma[11], sigma[12] = np.nan, 0.0
    sigma[20:23] = 1.0  # residuals / 1.0 are exact: room for a SCAR* tie below
    p = dataclasses.replace(p, est_resid=est, ar=ar, sigma=sigma)
    # Rows 20-22: a residual equal to SCAR*_i of window (0, 0) (no prediction error, as the
    # "estudy2" conventions; with it, window (0, 0) differs and the rows keep rounded ties).
    ok = usable(p, 0, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = with_pe(p, False).scar(0, 0)
    star = z / np.std(z[ok], ddof=1)
    est = est.copy()
    est[20:23, 5] = star[20:23]
    est[21, 6] = star[21]  # two residuals tied with it
    return dataclasses.replace(p, est_resid=est)


@pytest.fixture(scope="module")
def panel():
    return gappy_panel()


@pytest.fixture(params=["one block", "blocks of 8 rows, spans of 24, 2 threads"])
def blocks(request, monkeypatch):
    """The panel's 60 rows in one block, or in several blocks and thread tasks."""
    if request.param != "one block":
        monkeypatch.setattr(nonparametric, "_BLOCK", 8)
        monkeypatch.setattr(nonparametric, "_SPAN", 24)
        monkeypatch.setattr(_parallel, "THREADS", 2)


# --- tests ----------------------------------------------------------------------------------
@pytest.mark.parametrize("m", [1, 2, 7, 240, 600])
def test_row_ranks_match_scipy(m):
    rng = np.random.default_rng(m)
    x = rng.standard_t(4, (300, m))
    x[rng.random(x.shape) < 0.05] = np.nan
    x[:100] = np.round(x[:100], 1)  # ties
    x[100:110] = np.nan  # rows without any value
    if m > 2:  # rows 150-299 keep distinct values
        x[110:120, 0] = np.nextafter(x[110:120, 1], np.inf)  # differ in the last bit only
        x[120:130, 1] = x[120:130, 2] * (1 + 2.0**-48)  # differ in a few low bits only
        x[130:140, :3] = [-0.0, 0.0, 0.0]  # -0.0 ties with 0.0
        x[140:150, :2] = [np.inf, -np.inf]
    expected = rankdata_rows(x)
    np.testing.assert_array_equal(_row_ranks(x), expected)


def test_count_at_most_matches_searchsorted():
    rng = np.random.default_rng(3)
    x = np.sort(np.round(rng.normal(size=(200, 37)), 1), axis=1)
    x[50:100, 30:] = np.nan  # NaN last
    v = np.round(rng.normal(size=(200, 4)), 1)
    v[:, 0] = x[:, 10]  # equal to a value
    v[:, 1] = np.inf
    expected = np.array([[np.searchsorted(row[np.isfinite(row)], q, side="right") for q in qs]
                         for row, qs in zip(x, v, strict=True)])
    np.testing.assert_array_equal(_count_at_most(x, v), expected)


def test_panel_has_what_the_references_must_cover(panel):
    windows = windows_of(panel)
    assert len({tuple(usable(panel, *w)) for w in windows}) > 3
    est = panel.est_resid
    assert any(len(np.unique(r[np.isfinite(r)])) < np.isfinite(r).sum() for r in est)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = with_pe(panel, False).scar(0, 0)
    ok = usable(panel, 0, 0)
    star = z / np.std(z[ok], ddof=1)
    assert (est[20:23] == star[20:23, None]).any(axis=1).all()


@pytest.mark.parametrize("conventions", CONVENTIONS)
@pytest.mark.parametrize(("name", "reference"), [("rank", rank_reference),
                                                 ("mrank", mrank_reference),
                                                 ("cz_sign", cz_sign_reference)])
def test_score_tests_match_per_window_reference(panel, blocks, conventions, name, reference):
    windows = windows_of(panel)
    res = inf.TESTS[name](panel, windows, conventions=conventions)
    expected = reference(panel, windows, get_conventions(conventions))
    np.testing.assert_allclose([r.statistic for r in res], expected, **TOL)
    np.testing.assert_allclose([r.pvalue for r in res],
                               [2 * stats.norm.sf(abs(z)) for z in expected], **TOL)


@pytest.mark.parametrize("conventions", CONVENTIONS)
def test_grank_matches_per_window_reranking(panel, blocks, conventions):
    windows = windows_of(panel)
    ref = grank_reference(panel, windows, get_conventions(conventions))
    t_res = inf.grank(panel, windows, conventions=conventions)
    np.testing.assert_allclose([r.statistic for r in t_res], [r[0] for r in ref], **TOL)
    np.testing.assert_allclose([r.pvalue for r in t_res],
                               [2 * stats.t.sf(abs(t), df) for t, df, _ in ref], **TOL)
    assert [r.distribution for r in t_res] == [f"t({df})" for _, df, _ in ref]
    z_res = inf.grank(panel, windows, variant="z", conventions=conventions)
    np.testing.assert_allclose([r.statistic for r in z_res], [r[2] for r in ref], **TOL)
    np.testing.assert_allclose([r.pvalue for r in z_res],
                               [2 * stats.norm.sf(abs(z)) for *_, z in ref], **TOL)


def test_threads_do_not_change_numbers(panel, monkeypatch):
    monkeypatch.setattr(nonparametric, "_BLOCK", 8)
    monkeypatch.setattr(nonparametric, "_SPAN", 24)
    windows = windows_of(panel)
    out = {}
    for threads in (1, 3):
        monkeypatch.setattr(_parallel, "THREADS", threads)
        out[threads] = [(r.statistic, r.pvalue) for name in ("rank", "mrank", "cz_sign", "grank",
                                                             "grank_z")
                        for r in inf.TESTS[name](panel, windows, conventions="estudy2")]
    np.testing.assert_array_equal(out[1], out[3])
