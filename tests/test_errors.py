"""Bad input gets a specific error naming the problem and the fix; exclusions are reported."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.calendar import get_calendar
from eventstudy.exceptions import (
    DataCoverageError,
    DataWarning,
    EmptyDataError,
    EventError,
    InvalidIndexError,
    InvalidPriceError,
    SpecificationError,
    UnknownTickerError,
    WindowError,
)

SESSIONS = get_calendar().sessions_in_range("2023-01-03", "2024-12-31")


def prices(n_assets: int = 2, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    r = rng.normal(0, 0.01, (len(SESSIONS), n_assets + 1))
    cols = ["MKT"] + [f"A{j}" for j in range(n_assets)]
    return pd.DataFrame(100 * np.cumprod(1 + r, axis=0), index=SESSIONS, columns=cols)


def run(data, **kw):
    kw.setdefault("assets", ["A0", "A1"])
    kw.setdefault("market", "MKT")
    return es.run_event_study(kw.pop("events", "2024-06-03"), data=data, **kw)


def test_unknown_ticker_lists_available(prices_dir):
    with pytest.raises(UnknownTickerError, match=r"\['NOPE'\].*available: ACWI"):
        es.run_event_study("2025-06-05", assets=["NOPE"], data=prices_dir)
    with pytest.raises(UnknownTickerError, match="available"):
        run(prices(), assets=["ZZZ"])
    # UnknownTickerError is also a LookupError for callers who catch builtins.
    assert issubclass(UnknownTickerError, LookupError)


@pytest.mark.parametrize(("event", "fragment"), [
    ("2026-09-01", "data end 2026-07-31"),
    ("1995-03-01", "no XLK data between"),
])
def test_event_outside_the_data(prices_dir, event, fragment):
    with pytest.raises(DataCoverageError, match=fragment):
        es.run_event_study(event, assets=["XLK"], data=prices_dir)


def test_too_short_estimation_window():
    with pytest.raises(WindowError, match="exceeds the estimation window length 40"):
        run(prices(), estimation_window=(-50, -11))
    # Enough sessions in the window, but the data start too late for this event.
    with pytest.raises(DataCoverageError, match="too few estimation returns"):
        run(prices(), events="2023-03-01")


@pytest.mark.parametrize(("kw", "fragment"), [
    ({"estimation_window": (-100, -5)}, "overlaps"),
    ({"event_window": (5, -5)}, "reversed"),
    ({"event_window": (1, 5)}, "must contain day 0"),
    ({"car_windows": [(-20, 0)]}, "not inside event_window"),
    ({"estimation_window": (-250, "x")}, "integers"),
    ({"min_estimation_obs": 1}, ">= 3"),
])
def test_bad_windows(kw, fragment):
    with pytest.raises(WindowError, match=fragment):
        run(prices(), **kw)


def test_unknown_options_list_valid_values():
    with pytest.raises(SpecificationError, match="'market', 'capm', 'ff3'"):
        run(prices(), model="famafrench")
    with pytest.raises(SpecificationError, match="'simple', 'log'"):
        run(prices(), return_type="pct")
    with pytest.raises(SpecificationError, match="'next', 'previous', 'raise'"):
        run(prices(), alignment="nearest")


def test_duplicate_and_unsorted_dates():
    p = prices()
    with pytest.raises(InvalidIndexError, match="duplicate dates"):
        run(pd.concat([p, p.iloc[[10]]]).sort_index())
    with pytest.raises(InvalidIndexError, match="sort_index"):
        run(p.iloc[::-1])


@pytest.mark.parametrize("bad", [0.0, -3.0, np.inf])
def test_non_positive_or_infinite_prices(bad):
    p = prices()
    p.iloc[50, 1] = bad
    with pytest.raises(InvalidPriceError, match="A0 on 2023-03-16"):
        run(p)


def test_empty_data():
    with pytest.raises(EmptyDataError):
        run(prices().iloc[:0])


def test_duplicate_events_and_malformed_dates():
    with pytest.raises(EventError, match="duplicate event id"):
        run(prices(), events=["2024-06-03", "2024-06-03"])
    with pytest.raises(EventError, match="cannot be parsed"):
        run(prices(), events="June fifth")
    with pytest.raises(EventError, match="not a valid date"):
        run(prices(), events="2024-02-30")


def test_naive_timestamp_is_recorded_as_new_york_time():
    res = run(prices(), events="2024-06-03 16:30")
    ev = res.events.iloc[0]
    assert ev["assumed_timezone"]
    assert ev["rule"] == "after_close"
    assert ev["day0"] == pd.Timestamp("2024-06-04")


def test_missing_history_drops_only_that_asset_event(prices_dir):
    # XLC starts 2018-06-19: dropped from the 2018-05-20 event with a reason, not an error.
    with pytest.warns(DataWarning, match="1 of 12 asset-events"):
        res = es.run_event_study("2018-05-20-mnuchin-trade-war-on-hold", data=prices_dir)
    assert "XLC" not in set(res.cars["asset"])
    row = res.dropped.query("scope == 'asset-event'")
    assert row["asset"].tolist() == ["XLC"]
    assert "no XLC data" in row["reason"].item()
    assert res.events["day0"].item() == pd.Timestamp("2018-05-21")  # Sunday -> Monday


def test_constant_price_dropped_for_zero_variance():
    p = prices()
    p["A1"] = 50.0
    with pytest.warns(DataWarning):
        res = run(p, model="constant_mean")
    assert res.dropped.query("asset == 'A1'")["reason"].str.contains("zero residual").all()
    assert set(res.cars["asset"]) == {"A0"}


def test_gap_in_prices_is_reported_not_filled():
    p = prices()
    gap_day = pd.Timestamp("2024-05-01")  # inside the estimation window of 2024-06-03
    p = p.drop(index=gap_day)
    res = run(p)
    data_rows = res.dropped.query("scope == 'data'")
    assert set(data_rows["date"]) == {gap_day}
    assert set(data_rows["asset"]) == {"MKT", "A0", "A1"}
    # The missing session and the session after it have no return: 238 of 240 usable.
    assert (res.params["nobs"] == 238).all()


def test_missing_event_day_return_reported():
    p = prices()
    p.loc[pd.Timestamp("2024-06-05"), "A0"] = np.nan  # day +2
    res = run(p)
    rows = res.dropped.query("scope == 'event-day' and asset == 'A0'")
    assert sorted(rows["date"]) == [pd.Timestamp("2024-06-05"), pd.Timestamp("2024-06-06")]
    cars = res.cars.set_index(["asset", "start", "end"])
    assert np.isnan(cars.loc[("A0", -5, 5), "car"])
    assert np.isfinite(cars.loc[("A0", -1, 1), "car"])
    assert np.isfinite(cars.loc[("A1", -5, 5), "car"])


def test_contamination_exclusion_listed():
    res = run(prices(), exclude=["2024-04-03", "2024-04-06"], exclude_window=(0, 1))
    rows = res.dropped.query("scope == 'estimation-day'")
    # 2024-04-06 is a Saturday -> 2024-04-08, plus one session after each date.
    assert sorted(rows["date"]) == [pd.Timestamp(d) for d in
                                    ("2024-04-03", "2024-04-04", "2024-04-08", "2024-04-09")]
    assert (res.params["nobs"] == 236).all()


def test_no_warning_when_nothing_dropped(prices_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        es.run_event_study("2025-06-05", data=prices_dir)


def test_exclusion_counts_sessions_from_dates_outside_the_loaded_range(prices_dir):
    # 2018-03-22 lies long before the estimation window of 2025-06-05: an exclude_window
    # around it must not reach into the loaded sessions.
    res = es.run_event_study("2025-06-05", assets=["XLK"], data=prices_dir,
                             exclude=["2018-03-22", "2025-04-03"], exclude_window=(-1, 5))
    days = res.dropped.query("scope == 'estimation-day'")["date"]
    cal = get_calendar()
    expected = [cal.offset("2025-04-03", j) for j in range(-1, 6)]
    assert sorted(days) == expected


def test_catalog_exclusion_covers_studied_events_too(prices_dir):
    res = es.run_event_study(["2025-05-12-geneva-joint-statement", "2025-06-05-trump-xi-call"],
                             assets=["XLK"], data=prices_dir, exclude="catalog")
    rows = res.dropped.query("scope == 'estimation-day' and event_id == "
                             "'2025-06-05-trump-xi-call'")
    assert pd.Timestamp("2025-05-12") in set(rows["date"])
