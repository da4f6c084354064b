"""Download faults injected through a ``yfinance.download`` stand-in, behind the disk cache.

Each test wraps ``YahooProvider(download=fake, sleep=...)`` in ``CachedProvider(...,
cache_dir=tmp_path)``, injects one fault, and then checks two things: what the caller gets
(data or a specific error), and that the cache holds only complete, valid data. The second is
checked by reopening the cache with a provider that refuses to be called and reading back.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from yfinance.exceptions import YFRateLimitError

from eventstudy.calendar import get_calendar
from eventstudy.data import cache as cache_mod
from eventstudy.data.cache import CachedProvider
from eventstudy.data.yahoo import YahooProvider
from eventstudy.exceptions import DataWarning, DownloadError, UnknownTickerError

NOW = pd.Timestamp("2025-07-01 12:00", tz="UTC")  # last complete day: 2025-06-30
START, END = "2025-03-31", "2025-04-11"
SESSIONS = get_calendar().sessions_in_range(START, END)
TICKERS = ["SPY", "XLK"]
RATE_LIMIT = "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"


class Refuse:
    """A provider that must not be called: every read has to come from the cache."""

    def get_prices(self, tickers, start=None, end=None):
        raise AssertionError(f"cache miss: {list(tickers)} {start}..{end}")


class Record:
    """A provider that answers from the synthetic closes and records the ranges asked."""

    def __init__(self, close):
        self.close = close
        self.calls: list[tuple[tuple[str, ...], pd.Timestamp, pd.Timestamp]] = []

    def get_prices(self, tickers, start=None, end=None):
        self.calls.append((tuple(tickers), pd.Timestamp(start), pd.Timestamp(end)))
        idx = get_calendar().sessions_in_range(start, end).rename("date")
        return pd.DataFrame({t: self.close(t, idx) for t in tickers}, index=idx)


def cached(tmp_path: Path, fake, sleeps: list[float] | None = None) -> CachedProvider:
    sleep = sleeps.append if sleeps is not None else (lambda s: None)
    yahoo = YahooProvider(download=fake, sleep=sleep)
    return CachedProvider(yahoo, cache_dir=tmp_path / "cache", now=lambda: NOW)


def reopen(tmp_path: Path, provider=None) -> CachedProvider:
    """A fresh cache over the same folder and namespace, with another wrapped provider."""
    return CachedProvider(provider or Refuse(), cache_dir=tmp_path / "cache",
                          namespace="yahooprovider", now=lambda: NOW)


def data_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").rglob("*.parquet"))


def assert_cache_sound(tmp_path: Path, close) -> None:
    """Every store is readable, has no leftovers, and is complete over its recorded range.

    Complete: a price on every NYSE session of the recorded range, equal to the source's
    (the synthetic tickers trade every session); or no rows at all (a range recorded as
    holding no prices).
    """
    assert not list((tmp_path / "cache").rglob("*.tmp"))
    for file in data_files(tmp_path):
        entry = cache_mod._read_entry(file)
        if len(entry.data) == 0:
            continue
        want = get_calendar().sessions_in_range(entry.start, entry.end)
        assert list(entry.data.index) == list(want), f"{file.name} is not complete"
        np.testing.assert_array_equal(entry.data.to_numpy(), close(entry.ticker, want))


def expected(close, tickers=TICKERS, dates=SESSIONS) -> pd.DataFrame:
    return pd.DataFrame({t: close(t, dates) for t in tickers}, index=dates.rename("date"))


def assert_frame(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_freq=False, check_index_type=False,
                                  check_exact=True)


def test_empty_frame_is_an_unknown_ticker_error_and_nothing_is_cached(tmp_path, yfake):
    fake = yfake.FakeDownload(pd.DataFrame())
    with pytest.raises(UnknownTickerError) as info:
        cached(tmp_path, fake).get_prices(TICKERS, START, END)
    assert type(info.value) is UnknownTickerError
    assert "['SPY', 'XLK']" in str(info.value) and "check the spelling" in str(info.value)
    assert len(fake.calls) == 1  # not a transient fault: no retry
    assert data_files(tmp_path) == []
    with pytest.raises(AssertionError, match="cache miss"):
        reopen(tmp_path).get_prices(TICKERS, START, END)
    # The next run with a working source fills the cache normally.
    good = yfake.FakeDownload(yfake.full_answer)
    assert_frame(cached(tmp_path, good).get_prices(TICKERS, START, END), expected(yfake.close))
    assert_frame(reopen(tmp_path).get_prices(TICKERS, START, END), expected(yfake.close))
    assert_cache_sound(tmp_path, yfake.close)


def test_frame_missing_a_ticker_without_reason_fails_whole_request(tmp_path, yfake):
    spy = yfake.ohlcv(yfake.close("SPY", SESSIONS), SESSIONS)
    fake = yfake.FakeDownload(yfake.yf_frame({"SPY": spy}))
    with pytest.raises(UnknownTickerError) as info:
        cached(tmp_path, fake).get_prices(TICKERS, START, END)
    assert type(info.value) is UnknownTickerError
    assert "['XLK']" in str(info.value) and "SPY" not in str(info.value)
    # Nothing is written until every ticker of the request is downloaded.
    assert data_files(tmp_path) == []


def test_frame_missing_a_ticker_with_no_price_reason_keeps_the_rest(tmp_path, yfake):
    spy = yfake.ohlcv(yfake.close("SPY", SESSIONS), SESSIONS)
    reason = "possibly delisted; no price data found  (1d 2025-03-31 -> 2025-04-12)"
    fake = yfake.FakeDownload((yfake.yf_frame({"SPY": spy, "XLK": None}), {"XLK": reason}))
    with pytest.warns(DataWarning, match=r"\['XLK'\].*no price data found"):
        out = cached(tmp_path, fake).get_prices(TICKERS, START, END)
    assert_frame(out[["SPY"]], expected(yfake.close, ["SPY"]))
    assert out["XLK"].isna().all()
    # The answer "XLK has no prices in this range" is recorded; SPY is complete.
    back = reopen(tmp_path).get_prices(TICKERS, START, END)
    assert_frame(back[["SPY"]], expected(yfake.close, ["SPY"]))
    assert back["XLK"].isna().all()
    assert_cache_sound(tmp_path, yfake.close)


@pytest.mark.parametrize("first_two", [
    (ConnectionError("connection reset by peer"), YFRateLimitError()),
    (TimeoutError("read timed out"), "logged-rate-limit"),
], ids=["raised", "raised-then-logged"])
def test_two_failures_then_success_is_retried(tmp_path, yfake, first_two):
    logged = (yfake.yf_frame({t: None for t in TICKERS}), {t: RATE_LIMIT for t in TICKERS})
    answers = [logged if a == "logged-rate-limit" else a for a in first_two]
    fake = yfake.FakeDownload(*answers, yfake.full_answer)
    sleeps: list[float] = []
    out = cached(tmp_path, fake, sleeps).get_prices(TICKERS, START, END)
    assert len(fake.calls) == 3
    assert [c[0] for c in fake.calls] == [TICKERS] * 3
    assert sleeps == [1.0, 2.0]  # exponential backoff between the attempts
    assert_frame(out, expected(yfake.close))
    assert_frame(reopen(tmp_path).get_prices(TICKERS, START, END), expected(yfake.close))
    assert_cache_sound(tmp_path, yfake.close)


@pytest.mark.parametrize("how", ["raised", "logged"])
def test_persistent_rate_limit_gives_download_error_and_writes_nothing(tmp_path, yfake, how):
    if how == "raised":
        fake = yfake.FakeDownload(YFRateLimitError())
    else:
        fake = yfake.FakeDownload(
            (yfake.yf_frame({t: None for t in TICKERS}), {t: RATE_LIMIT for t in TICKERS}))
    sleeps: list[float] = []
    with pytest.raises(DownloadError) as info:
        cached(tmp_path, fake, sleeps).get_prices(TICKERS, START, END)
    assert type(info.value) is DownloadError
    message = str(info.value)
    assert "['SPY', 'XLK']" in message and "failed after 3 attempt(s)" in message
    assert "wait a few minutes and retry" in message
    assert len(fake.calls) == 3 and sleeps == [1.0, 2.0]  # bounded: attempts=3
    assert data_files(tmp_path) == []
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_persistent_rate_limit_leaves_an_existing_store_untouched(tmp_path, yfake):
    first = yfake.FakeDownload(yfake.full_answer)
    cached(tmp_path, first).get_prices(["SPY"], START, END)
    [file] = data_files(tmp_path)
    before = file.read_bytes()
    fake = yfake.FakeDownload(YFRateLimitError())
    with pytest.raises(DownloadError):
        cached(tmp_path, fake).get_prices(["SPY"], "2025-03-03", "2025-04-30")
    assert file.read_bytes() == before
    assert_frame(reopen(tmp_path).get_prices(["SPY"], START, END),
                 expected(yfake.close, ["SPY"]))
    assert_cache_sound(tmp_path, yfake.close)


def test_partial_frame_is_not_remembered_as_complete(tmp_path, yfake):
    """An answer cut short after 4 of 10 sessions: only those 4 are recorded as covered."""
    head = SESSIONS[:4]
    partial = yfake.yf_frame({t: yfake.ohlcv(yfake.close(t, head), head) for t in TICKERS})
    fake = yfake.FakeDownload(partial)
    out = cached(tmp_path, fake).get_prices(TICKERS, START, END)
    assert_frame(out, expected(yfake.close, dates=head))
    assert_cache_sound(tmp_path, yfake.close)
    info = reopen(tmp_path).info().set_index("ticker")
    assert (info["end"] == head[-1]).all()
    # What was received reads back without a download...
    assert_frame(reopen(tmp_path).get_prices(TICKERS, START, head[-1]),
                 expected(yfake.close, dates=head))
    # ...and the rest is asked for again (from the last stored row, to check the basis).
    source = Record(yfake.close)
    full = reopen(tmp_path, source).get_prices(TICKERS, START, END)
    assert source.calls == [(tuple(TICKERS), head[-1], SESSIONS[-1])]
    assert_frame(full, expected(yfake.close))
    assert_cache_sound(tmp_path, yfake.close)
    assert_frame(reopen(tmp_path).get_prices(TICKERS, START, END), expected(yfake.close))


def test_answer_ending_on_the_last_session_before_end_is_complete(tmp_path, yfake):
    """Control for the test above: an end on a weekend is not a truncated answer."""
    fake = yfake.FakeDownload(yfake.full_answer)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        cached(tmp_path, fake).get_prices(TICKERS, START, "2025-04-13")  # a Sunday
    info = reopen(tmp_path).info().set_index("ticker")
    assert (info["end"] == pd.Timestamp("2025-04-13")).all()
    reopen(tmp_path).get_prices(TICKERS, START, "2025-04-13")


@pytest.mark.parametrize("repeat", ["empty-then-close", "same-close", "revised-close"])
def test_frame_repeating_a_day(tmp_path, yfake, repeat):
    """Yahoo sometimes returns the latest day twice (yfinance #198, #573, #765): one row per
    session must come out, not an InvalidIndexError the user cannot act on."""
    frame = yfake.full_answer(TICKERS, {"start": START, "end": "2025-04-12"})
    last = frame.iloc[[-1]].copy()
    if repeat == "empty-then-close":  # the first of the two rows is empty (#765)
        last = last.astype(float) * np.nan
        frame = frame.astype(float)
        raw = pd.concat([frame.iloc[:-1], last, frame.iloc[[-1]]])
    elif repeat == "same-close":
        raw = pd.concat([frame, last])
    else:  # a provisional close, then the final one
        last.loc[:, ("Close", "SPY")] *= 1.01
        raw = pd.concat([frame.iloc[:-1], last, frame.iloc[[-1]]])
    fake = yfake.FakeDownload(raw)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = cached(tmp_path, fake).get_prices(TICKERS, START, END)
    assert_frame(out, expected(yfake.close))
    messages = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    if repeat == "revised-close":
        assert any("different closes for the same day (2025-04-11)" in m for m in messages)
    else:
        assert messages == []
    assert_frame(reopen(tmp_path).get_prices(TICKERS, START, END), expected(yfake.close))
    assert_cache_sound(tmp_path, yfake.close)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf])
def test_bad_tick_becomes_a_missing_day(tmp_path, yfake, bad):
    """A zero, negative or infinite close from Yahoo used to be cached and then stop every
    study with InvalidPriceError until the cache was cleared; it is now a missing day."""
    frame = yfake.full_answer(TICKERS, {"start": START, "end": "2025-04-12"})
    frame.loc[SESSIONS[3], ("Close", "XLK")] = bad
    fake = yfake.FakeDownload(frame)
    with pytest.warns(DataWarning, match=rf"1 non-positive or infinite close\(s\) \(XLK "
                                         rf"2025-04-03 = {bad}\)"):
        out = cached(tmp_path, fake).get_prices(TICKERS, START, END)
    want = expected(yfake.close)
    want.loc[SESSIONS[3], "XLK"] = np.nan
    assert_frame(out, want)
    assert_frame(reopen(tmp_path).get_prices(TICKERS, START, END), want)
    assert (reopen(tmp_path).info()["end"] == SESSIONS[-1]).all()
