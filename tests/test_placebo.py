import numpy as np
import pandas as pd

import eventstudy as es


def test_placebo_rates_match_their_test_table(prices_dir):
    res = es.placebo_study(25, assets=["XLK", "XLE", "XLF", "XLV"], start="2019-01-01",
                           end="2024-12-31", data=prices_dir, tests=["t_csect", "kp", "rank"],
                           windows=[(0, 0), (-1, 1)], random_state=7)
    assert len(res.dates) == 25 and res.dates.is_unique and res.dates.is_monotonic_increasing
    cal = es.get_calendar()
    assert all(cal.is_session(d) for d in res.dates)
    assert res.dates.min() >= pd.Timestamp("2019-01-01")
    assert res.dates.max() <= pd.Timestamp("2024-12-31")
    # One row per placebo date, test and window; market left out of the cross-section.
    sub = res.tests.query("test == 'kp' and start == -1 and end == 1")
    assert len(sub) == 25 and (sub["n"] == 4).all()
    for level in (0.01, 0.05, 0.10):
        got = res.rates.query("test == 'kp' and start == -1 and end == 1 and level == @level")
        assert got["rate"].item() == np.mean(sub["pvalue"].to_numpy() <= level)
    wide = res.table(0.05)
    assert list(wide.columns) == ["(0,0)", "(-1,1)"]
    assert set(wide.index) == {"t_csect", "kp", "rank"}


def test_placebo_is_seeded(prices_dir):
    kw = dict(assets=["XLK", "XLE", "XLF"], start="2020-01-01", end="2023-12-31",
              data=prices_dir, tests=["t_csect"], windows=[(0, 0)])
    a = es.placebo_study(10, random_state=3, **kw)
    b = es.placebo_study(10, random_state=3, **kw)
    c = es.placebo_study(10, random_state=4, **kw)
    assert a.dates.equals(b.dates) and not a.dates.equals(c.dates)
    pd.testing.assert_frame_equal(a.rates, b.rates)


def test_tests_leave_the_market_out_by_default(prices_dir):
    res = es.run_event_study("2025-06-05", data=prices_dir)
    t = res.tests(["t_csect"], windows=[(0, 0)])
    row = t.query("start == 0 and end == 0").iloc[0]
    sectors = res.cars.query("start == 0 and end == 0 and asset != 'SPY'")["car"]
    expected = sectors.mean() / (sectors.std(ddof=1) / np.sqrt(len(sectors)))
    assert row["n"] == 11
    np.testing.assert_allclose(row["statistic"], expected, rtol=1e-12)
    with_market = res.tests(["t_csect"], windows=[(0, 0)], include_market=True)
    assert with_market.query("start == 0 and end == 0")["n"].item() == 12

