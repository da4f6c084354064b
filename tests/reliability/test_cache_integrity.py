"""The disk cache survives writers that die: SIGKILL mid-write, stale and live locks.

Two processes filling the same ticker at once (one consistent copy, the union of their ranges,
never a half-written file seen by a lock-free reader) is covered by
``tests/test_cache.py::test_two_processes_filling_the_same_ticker``; an exception raised inside
the write by ``tests/test_cache.py::test_crash_during_write_keeps_previous_file``. Here the
writer is a real process killed with SIGKILL while it holds the ticker's lock and has half
written its temporary file: no ``finally`` clause runs, so only the file system's guarantees
(``os.replace`` is atomic; ``flock`` locks die with their process) protect the cache.
"""

from __future__ import annotations

import os
import signal
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
from eventstudy.exceptions import CacheError

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

NOW = pd.Timestamp("2025-07-01 12:00", tz="UTC")
SMALL = ("2020-03-02", "2020-03-31")
WIDE = ("2020-02-03", "2020-04-30")
T = pd.Timestamp

# The source, shared by this process and the writer it starts (same prices, same basis).
SOURCE = textwrap.dedent(
    """
    import numpy as np, pandas as pd
    from eventstudy.calendar import get_calendar

    NOW = pd.Timestamp("2025-07-01 12:00", tz="UTC")

    def close(dates):
        days = (pd.DatetimeIndex(dates) - pd.Timestamp("2000-01-03")).days.to_numpy()
        return 100.0 * np.exp(0.0004 * days)

    class Source:
        def __init__(self):
            self.calls = []

        def get_prices(self, tickers, start=None, end=None):
            self.calls.append((tuple(tickers), pd.Timestamp(start), pd.Timestamp(end)))
            idx = get_calendar().sessions_in_range(start, end).rename("date")
            return pd.DataFrame({t: close(idx) for t in tickers}, index=idx)
    """
)
_ns: dict = {}
exec(SOURCE, _ns)  # our own constant code, shared with the subprocess
Source, close = _ns["Source"], _ns["close"]

WRITER = SOURCE + textwrap.dedent(
    """
    import io, os, sys, time
    from pathlib import Path
    from eventstudy.data import cache as cache_mod
    from eventstudy.data.cache import CachedProvider

    cache_dir, ready, start, end = sys.argv[1:5]
    real = cache_mod._write_table

    def paused(table, sink):
        buf = io.BytesIO()
        real(table, buf)
        data = buf.getvalue()
        sink.write(data[: len(data) // 2])
        sink.flush()
        os.fsync(sink.fileno())
        Path(ready).write_text(str(os.getpid()))
        time.sleep(300)  # killed here, holding the lock, temp file half written
        sink.write(data[len(data) // 2 :])

    cache_mod._write_table = paused
    CachedProvider(Source(), cache_dir, now=lambda: NOW, namespace="source").get_prices(
        ["SPY"], start, end)
    """
)


def make(tmp_path: Path, source=None, **kw) -> CachedProvider:
    return CachedProvider(source or Source(), tmp_path / "cache", now=lambda: NOW,
                          namespace="source", **kw)


def folder(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "prices" / "source"


def start_writer(tmp_path: Path, start: str, end: str) -> tuple[subprocess.Popen, Path]:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "cache"), str(ready), start, end],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 90
    while not ready.exists():
        if proc.poll() is not None:
            raise AssertionError(f"writer exited early: {proc.communicate()[1]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("writer never reached the write")
        time.sleep(0.02)
    return proc, ready


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    proc.stdout.close()
    proc.stderr.close()


def expected(start: str, end: str) -> pd.Series:
    idx = get_calendar().sessions_in_range(start, end)
    return pd.Series(close(idx), index=idx)


def assert_prices(frame: pd.DataFrame, start: str, end: str) -> None:
    want = expected(start, end)
    assert list(frame.index) == list(want.index)
    np.testing.assert_array_equal(frame["SPY"].to_numpy(), want.to_numpy())


def refuse() -> Source:
    class Refuse(Source):
        def get_prices(self, tickers, start=None, end=None):
            raise AssertionError(f"cache miss: {list(tickers)} {start}..{end}")

    return Refuse()


@pytest.mark.parametrize("previous", [True, False], ids=["extending-a-store", "first-store"])
def test_writer_killed_mid_write(tmp_path, previous):
    if previous:
        make(tmp_path).get_prices(["SPY"], *SMALL)
        [store] = folder(tmp_path).glob("*.parquet")
        before = store.read_bytes()
    proc, _ = start_writer(tmp_path, *WIDE)
    try:
        [tmp] = folder(tmp_path).glob(".*.tmp")
        assert 0 < tmp.stat().st_size
        # While the writer holds the lock: readers (no lock) see the previous store...
        if previous:
            assert_prices(make(tmp_path, refuse()).get_prices(["SPY"], *SMALL), *SMALL)
        else:
            assert list(folder(tmp_path).glob("*.parquet")) == []
        # ...and another writer of the same ticker waits, then says why it gave up.
        with pytest.raises(CacheError) as info:
            make(tmp_path, lock_timeout=0.3).get_prices(["SPY"], *WIDE)
        assert type(info.value) is CacheError
        assert "another process is writing it" in str(info.value)
        assert "raise lock_timeout=" in str(info.value)
    finally:
        kill(proc)

    # The killed writer left its half-written temp file and the lock file; the store (if any)
    # is exactly the previous one.
    assert len(list(folder(tmp_path).glob(".*.tmp"))) == 1
    assert len(list(folder(tmp_path).glob("*.lock"))) == 1
    if previous:
        assert store.read_bytes() == before
        assert cache_mod._read_entry(store).end == T(SMALL[1])

    # The next run is not blocked by the dead writer's lock, downloads only what is missing,
    # and removes the leftover.
    source = Source()
    t0 = time.monotonic()
    out = make(tmp_path, source, lock_timeout=10).get_prices(["SPY"], *WIDE)
    assert time.monotonic() - t0 < 10
    assert_prices(out, *WIDE)
    if previous:
        assert source.calls == [(("SPY",), T(WIDE[0]), T(SMALL[0])),
                                (("SPY",), T(SMALL[1]), T(WIDE[1]))]
    else:
        assert source.calls == [(("SPY",), T(WIDE[0]), T(WIDE[1]))]
    assert list(folder(tmp_path).glob(".*.tmp")) == []
    [store] = folder(tmp_path).glob("*.parquet")
    entry = cache_mod._read_entry(store)
    assert (entry.start, entry.end) == (T(WIDE[0]), T(WIDE[1]))
    assert_prices(make(tmp_path, refuse()).get_prices(["SPY"], *WIDE), *WIDE)


def test_stale_lock_file_does_not_block(tmp_path):
    """A lock file left behind (crash, copied cache folder) holds no lock: no wait, no error."""
    cache = make(tmp_path, lock_timeout=5)
    lock = Path(str(cache._file("SPY")) + ".lock")
    lock.parent.mkdir(parents=True)
    lock.write_text("4242\n")
    t0 = time.monotonic()
    assert_prices(cache.get_prices(["SPY"], *SMALL), *SMALL)
    assert time.monotonic() - t0 < 5
    assert_prices(make(tmp_path, refuse()).get_prices(["SPY"], *SMALL), *SMALL)


def test_clear_removes_leftovers_of_killed_writers(tmp_path):
    make(tmp_path).get_prices(["SPY"], *SMALL)
    leftover = folder(tmp_path) / ".SPY-deadbeef.abc123.tmp"
    leftover.write_bytes(b"PAR1 half a file")
    assert make(tmp_path).clear() == 1
    assert not leftover.exists()
    assert list(folder(tmp_path).glob("*.parquet")) == []


def test_next_writer_removes_only_its_own_leftovers(tmp_path):
    cache = make(tmp_path)
    spy = cache._file("SPY")
    # A ticker whose file name starts like SPY's: its temp files are not SPY's to remove.
    look_alike = cache._file(f"{spy.stem}.X")
    spy.parent.mkdir(parents=True)
    dead = spy.parent / f".{spy.stem}.k3q_9zab.tmp"
    other = look_alike.parent / f".{look_alike.stem}.w1x2y3z4.tmp"
    for f in (dead, other):
        f.write_bytes(b"PAR1 half a file")
    cache.get_prices(["SPY"], *SMALL)
    assert not dead.exists()
    assert other.exists()


def test_stores_are_read_without_arrow_threads(tmp_path, monkeypatch):
    """Reading with Arrow's thread pools made processes that used the cache abort at exit
    now and then (SIGABRT, "terminate called without an active exception", apache/arrow
    #34314; 14 of 250 runs of a read/write script here, 3 of 500 without reader threads, and
    the cause of rare failures of test_two_processes_filling_the_same_ticker). The reader must
    not start them."""
    import pyarrow.parquet as pq

    make(tmp_path).get_prices(["SPY"], *SMALL)
    seen = []
    real = pq.read_table

    def spy(source, *args, **kwargs):
        seen.append(kwargs)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(pq, "read_table", spy)
    assert_prices(make(tmp_path, refuse()).get_prices(["SPY"], *SMALL), *SMALL)
    assert seen and all(k.get("use_threads") is False and k.get("pre_buffer") is False
                        for k in seen)
