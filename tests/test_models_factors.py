"""CAPM and Fama–French models against statsmodels OLS on independently read factor files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import eventstudy as es

EVENT = "2025-06-05"


def _returns(prices_dir, tickers):
    px = pd.DataFrame({
        t: pd.read_csv(prices_dir / f"{t}.csv", parse_dates=["date"]).set_index("date")[
            "adj_close"] for t in tickers
    }).loc["2023-01-01":"2025-12-31"]
    return px / px.shift(1) - 1


def test_ff3_matches_statsmodels(prices_dir, factors_dir):
    res = es.run_event_study(EVENT, assets=["XLK", "XLE"], model="ff3", data=prices_dir,
                             factors=factors_dir)
    rets = _returns(prices_dir, ["XLK", "XLE"])
    ff = pd.read_csv(factors_dir / "FF3_daily.csv", parse_dates=["date"]).set_index("date") / 100
    p0 = rets.index.get_loc(pd.Timestamp(EVENT))
    est = slice(p0 - 250, p0 - 10)
    for asset in ("XLK", "XLE"):
        y = rets[asset] - ff["rf"].reindex(rets.index)
        X = sm.add_constant(ff[["mkt_rf", "smb", "hml"]].reindex(rets.index))
        fit = sm.OLS(y.iloc[est], X.iloc[est]).fit()
        p = res.params.set_index("asset").loc[asset]
        np.testing.assert_allclose(p[["alpha", "mkt_rf", "smb", "hml"]].to_numpy(dtype=float),
                                   fit.params.to_numpy(), rtol=1e-9, atol=1e-13)
        assert p["model"] == "ff3" and p["nobs"] == 240
        ar0 = y.iloc[p0] - X.iloc[p0].to_numpy() @ fit.params.to_numpy()
        got = res.ars.query("asset == @asset and tau == 0")
        np.testing.assert_allclose(got["ar"].item(), ar0, atol=1e-14)
        x0 = X.iloc[p0].to_numpy()
        var0 = fit.scale * (1 + x0 @ np.linalg.inv(X.iloc[est].T @ X.iloc[est]) @ x0)
        np.testing.assert_allclose(got["std_error"].item() ** 2, var0, rtol=1e-9)


def test_capm_uses_tbill_rate(prices_dir, factors_dir):
    with pytest.warns(es.exceptions.DataWarning, match="2024-10-14, 2024-11-11"):
        res = es.run_event_study(EVENT, assets=["SPY", "XLK"], model="capm", data=prices_dir,
                                 factors=factors_dir)
    # Columbus Day and Veterans Day have no T-bill quote; the results say so.
    assert "2024-10-14, 2024-11-11" in res.settings["risk_free"]
    rets = _returns(prices_dir, ["SPY", "XLK"])
    d = pd.read_csv(factors_dir / "DTB3.csv", parse_dates=["date"]).set_index("date")["dtb3"]
    d = d.reindex(rets.index).ffill() / 100
    invest = 365 * d / (360 - 91 * d)  # Treasury investment rate from the discount rate
    rf = (1 + invest) ** (1 / 252) - 1
    p0 = rets.index.get_loc(pd.Timestamp(EVENT))
    est = slice(p0 - 250, p0 - 10)
    y = (rets["XLK"] - rf).iloc[est]
    x = (rets["SPY"] - rf).iloc[est]
    beta = (x * y).sum() / (x * x).sum()  # no intercept: the CAPM restriction
    p = res.params.set_index("asset")
    np.testing.assert_allclose(p.loc["XLK", "beta"], beta, rtol=1e-10)
    assert p.loc["XLK", "model"] == "capm"
    assert p.loc["SPY", "model"] == "constant_mean"
    resid = y - beta * x
    np.testing.assert_allclose(p.loc["XLK", "sigma"] ** 2, (resid**2).sum() / 239, rtol=1e-10)
    ar0 = rets["XLK"].iloc[p0] - rf.iloc[p0] - beta * (rets["SPY"].iloc[p0] - rf.iloc[p0])
    got = res.ars.query("asset == 'XLK' and tau == 0")["ar"].item()
    np.testing.assert_allclose(got, ar0, atol=1e-14)


def test_user_factor_model(prices_dir):
    rets = _returns(prices_dir, ["SPY", "XLK", "SMH"])
    factors = pd.DataFrame({"mkt": rets["SPY"], "semis": rets["SMH"]}).dropna()
    model = es.FactorModel(factors, excess=False)
    res = es.run_event_study(EVENT, assets=["XLK"], model=model, data=prices_dir)
    p0 = rets.index.get_loc(pd.Timestamp(EVENT))
    est = slice(p0 - 250, p0 - 10)
    fit = sm.OLS(rets["XLK"].iloc[est], sm.add_constant(factors.reindex(rets.index).iloc[est])
                 ).fit()
    p = res.params.iloc[0]
    np.testing.assert_allclose(p[["alpha", "mkt", "semis"]].to_numpy(dtype=float),
                               fit.params.to_numpy(), rtol=1e-9, atol=1e-13)
    assert p["model"] == "factor(mkt,semis)"


def test_factor_data_not_covering_the_window(prices_dir):
    rets = _returns(prices_dir, ["SPY"])
    short = pd.DataFrame({"mkt": rets["SPY"]}).loc[:"2025-01-31"].dropna()
    with pytest.raises(es.EventStudyError, match=r"too few estimation returns|no returns"):
        es.run_event_study(EVENT, assets=["XLK"], model=es.FactorModel(short, excess=False),
                           data=prices_dir)
