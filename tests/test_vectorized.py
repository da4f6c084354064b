"""The vectorized pipeline against a per-asset-event reference written independently.

The reference fits one statsmodels OLS per asset-event on the rows that have both returns,
and computes abnormal returns, CLM variances, CARs, BHARs, the Gelbach–Helland–Klick
sample-quantile p-value and the Holm / Benjamini–Hochberg adjustments with plain loops over
asset-events, days and windows. Nothing from eventstudy's numerical code is used; only the
session positions of day 0 come from the study (the alignment rules are tested elsewhere).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

import eventstudy as es
import eventstudy._parallel as _parallel
import eventstudy.estimation as estimation
import eventstudy.inference.per_asset as per_asset
from eventstudy.calendar import get_calendar
from eventstudy.exceptions import DataWarning
from eventstudy.models import DesignInputs, MarketModel
from eventstudy.returns import to_sessions

EST = (-250, -11)
EVT = (-10, 10)
WINDOWS = [(0, 0), (-1, 1), (0, 1), (-5, 5), (-10, 10)]
TOL = 1e-12  # "the same numbers": every quantity agrees to 1e-12 (absolute and relative)


def synthetic_returns(seed: int = 11) -> tuple[pd.DataFrame, list[str]]:
    """Six assets and a market on NYSE sessions, with the kinds of holes real data have."""
    sessions = get_calendar().sessions_in_range("2016-01-04", "2020-12-31")
    rng = np.random.default_rng(seed)
    T = len(sessions)
    market = rng.normal(3e-4, 0.01, T)
    betas = np.array([0.6, 0.9, 1.0, 1.2, 1.5, 0.3])
    assets = [f"S{j}" for j in range(len(betas))]
    rets = 1e-4 + market[:, None] * betas + rng.standard_t(4, (T, len(betas))) * 0.01
    rets[rng.random(rets.shape) < 0.01] = np.nan  # scattered missing days
    rets[:420, 2] = np.nan  # listed late: too few estimation days for the first events
    rets[1000:1003, 3] = np.nan  # a hole inside an event window
    frame = pd.DataFrame(rets, index=sessions, columns=assets)
    frame["MKT"] = market
    frame.iloc[700, -1] = np.nan  # a day without the market return
    return frame, assets


def event_dates(frame: pd.DataFrame) -> list[str]:
    idx = frame.index
    days = [idx[300], idx[430], idx[705], idx[995], idx[1200]]
    return [str(d.date()) for d in days] + ["2019-07-06"]  # and a Saturday


def reference(frame: pd.DataFrame, assets: list[str], day0: dict[str, int]) -> dict:
    """One statsmodels OLS per asset-event, then everything else with loops."""
    out: dict[tuple[str, str], dict] = {}
    m = frame["MKT"].to_numpy()
    for eid, p0 in day0.items():
        for asset in assets:
            r = frame[asset].to_numpy()
            est = np.arange(p0 + EST[0], p0 + EST[1] + 1)
            evt = np.arange(p0 + EVT[0], p0 + EVT[1] + 1)
            use = est[np.isfinite(r[est]) & np.isfinite(m[est])]
            if len(use) < 100:
                continue
            fit = sm.OLS(r[use], sm.add_constant(m[use])).fit()
            a, b = fit.params
            xtx_inv = fit.cov_params() / fit.scale
            ar = r[evt] - (a + b * m[evt])
            x_evt = np.column_stack([np.ones(len(evt)), m[evt]])
            ar_var = fit.scale * (1 + np.einsum("ti,ij,tj->t", x_evt, xtx_inv, x_evt))
            resid = np.full(len(est), np.nan)
            resid[np.searchsorted(est, use)] = fit.resid
            cars = {}
            for start, end in WINDOWS:
                cols = slice(start - EVT[0], end - EVT[0] + 1)
                car = ar[cols].sum()
                s = x_evt[cols].sum(axis=0)
                var = fit.scale * ((end - start + 1) + s @ xtx_inv @ s)
                tstat = car / np.sqrt(var)
                length = end - start + 1
                sums = [resid[j:j + length].sum() for j in range(len(est) - length + 1)
                        if np.isfinite(resid[j:j + length]).all()]
                sums = np.array(sums)
                n_s = len(sums)
                p_sq = min(1.0, 2 * min((1 + np.sum(sums >= car)) / (n_s + 1),
                                        (1 + np.sum(sums <= car)) / (n_s + 1)))
                ret = r[evt][cols]
                normal = a + b * m[evt][cols]
                cars[(start, end)] = dict(
                    car=car,
                    std_error=np.sqrt(var),
                    tstat=tstat,
                    pvalue=2 * stats.t.sf(abs(tstat), fit.df_resid),
                    bhar=np.prod(1 + ret) - np.prod(1 + normal),
                    pvalue_sq=p_sq if np.isfinite(car) else np.nan,
                    n_sq=len(sums),
                )
            out[(eid, asset)] = dict(
                alpha=a, beta=b, sigma=np.sqrt(fit.scale), r2=fit.rsquared, nobs=len(use),
                ar=ar, ar_se=np.sqrt(ar_var), resid=resid, cars=cars,
            )
    # Holm and BH within each event and window, across the assets with a p-value.
    for eid in day0:
        for w in WINDOWS:
            keys = [k for k in out if k[0] == eid and np.isfinite(out[k]["cars"][w]["pvalue"])]
            ps = [out[k]["cars"][w]["pvalue"] for k in keys]
            holm = multipletests(ps, method="holm")[1]
            bh = multipletests(ps, method="fdr_bh")[1]
            for k, h, q in zip(keys, holm, bh, strict=True):
                out[k]["cars"][w].update(pvalue_holm=h, pvalue_bh=q)
    return out


def close(actual, expected) -> None:
    np.testing.assert_allclose(actual, expected, rtol=TOL, atol=TOL, equal_nan=True)


@pytest.fixture(scope="module")
def study():
    frame, assets = synthetic_returns()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        res = es.EventStudy(event_dates(frame), assets=assets, market="MKT", data=frame,
                            data_kind="returns", estimation_window=EST, event_window=EVT,
                            car_windows=WINDOWS).fit()
    day0 = {e: frame.index.get_loc(d) for e, d in zip(res.events["event_id"],
                                                       res.events["day0"], strict=True)}
    return res, reference(frame, assets, day0)


def test_the_study_has_missing_data_and_dropped_asset_events(study):
    res, ref = study
    assert len(res.panel) == len(ref) < 6 * 6  # S2 is dropped from the early events
    assert (res.params["nobs"] < 240).any()  # scattered missing estimation days
    assert res.cars["car"].isna().any()  # and a missing event-window day
    assert res.dropped["scope"].isin(["asset-event", "event-day", "data"]).any()


def test_estimates_match_one_ols_per_asset_event(study):
    res, ref = study
    params = res.params.set_index(["event_id", "asset"])
    assert set(params.index) == set(ref)
    for key, r in ref.items():
        p = params.loc[key]
        close(p[["alpha", "beta", "sigma", "r2"]].to_numpy(dtype=float),
              [r["alpha"], r["beta"], r["sigma"], r["r2"]])
        assert p["nobs"] == r["nobs"]


def test_abnormal_returns_and_residuals_match(study):
    res, ref = study
    ars = res.ars.set_index(["event_id", "asset"])
    keys = res.panel.keys
    for i, key in enumerate(zip(keys["event_id"], keys["asset"], strict=True)):
        part = ars.loc[key]
        close(part["ar"].to_numpy(), ref[key]["ar"])
        seen = np.isfinite(ref[key]["ar"])  # a missing AR's standard error is not compared
        close(part["std_error"].to_numpy()[seen], ref[key]["ar_se"][seen])
        close(res.panel.est_resid[i], ref[key]["resid"])


def test_cars_tests_and_adjustments_match(study):
    res, ref = study
    cols = ["car", "std_error", "tstat", "pvalue", "bhar", "pvalue_sq", "n_sq",
            "pvalue_holm", "pvalue_bh"]
    n_missing = 0
    for row in res.cars.itertuples(index=False):
        expected = ref[(row.event_id, row.asset)]["cars"][(row.start, row.end)]
        if np.isnan(expected["car"]):  # a missing day in the window: no CAR, no tests
            n_missing += 1
            assert np.isnan([row.car, row.pvalue, row.pvalue_sq, row.pvalue_holm]).all()
            continue
        close([getattr(row, c) for c in cols], [expected.get(c, np.nan) for c in cols])
    assert 0 < n_missing < len(res.cars) / 4


def test_blocking_does_not_change_numbers(study, monkeypatch):
    """Tiny blocks in the kernel (on two threads) and the SQ test (with chunks of 8 sums) give
    the same bits as one block each."""
    res, _ = study
    one_block = res.car_table()  # before the settings below change
    frame, assets = synthetic_returns()
    monkeypatch.setattr(estimation, "BLOCK_ELEMENTS", 1000)
    monkeypatch.setattr(_parallel, "THREADS", 2)
    monkeypatch.setattr(per_asset, "SQ_BLOCK_ROWS", 7)
    monkeypatch.setattr(per_asset, "SQ_CHUNK_ELEMENTS", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        small = es.EventStudy(event_dates(frame), assets=assets, market="MKT", data=frame,
                              data_kind="returns", estimation_window=EST, event_window=EVT,
                              car_windows=WINDOWS).fit()
    np.testing.assert_array_equal(small.panel.est_resid, res.panel.est_resid)
    pd.testing.assert_frame_equal(small.cars, one_block)


@pytest.mark.parametrize("policy", ["next", "previous"])
def test_vectorized_alignment_matches_the_calendar(policy):
    cal = get_calendar()
    whens = ["2024-06-03", "2024-06-08", "2024-07-04", "2024-12-25", "2024-06-03 16:30",
             "2024-06-03T09:00-04:00", pd.Timestamp("2024-06-09"), "2024-11-29 14:00"]
    study = es.EventStudy(whens, assets=["A"], market="M", alignment=policy)
    table = study.align()
    for when, row in zip(whens, table.itertuples(index=False), strict=True):
        a = cal.align(when, policy)
        assert (row.day0, row.rule, row.assumed_timezone, row.shifted) == (
            a.session, a.rule, a.assumed_timezone, a.shifted)
        assert row.original == str(a.original)


def test_gap_detection_matches_a_loop():
    """Gaps are the missing sessions between a ticker's first and last value; non-session
    rows are reported per ticker that has a value there."""
    cal = get_calendar()
    days = pd.bdate_range("2024-06-03", "2024-07-31")  # includes the July 4 and June 19 holidays
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.random((len(days), 4)) + 1, index=days, columns=list("ABCD"))
    frame[frame > 1.9] = np.nan
    frame["C"] = np.nan  # no data at all: no gaps
    frame.loc[:"2024-06-20", "D"] = np.nan  # leading and trailing NaN are not gaps
    frame.loc["2024-07-25":, "D"] = np.nan
    on_sessions, records = to_sessions(frame, cal)
    expected = []
    for day in days:
        if not cal.is_session(day):
            expected += [(a, day, "not a XNYS session; row ignored")
                         for a in frame.columns if pd.notna(frame.loc[day, a])]
    for day in on_sessions.index:
        for a in frame.columns:
            seen = frame[a].dropna().index
            seen = seen[seen.isin(cal.sessions)]
            inside = len(seen) and seen[0] < day < seen[-1]
            if inside and pd.isna(on_sessions.loc[day, a]):
                expected.append((a, day, "no price on this session"))
    assert records == expected
    assert any(r[2].startswith("not a") for r in records)
    assert not any(r[0] == "C" for r in records)


def test_fit_batch_with_offsets_that_skip_days():
    """The kernel's gather also takes estimation days that are not consecutive."""
    frame, assets = synthetic_returns()
    frame = frame.iloc[500:900]
    design = MarketModel().design(DesignInputs(index=frame.index, market=frame["MKT"]))
    est_taus = np.arange(-250, -10)[::2]
    day0 = np.array([300, 350])
    fit = estimation.fit_batch(frame[assets].to_numpy(), design, day0, est_taus,
                               np.arange(-10, 11), min_obs=50)
    m = frame["MKT"].to_numpy()
    for e, p0 in enumerate(day0):
        for j, asset in enumerate(assets):
            rows = p0 + est_taus
            r = frame[asset].to_numpy()[rows]
            use = np.isfinite(r) & np.isfinite(m[rows])
            ols = sm.OLS(r[use], sm.add_constant(m[rows][use])).fit()
            close(fit.params[e, j], ols.params)
            close(fit.sigma[e, j], np.sqrt(ols.scale))


def test_event_regressors_are_kept_once_per_event(study):
    """Asset-events of one event share one block of event-window regressors (1, R_m)."""
    res, _ = study
    panel = res.panel
    frame, _ = synthetic_returns()
    assert panel.x_event.shape[0] == len(res.events) < len(panel)  # one design group
    days = [frame.index.get_loc(d) + np.arange(EVT[0], EVT[1] + 1) for d in panel.keys["day0"]]
    market = frame["MKT"].to_numpy()[np.array(days)]
    expected = np.stack([np.ones_like(market), market], axis=2)
    expected[np.isnan(market)] = 0.0  # a day without the market return has no design row
    np.testing.assert_array_equal(panel.event_regressors(), expected)
    rows = np.arange(len(panel))[::2]
    part = panel.subset(rows)
    np.testing.assert_array_equal(part.event_regressors(), expected[rows])
    np.testing.assert_array_equal(part.car_var(-1, 1), panel.car_var(-1, 1)[rows])


def test_ar_panel_needs_the_block_of_each_asset_event(study):
    res, _ = study
    p = res.panel
    with pytest.raises(ValueError, match="pass x_rows"):
        es.ARPanel(keys=p.keys, taus=p.taus, est_taus=p.est_taus, ar=p.ar,
                   est_resid=p.est_resid, sigma=p.sigma, nobs=p.nobs, k=p.k,
                   x_event=p.x_event, xtx_inv=p.xtx_inv, returns=p.returns, normal=p.normal)
