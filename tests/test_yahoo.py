"""YahooProvider against stand-ins shaped like yfinance 1.x output; no network."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from eventstudy.calendar import get_calendar
from eventstudy.data.yahoo import YahooProvider
from eventstudy.exceptions import (
    DataWarning,
    DependencyError,
    DownloadError,
    EmptyDataError,
    UnknownTickerError,
)

SESSIONS = get_calendar().sessions_in_range("2025-03-31", "2025-04-11")
AFTER_CLOSE = pd.Timestamp("2030-01-01", tz="UTC")
yf_log = logging.getLogger("yfinance")


def ohlcv(close: list[float], dates: pd.DatetimeIndex, tz: str | None = None) -> pd.DataFrame:
    """One ticker as ``Ticker.history(auto_adjust=True)`` gives it (tz-aware, exchange time)."""
    idx = pd.DatetimeIndex(dates).tz_localize(tz or "America/New_York").rename("Date")
    c = np.asarray(close, dtype=float)
    return pd.DataFrame(
        {
            "Open": c * 0.99,
            "High": c * 1.01,
            "Low": c * 0.98,
            "Close": c,
            "Volume": np.arange(1, len(c) + 1, dtype=np.int64) * 1000,
        },
        index=idx,
    )


def yf_frame(per_ticker: dict[str, pd.DataFrame | None], ignore_tz: bool = True) -> pd.DataFrame:
    """Assemble per-ticker frames as yfinance 1.x ``download`` does (multi.py)."""
    dfs = {}
    for sym, df in per_ticker.items():
        if df is None:  # failed ticker: yfinance's utils.empty_df()
            df = pd.DataFrame(
                index=pd.DatetimeIndex([], name="Date"),
                data={k: np.nan for k in ["Open", "High", "Low", "Close", "Adj Close", "Volume"]},
            )
        elif ignore_tz:
            df = df.set_axis(df.index.tz_localize(None), axis=0)
        dfs[sym.upper()] = df
    idx = None
    for df in dfs.values():
        if not df.empty:
            idx = df.index if idx is None else idx.union(df.index)
    idx = pd.DatetimeIndex([]) if idx is None else idx
    dfs = {k: v.reindex(idx) for k, v in dfs.items()}
    data = pd.concat(dfs.values(), axis=1, sort=True, keys=dfs.keys(), names=["Ticker", "Price"])
    data.columns = data.columns.swaplevel(0, 1)
    return data.sort_index(level=0, axis=1)


class FakeDownload:
    """Stand-in for ``yfinance.download``: scripted answers, logged failures, recorded calls."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls: list[tuple[list[str], dict]] = []

    def __call__(self, tickers, **kwargs):
        self.calls.append((list(tickers), kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        frame, errors = answer if isinstance(answer, tuple) else (answer, {})
        if errors:  # yfinance logs failures and returns all-NaN columns
            yf_log.error("\n%.f Failed download%s:", len(errors), "s" if len(errors) > 1 else "")
            for sym, err in errors.items():
                yf_log.error(f"{[sym]}: " + err)
        return frame


def unexpected_sleep(seconds: float) -> None:
    raise AssertionError(f"no retry expected, but asked to sleep {seconds} s")


def provider(fake, sleeps=None, now=AFTER_CLOSE):
    sleep = sleeps.append if sleeps is not None else unexpected_sleep
    return YahooProvider(download=fake, sleep=sleep, now=lambda: now)


def test_several_tickers_one_call_with_yfinance_arguments():
    spy = ohlcv([500 + i for i in range(len(SESSIONS))], SESSIONS)
    xlk = ohlcv([200 + i for i in range(len(SESSIONS) - 1)], SESSIONS.delete(3))  # a gap
    fake = FakeDownload(yf_frame({"SPY": spy, "XLK": xlk}))
    out = provider(fake).get_prices(["spy", "XLK"], "2025-03-31", "2025-04-11")

    assert len(fake.calls) == 1
    tickers, kwargs = fake.calls[0]
    assert tickers == ["SPY", "XLK"]
    assert kwargs["start"] == "2025-03-31"
    assert kwargs["end"] == "2025-04-12"  # yfinance's end is exclusive
    assert kwargs["auto_adjust"] is True and kwargs["actions"] is False
    assert kwargs["progress"] is False and kwargs["group_by"] == "column"

    assert list(out.columns) == ["spy", "XLK"]
    assert out.index.name == "date" and out.index.tz is None
    assert list(out.index) == list(SESSIONS)
    assert out["spy"].tolist() == [500.0 + i for i in range(len(SESSIONS))]
    assert np.isnan(out["XLK"].iloc[3])
    expected_xlk = [200.0, 201.0, 202.0, np.nan] + [203.0 + i for i in range(len(SESSIONS) - 4)]
    np.testing.assert_array_equal(out["XLK"].to_numpy(), expected_xlk)


def test_single_ticker_multiindex_and_range_trimmed():
    spy = ohlcv(np.linspace(100, 110, len(SESSIONS)), SESSIONS)
    fake = FakeDownload(yf_frame({"SPY": spy}))
    out = provider(fake).get_prices(["SPY"], "2025-04-02", "2025-04-08")
    assert list(out.index.strftime("%Y-%m-%d")) == [
        "2025-04-02",
        "2025-04-03",
        "2025-04-04",
        "2025-04-07",
        "2025-04-08",
    ]
    np.testing.assert_allclose(out["SPY"], np.linspace(100, 110, len(SESSIONS))[2:7])


@pytest.mark.parametrize("tz", ["America/New_York", "UTC"])
def test_tz_aware_index_becomes_session_dates(tz):
    dates = SESSIONS[:3]
    spy = ohlcv([1.0, 2.0, 3.0], dates)
    if tz == "UTC":  # midnight New York is 04:00 UTC
        spy = spy.set_axis(spy.index.tz_convert("UTC"), axis=0)
    fake = FakeDownload(yf_frame({"SPY": spy}, ignore_tz=False))
    out = provider(fake).get_prices(["SPY"], "2025-03-31", "2025-04-02")
    assert out.index.tz is None
    assert list(out.index) == list(dates)
    assert out["SPY"].tolist() == [1.0, 2.0, 3.0]


def test_unknown_ticker_is_named_and_not_retried():
    spy = ohlcv([1.0] * len(SESSIONS), SESSIONS)
    fake = FakeDownload(
        (
            yf_frame({"SPY": spy, "ZZZZ": None}),
            {"ZZZZ": "YFTzMissingError('possibly delisted; no timezone found')"},
        )
    )
    sleeps: list[float] = []
    with pytest.raises(UnknownTickerError, match=r"\['ZZZZ'\].*no timezone found"):
        provider(fake, sleeps).get_prices(["SPY", "ZZZZ"], "2025-03-31", "2025-04-11")
    assert len(fake.calls) == 1 and sleeps == []


def test_ticker_without_prices_in_range_stays_nan_with_warning():
    spy = ohlcv([5.0] * len(SESSIONS), SESSIONS)
    reason = "possibly delisted; no price data found  (1d 2025-03-31 -> 2025-04-12)"
    fake = FakeDownload((yf_frame({"SPY": spy, "XLC": None}), {"XLC": reason}))
    with pytest.warns(DataWarning, match="XLC.*no price data found"):
        out = provider(fake).get_prices(["SPY", "XLC"], "2025-03-31", "2025-04-11")
    assert out["XLC"].isna().all() and len(out) == len(SESSIONS)
    assert (out["SPY"] == 5.0).all()


def test_empty_result_raises_empty_data_error():
    reason = "possibly delisted; no price data found  (1d 1990-01-01 -> 1990-02-01)"
    fake = FakeDownload((yf_frame({"XLC": None}), {"XLC": reason}))
    with pytest.raises(EmptyDataError, match="XLC"):
        provider(fake).get_prices(["XLC"], "1990-01-01", "1990-01-31")


def test_transient_exceptions_are_retried_with_exponential_backoff():
    from yfinance.exceptions import YFRateLimitError

    spy = ohlcv([7.0] * 3, SESSIONS[:3])
    fake = FakeDownload(ConnectionError("reset"), YFRateLimitError(), yf_frame({"SPY": spy}))
    sleeps: list[float] = []
    out = provider(fake, sleeps).get_prices(["SPY"], "2025-03-31", "2025-04-02")
    assert out["SPY"].tolist() == [7.0, 7.0, 7.0]
    assert len(fake.calls) == 3
    assert sleeps == [1.0, 2.0]


def test_persistent_failure_names_tickers_and_the_remedy():
    from yfinance.exceptions import YFRateLimitError

    fake = FakeDownload(YFRateLimitError(), YFRateLimitError(), YFRateLimitError())
    sleeps: list[float] = []
    with pytest.raises(DownloadError, match=r"\['SPY', 'XLK'\].*3 attempt.*Rate limited.*retry"):
        provider(fake, sleeps).get_prices(["SPY", "XLK"], "2025-03-31", "2025-04-02")
    assert sleeps == [1.0, 2.0]


def test_only_tickers_that_failed_transiently_are_fetched_again():
    spy = ohlcv([1.0, 2.0, 3.0], SESSIONS[:3])
    xlk = ohlcv([4.0, 5.0, 6.0], SESSIONS[:3])
    rate = "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"
    fake = FakeDownload(
        (yf_frame({"SPY": spy, "XLK": None}), {"XLK": rate}),
        yf_frame({"XLK": xlk}),
    )
    sleeps: list[float] = []
    out = provider(fake, sleeps).get_prices(["SPY", "XLK"], "2025-03-31", "2025-04-02")
    assert [c[0] for c in fake.calls] == [["SPY", "XLK"], ["XLK"]]
    assert out["SPY"].tolist() == [1.0, 2.0, 3.0]
    assert out["XLK"].tolist() == [4.0, 5.0, 6.0]
    assert sleeps == [1.0]


def test_rows_on_non_sessions_are_dropped_with_warning():
    good_friday = pd.Timestamp("2025-04-18")  # NYSE closed; Cboe quotes some indices
    dates = pd.DatetimeIndex(["2025-04-17", "2025-04-18", "2025-04-21"])
    fake = FakeDownload(yf_frame({"^VIX": ohlcv([30.0, 31.0, 32.0], dates)}))
    with pytest.warns(DataWarning, match="2025-04-18"):
        out = provider(fake).get_prices(["^VIX"], "2025-04-17", "2025-04-21")
    assert good_friday not in out.index
    assert out["^VIX"].tolist() == [30.0, 32.0]


@pytest.mark.parametrize(("clock", "rows"), [("2025-04-02 14:00", 2), ("2025-04-02 16:05", 3)])
def test_todays_row_is_kept_only_after_the_close(clock, rows):
    now = pd.Timestamp(clock, tz="America/New_York")
    fake = FakeDownload(yf_frame({"SPY": ohlcv([1.0, 2.0, 3.0], SESSIONS[:3])}))
    out = provider(fake, now=now).get_prices(["SPY"], "2025-03-31", "2025-04-02")
    assert len(out) == rows


def test_no_start_asks_for_the_full_history():
    fake = FakeDownload(yf_frame({"SPY": ohlcv([1.0], SESSIONS[:1])}))
    provider(fake).get_prices(["SPY"], None, "2025-03-31")
    kwargs = fake.calls[0][1]
    assert kwargs["period"] == "max" and "start" not in kwargs
    assert kwargs["end"] == "2025-04-01"


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside yfinance, pandas 3
def test_real_yfinance_download_assembly(monkeypatch):
    """Run the installed yfinance.download with Ticker.history replaced: its real frame shape."""
    yf = pytest.importorskip("yfinance")
    from yfinance.exceptions import YFTzMissingError

    def no_network(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    seen = {}

    def history(self, *args, **kwargs):
        seen[self.ticker] = (kwargs.get("start"), kwargs.get("end"))
        if self.ticker == "ZZZZ":
            raise YFTzMissingError(self.ticker)
        closes = {"SPY": [10.0, 11.0, 12.0], "XLK": [20.0, 21.0, 22.0]}[self.ticker]
        return ohlcv(closes, SESSIONS[:3])

    monkeypatch.setattr(yf.Ticker, "history", history)
    real = YahooProvider(threads=False, now=lambda: AFTER_CLOSE)
    out = real.get_prices(["SPY", "xlk"], "2025-03-31", "2025-04-02")
    assert seen["SPY"] == ("2025-03-31", "2025-04-03")
    assert list(out.columns) == ["SPY", "xlk"]
    assert list(out.index) == list(SESSIONS[:3])
    assert out["xlk"].tolist() == [20.0, 21.0, 22.0]
    with pytest.raises(UnknownTickerError, match="ZZZZ"):
        real.get_prices(["SPY", "ZZZZ"], "2025-03-31", "2025-04-02")


def test_missing_yfinance_gives_dependency_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "yfinance", None)
    with pytest.raises(DependencyError, match="pip install yfinance"):
        YahooProvider(now=lambda: AFTER_CLOSE).get_prices(["SPY"], "2025-03-31", "2025-04-02")


def test_importing_eventstudy_does_not_import_yfinance():
    code = "import sys, eventstudy, eventstudy.data; print('yfinance' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
