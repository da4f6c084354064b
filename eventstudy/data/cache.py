"""A disk cache in front of any price provider.

Layout: ``<cache_dir>/prices/<namespace>/<ticker>-<hash>.parquet``, one file per ticker. Each
file holds the ticker's adjusted closes (columns ``date``, ``adj_close``; only days with a
price) and, in the Parquet key-value metadata, the record of what it covers::

    {"version": 1, "ticker": "SPY", "start": "2020-01-01", "end": "2025-06-30",
     "fetched_at": "2025-07-01T09:12:00+00:00", "source": "yahooprovider"}

``start``/``end`` is the range that was *requested* from the wrapped provider, not the first and
last row: a ticker that did not trade before its inception is not asked again for those years.
Keeping the record inside the data file means one atomic ``os.replace`` updates both, so a
reader can never pair new data with an old record.

Rules
-----
- **Requested end**: clipped to the last completed day, the day before today in New York. Later
  days are neither requested nor returned, so a request reaching into the future is filled once
  per day, not on every call.
- **Partial fill**: only the missing part before and/or after the held range is requested. When
  the store has prices, the request overlaps it by one day (its first or last row); if the
  wrapped provider's value on that day differs from the stored one (relative tolerance
  :data:`VINTAGE_RTOL`), the adjustment basis has changed (a dividend or split since the first
  download), and the ticker's whole range is downloaded again so the stored series comes from
  one basis. Adjusted closes of different vintages must not be spliced.
- **Truncated answers**: when the last price of an answer (over all tickers of the request) is
  followed by NYSE sessions up to the requested end, the answer was cut short (a truncated
  download, a close not yet published): only the range up to that last price is recorded, and
  the rest is requested again next time. An answer without any price is recorded as it is.
- **Staleness**: with ``max_age``, a store fetched longer ago than that is replaced by a fresh
  download of the requested range. ``fetched_at`` is the time of the oldest download the store
  contains.
- **Faults**: everything is downloaded before anything is written; an exception from the
  wrapped provider leaves the cache as it was. An ``EmptyDataError`` from the wrapped provider
  is an answer, not a fault: the range is recorded as holding no prices.
- **Corruption**: an unreadable or inconsistent file is ignored with a
  :class:`~eventstudy.exceptions.DataWarning` and replaced by a fresh download.
- **Concurrency**: files are written to a temporary file in the same folder, flushed, fsynced
  and moved into place with ``os.replace``, so readers (which take no lock) see the old file or
  the new one. Writers hold a per-ticker :class:`filelock.FileLock` while they re-read the
  current file, merge their download into it and replace it, so two processes filling the same
  ticker keep the union of what they fetched when the ranges overlap or touch and the prices
  agree; otherwise the later writer's download replaces the file. A writer killed mid-write
  leaves only a temporary file, which the next writer of that ticker deletes under the lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import numpy as np
import pandas as pd
import platformdirs
from filelock import FileLock, Timeout

from eventstudy._typing import DateLike
from eventstudy.data.base import PriceProvider, validate_dates_index
from eventstudy.exceptions import (
    CacheError,
    DataError,
    DataWarning,
    EmptyDataError,
    SpecificationError,
)

__all__ = ["CACHE_ENV_VAR", "VINTAGE_RTOL", "CachedProvider", "default_cache_dir"]

CACHE_ENV_VAR = "EVENTSTUDY_CACHE_DIR"
#: Relative difference above which a re-downloaded price on a stored day means the adjustment
#: basis changed. Repeated downloads of one vintage agree to far better than this, while a
#: dividend moves every earlier adjusted close by its yield (typically 1e-3 or more).
VINTAGE_RTOL = 1e-6
# Stands for "from the beginning of the history" (a request without start).
_EARLIEST = pd.Timestamp("1900-01-01")
_ONE_DAY = pd.Timedelta(days=1)
_FORMAT_VERSION = 1
_META_KEY = b"eventstudy.cache"
_NEW_YORK = "America/New_York"
_NAMESPACE = re.compile(r"^[A-Za-z0-9_.-]+$")


def default_cache_dir() -> Path:
    """Cache folder: ``$EVENTSTUDY_CACHE_DIR`` if set, else the user cache folder.

    Returns
    -------
    pathlib.Path
        E.g. ``~/.cache/eventstudy`` on Linux (from :func:`platformdirs.user_cache_dir`).
    """
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("eventstudy"))


@dataclass(frozen=True)
class _Entry:
    """One ticker's store: prices on the days that have one, and the range requested."""

    ticker: str
    data: pd.Series
    start: pd.Timestamp
    end: pd.Timestamp
    fetched_at: pd.Timestamp


def _write_table(table: Any, sink: IO[bytes]) -> None:
    """Serialise ``table`` as Parquet into the open binary file ``sink``."""
    import pyarrow.parquet as pq

    pq.write_table(table, sink)


class CachedProvider:
    """Wrap a price provider with a per-ticker Parquet cache on disk.

    Parameters
    ----------
    provider : PriceProvider
        The source, e.g. :class:`~eventstudy.data.yahoo.YahooProvider`.
    cache_dir : str or Path, optional
        Root folder. Default: ``$EVENTSTUDY_CACHE_DIR``, else
        ``platformdirs.user_cache_dir("eventstudy")``.
    max_age : timedelta, pandas.Timedelta or str, optional
        Download a ticker again when its store is older than this (e.g. ``"7D"``). Default:
        never (adjustment changes are still caught when a store is extended).
    namespace : str, optional
        Sub-folder keeping different sources apart; default: the provider's class name in lower
        case. Give two sources of the same class different namespaces.
    lock_timeout : float, default 120
        Seconds to wait for another process writing the same ticker.
    now : callable, optional
        Returns the current time as a tz-aware Timestamp (default: the system clock).

    Notes
    -----
    See the module docstring for the layout and the rules on ranges, staleness, faults and
    concurrency.

    Examples
    --------
    >>> from eventstudy.data import CachedProvider, YahooProvider
    >>> provider = CachedProvider(YahooProvider(), max_age="30D")  # doctest: +SKIP
    >>> provider.get_prices(["SPY"], "2024-01-01", "2024-12-31")  # doctest: +SKIP
    """

    def __init__(
        self,
        provider: PriceProvider,
        cache_dir: str | os.PathLike[str] | None = None,
        max_age: dt.timedelta | pd.Timedelta | str | None = None,
        *,
        namespace: str | None = None,
        lock_timeout: float = 120.0,
        now: Callable[[], pd.Timestamp] | None = None,
    ) -> None:
        if not isinstance(provider, PriceProvider):
            raise SpecificationError(
                f"provider={type(provider).__name__} has no get_prices(tickers, start, end); "
                "pass a price provider such as YahooProvider()."
            )
        self.provider = provider
        root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.namespace = namespace if namespace is not None else type(provider).__name__.lower()
        if not _NAMESPACE.match(self.namespace):
            raise SpecificationError(
                f"namespace={self.namespace!r} may hold only letters, digits, '_', '.' and '-'."
            )
        self.path = root / "prices" / self.namespace
        try:
            self.max_age = None if max_age is None else pd.Timedelta(max_age)
        except ValueError:
            raise SpecificationError(
                f"max_age={max_age!r} is not a duration; pass e.g. '7D' or datetime.timedelta."
            ) from None
        if self.max_age is not None and self.max_age <= pd.Timedelta(0):
            raise SpecificationError(f"max_age={max_age!r} must be a positive duration, e.g. '7D'.")
        self.lock_timeout = float(lock_timeout)
        self._now = now or (lambda: pd.Timestamp.now(tz="UTC"))

    def __repr__(self) -> str:
        return f"CachedProvider({self.provider!r}, path={str(self.path)!r})"

    # --- public API --------------------------------------------------------------------------
    def get_prices(
        self, tickers: Sequence[str], start: DateLike | None = None, end: DateLike | None = None
    ) -> pd.DataFrame:
        """Return adjusted closes, downloading only what the cache does not hold.

        Parameters
        ----------
        tickers : sequence of str
            Tickers as the wrapped provider spells them.
        start, end : date-like, optional
            Inclusive range; no ``start`` means the full history, no ``end`` (or a later one)
            means up to the last completed day.

        Returns
        -------
        pandas.DataFrame
            Index ``date``, one column per ticker, NaN where a ticker has no price.

        Raises
        ------
        EmptyDataError
            If no ticker has a price in the range.
        CacheError
            If a cache file cannot be written or its lock not acquired.
        """
        names = list(dict.fromkeys(str(t) for t in tickers))
        if not names or any(not t.strip() for t in names):
            raise SpecificationError(f"tickers={list(tickers)!r} must be non-empty strings.")
        last = self.last_complete_day()
        lo = _EARLIEST if start is None else _day(start)
        hi = last if end is None else _day(end)
        if end is not None and hi < lo:
            raise SpecificationError(f"start {lo.date()} is after end {hi.date()}; swap them.")
        hi = min(hi, last)
        if lo > hi:
            raise EmptyDataError(
                f"the range starts after {last.date()}, the last completed day; the cache "
                "holds only finished days: query the wrapped provider directly for today."
            )
        now = self._now()
        held = {t: self._load(t, now) for t in names}
        plan = {t: _gaps(held[t], lo, hi) for t in names}
        pieces = self._fetch(plan, now)
        updated: dict[str, _Entry] = {}
        redo: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
        for t, fetched in pieces.items():
            entry = held[t]
            for piece in fetched:
                entry = _merge(entry, piece)
                if entry is None:
                    # Adjustment basis changed: one consistent download of the whole range.
                    old = held[t]
                    redo[t] = [(lo, hi) if old is None else (min(lo, old.start), max(hi, old.end))]
                    break
            if entry is not None:
                updated[t] = entry
        for t, entries in self._fetch(redo, now).items():
            updated[t] = entries[0]
        for t in sorted(updated):
            updated[t] = self._store(updated[t], now)
        # Every ticker is now either held and complete, or updated.
        final = {t: updated[t] if t in updated else held[t] for t in names}
        frame = pd.concat(
            {t: e.data.loc[lo:hi] for t, e in final.items() if e is not None}, axis=1, sort=True
        )
        if frame.empty:
            first = "the first trade" if start is None else str(lo.date())
            raise EmptyDataError(
                f"no prices for {names} from {first} to {hi.date()} from {self.provider!r}; "
                "widen the range, or call clear() to download again if the cache is wrong."
            )
        frame.index.name = "date"
        return frame

    def last_complete_day(self) -> pd.Timestamp:
        """The day before today in New York: the last day the cache requests and returns."""
        today = self._now().tz_convert(_NEW_YORK).normalize().tz_localize(None)
        return today - _ONE_DAY

    def info(self) -> pd.DataFrame:
        """Describe the stores on disk.

        Returns
        -------
        pandas.DataFrame
            One row per ticker: ``ticker``, ``first`` and ``last`` (dates with a price),
            ``rows``, ``start`` and ``end`` (range requested), ``fetched_at`` (UTC),
            ``expired`` (older than ``max_age``) and ``path``. Unreadable files are skipped with
            a :class:`~eventstudy.exceptions.DataWarning`.
        """
        now = self._now()
        rows = []
        for file in sorted(self.path.glob("*.parquet")):
            try:
                entry = _read_entry(file)
            except _READ_ERRORS as exc:
                _warn_unreadable(file, exc, "skipped", stacklevel=3)
                continue
            data = entry.data
            rows.append(
                {
                    "ticker": entry.ticker,
                    "first": data.index[0] if len(data) else pd.NaT,
                    "last": data.index[-1] if len(data) else pd.NaT,
                    "rows": len(data),
                    "start": entry.start,
                    "end": entry.end,
                    "fetched_at": entry.fetched_at,
                    "expired": self._expired(entry, now),
                    "path": str(file),
                }
            )
        columns = [
            "ticker",
            "first",
            "last",
            "rows",
            "start",
            "end",
            "fetched_at",
            "expired",
            "path",
        ]
        return pd.DataFrame(rows, columns=columns)

    def clear(self, tickers: Sequence[str] | None = None) -> int:
        """Delete stores.

        Parameters
        ----------
        tickers : sequence of str, optional
            Tickers to forget; default: every ticker in this namespace. Lock files stay, since
            another process may hold them.

        Returns
        -------
        int
            Number of data files removed.
        """
        if not self.path.is_dir():
            return 0
        if tickers is None:
            files = sorted(self.path.glob("*.parquet"))
            # Leftovers of writers that were killed mid-write.
            for tmp in self.path.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
        else:
            files = [self._file(str(t)) for t in tickers]
        removed = 0
        for file in files:
            with self._lock(file):
                if file.exists():
                    file.unlink()
                    removed += 1
        return removed

    # --- planning and fetching ---------------------------------------------------------------
    def _fetch(
        self, plan: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]], now: pd.Timestamp
    ) -> dict[str, list[_Entry]]:
        """Download every planned range, one call per distinct range; write nothing."""
        groups: dict[tuple[pd.Timestamp, pd.Timestamp], list[str]] = {}
        for t, ranges in plan.items():
            for rng in ranges:
                groups.setdefault(rng, []).append(t)
        out: dict[str, list[_Entry]] = {t: [] for t, ranges in plan.items() if ranges}
        for (a, b), group in sorted(groups.items()):
            try:
                frame = self.provider.get_prices(group, None if a == _EARLIEST else a, b)
            except EmptyDataError:
                frame = pd.DataFrame(columns=group, index=pd.DatetimeIndex([], name="date"))
            series = {t: self._series(frame, t, a, b) for t in group}
            end = _answered_until(series.values(), b)
            for t in group:
                out[t].append(_Entry(t, series[t], a, end, now))
        return out

    def _series(
        self, frame: pd.DataFrame, ticker: str, a: pd.Timestamp, b: pd.Timestamp
    ) -> pd.Series:
        if not isinstance(frame, pd.DataFrame) or ticker not in frame.columns:
            raise DataError(
                f"{self.provider!r} returned no column {ticker!r}; a provider must return one "
                "column per requested ticker (NaN where it has no price)."
            )
        s = frame[ticker]
        if len(s) == 0:
            return pd.Series(
                [],
                index=pd.DatetimeIndex([], name="date").as_unit("ns"),
                dtype=np.float64,
                name=ticker,
            )
        s = s.set_axis(validate_dates_index(s.index, f"{self.provider!r} data").as_unit("ns"))
        s = s.astype(np.float64).dropna().loc[a:b]
        return s.rename(ticker)

    # --- disk --------------------------------------------------------------------------------
    def _file(self, ticker: str) -> Path:
        # Quoting keeps '^' or '/' out of names; the hash separates 'spy' from 'SPY' on
        # case-insensitive file systems.
        digest = hashlib.sha1(ticker.encode()).hexdigest()[:8]
        return self.path / f"{quote(ticker, safe='-_.=')}-{digest}.parquet"

    def _lock(self, file: Path) -> FileLock:
        return FileLock(str(file) + ".lock", timeout=self.lock_timeout)

    def _expired(self, entry: _Entry, now: pd.Timestamp) -> bool:
        return self.max_age is not None and now - entry.fetched_at > self.max_age

    def _load(self, ticker: str, now: pd.Timestamp) -> _Entry | None:
        """The usable store of ``ticker``, or None if absent, unreadable or expired."""
        file = self._file(ticker)
        if not file.exists():
            return None
        try:
            entry = _read_entry(file)
            if entry.ticker != ticker:
                raise ValueError(f"it holds {entry.ticker!r}")
        except _READ_ERRORS as exc:
            _warn_unreadable(file, exc, "ignored and downloaded again", stacklevel=4)
            return None
        return None if self._expired(entry, now) else entry

    def _store(self, entry: _Entry, now: pd.Timestamp) -> _Entry:
        """Merge ``entry`` into the file on disk under the ticker's lock and replace it."""
        file = self._file(entry.ticker)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with self._lock(file):
                # Another process may have written since we read: keep its range too when the
                # two agree; if they disagree ours is the newer download and replaces it.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DataWarning)
                    current = self._load(entry.ticker, now)
                merged = _merge(current, entry) if current is not None else None
                final = merged or entry
                _remove_leftovers(file)
                _write_atomic(file, final)
        except Timeout:
            raise CacheError(
                f"could not lock {file} within {self.lock_timeout:g} s; another process is "
                "writing it: retry, or raise lock_timeout=."
            ) from None
        except OSError as exc:
            raise CacheError(
                f"could not write the cache file {file} ({exc}); check free space and "
                f"permissions of {self.path}, or pass cache_dir= / set {CACHE_ENV_VAR}."
            ) from exc
        return final


_READ_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, KeyError, TypeError)


def _warn_unreadable(file: Path, exc: BaseException, action: str, stacklevel: int) -> None:
    warnings.warn(
        DataWarning(f"cache file {file} is unreadable ({type(exc).__name__}: {exc}); {action}."),
        stacklevel=stacklevel,
    )


def _read_entry(file: Path) -> _Entry:
    """Read and check one store; raise one of ``_READ_ERRORS`` if it is not trustworthy."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    # One open, whole file: a path given to pyarrow may be opened again for the data pages,
    # and a writer's os.replace in between would pair one file's footer with another's pages.
    payload = file.read_bytes()
    try:
        # No reader threads: Arrow's parquet reader threads can abort the interpreter at exit
        # ("terminate called without an active exception", apache/arrow#34314). Of runs of a
        # script writing and reading stores, 14 of 250 aborted so with the default reader and
        # 3 of 500 with this one. A store is small: threads gain nothing.
        table = pq.read_table(pa.BufferReader(payload), use_threads=False, pre_buffer=False)
    except pa.ArrowException as exc:  # ArrowInvalid is a ValueError; others are not
        raise ValueError(str(exc)) from exc
    meta = json.loads((table.schema.metadata or {})[_META_KEY])
    if meta.get("version") != _FORMAT_VERSION:
        raise ValueError(f"format version {meta.get('version')!r}, expected {_FORMAT_VERSION}")
    dates = pd.DatetimeIndex(table.column("date").to_numpy()).as_unit("ns")
    values = np.asarray(table.column("adj_close").to_numpy(), dtype=np.float64)
    start, end = pd.Timestamp(meta["start"]), pd.Timestamp(meta["end"])
    if len(dates) and not (dates.is_monotonic_increasing and dates.is_unique):
        raise ValueError("dates are not unique and ascending")
    if not np.isfinite(values).all():
        raise ValueError("non-finite prices")
    if start > end or (len(dates) and (dates[0] < start or dates[-1] > end)):
        raise ValueError(f"rows outside the recorded range {meta['start']}..{meta['end']}")
    fetched_at = pd.Timestamp(meta["fetched_at"])
    if fetched_at.tzinfo is None:
        raise ValueError("fetched_at has no time zone")
    data = pd.Series(values, index=dates.rename("date"), name=str(meta["ticker"]))
    return _Entry(str(meta["ticker"]), data, start, end, fetched_at)


def _write_atomic(file: Path, entry: _Entry) -> None:
    """Write ``entry`` to a temporary file beside ``file``, fsync it, then ``os.replace``."""
    import pyarrow as pa

    meta = {
        "version": _FORMAT_VERSION,
        "ticker": entry.ticker,
        "start": str(entry.start.date()),
        "end": str(entry.end.date()),
        "fetched_at": entry.fetched_at.tz_convert("UTC").isoformat(),
    }
    table = pa.table(
        {
            "date": pa.array(entry.data.index.values.astype("datetime64[D]"), type=pa.date32()),
            "adj_close": pa.array(entry.data.to_numpy(dtype=np.float64), type=pa.float64()),
        }
    ).replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})
    fd, tmp = tempfile.mkstemp(prefix=f".{file.stem}.", suffix=".tmp", dir=file.parent)
    try:
        # mkstemp makes the file private (0600); give it the folder's read/write permissions
        # (the user's umask applied at mkdir) so a shared cache stays readable by its group.
        os.chmod(fd, file.parent.stat().st_mode & 0o666)
        with os.fdopen(fd, "wb") as sink:
            _write_table(table, sink)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(tmp, file)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(file.parent)


def _remove_leftovers(file: Path) -> None:
    """Delete temporary files of ``file`` left by writers killed mid-write.

    Called under the ticker's lock: a live writer holds that lock for as long as its temporary
    file exists (the lock is released by the system when a process dies), so any temporary
    file of this ticker found now belongs to a dead writer.
    """
    # mkstemp's random part has no '.' or '-', so another ticker's name (which always ends in
    # '-<hash>') cannot match.
    mine = re.compile(re.escape(f".{file.stem}.") + r"[A-Za-z0-9_]+\.tmp")
    for tmp in file.parent.glob(f".{file.stem}.*.tmp"):
        if mine.fullmatch(tmp.name):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible on every platform (e.g. Windows).
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _answered_until(series: Iterable[pd.Series], b: pd.Timestamp) -> pd.Timestamp:
    """Last day of a request ending ``b`` that the answer vouches for.

    An answer whose last price (over all tickers of the request) is followed by NYSE sessions
    up to ``b`` was cut short (a truncated download, a source that has not published the
    latest close yet): only the range up to that last price is recorded, so the rest is
    requested again next time instead of being remembered as a range without prices. An
    answer with no price at all is an answer (the range holds none, e.g. before inception).
    """
    from eventstudy.calendar import get_calendar

    last = max((s.index[-1] for s in series if len(s)), default=None)
    if last is None or last >= b:
        return b
    after = get_calendar().sessions_in_range(last + _ONE_DAY, b)
    return last if len(after) else b


def _gaps(
    entry: _Entry | None, lo: pd.Timestamp, hi: pd.Timestamp
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Ranges to request so that the store covers ``[lo, hi]``.

    Each range overlaps the stored prices by one row when there are any, so the merge can check
    that the adjustment basis has not changed.
    """
    if entry is None:
        return [(lo, hi)]
    data = entry.data
    gaps = []
    if lo < entry.start:
        gaps.append((lo, data.index[0] if len(data) else entry.start - _ONE_DAY))
    if hi > entry.end:
        gaps.append((data.index[-1] if len(data) else entry.end + _ONE_DAY, hi))
    return gaps


def _merge(old: _Entry | None, new: _Entry) -> _Entry | None:
    """Union of two stores of one ticker, or None when they cannot be joined.

    They cannot be joined when their ranges neither overlap nor touch, or when a day held by
    both has different prices (different adjustment bases).
    """
    if old is None:
        return new
    if new.start > old.end + _ONE_DAY or old.start > new.end + _ONE_DAY:
        return None
    common = old.data.index.intersection(new.data.index)
    if len(common) and not np.allclose(
        old.data.loc[common].to_numpy(), new.data.loc[common].to_numpy(), rtol=VINTAGE_RTOL, atol=0
    ):
        return None
    data = new.data.combine_first(old.data).sort_index().rename(new.ticker)
    data.index.name = "date"
    return _Entry(
        new.ticker,
        data,
        min(old.start, new.start),
        max(old.end, new.end),
        min(old.fetched_at, new.fetched_at),
    )


def _day(value: DateLike) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(_NEW_YORK).tz_localize(None)
    return ts.normalize()
