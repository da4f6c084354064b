import numpy as np
import pandas as pd
import pytest

from eventstudy.calendar import get_calendar
from eventstudy.data import CSVDirectoryProvider, DataFrameProvider, resolve_provider
from eventstudy.exceptions import DataError, UnknownTickerError
from eventstudy.returns import prices_to_returns


def test_reads_snapshot_columns(prices_dir, snapshot_closes):
    p = CSVDirectoryProvider(prices_dir)
    frame = p.get_prices(["SPY", "XLC", "^GSPC"], "2018-06-15", "2018-06-21")
    assert list(frame.columns) == ["SPY", "XLC", "^GSPC"]
    assert frame.index.name == "date"
    spy = snapshot_closes("SPY").loc["2018-06-15":"2018-06-21"]
    np.testing.assert_array_equal(frame["SPY"].to_numpy(), spy.to_numpy())
    # XLC starts 2018-06-19: NaN before, never filled.
    assert frame["XLC"].loc[:"2018-06-18"].isna().all()
    assert frame["XLC"].loc["2018-06-19":].notna().all()
    assert "GSPC" in p.available_tickers()


def test_unknown_ticker_and_missing_folder(prices_dir, tmp_path):
    with pytest.raises(UnknownTickerError, match="available: ACWI"):
        CSVDirectoryProvider(prices_dir).get_prices(["XYZ"])
    with pytest.raises(DataError, match="does not exist"):
        CSVDirectoryProvider(tmp_path / "nowhere")
    (tmp_path / "BAD.csv").write_text("day,price\n2020-01-02,1\n")
    with pytest.raises(DataError, match="must have columns"):
        CSVDirectoryProvider(tmp_path).get_prices(["BAD"])


def test_resolution_order(prices_dir, monkeypatch):
    frame = pd.DataFrame({"A": [1.0, 2.0]}, index=pd.to_datetime(["2024-01-02", "2024-01-03"]))
    assert isinstance(resolve_provider(frame), DataFrameProvider)
    assert isinstance(resolve_provider(str(prices_dir)), CSVDirectoryProvider)
    monkeypatch.setenv("EVENTSTUDY_DATA", str(prices_dir))
    env = resolve_provider(None)
    assert isinstance(env, CSVDirectoryProvider) and env.path == prices_dir
    monkeypatch.delenv("EVENTSTUDY_DATA")
    from eventstudy.data.cache import CachedProvider

    assert isinstance(resolve_provider(None), CachedProvider)


def test_returns_from_prices_and_gaps(snapshot_closes):
    cal = get_calendar()
    spy = snapshot_closes("SPY").loc["2025-05-01":"2025-06-30"]
    prices = spy.to_frame().drop(index=pd.Timestamp("2025-06-04"))
    panel = prices_to_returns(prices, cal, "simple")
    r = panel.returns["SPY"]
    assert np.isnan(r.loc["2025-06-04"]) and np.isnan(r.loc["2025-06-05"])
    assert r.loc["2025-06-06"] == pytest.approx(spy.loc["2025-06-06"] / spy.loc["2025-06-05"] - 1,
                                                rel=1e-15)
    assert panel.gaps["date"].tolist() == [pd.Timestamp("2025-06-04")]
    log = prices_to_returns(spy.to_frame(), cal, "log").returns["SPY"]
    assert log.loc["2025-06-05"] == pytest.approx(np.log(spy.loc["2025-06-05"] /
                                                         spy.loc["2025-06-04"]), rel=1e-14)
