"""scipy cross-checks, the runner, aggregates, group differences and rejection rates."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from inference_panels import make_panel, simulate_panel, tiny_panel
from scipy import stats

from eventstudy import inference as inf
from eventstudy.conventions import Conventions
from eventstudy.exceptions import SpecificationError, WindowError

RESULT_COLUMNS = ["test", "start", "end", "statistic", "pvalue", "n", "distribution", "null",
                  "alternative", "note", "conventions"]


@pytest.fixture(scope="module")
def panel():
    return simulate_panel(np.random.default_rng(3), n=40, l1=60, l2=5, abnormal=0.004)


# --- scipy / statsmodels cross-checks ------------------------------------------------------
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_t_csect_equals_scipy_ttest_1samp(panel, alternative):
    for r in inf.t_csect(panel, [(0, 0), (-2, 2)], alternative):
        ref = stats.ttest_1samp(panel.car(r.start, r.end), 0.0, alternative=alternative)
        assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
        assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-10)


def test_bmp_equals_scipy_ttest_on_standardized_cars(panel):
    r = inf.bmp(panel, [(-1, 1)])[0]
    ref = stats.ttest_1samp(panel.scar(-1, 1), 0.0)
    assert (r.statistic, r.pvalue) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-10)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_sign_pvalue_equals_scipy_binomtest(panel, alternative):
    for r in inf.sign(panel, [(0, 0), (-1, 1), (2, 2)], alternative):
        x = panel.car(r.start, r.end)
        ref = stats.binomtest(int((x > 0).sum()), x.size, 0.5, alternative=alternative)
        assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-10)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_wilcoxon_pvalue_equals_scipy(panel, alternative):
    for r in inf.wilcoxon(panel, [(0, 0), (-2, 2)], alternative):
        x = panel.car(r.start, r.end)
        ref = stats.wilcoxon(x, alternative=alternative, method="exact")
        assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-10)
        assert r.distribution == "exact signed-rank (n=40)"


def test_wilcoxon_large_sample_uses_normal_approximation():
    p = simulate_panel(np.random.default_rng(5), n=80, l1=40, l2=1)
    r = inf.wilcoxon(p, [(0, 0)])[0]
    ref = stats.wilcoxon(p.car(0, 0), method="approx")
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-10)
    signed = stats.wilcoxon(p.car(0, 0), method="approx", alternative="greater")
    assert r.statistic == pytest.approx(signed.zstatistic, rel=1e-10)  # from W+, signed
    assert r.distribution == "N(0,1)"


def test_sign_leaves_out_zero_cars():
    p = tiny_panel()
    ar = p.ar.copy()
    ar[0, 1] = 0.0
    p = make_panel(ar, p.est_resid, p.sigma, k=2, x_event=p.x_event, xtx_inv=p.xtx_inv)
    r = inf.sign(p, [(0, 0)])[0]
    assert r.n == 4 and r.note == "1 zero CARs left out"
    assert r.pvalue == pytest.approx(
        stats.binomtest(int((ar[:, 1] > 0).sum()), 4).pvalue, rel=1e-12)


# --- not applicable instead of raising -----------------------------------------------------
def test_too_few_asset_events_give_nan_with_reason():
    one = tiny_panel().subset(np.array([0]))
    res = inf.run_tests(one, tests=["t_csect", "bmp", "kp", "skew_t", "grank", "bootstrap"])
    assert res["statistic"].isna().all() and res["pvalue"].isna().all()
    assert res["note"].str.contains("at least").all()
    ok = inf.run_tests(one, tests=["t_pooled", "patell", "patell_adj"])
    assert ok["pvalue"].notna().all()


def test_zero_variance_gives_nan_with_reason():
    p = tiny_panel()
    ar = np.full_like(p.ar, 0.01)
    q = make_panel(ar, p.est_resid, p.sigma, k=2, x_event=p.x_event, xtx_inv=p.xtx_inv)
    r = inf.t_csect(q, [(0, 0)])[0]
    assert math.isnan(r.statistic) and "zero cross-sectional variance" in r.note


def test_missing_days_drop_the_asset_event_from_the_window_only():
    p = tiny_panel()
    ar = p.ar.copy()
    ar[2, 0] = np.nan  # day -1 missing for row 2
    q = make_panel(ar, p.est_resid, p.sigma, k=2, x_event=p.x_event, xtx_inv=p.xtx_inv)
    by_window = {(r.start, r.end): r.n for r in inf.t_csect(q, [(-1, 1), (0, 1), (-1, -1)])}
    assert by_window == {(-1, 1): 4, (0, 1): 5, (-1, -1): 4}


# --- runner --------------------------------------------------------------------------------
def test_run_tests_every_day_and_window_for_every_test(panel):
    table = inf.run_tests(panel, [(-1, 1), (0, 0), (-2, 2)])
    assert list(table.columns) == RESULT_COLUMNS
    windows = [(t, t) for t in range(-2, 3)] + [(-1, 1), (-2, 2)]
    assert len(table) == len(inf.TESTS) * len(windows)
    for name in inf.TESTS:
        sub = table[table["test"] == name]
        assert list(zip(sub["start"], sub["end"], strict=True)) == windows
    assert (table["conventions"] == "clm").all()
    assert table.attrs["conventions"]["name"] == "clm"
    assert table["pvalue"].between(0, 1).all()


def test_run_tests_equals_the_test_functions(panel):
    table = inf.run_tests(panel, [(-1, 1)], tests=["patell", "bootstrap"], random_state=11,
                          options={"bootstrap": {"n_boot": 99}})
    direct = inf.patell(panel, [(t, t) for t in range(-2, 3)] + [(-1, 1)])
    direct += inf.bootstrap(panel, [(t, t) for t in range(-2, 3)] + [(-1, 1)], n_boot=99,
                            random_state=11)
    expected = pd.DataFrame([r.__dict__ for r in direct])
    pd.testing.assert_frame_equal(table, expected[RESULT_COLUMNS], check_dtype=False)


def test_run_tests_group_by(panel):
    keys = panel.keys.assign(direction=np.where(np.arange(len(panel)) % 3 == 0, "up", "down"))
    p = make_panel(panel.ar, panel.est_resid, panel.sigma, k=2, x_event=panel.x_event,
                   xtx_inv=panel.xtx_inv, extra_keys={"direction": keys["direction"]})
    table = inf.run_tests(p, [(-1, 1)], tests=["t_csect"], group_by="direction")
    assert list(table.columns) == ["direction", *RESULT_COLUMNS]
    up = table[(table["direction"] == "up") & (table["start"] == -1) & (table["end"] == 1)]
    up = up.iloc[0]
    ref = stats.ttest_1samp(p.car(-1, 1)[keys["direction"] == "up"], 0.0)
    assert up["statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert up["n"] == (keys["direction"] == "up").sum()


def test_run_tests_rejects_unknown_names_and_options(panel):
    with pytest.raises(SpecificationError, match="'t_csect'"):
        inf.run_tests(panel, tests=["t_test"])
    with pytest.raises(SpecificationError, match="alternative"):
        inf.run_tests(panel, alternative="two_sided")
    with pytest.raises(SpecificationError, match="group_by"):
        inf.run_tests(panel, group_by="sector")
    with pytest.raises(SpecificationError, match="options key"):
        inf.run_tests(panel, tests=["t_csect"], options={"bootstrap": {"n_boot": 9}})
    with pytest.raises(SpecificationError, match="n_boot"):
        inf.bootstrap(panel, [(0, 0)], n_boot=0)
    with pytest.raises(SpecificationError, match="variant"):
        inf.grank(panel, [(0, 0)], variant="x")
    with pytest.raises(WindowError):
        inf.run_tests(panel, [(-1, 9)])
    with pytest.raises(WindowError):
        inf.t_csect(panel, [(1, -1)])


def test_conventions_recorded_and_prediction_error_switch(panel):
    no_pe = Conventions(name="custom", pooled_pe=False)
    r = inf.t_pooled(panel, [(-1, 1)], conventions=no_pe)[0]
    x = panel.car(-1, 1)
    expected = x.mean() / (np.sqrt(np.sum(panel.sigma**2 * 3)) / x.size)
    assert r.statistic == pytest.approx(expected, rel=1e-12)
    assert r.conventions == "custom"
    assert inf.t_pooled(panel, [(-1, 1)])[0].statistic != pytest.approx(expected, rel=1e-6)


def test_conventions_validate_their_settings():
    with pytest.raises(SpecificationError, match="rank_scores"):
        Conventions(rank_scores="ranks")
    with pytest.raises(SpecificationError, match="pooled_pe"):
        Conventions(pooled_pe="yes")


# --- aggregate -----------------------------------------------------------------------------
def test_aggregate(panel):
    table = inf.aggregate(panel, [(-1, 1)])
    assert list(table.columns) == ["quantity", "start", "end", "estimate", "std_error", "n"]
    day0 = table[(table["start"] == 0) & (table["end"] == 0)].iloc[0]
    assert day0["quantity"] == "aar"
    assert day0["estimate"] == pytest.approx(panel.ar[:, 2].mean(), rel=1e-12)
    assert day0["std_error"] == pytest.approx(stats.sem(panel.ar[:, 2]), rel=1e-12)
    caar = table[table["quantity"] == "caar"].iloc[0]
    assert (caar["start"], caar["end"], caar["n"]) == (-1, 1, 40)
    assert caar["estimate"] == pytest.approx(panel.ar[:, 1:4].sum(axis=1).mean(), rel=1e-12)


def test_aggregate_grouped():
    p = tiny_panel()
    table = inf.aggregate(p, [(-1, 1)], group_by="direction")
    down = table[(table["direction"] == "down") & (table["quantity"] == "caar")].iloc[0]
    assert down["estimate"] == pytest.approx(p.ar[2:4].sum(axis=1).mean(), rel=1e-12)
    assert down["n"] == 2


# --- difference test -----------------------------------------------------------------------
def _two_sector_panel():
    """Six event dates x 3 assets; assets A0,A1 in sector 'x', A2 in 'y'."""
    rng = np.random.default_rng(9)
    n_events, per = 6, 3
    n = n_events * per
    est = rng.normal(0, 0.01, (n, 30))
    ar = rng.normal(0.001, 0.01, (n, 3))
    day0 = np.repeat(pd.bdate_range("2022-01-03", periods=n_events, freq="30B"), per)
    sector = np.tile(["x", "x", "y"], n_events)
    return make_panel(ar, est, k=0, day0=list(day0), extra_keys={"sector": sector})


def test_difference_test_welch_on_event_level_caars():
    p = _two_sector_panel()
    dates = p.keys["day0"].to_numpy()
    first = np.isin(dates, np.unique(dates)[:3])
    res = inf.difference_test(p, first, ~first, (-1, 1))
    car = p.car(-1, 1)
    level = pd.Series(car).groupby(dates).mean()
    a, b = level.iloc[:3].to_numpy(), level.iloc[3:].to_numpy()
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert res.test == "welch"
    assert (res.statistic, res.pvalue) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-10)
    assert res.difference == pytest.approx(a.mean() - b.mean(), rel=1e-12)
    assert res.df == pytest.approx(ref.df, rel=1e-10)
    assert (res.n_a, res.n_b) == (3, 3)


def test_difference_test_paired_on_shared_event_dates():
    p = _two_sector_panel()
    is_x = (p.keys["sector"] == "x").to_numpy()
    res = inf.difference_test(p, is_x, ~is_x, (0, 1), alternative="greater")
    car = p.car(0, 1)
    dates = p.keys["day0"].to_numpy()
    a = pd.Series(car[is_x]).groupby(dates[is_x]).mean()
    b = pd.Series(car[~is_x]).groupby(dates[~is_x]).mean()
    ref = stats.ttest_rel(a.to_numpy(), b.to_numpy(), alternative="greater")
    assert res.test == "paired" and res.df == 5
    assert (res.statistic, res.pvalue) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-10)


def test_difference_test_partial_overlap_and_bad_masks():
    p = _two_sector_panel()
    rows = np.arange(len(p))
    res = inf.difference_test(p, rows < 5, rows >= 5, (0, 0))
    assert res.test == "none" and math.isnan(res.pvalue) and "share" in res.note
    with pytest.raises(SpecificationError, match="overlap"):
        inf.difference_test(p, rows < 5, rows < 7, (0, 0))
    with pytest.raises(SpecificationError, match="boolean"):
        inf.difference_test(p, rows, rows, (0, 0))


# --- rejection rates -----------------------------------------------------------------------
def test_rejection_rates():
    table = pd.DataFrame({
        "test": ["a"] * 5 + ["b"] * 5,
        "start": 0,
        "end": 0,
        "pvalue": [0.001, 0.02, 0.2, 0.5, np.nan, 0.04, 0.06, 0.09, 0.3, 0.9],
    })
    rates = inf.rejection_rates(table)
    got = rates.set_index(["test", "level"])["rate"]
    assert got["a", 0.01] == pytest.approx(1 / 4)
    assert got["a", 0.05] == pytest.approx(2 / 4)
    assert got["b", 0.10] == pytest.approx(3 / 5)
    a = rates[rates["test"] == "a"].iloc[0]
    assert (a["reps"], a["n_na"]) == (4, 1)
    assert a["mc_se"] == pytest.approx(math.sqrt(0.25 * 0.75 / 4))
    with pytest.raises(SpecificationError, match="levels"):
        inf.rejection_rates(table, levels=(5,))
    with pytest.raises(SpecificationError, match="lacks"):
        inf.rejection_rates(table.drop(columns="pvalue"))


@pytest.mark.parametrize("n, warned", [(11, True), (29, True), (30, False)])
def test_restandardizing_rank_tests_warn_with_few_asset_events(n, warned):
    """grank, grank_z and mrank divide by a cross-sectional s.d.: noisy for small n."""
    p = simulate_panel(np.random.default_rng(4), n=n, l1=60, l2=3)
    for name in ("grank", "grank_z", "mrank"):
        note = inf.run_tests(p, tests=[name])["note"]
        assert note.str.contains(f"n = {n} < 30").all() == warned, name
        assert (note == "").all() != warned, name
    # Tests without the re-standardization carry no such note.
    assert (inf.run_tests(p, tests=["rank", "bmp"])["note"] == "").all()
    raw = Conventions(name="raw-mrank", mrank_returns="raw")
    assert (inf.run_tests(p, tests=["mrank"], conventions=raw)["note"] == "").all()


def test_bootstrap_counts_sign_flips_that_give_back_t_as_ties():
    """All +1 or all -1 weights reproduce |t|: such draws always count, whatever the rounding.

    Eleven asset-events and two-day CARs, as in the sector placebo, where rounding used to
    drop some of these ties; the p-value must match the count made from the weight patterns.
    """
    from eventstudy.inference.parametric import _canonical_order

    rng = np.random.default_rng(11)
    n, n_boot = 11, 999
    drawn = np.random.default_rng(5).choice(np.array([-1.0, 1.0]), size=(n_boot, n))
    for _ in range(100):
        p = make_panel(rng.normal(0, 0.01, (n, 2)), rng.normal(0, 0.01, (n, 30)),
                       taus=np.array([0, 1]))
        res = inf.bootstrap(p, [(0, 1)], n_boot=n_boot, random_state=5)[0]
        weights = np.empty_like(drawn)
        weights[:, _canonical_order(p)] = drawn
        cars = p.ar.sum(axis=1)
        t = cars.mean() / (cars.std(ddof=1) / np.sqrt(n))
        hits = 0
        for w in weights:
            if abs(w.sum()) == n:  # +-(1, ..., 1): the same |t|, a tie
                hits += 1
            else:
                xs = w * cars
                hits += abs(xs.mean() / (xs.std(ddof=1) / np.sqrt(n))) >= abs(t)
        assert res.pvalue == (1 + hits) / (n_boot + 1)


def test_bootstrap_tie_on_real_sector_cars_counts(prices_dir):
    """On 2019-06-19 (a placebo date) the all +1 draw gives back t only up to 1.5e-16.

    Rounding used to leave that tie out (p = 0.847); counted, p = 0.848.
    """
    import eventstudy as es
    from eventstudy.inference.parametric import _canonical_order

    res = es.EventStudy(["2019-06-19"], es.SECTOR_ETFS, market="SPY", data=prices_dir,
                        car_windows=[(0, 0)]).fit()
    table = res.tests("bootstrap", random_state=20250605)
    got = table.query("start == 0 and end == 0")["pvalue"].item()
    panel = res.panel.subset((res.panel.keys["asset"] != "SPY").to_numpy())
    cars = panel.car(0, 0)
    n = cars.size
    drawn = np.random.default_rng(20250605).choice(np.array([-1.0, 1.0]), size=(999, n))
    weights = np.empty_like(drawn)
    weights[:, _canonical_order(panel)] = drawn
    t = cars.mean() / (cars.std(ddof=1) / np.sqrt(n))
    ties = np.abs(weights.sum(axis=1)) == n
    xs = weights[~ties] * cars
    beyond = np.abs(xs.mean(axis=1) / (xs.std(axis=1, ddof=1) / np.sqrt(n))) >= abs(t)
    assert ties.sum() == 1
    assert got == (1 + ties.sum() + beyond.sum()) / 1000
