"""Adjusted closes from Yahoo Finance through ``yfinance`` (imported only when used).

One :func:`yfinance.download` call fetches all tickers. What yfinance 1.x returns and how it
is read here:

- columns are a ``MultiIndex`` named ``["Price", "Ticker"]`` (also for a single ticker); level
  ``Price`` holds ``Close, High, Low, Open, Volume``, and with ``auto_adjust=True`` ``Close`` is
  the split- and dividend-adjusted close;
- the index (``Date``) is tz-naive for daily data, each row at the exchange's local date; a
  tz-aware index (``ignore_tz=False``, older releases) is reduced to the same local date;
- tickers are upper-cased by yfinance; a ticker it could not fetch still has columns, all NaN,
  and the reason is only logged (``"['XYZ']: possibly delisted; no timezone found"``), so the
  ``yfinance`` log records of the call are read to tell an unknown ticker, a range without
  prices and a transient failure (rate limit, time-out) apart.
"""

from __future__ import annotations

import ast
import logging
import re
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from eventstudy._typing import DateLike
from eventstudy.data.base import validate_dates_index
from eventstudy.exceptions import (
    DataWarning,
    DependencyError,
    DownloadError,
    EmptyDataError,
    SpecificationError,
    UnknownTickerError,
)

__all__ = ["YahooProvider"]

_NEW_YORK = "America/New_York"
# A ticker whose time zone Yahoo cannot find does not exist there (yfinance's
# YFTzMissingError); "no price data found" means the symbol exists but the range is empty.
_UNKNOWN_REASON = re.compile(r"no timezone found|quote not found", re.IGNORECASE)
_TRANSIENT_REASON = re.compile(
    r"rate limit|too many requests|timed? ?out|timeout|connection|currently down|"
    r"temporar|curl|ssl|status_code = 5\d\d|service unavailable",
    re.IGNORECASE,
)
_LOG_LINE = re.compile(r"^(\[.*?\]):\s*(.*)$", re.DOTALL)


def _import_yfinance() -> Any:
    try:
        import yfinance
    except ImportError:
        raise DependencyError(
            "YahooProvider needs the optional package yfinance; install it with "
            "`pip install yfinance`, or pass data= a folder of <TICKER>.csv files."
        ) from None
    return yfinance


def _transient_exceptions() -> tuple[type[BaseException], ...]:
    # OSError covers ConnectionError, TimeoutError and the requests / curl_cffi errors.
    kinds: list[type[BaseException]] = [OSError]
    try:
        from yfinance.exceptions import YFDataException, YFRateLimitError
    except ImportError:
        return tuple(kinds)
    return (*kinds, YFRateLimitError, YFDataException)


class _YFinanceLog(logging.Handler):
    """Collects the per-ticker failure reasons that ``yf.download`` only logs."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.reasons: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        match = _LOG_LINE.match(str(record.getMessage()).strip())
        if not match:
            return
        try:
            symbols = ast.literal_eval(match.group(1))
        except (ValueError, SyntaxError):
            return
        for symbol in symbols if isinstance(symbols, list) else []:
            self.reasons[str(symbol).upper()] = match.group(2).strip()


class YahooProvider:
    """Adjusted daily closes from Yahoo Finance via ``yfinance.download``.

    Parameters
    ----------
    download : callable, optional
        Replacement for :func:`yfinance.download` with the same signature and return shape
        (used by tests; the default imports yfinance on first use).
    attempts : int, default 3
        Maximum number of download attempts for tickers that fail transiently.
    backoff : float, default 1.0
        Seconds to wait before the second attempt; the wait doubles after each failure.
    sleep : callable, default time.sleep
        Called with the number of seconds to wait between attempts.
    threads : bool or int, default True
        Passed to ``yfinance.download``.
    timeout : float, default 10
        Per-request time-out in seconds, passed to ``yfinance.download``.
    now : callable, optional
        Returns the current time as a tz-aware Timestamp (default: the system clock); used to
        drop today's row before the close.

    Notes
    -----
    The frame returned by :meth:`get_prices` follows the provider protocol: a tz-naive index
    of NYSE sessions named ``date``, one column per requested ticker (the requested spelling),
    NaN where Yahoo has no price. Rows are removed in three documented cases: rows with no
    price for any requested ticker; rows dated on a day that is not an NYSE session (e.g. an
    index quoted on an exchange holiday), with a :class:`~eventstudy.exceptions.DataWarning`;
    and today's row before today's NYSE close, because until then Yahoo's value is the last
    trade, not the close. A day that Yahoo returns twice (a known Yahoo fault, usually the
    latest day) becomes one row holding each ticker's last non-missing close, with a
    :class:`~eventstudy.exceptions.DataWarning` when the repeated closes differ. A zero,
    negative or infinite close (a bad tick) becomes a missing day, with a DataWarning.

    A ticker that comes back without prices raises :class:`UnknownTickerError` when yfinance
    says Yahoo has no time zone for it (the symbol does not exist) or gives no reason; when the
    reason is "no price data found" (the symbol exists, the range is empty) its column is NaN
    and a :class:`~eventstudy.exceptions.DataWarning` names it. Rate limits, time-outs and
    connection errors are retried for the affected tickers only, waiting ``backoff``,
    ``2 * backoff``, ... seconds between attempts.

    Examples
    --------
    >>> from eventstudy.data import YahooProvider
    >>> YahooProvider().get_prices(["SPY", "XLK"], "2025-04-01", "2025-04-30")  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        download: Callable[..., pd.DataFrame] | None = None,
        attempts: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        threads: bool | int = True,
        timeout: float = 10.0,
        now: Callable[[], pd.Timestamp] | None = None,
    ) -> None:
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise SpecificationError(f"attempts={attempts!r} must be an integer >= 1.")
        if not backoff >= 0:
            raise SpecificationError(f"backoff={backoff!r} must be a number of seconds >= 0.")
        self._download = download
        self.attempts = attempts
        self.backoff = float(backoff)
        self.sleep = sleep
        self.threads = threads
        self.timeout = timeout
        self._now = now or (lambda: pd.Timestamp.now(tz="UTC"))

    def __repr__(self) -> str:
        return f"YahooProvider(attempts={self.attempts}, backoff={self.backoff})"

    def get_prices(
        self, tickers: Sequence[str], start: DateLike | None = None, end: DateLike | None = None
    ) -> pd.DataFrame:
        """Return adjusted closes for ``tickers`` from ``start`` to ``end`` (inclusive).

        Parameters
        ----------
        tickers : sequence of str
            Yahoo symbols, e.g. ``["SPY", "^GSPC", "BRK-B"]``.
        start, end : date-like, optional
            First and last date. Without ``start`` the full history is requested; without
            ``end``, up to today.

        Returns
        -------
        pandas.DataFrame
            Adjusted closes, index ``date`` (NYSE sessions), one column per ticker.

        Raises
        ------
        UnknownTickerError
            If Yahoo does not know a ticker; the message names it.
        EmptyDataError
            If Yahoo has no price for any ticker in the range.
        DownloadError
            If the download still fails after ``attempts`` tries.
        """
        requested = list(dict.fromkeys(str(t).strip() for t in tickers))
        if not requested or any(not t for t in requested):
            raise SpecificationError(f"tickers={list(tickers)!r} must be non-empty strings.")
        lo = None if start is None else _day(start)
        hi = None if end is None else _day(end)
        if lo is not None and hi is not None and lo > hi:
            raise SpecificationError(f"start {lo.date()} is after end {hi.date()}; swap them.")
        # yfinance upper-cases symbols and returns them that way.
        symbols = list(dict.fromkeys(t.upper() for t in requested))
        closes, no_rows = self._download_with_retries(symbols, lo, hi)

        frame = pd.DataFrame(closes, columns=symbols) if closes else pd.DataFrame(columns=symbols)
        frame = _drop_invalid_closes(self._clean_rows(frame, lo, hi))
        if frame.empty:
            span = _span(lo, hi)
            detail = "; ".join(f"{s}: {r}" for s, r in no_rows.items() if r)
            raise EmptyDataError(
                f"Yahoo Finance has no prices for {symbols} {span}"
                + (f" ({detail})" if detail else "")
                + "; the range may lie before the first trade, after the last, or on "
                "non-trading days: widen it or check the tickers on finance.yahoo.com."
            )
        if no_rows:
            # yfinance only logs the reason; repeat it so a NaN column is never silent.
            detail = "; ".join(f"{s}: {r}" for s, r in no_rows.items())
            warnings.warn(
                DataWarning(
                    f"Yahoo Finance has no prices for {list(no_rows)} {_span(lo, hi)} "
                    f"({detail}); their columns are NaN."
                ),
                stacklevel=2,
            )
        out = pd.DataFrame({t: frame[t.upper()] for t in requested}, index=frame.index)
        out.columns.name = None
        return out

    # --- download --------------------------------------------------------------------------
    def _download_with_retries(
        self, symbols: list[str], lo: pd.Timestamp | None, hi: pd.Timestamp | None
    ) -> tuple[dict[str, pd.Series], dict[str, str]]:
        """Fetch, retrying only the symbols that failed transiently.

        Returns the closes of symbols with prices and the reason for each symbol without.
        """
        transient = _transient_exceptions()
        closes: dict[str, pd.Series] = {}
        no_rows: dict[str, str] = {}
        unknown: dict[str, str] = {}
        pending = list(symbols)
        last_error = ""
        for attempt in range(1, self.attempts + 1):
            try:
                raw, reasons = self._call_download(pending, lo, hi)
            except transient as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            else:
                got = _closes_by_symbol(raw, pending)
                retry = []
                for sym in pending:
                    series = got.get(sym)
                    reason = reasons.get(sym, "")
                    if series is not None and series.notna().any():
                        closes[sym] = series
                    elif _TRANSIENT_REASON.search(reason):
                        retry.append(sym)
                        last_error = f"{sym}: {reason}"
                    elif _UNKNOWN_REASON.search(reason) or not reason:
                        unknown[sym] = reason
                    else:
                        no_rows[sym] = reason
                pending = retry
            if not pending:
                break
            if attempt < self.attempts:
                self.sleep(self.backoff * 2 ** (attempt - 1))
        if pending:
            raise DownloadError(
                f"Yahoo Finance download of {pending} {_span(lo, hi)} failed after "
                f"{self.attempts} attempt(s) (last error: {last_error}). Yahoo may be "
                "rate-limiting or unreachable: wait a few minutes and retry, raise attempts=, "
                "or use offline data (data='path/to/folder' or EVENTSTUDY_DATA)."
            )
        if unknown:
            detail = "; ".join(
                f"{s}: {r or 'no prices and no reason given by yfinance'}"
                for s, r in unknown.items()
            )
            raise UnknownTickerError(
                f"Yahoo Finance has no data for ticker(s) {list(unknown)} ({detail}); check "
                "the spelling on finance.yahoo.com (indices start with '^', e.g. '^GSPC'; "
                "share classes use '-', e.g. 'BRK-B')."
            )
        return closes, no_rows

    def _call_download(
        self, symbols: list[str], lo: pd.Timestamp | None, hi: pd.Timestamp | None
    ) -> tuple[pd.DataFrame, dict[str, str]]:
        download = self._download
        if download is None:
            download = _import_yfinance().download
        kwargs: dict[str, Any] = {
            "auto_adjust": True,
            "actions": False,
            "progress": False,
            "group_by": "column",
            "threads": self.threads,
            "timeout": self.timeout,
            "multi_level_index": True,
            # yfinance's end is exclusive.
            "end": None if hi is None else (hi + pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
        }
        if lo is None:
            # Without a start yfinance fetches one month; "max" asks for the full history.
            kwargs["period"] = "max"
        else:
            kwargs["start"] = lo.strftime("%Y-%m-%d")
        handler = _YFinanceLog()
        logger = logging.getLogger("yfinance")
        logger.addHandler(handler)
        try:
            raw = download(list(symbols), **kwargs)
        finally:
            logger.removeHandler(handler)
        return raw, handler.reasons

    # --- rows ------------------------------------------------------------------------------
    def _clean_rows(
        self, frame: pd.DataFrame, lo: pd.Timestamp | None, hi: pd.Timestamp | None
    ) -> pd.DataFrame:
        from eventstudy.calendar import NEW_YORK, get_calendar

        frame = frame.dropna(how="all")
        if frame.empty:
            return frame
        frame = frame.sort_index()
        frame.index.name = "date"
        if lo is not None:
            frame = frame.loc[lo:]
        if hi is not None:
            frame = frame.loc[:hi]
        if frame.empty:
            return frame
        calendar = get_calendar()
        off = frame.index[~frame.index.isin(calendar.sessions)]
        if len(off):
            warnings.warn(
                DataWarning(
                    f"Yahoo returned {len(off)} row(s) on days that are not NYSE sessions "
                    f"({', '.join(str(d.date()) for d in off[:5])}{', ...' if len(off) > 5 else ''}"
                    "); they were dropped."
                ),
                stacklevel=3,
            )
            frame = frame.drop(off)
        now = self._now().tz_convert(NEW_YORK)
        today = now.normalize().tz_localize(None)
        if len(frame) and frame.index[-1] == today and calendar.is_session(today):
            if now < calendar.session_close(today):
                frame = frame.iloc[:-1]
        return frame


def _closes_by_symbol(raw: object, symbols: list[str]) -> dict[str, pd.Series]:
    """Adjusted closes per symbol from a ``yf.download`` result of any 1.x shape."""
    if raw is None:
        return {}
    if not isinstance(raw, pd.DataFrame):
        raise DownloadError(
            f"yfinance.download returned {type(raw).__name__}, not a DataFrame; upgrade "
            "yfinance (`pip install -U yfinance`)."
        )
    if raw.empty:
        return {}
    columns = raw.columns
    if isinstance(columns, pd.MultiIndex):
        names = list(columns.names)
        price_level = names.index("Price") if "Price" in names else 0
        ticker_level = 1 - price_level
        fields = columns.get_level_values(price_level)
        if "Close" not in set(fields):
            raise DownloadError(
                f"yfinance.download returned no 'Close' field (fields: {sorted(set(fields))}); "
                "upgrade yfinance (`pip install -U yfinance`)."
            )
        close = raw.loc[:, fields == "Close"]
        close.columns = [str(c).upper() for c in close.columns.get_level_values(ticker_level)]
    else:
        # multi_level_index=False with one ticker: flat OHLCV columns.
        if "Close" not in raw.columns or len(symbols) != 1:
            raise DownloadError(
                f"yfinance.download returned flat columns {list(raw.columns)} for {symbols}; "
                "expected a (Price, Ticker) MultiIndex: upgrade yfinance."
            )
        close = raw[["Close"]].set_axis(symbols, axis=1)
    index = raw.index
    if not isinstance(index, pd.DatetimeIndex):
        index = pd.DatetimeIndex(pd.to_datetime(index))
    if index.tz is not None:
        # Daily bars are stamped at local midnight of the exchange: the local date is the
        # session (this is what yfinance itself does with ignore_tz=True).
        index = index.tz_localize(None)
    close = close.astype(np.float64).set_axis(index.normalize(), axis=0)
    if close.index.has_duplicates:
        close = _collapse_duplicate_days(close)
    close = close.set_axis(validate_dates_index(close.index, "Yahoo Finance data"), axis=0)
    return {sym: close[sym] for sym in symbols if sym in close.columns}


def _drop_invalid_closes(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn zero, negative or infinite closes (bad ticks in Yahoo's data) into missing days.

    A :class:`~eventstudy.exceptions.DataWarning` names them; the study reports the gap.
    """
    if frame.empty:
        return frame
    values = frame.to_numpy(dtype=np.float64)
    bad = ~np.isnan(values) & ~(np.isfinite(values) & (values > 0))
    if not bad.any():
        return frame
    shown = ", ".join(
        f"{frame.columns[c]} {frame.index[r].date()} = {values[r, c]}"
        for r, c in np.argwhere(bad)[:5]
    )
    warnings.warn(
        DataWarning(
            f"Yahoo returned {int(bad.sum())} non-positive or infinite close(s) ({shown}"
            f"{', ...' if bad.sum() > 5 else ''}); they are treated as missing days."
        ),
        stacklevel=3,
    )
    return frame.mask(bad).dropna(how="all")


def _collapse_duplicate_days(close: pd.DataFrame) -> pd.DataFrame:
    """One row per day from a Yahoo answer that repeats days (a known Yahoo fault).

    Yahoo sometimes returns a day twice, typically the latest one, once empty or with a
    provisional close. Per ticker the last non-missing value of the day is kept; when the
    repeated values disagree a :class:`~eventstudy.exceptions.DataWarning` names the days.
    """
    days = close.index[close.index.duplicated()].unique()
    repeated = close[close.index.isin(days)]
    conflict = repeated.groupby(level=0).nunique().gt(1).any(axis=1)
    out = close.groupby(level=0, sort=False).last()
    if conflict.any():
        shown = ", ".join(str(d.date()) for d in conflict.index[conflict][:5])
        warnings.warn(
            DataWarning(
                f"Yahoo returned different closes for the same day ({shown}); the last one "
                "was kept."
            ),
            stacklevel=4,
        )
    return out


def _day(value: DateLike) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(_NEW_YORK).tz_localize(None)
    return ts.normalize()


def _span(lo: pd.Timestamp | None, hi: pd.Timestamp | None) -> str:
    first = "the first trade" if lo is None else str(lo.date())
    last = "today" if hi is None else str(hi.date())
    return f"from {first} to {last}"
