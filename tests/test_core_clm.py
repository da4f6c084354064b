"""The core study against an independent implementation of the CLM (1997) formulas.

The reference side reads the snapshot CSVs directly, fits each market model with statsmodels
OLS, and builds variances from statsmodels' ``cov_params`` and ``get_prediction``; nothing
from eventstudy's estimation code is used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import eventstudy as es
from eventstudy.universe import SECTOR_ETFS

EVENT = "2025-06-05"
EST = (-250, -11)
EVT = (-10, 10)
WINDOWS = [(0, 0), (-1, 1), (0, 1), (-5, 5), (-10, 10)]


@pytest.fixture(scope="module")
def study(prices_dir):
    return es.run_event_study(EVENT, assets="sectors", market="SPY", data=prices_dir)


@pytest.fixture(scope="module")
def reference(prices_dir):
    """Hand-built CLM quantities for every sector ETF and SPY."""

    def closes(t):
        raw = pd.read_csv(prices_dir / f"{t}.csv", parse_dates=["date"])
        return raw.set_index("date")["adj_close"]

    px = pd.DataFrame({t: closes(t) for t in ("SPY", *SECTOR_ETFS)}).loc["2023-01-01":"2025-12-31"]
    rets = px / px.shift(1) - 1.0
    p0 = rets.index.get_loc(pd.Timestamp(EVENT))
    est = rets.iloc[p0 + EST[0] : p0 + EST[1] + 1]
    evt = rets.iloc[p0 + EVT[0] : p0 + EVT[1] + 1]
    out = {}
    for asset in SECTOR_ETFS:
        X = sm.add_constant(est["SPY"].to_numpy())
        fit = sm.OLS(est[asset].to_numpy(), X).fit()
        Xs = sm.add_constant(evt["SPY"].to_numpy(), has_constant="add")
        ar = evt[asset].to_numpy() - Xs @ fit.params
        pred = fit.get_prediction(Xs)
        ar_var = pred.se_obs**2  # sigma^2 + x' Cov(theta) x
        V = fit.scale * np.eye(len(ar)) + Xs @ fit.cov_params() @ Xs.T
        out[asset] = dict(fit=fit, ar=ar, ar_var=ar_var, V=V, resid=fit.resid, df=fit.df_resid,
                          r=evt[asset].to_numpy(), normal=Xs @ fit.params)
    # The market itself: constant-mean model.
    spy_est = est["SPY"].to_numpy()
    mu = spy_est.mean()
    s2 = ((spy_est - mu) ** 2).sum() / (len(spy_est) - 1)
    L1 = len(spy_est)
    ar = evt["SPY"].to_numpy() - mu
    V = s2 * (np.eye(len(ar)) + np.ones((len(ar), len(ar))) / L1)
    out["SPY"] = dict(ar=ar, ar_var=np.diag(V), V=V, resid=spy_est - mu, df=L1 - 1,
                      r=evt["SPY"].to_numpy(), normal=np.full(len(ar), mu), mu=mu, s2=s2)
    out["_dates"] = evt.index
    return out


def test_params_match_statsmodels(study, reference):
    params = study.params.set_index("asset")
    for asset in SECTOR_ETFS:
        fit = reference[asset]["fit"]
        np.testing.assert_allclose(params.loc[asset, "alpha"], fit.params[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(params.loc[asset, "beta"], fit.params[1], rtol=1e-10)
        np.testing.assert_allclose(params.loc[asset, "sigma"], np.sqrt(fit.scale), rtol=1e-10)
        np.testing.assert_allclose(params.loc[asset, "r2"], fit.rsquared, rtol=1e-10)
        assert params.loc[asset, "nobs"] == 240
        assert params.loc[asset, "model"] == "market"
    assert params.loc["SPY", "model"] == "constant_mean"
    np.testing.assert_allclose(params.loc["SPY", "alpha"], reference["SPY"]["mu"], rtol=1e-12)
    np.testing.assert_allclose(params.loc["SPY", "sigma"] ** 2, reference["SPY"]["s2"],
                               rtol=1e-10)
    assert params["est_start"].iloc[0] == pd.Timestamp("2024-06-05")
    assert params["est_end"].iloc[0] == pd.Timestamp("2025-05-20")


def test_daily_ars_and_variances(study, reference):
    ars = study.ars
    for asset in ("SPY", *SECTOR_ETFS):
        ref = reference[asset]
        got = ars[ars["asset"] == asset].sort_values("tau")
        np.testing.assert_array_equal(got["tau"], np.arange(-10, 11))
        np.testing.assert_array_equal(got["date"], reference["_dates"])
        np.testing.assert_allclose(got["ar"], ref["ar"], rtol=0, atol=1e-14)
        np.testing.assert_allclose(got["std_error"] ** 2, ref["ar_var"], rtol=1e-10)
        t = ref["ar"] / np.sqrt(ref["ar_var"])
        np.testing.assert_allclose(got["tstat"], t, rtol=1e-10)
        np.testing.assert_allclose(got["pvalue"], 2 * stats.t.sf(np.abs(t), ref["df"]),
                                   rtol=1e-9, atol=1e-15)


def _sq_pvalue(resid, car, length):
    sums = [resid[i : i + length].sum() for i in range(len(resid) - length + 1)]
    sums = np.array(sums)
    # The event CAR is one of the len(sums) + 1 values (Davison & Hinkley 1997, eq. 4.11).
    upper = (1 + np.sum(sums >= car)) / (len(sums) + 1)
    lower = (1 + np.sum(sums <= car)) / (len(sums) + 1)
    return min(1.0, 2 * min(upper, lower)), len(sums)


def test_cars_variances_bhar_sq(study, reference):
    cars = study.cars
    taus = np.arange(-10, 11)
    for asset in ("SPY", *SECTOR_ETFS):
        ref = reference[asset]
        for start, end in WINDOWS:
            g = ((taus >= start) & (taus <= end)).astype(float)
            car = g @ ref["ar"]
            var = g @ ref["V"] @ g  # includes all cross-day covariances
            row = cars[(cars["asset"] == asset) & (cars["start"] == start) & (cars["end"] == end)]
            assert len(row) == 1
            row = row.iloc[0]
            np.testing.assert_allclose(row["car"], car, rtol=0, atol=1e-13)
            np.testing.assert_allclose(row["std_error"] ** 2, var, rtol=1e-10)
            t = car / np.sqrt(var)
            np.testing.assert_allclose(row["tstat"], t, rtol=1e-10)
            np.testing.assert_allclose(row["pvalue"], 2 * stats.t.sf(abs(t), ref["df"]),
                                       rtol=1e-9)
            sel = g.astype(bool)
            bhar = np.prod(1 + ref["r"][sel]) - np.prod(1 + ref["normal"][sel])
            np.testing.assert_allclose(row["bhar"], bhar, rtol=0, atol=1e-13)
            p_sq, n_sq = _sq_pvalue(ref["resid"], car, end - start + 1)
            assert row["n_sq"] == n_sq
            np.testing.assert_allclose(row["pvalue_sq"], p_sq, rtol=0, atol=1e-12)


def test_car_table_without_the_sample_quantile_test(study):
    """The same table as ``.cars`` without ``pvalue_sq`` and ``n_sq``, column order kept."""
    full = study.cars
    light = study.car_table(sample_quantile=False)
    assert "pvalue_sq" in full and "n_sq" in full
    assert list(light.columns) == [c for c in full.columns if c not in ("pvalue_sq", "n_sq")]
    pd.testing.assert_frame_equal(light, full[light.columns])


def test_multiple_testing_adjustment(study):
    from statsmodels.stats.multitest import multipletests

    cars = study.cars
    for _, part in cars.groupby(["start", "end"]):
        assert len(part) == 12
        holm = multipletests(part["pvalue"], method="holm")[1]
        bh = multipletests(part["pvalue"], method="fdr_bh")[1]
        np.testing.assert_allclose(part["pvalue_holm"], holm, rtol=1e-12)
        np.testing.assert_allclose(part["pvalue_bh"], bh, rtol=1e-12)
        # An adjustment never lowers a p-value.
        assert (part["pvalue_holm"] >= part["pvalue"] - 1e-15).all()


def test_factory_equals_composed_path(study, prices_dir):
    composed = es.EventStudy(
        EVENT, "sectors", market="SPY", model=es.MarketModel(), data=es.CSVDirectoryProvider(
            prices_dir)
    ).fit()
    pd.testing.assert_frame_equal(study.cars, composed.cars)
    pd.testing.assert_frame_equal(study.ars, composed.ars)
    pd.testing.assert_frame_equal(study.params, composed.params)


def test_log_returns_option(prices_dir, reference):
    res = es.run_event_study(EVENT, assets=["XLK"], data=prices_dir, return_type="log")
    raw = pd.read_csv(prices_dir / "XLK.csv", parse_dates=["date"]).set_index("date")
    spy = pd.read_csv(prices_dir / "SPY.csv", parse_dates=["date"]).set_index("date")
    both = pd.DataFrame({"XLK": raw["adj_close"], "SPY": spy["adj_close"]}).dropna()
    lr = np.log(both["XLK"]).diff()
    lm = np.log(both["SPY"]).diff()
    p0 = lr.index.get_loc(pd.Timestamp(EVENT))
    fit = sm.OLS(lr.iloc[p0 - 250 : p0 - 10].to_numpy(),
                 sm.add_constant(lm.iloc[p0 - 250 : p0 - 10].to_numpy())).fit()
    ar0 = lr.iloc[p0] - fit.params[0] - fit.params[1] * lm.iloc[p0]
    got = res.ars.query("asset == 'XLK' and tau == 0")["ar"].item()
    np.testing.assert_allclose(got, ar0, rtol=0, atol=1e-14)


def test_market_benchmark_for_market_asset(prices_dir):
    res = es.run_event_study(EVENT, assets=["SPY", "XLK"], data=prices_dir,
                             market_benchmark="ACWI")
    p = res.params.set_index("asset")
    assert p.loc["SPY", "model"] == "market(ACWI)"
    assert p.loc["XLK", "model"] == "market"
    raw = {t: pd.read_csv(prices_dir / f"{t}.csv", parse_dates=["date"]).set_index("date")[
        "adj_close"] for t in ("SPY", "ACWI")}
    r = pd.DataFrame(raw).pct_change(fill_method=None)
    p0 = r.index.get_loc(pd.Timestamp(EVENT))
    est = r.iloc[p0 - 250 : p0 - 10]
    fit = sm.OLS(est["SPY"].to_numpy(), sm.add_constant(est["ACWI"].to_numpy())).fit()
    np.testing.assert_allclose(p.loc["SPY", "beta"], fit.params[1], rtol=1e-10)
