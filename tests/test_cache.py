"""CachedProvider: partial fills, vintage checks, atomic writes, concurrency, corruption."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.calendar import get_calendar
from eventstudy.data import cache as cache_mod
from eventstudy.data.cache import CachedProvider
from eventstudy.exceptions import DataWarning, DownloadError, EmptyDataError

NOW = pd.Timestamp("2025-07-01 12:00", tz="UTC")  # 08:00 in New York: last complete day 06-30
ORIGIN = pd.Timestamp("2000-01-03")
T = pd.Timestamp


def price(ticker: str, dates: pd.DatetimeIndex) -> np.ndarray:
    """Synthetic adjusted close: a different smooth path per ticker."""
    base = {"SPY": 100.0, "XLK": 50.0, "XLC": 40.0}[ticker]
    return base * np.exp(0.0004 * (dates - ORIGIN).days.to_numpy())


def sessions(start, end) -> pd.DatetimeIndex:
    return get_calendar().sessions_in_range(start, end)


class Source:
    """A price provider that records every request and can fail or re-adjust on demand."""

    def __init__(self, inception=None, empty_raises=False):
        self.calls: list[tuple[tuple[str, ...], pd.Timestamp | None, pd.Timestamp]] = []
        self.inception = inception or {}
        self.empty_raises = empty_raises
        self.fail: Exception | None = None
        self.factor = 1.0  # multiplies every price: a new adjustment basis when != 1

    def get_prices(self, tickers, start=None, end=None):
        self.calls.append((tuple(tickers), None if start is None else T(start), T(end)))
        if self.fail is not None:
            raise self.fail
        idx = sessions(T(start) if start is not None else T("1995-01-03"), end).rename("date")
        frame = pd.DataFrame(index=idx)
        for t in tickers:
            values = price(t, idx) * self.factor
            values[idx < self.inception.get(t, T("1900-01-01"))] = np.nan
            frame[t] = values
        frame = frame.dropna(how="all")
        if frame.empty and self.empty_raises:
            raise EmptyDataError(f"no prices for {list(tickers)}")
        return frame


def expected(ticker, start, end, inception=None):
    idx = sessions(max(T(start), T(inception or "1900-01-01")), end)
    return pd.Series(price(ticker, idx), index=idx)


def make(tmp_path, source, **kwargs):
    kwargs.setdefault("now", lambda: NOW)
    return CachedProvider(source, tmp_path / "c", **kwargs)


def store_file(cache: CachedProvider, ticker: str) -> Path:
    files = [Path(p) for p in cache.info().query("ticker == @ticker")["path"]]
    assert len(files) == 1
    return files[0]


def test_wider_request_fetches_only_the_missing_ends(tmp_path):
    src = Source()
    cache = make(tmp_path, src)
    first = cache.get_prices(["SPY"], "2020-03-02", "2020-03-31")
    assert src.calls == [(("SPY",), T("2020-03-02"), T("2020-03-31"))]
    pd.testing.assert_series_equal(
        first["SPY"],
        expected("SPY", "2020-03-02", "2020-03-31"),
        check_names=False,
        check_freq=False,
        check_index_type=False,
    )

    src.calls.clear()
    out = cache.get_prices(["SPY", "XLK"], "2020-02-03", "2020-04-30")
    # SPY: before and after the held range, each overlapping it by one stored row (03-02 and
    # 03-31) to check the adjustment basis; XLK: everything. One call per distinct range.
    assert sorted(src.calls) == [
        (("SPY",), T("2020-02-03"), T("2020-03-02")),
        (("SPY",), T("2020-03-31"), T("2020-04-30")),
        (("XLK",), T("2020-02-03"), T("2020-04-30")),
    ]
    for t in ["SPY", "XLK"]:
        want = expected(t, "2020-02-03", "2020-04-30")
        assert list(out.index) == list(want.index)
        np.testing.assert_allclose(out[t].to_numpy(), want.to_numpy(), rtol=1e-15)

    src.calls.clear()
    inner = cache.get_prices(["XLK", "SPY"], "2020-02-10", "2020-04-10")
    assert src.calls == []
    assert list(inner.columns) == ["XLK", "SPY"]
    # 2020-04-10 was Good Friday.
    assert inner.index[0] == T("2020-02-10") and inner.index[-1] == T("2020-04-09")


def test_no_data_before_inception_is_remembered(tmp_path):
    src = Source(inception={"XLC": T("2018-06-19")}, empty_raises=True)
    cache = make(tmp_path, src)
    out = cache.get_prices(["XLC"], "2018-01-02", "2018-12-31")
    assert out.index[0] == T("2018-06-19")
    cache.get_prices(["XLC"], "2018-01-02", "2018-12-31")
    assert len(src.calls) == 1

    # Wholly before inception: the source raises EmptyDataError; that answer is recorded too.
    for _ in range(2):
        with pytest.raises(EmptyDataError, match="XLC"):
            cache.get_prices(["XLC"], "2017-01-03", "2017-12-29")
    assert src.calls[1:] == [(("XLC",), T("2017-01-03"), T("2018-06-19"))]
    info = cache.info().set_index("ticker").loc["XLC"]
    assert info["start"] == T("2017-01-03") and info["first"] == T("2018-06-19")


def test_end_after_today_is_clipped_and_not_refetched(tmp_path):
    src = Source()
    clock = {"now": NOW}
    cache = make(tmp_path, src, now=lambda: clock["now"])
    out = cache.get_prices(["SPY"], "2025-06-02", "2025-12-31")
    assert src.calls == [(("SPY",), T("2025-06-02"), T("2025-06-30"))]
    assert out.index[-1] == T("2025-06-30")
    cache.get_prices(["SPY"], "2025-06-02", "2025-12-31")
    assert len(src.calls) == 1

    clock["now"] = NOW + pd.Timedelta(days=2)  # 2025-07-03 08:00 New York
    out = cache.get_prices(["SPY"], "2025-06-02", "2025-12-31")
    assert src.calls[1] == (("SPY",), T("2025-06-30"), T("2025-07-02"))
    assert out.index[-1] == T("2025-07-02")


def test_changed_adjustment_basis_triggers_one_full_download(tmp_path):
    src = Source()
    cache = make(tmp_path, src)
    cache.get_prices(["SPY"], "2020-03-02", "2020-03-31")
    src.factor = 0.99  # a dividend since: every earlier adjusted close is 1 % lower now
    src.calls.clear()
    out = cache.get_prices(["SPY"], "2020-03-02", "2020-04-30")
    assert src.calls == [
        (("SPY",), T("2020-03-31"), T("2020-04-30")),  # the gap; 03-31 no longer matches
        (("SPY",), T("2020-03-02"), T("2020-04-30")),  # so the whole range again
    ]
    want = expected("SPY", "2020-03-02", "2020-04-30") * 0.99
    np.testing.assert_allclose(out["SPY"].to_numpy(), want.to_numpy(), rtol=1e-15)
    # The store on disk is the new basis too: no call needed, same numbers.
    src.calls.clear()
    again = CachedProvider(src, tmp_path / "c", now=lambda: NOW).get_prices(
        ["SPY"], "2020-03-02", "2020-04-30"
    )
    assert src.calls == []
    np.testing.assert_allclose(again["SPY"].to_numpy(), want.to_numpy(), rtol=1e-15)


def test_crash_during_write_keeps_previous_file(tmp_path, monkeypatch):
    src = Source()
    cache = make(tmp_path, src)
    cache.get_prices(["SPY"], "2020-03-02", "2020-03-31")
    file = store_file(cache, "SPY")
    before = file.read_bytes()
    real = cache_mod._write_table

    def crash(table, sink):
        buf = io.BytesIO()
        real(table, buf)
        sink.write(buf.getvalue()[: len(buf.getvalue()) // 2])
        sink.flush()
        raise RuntimeError("power cut")

    monkeypatch.setattr(cache_mod, "_write_table", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        cache.get_prices(["SPY"], "2020-02-03", "2020-04-30")
    assert file.read_bytes() == before
    assert [p.name for p in file.parent.iterdir() if p.suffix == ".tmp"] == []
    monkeypatch.setattr(cache_mod, "_write_table", real)

    src.calls.clear()
    out = make(tmp_path, src).get_prices(["SPY"], "2020-03-02", "2020-03-31")
    assert src.calls == []
    np.testing.assert_allclose(out["SPY"], expected("SPY", "2020-03-02", "2020-03-31"))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "no_metadata", "wrong_ticker"])
def test_corrupt_file_is_discarded_and_refetched(tmp_path, damage):
    import pyarrow.parquet as pq

    src = Source()
    cache = make(tmp_path, src)
    cache.get_prices(["SPY"], "2020-03-02", "2020-03-31")
    file = store_file(cache, "SPY")
    good = file.read_bytes()
    if damage == "garbage":
        file.write_bytes(b"not a parquet file")
    elif damage == "truncated":
        file.write_bytes(good[: len(good) // 2])
    elif damage == "no_metadata":
        pq.write_table(pq.read_table(file).replace_schema_metadata({}), file)
    else:
        table = pq.read_table(file)
        meta = json.loads(table.schema.metadata[b"eventstudy.cache"])
        meta["ticker"] = "XLK"
        pq.write_table(table.replace_schema_metadata({b"eventstudy.cache": json.dumps(meta)}), file)
    src.calls.clear()
    with pytest.warns(DataWarning, match="unreadable"):
        out = cache.get_prices(["SPY"], "2020-03-02", "2020-03-31")
    assert src.calls == [(("SPY",), T("2020-03-02"), T("2020-03-31"))]
    np.testing.assert_allclose(out["SPY"], expected("SPY", "2020-03-02", "2020-03-31"))
    assert cache_mod._read_entry(file).ticker == "SPY"


def test_fault_in_wrapped_provider_writes_nothing(tmp_path):
    src = Source()
    cache = make(tmp_path, src)
    src.fail = DownloadError("Yahoo unreachable")
    with pytest.raises(DownloadError):
        cache.get_prices(["SPY", "XLK"], "2020-03-02", "2020-03-31")
    assert not (tmp_path / "c").exists() or not list((tmp_path / "c").rglob("*.parquet"))

    src.fail = None
    cache.get_prices(["SPY"], "2020-03-02", "2020-03-31")
    file = store_file(cache, "SPY")
    before = file.read_bytes()

    class FailSecond(Source):
        def get_prices(self, tickers, start=None, end=None):
            if len(self.calls) == 1:
                self.fail = ConnectionError("reset")
            return super().get_prices(tickers, start, end)

    flaky = FailSecond()
    with pytest.raises(ConnectionError):
        make(tmp_path, flaky, namespace="source").get_prices(
            ["SPY", "XLK"], "2020-02-03", "2020-04-30"
        )
    assert len(flaky.calls) == 2  # the first range was fetched, then the second failed
    assert file.read_bytes() == before
    assert len(list((tmp_path / "c").rglob("*.parquet"))) == 1  # XLK not written either


def test_max_age_expires_a_store(tmp_path):
    src = Source()
    clock = {"now": NOW}
    cache = make(tmp_path, src, max_age="7D", now=lambda: clock["now"])
    cache.get_prices(["SPY"], "2020-03-02", "2020-03-31")
    clock["now"] = NOW + pd.Timedelta(days=6)
    cache.get_prices(["SPY"], "2020-03-02", "2020-03-31")
    assert len(src.calls) == 1
    assert not cache.info()["expired"].iloc[0]
    clock["now"] = NOW + pd.Timedelta(days=8)
    assert cache.info()["expired"].iloc[0]
    cache.get_prices(["SPY"], "2020-03-02", "2020-03-31")
    assert src.calls[1] == (("SPY",), T("2020-03-02"), T("2020-03-31"))
    assert cache.info()["fetched_at"].iloc[0] == clock["now"]


def test_no_start_means_full_history_once(tmp_path):
    src = Source()
    cache = make(tmp_path, src)
    out = cache.get_prices(["SPY"], None, "2000-01-31")
    assert src.calls == [(("SPY",), None, T("2000-01-31"))]
    assert out.index[0] == T("1995-01-03")  # the source's first day
    cache.get_prices(["SPY"], None, "2000-01-31")
    cache.get_prices(["SPY"], "1999-06-01", "2000-01-31")
    assert len(src.calls) == 1


def test_info_clear_and_locations(tmp_path, monkeypatch):
    src = Source()
    cache = make(tmp_path, src)
    cache.get_prices(["SPY", "XLK"], "2020-03-02", "2020-03-31")
    info = cache.info().set_index("ticker")
    assert sorted(info.index) == ["SPY", "XLK"]
    spy = info.loc["SPY"]
    n = len(sessions("2020-03-02", "2020-03-31"))
    assert (spy["first"], spy["last"], spy["rows"]) == (T("2020-03-02"), T("2020-03-31"), n)
    assert (spy["start"], spy["end"]) == (T("2020-03-02"), T("2020-03-31"))
    assert spy["fetched_at"] == NOW
    assert Path(spy["path"]).parent == tmp_path / "c" / "prices" / "source"
    assert cache.clear(["XLK"]) == 1
    assert list(cache.info()["ticker"]) == ["SPY"]
    assert cache.clear() == 1 and cache.info().empty

    monkeypatch.setenv("EVENTSTUDY_CACHE_DIR", str(tmp_path / "env"))
    assert CachedProvider(src).path == tmp_path / "env" / "prices" / "source"
    assert CachedProvider(src, tmp_path / "arg").path == tmp_path / "arg" / "prices" / "source"


def test_tickers_with_special_characters_get_separate_files(tmp_path):
    class LengthSource(Source):
        def get_prices(self, tickers, start=None, end=None):
            idx = sessions(start, end).rename("date")
            return pd.DataFrame({t: float(len(t)) for t in tickers}, index=idx)

    cache = make(tmp_path, LengthSource())
    out = cache.get_prices(["^GSPC", "BRK-B", "brk-b"], "2020-03-02", "2020-03-06")
    assert out.loc["2020-03-02"].tolist() == [5.0, 5.0, 5.0]
    paths = cache.info()["path"].tolist()
    assert len(set(paths)) == 3 and all("/" not in Path(p).name for p in paths)


WORKER = textwrap.dedent(
    """
    import json, random, sys, time
    from pathlib import Path
    import numpy as np, pandas as pd
    from eventstudy.calendar import get_calendar
    from eventstudy.data.cache import CachedProvider

    SESSIONS = get_calendar().sessions_in_range("2014-01-01", "2021-12-31")

    class Slow:
        def get_prices(self, tickers, start=None, end=None):
            time.sleep(0.01)  # widen the window in which the two writers overlap
            idx = SESSIONS[(SESSIONS >= pd.Timestamp(start)) & (SESSIONS <= pd.Timestamp(end))]
            days = (idx - pd.Timestamp("2014-01-01")).days.to_numpy()
            return pd.DataFrame({t: 100 * np.exp(0.0003 * days) for t in tickers},
                                index=idx.rename("date"))

    cache_dir, seed, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    cache = CachedProvider(Slow(), cache_dir, now=lambda: pd.Timestamp("2025-01-01", tz="UTC"))
    rng = random.Random(seed)
    while not go.exists():
        time.sleep(0.005)
    lo, hi = [], []
    for _ in range(20):
        a = pd.Timestamp("2018-01-02") - pd.Timedelta(days=rng.randint(0, 1200))
        b = pd.Timestamp("2018-01-02") + pd.Timedelta(days=rng.randint(0, 1200))
        out = cache.get_prices(["SYN"], a, b)
        days = (out.index - pd.Timestamp("2014-01-01")).days.to_numpy()
        assert np.allclose(out["SYN"].to_numpy(), 100 * np.exp(0.0003 * days), rtol=1e-14)
        lo.append(str(a.date())); hi.append(str(b.date()))
    print(json.dumps({"lo": min(lo), "hi": max(hi)}))
    """
)


@pytest.mark.slow
def test_two_processes_filling_the_same_ticker(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    go = tmp_path / "go"
    cache_dir = tmp_path / "shared-cache"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(cache_dir), str(seed), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    time.sleep(1.5)  # let both import and wait at the start line
    go.touch()
    # Meanwhile read the store as a lock-free reader would: never a half-written file.
    reads = 0
    deadline = time.monotonic() + 120
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        for file in cache_dir.rglob("*.parquet"):
            cache_mod._read_entry(file)
            reads += 1
        time.sleep(0.002)
    results = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=60)
        assert p.returncode == 0, stderr
        results.append(json.loads(stdout))
    assert reads > 0

    files = list(cache_dir.rglob("*.parquet"))
    assert len(files) == 1
    entry = cache_mod._read_entry(files[0])
    # Every request overlapped 2018-01-02, so each writer merged into the other's file: the
    # store covers the union of all requests.
    assert entry.start == T(min(r["lo"] for r in results))
    assert entry.end == T(max(r["hi"] for r in results))
    want_idx = sessions(entry.start, entry.end)
    assert list(entry.data.index) == list(want_idx)
    days = (want_idx - T("2014-01-01")).days.to_numpy()
    np.testing.assert_allclose(entry.data.to_numpy(), 100 * np.exp(0.0003 * days), rtol=1e-14)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_stores_follow_the_umask_not_mkstemps_private_mode(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        cache = make(tmp_path, Source())
        cache.get_prices(["SPY"], "2025-01-02", "2025-01-31")
    finally:
        os.umask(old)
    assert store_file(cache, "SPY").stat().st_mode & 0o777 == mode
