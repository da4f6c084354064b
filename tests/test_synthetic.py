"""Property and calibration checks on synthetic prices with a known beta and planted ARs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.calendar import get_calendar

SESSIONS = get_calendar().sessions_in_range("2022-01-03", "2024-12-31")


def synthetic_prices(seed: int, beta: float = 1.3, alpha: float = 2e-4, noise: float = 0.004,
                     planted: dict | None = None, n_assets: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rm = rng.normal(3e-4, 0.01, len(SESSIONS))
    cols = {"MKT": rm}
    for j in range(n_assets):
        cols[f"A{j}"] = alpha + beta * rm + rng.normal(0, noise, len(SESSIONS))
    rets = pd.DataFrame(cols, index=SESSIONS)
    for (asset, date), extra in (planted or {}).items():
        rets.loc[pd.Timestamp(date), asset] += extra
    return 100 * (1 + rets).cumprod()


def test_known_beta_and_planted_abnormal_return():
    event = "2024-03-14"
    prices = synthetic_prices(1, planted={("A0", event): 0.05, ("A1", "2024-03-15"): -0.03})
    res = es.run_event_study(event, assets=["A0", "A1", "A2"], market="MKT", data=prices)
    params = res.params.set_index("asset")
    se_beta = 0.004 / (0.01 * np.sqrt(240))
    assert np.all(np.abs(params["beta"] - 1.3) < 4 * se_beta)
    ars = res.ars.set_index(["asset", "tau"])
    assert abs(ars.loc[("A0", 0), "ar"] - 0.05) < 4 * ars.loc[("A0", 0), "std_error"]
    assert ars.loc[("A0", 0), "pvalue"] < 1e-6
    assert abs(ars.loc[("A1", 1), "ar"] + 0.03) < 4 * ars.loc[("A1", 1), "std_error"]
    cars = res.cars.set_index(["asset", "start", "end"])
    assert cars.loc[("A0", 0, 1), "pvalue"] < 1e-4
    assert cars.loc[("A1", 0, 1), "pvalue"] < 0.01
    assert cars.loc[("A2", -1, 1), "pvalue"] > 0.001  # nothing planted
    # SQ test: a 5% shock against 0.4% daily noise is beyond every estimation-window value,
    # so it gets the smallest two-sided p-value, 2 / (S + 1) with S = 240 one-day sums.
    assert cars.loc[("A0", 0, 0), "pvalue_sq"] == 2 / 241


def test_noise_free_fit_recovers_parameters_exactly():
    # Without noise the market model holds exactly; tiny noise keeps sigma > 0.
    prices = synthetic_prices(2, noise=1e-9)
    res = es.run_event_study("2024-06-03", assets=["A0"], market="MKT", data=prices)
    p = res.params.iloc[0]
    assert p["beta"] == pytest.approx(1.3, abs=1e-6)
    assert p["alpha"] == pytest.approx(2e-4, abs=1e-8)


def test_null_calibration_of_single_asset_t():
    """With normal errors the per-asset t has its nominal size (60 events x 5 assets)."""
    prices = synthetic_prices(3, n_assets=5)
    days = SESSIONS[260:740:8]
    res = es.run_event_study([str(d.date()) for d in days], assets=[f"A{j}" for j in range(5)],
                             market="MKT", data=prices, car_windows=[(0, 0), (-1, 1)])
    p = res.cars["pvalue"].to_numpy()
    assert len(p) == 600
    rate = np.mean(p < 0.05)
    # Binomial sd at n=600 is 0.9 percentage points; allow about 3 sd.
    assert 0.02 < rate < 0.08


def test_asset_and_event_order_do_not_change_numbers():
    prices = synthetic_prices(4)
    a = es.run_event_study(["2024-03-14", "2024-06-03"], assets=["A0", "A1", "A2"],
                           market="MKT", data=prices)
    b = es.run_event_study(["2024-06-03", "2024-03-14"], assets=["A2", "A0", "A1"],
                           market="MKT", data=prices)
    key = ["event_id", "asset", "start", "end"]
    left = a.cars.sort_values(key).reset_index(drop=True)
    right = b.cars.sort_values(key).reset_index(drop=True)
    cols = ["car", "std_error", "tstat", "pvalue", "bhar", "pvalue_sq"]
    np.testing.assert_array_equal(left[cols].to_numpy(), right[cols].to_numpy())


def test_returns_input_equals_price_input():
    prices = synthetic_prices(5)
    rets = prices.pct_change(fill_method=None)
    a = es.run_event_study("2024-03-14", assets=["A0"], market="MKT", data=prices)
    b = es.run_event_study("2024-03-14", assets=["A0"], market="MKT", data=rets,
                           data_kind="returns")
    np.testing.assert_allclose(a.cars["car"], b.cars["car"], rtol=1e-12)


def test_market_adjusted_and_constant_mean_models():
    prices = synthetic_prices(6)
    rets = prices.pct_change(fill_method=None)
    day = pd.Timestamp("2024-03-14")
    p0 = rets.index.get_loc(day)
    ma = es.run_event_study(str(day.date()), assets=["A0"], market="MKT", data=prices,
                            model="market_adjusted")
    ar0 = ma.ars.query("tau == 0")["ar"].item()
    assert ar0 == pytest.approx(rets["A0"].iloc[p0] - rets["MKT"].iloc[p0], abs=1e-15)
    est = (rets["A0"] - rets["MKT"]).iloc[p0 - 250 : p0 - 10]
    assert ma.params["sigma"].item() == pytest.approx(np.sqrt((est**2).sum() / 240), rel=1e-12)
    cm = es.run_event_study(str(day.date()), assets=["A0"], market="MKT", data=prices,
                            model="constant_mean")
    mu = rets["A0"].iloc[p0 - 250 : p0 - 10].mean()
    assert cm.ars.query("tau == 0")["ar"].item() == pytest.approx(rets["A0"].iloc[p0] - mu,
                                                                    abs=1e-15)
