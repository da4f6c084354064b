"""The price-provider protocol, a provider over an in-memory DataFrame, and data resolution.

A provider answers ``get_prices(tickers, start, end)`` with a DataFrame whose index is a
sorted, unique, tz-naive ``DatetimeIndex`` of sessions named ``date`` and whose columns are the
requested tickers (adjusted closes). Missing values inside a ticker's history are left as NaN;
they are reported downstream, never filled.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from eventstudy._typing import DateLike
from eventstudy.exceptions import (
    DataError,
    EmptyDataError,
    InvalidIndexError,
    InvalidPriceError,
    SpecificationError,
    UnknownTickerError,
)

__all__ = [
    "DATA_ENV_VAR",
    "DataFrameProvider",
    "PriceProvider",
    "check_price_frame",
    "check_returns_frame",
    "resolve_provider",
    "validate_dates_index",
]

DATA_ENV_VAR = "EVENTSTUDY_DATA"


@runtime_checkable
class PriceProvider(Protocol):
    """Anything that returns adjusted closes for tickers over a date range."""

    def get_prices(
        self, tickers: Sequence[str], start: DateLike | None = None, end: DateLike | None = None
    ) -> pd.DataFrame:
        """Return adjusted closes, one column per ticker, indexed by session date."""
        ...


def validate_dates_index(index: pd.Index, what: str) -> pd.DatetimeIndex:
    """Check that ``index`` is a unique, ascending set of dates and return it tz-naive.

    Parameters
    ----------
    index : pandas.Index
        Index of a user-supplied price, return or factor frame.
    what : str
        Name of the frame, used in messages.

    Returns
    -------
    pandas.DatetimeIndex
        Tz-naive, normalised to midnight. A tz-aware index stamped at midnight keeps its local
        dates; one with times of day is converted to New York time first (a 16:00 New York
        close stamped 20:00 UTC is that session).

    Raises
    ------
    InvalidIndexError
        On unparseable, duplicate or unsorted dates.
    """
    try:
        idx = index if isinstance(index, pd.DatetimeIndex) else pd.DatetimeIndex(
            pd.to_datetime(index))
    except (ValueError, TypeError) as exc:
        raise InvalidIndexError(
            f"{what}: the index must hold dates ({exc}); set a date column as index with "
            "df.set_index(pd.to_datetime(df['date']))."
        ) from None
    if idx.tz is not None:
        if len(idx) and (idx == idx.normalize()).all():
            # Daily data stamped at midnight of their own time zone (e.g. UTC dates): the local
            # date is the day. Converting to New York first would move every row a day back.
            idx = idx.tz_localize(None)
        else:
            idx = idx.tz_convert("America/New_York").tz_localize(None)
    if idx.hasnans:
        raise InvalidIndexError(f"{what}: the index has missing dates (NaT); drop those rows.")
    days = idx.to_numpy()
    if (days != days.astype("datetime64[D]")).any():  # normalize() costs more than this test
        idx = idx.normalize()
    if idx.has_duplicates:
        dups = idx[idx.duplicated()].unique()[:5]
        raise InvalidIndexError(
            f"{what}: duplicate dates {[str(d.date()) for d in dups]}; keep one row per date "
            "(e.g. df[~df.index.duplicated(keep='last')])."
        )
    if not idx.is_monotonic_increasing:
        raise InvalidIndexError(
            f"{what}: dates are not in ascending order; sort them with df.sort_index()."
        )
    return idx.rename("date")


def read_csv_file(file: Path, header: str, empty_fix: str = "") -> pd.DataFrame:
    """``pd.read_csv`` with its failures turned into eventstudy errors naming the file.

    ``header`` is the expected header line; ``empty_fix`` is appended to the advice for an
    empty file (e.g. ``", or delete the file"``).
    """
    try:
        return pd.read_csv(file)
    except pd.errors.EmptyDataError:
        raise EmptyDataError(
            f"{file} is empty (0 bytes); write a header {header} and one row per "
            f"date{empty_fix}."
        ) from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(
            f"{file} is not a readable CSV ({type(exc).__name__}: {exc}); expected a header "
            f"{header} and one row per date."
        ) from None


def _float_frame(frame: pd.DataFrame, what: str, not_numeric: str) -> pd.DataFrame:
    """``frame`` with validated dates, string tickers and float values.

    Raises :class:`InvalidPriceError` with ``not_numeric`` if a value is not a number.
    """
    # astype(float) copies (pandas < 3) or copies on write (pandas 3): the caller's frame is
    # never changed, and a numeric frame is not copied. Its column blocks are kept as they
    # are: the checks work block by block, and a study takes its assets' columns as a view
    # of their block where it can (consolidating them would copy every value).
    out = frame.copy(deep=False)
    out.index = validate_dates_index(out.index, what)
    out.columns = [str(c) for c in out.columns]
    try:
        return out.astype(float)
    except (ValueError, TypeError) as exc:
        raise InvalidPriceError(f"{not_numeric} ({exc}).") from None


def refuse_cells(
    frame: pd.DataFrame, bad: pd.DataFrame, what: str, kind: str, fix: str
) -> None:
    """Raise :class:`InvalidPriceError` if any cell of ``bad`` (``frame``'s shape) is True.

    The message reads ``"{what}: {count} {kind}, first {ticker} on {date} = {value}; {fix}"``.
    """
    cells = bad.to_numpy()
    if cells.any():
        r, c = np.argwhere(cells)[0]
        raise InvalidPriceError(
            f"{what}: {int(cells.sum())} {kind}, first {frame.columns[c]} on "
            f"{frame.index[r].date()} = {frame.iat[r, c]}; {fix}"
        )


def check_price_frame(prices: pd.DataFrame, what: str = "prices") -> pd.DataFrame:
    """Validate a wide price frame (dates x tickers) and return a clean float copy.

    Raises
    ------
    EmptyDataError
        If the frame has no rows or no columns.
    InvalidIndexError
        On bad dates (see :func:`validate_dates_index`).
    InvalidPriceError
        On zero, negative or infinite prices (NaN marks a missing day and is allowed).
    """
    if not isinstance(prices, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame with one column per ticker.")
    if prices.empty:
        raise EmptyDataError(f"{what} is empty: no rows or no ticker columns.")
    out = _float_frame(prices, what, f"{what} must be numeric")
    refuse_cells(out, np.isinf(out) | (out <= 0), what,
                 "non-positive or infinite price(s)",
                 "prices must be > 0 (pass data_kind='returns' if these are returns).")
    return out


def check_returns_frame(returns: pd.DataFrame, what: str = "returns") -> pd.DataFrame:
    """Validate a wide returns frame (dates x tickers) and return a clean float copy.

    Raises
    ------
    EmptyDataError
        If the frame has no rows or no columns.
    InvalidIndexError
        On bad dates (see :func:`validate_dates_index`).
    InvalidPriceError
        On non-numeric or infinite returns (NaN marks a missing day and is allowed).
    """
    if not isinstance(returns, pd.DataFrame) or returns.empty:
        raise EmptyDataError(f"{what} is empty: no rows or no ticker columns.")
    out = _float_frame(returns, what, f"{what}: returns must be numeric")
    refuse_cells(out, np.isinf(out), what, "infinite return(s)",
                 "replace them with NaN (a missing day) or fix the source (a zero price "
                 "before a return is computed).")
    return out


class DataFrameProvider:
    """A provider over a wide DataFrame already in memory (dates x tickers).

    Parameters
    ----------
    frame : pandas.DataFrame
        Adjusted closes (``kind="prices"``) or returns (``kind="returns"``), one column per
        ticker, indexed by date.
    kind : {"prices", "returns"}, default "prices"
        What the values are.
    """

    def __init__(self, frame: pd.DataFrame, kind: str = "prices") -> None:
        from eventstudy._typing import DATA_KINDS, check_option

        self.kind = check_option("data_kind", kind, DATA_KINDS)
        checked = check_price_frame if kind == "prices" else check_returns_frame
        self.frame = checked(frame, "data")

    def __repr__(self) -> str:
        idx = self.frame.index
        return (
            f"DataFrameProvider({self.kind}, {self.frame.shape[1]} tickers, "
            f"{idx[0].date()}..{idx[-1].date()})"
        )

    def available_tickers(self) -> list[str]:
        """Tickers in the frame."""
        return list(self.frame.columns)

    def get_prices(
        self, tickers: Sequence[str], start: DateLike | None = None, end: DateLike | None = None
    ) -> pd.DataFrame:
        """Return the requested columns between ``start`` and ``end`` (inclusive)."""
        return self._select(tickers, start, end)

    def _select(
        self, tickers: Sequence[str], start: DateLike | None, end: DateLike | None
    ) -> pd.DataFrame:
        missing = [t for t in tickers if t not in self.frame.columns]
        if missing:
            raise UnknownTickerError(
                f"ticker(s) {missing} not in the data; available: {self.available_tickers()}."
            )
        # All columns in order: a new frame over the same data (copy-on-write), no take.
        out = self.frame.copy(deep=False) if list(tickers) == list(self.frame.columns) else \
            self.frame.loc[:, list(tickers)]
        if start is not None:
            out = out.loc[pd.Timestamp(start).normalize():]
        if end is not None:
            out = out.loc[: pd.Timestamp(end).normalize()]
        return out


def resolve_provider(data: object = None, data_kind: str = "prices") -> PriceProvider:
    """Turn the ``data=`` argument into a provider.

    Resolution order: an explicit ``data`` (a provider, a DataFrame, or a path to a folder of
    ``<TICKER>.csv`` files) > the environment variable ``EVENTSTUDY_DATA`` (path to such a
    folder) > Yahoo Finance through the disk cache.

    Parameters
    ----------
    data : PriceProvider, DataFrame, str, Path or None
        Where the data come from.
    data_kind : {"prices", "returns"}, default "prices"
        For a DataFrame: whether it holds prices or returns.

    Returns
    -------
    PriceProvider
    """
    from eventstudy.data.csvdir import CSVDirectoryProvider

    if data is None:
        env = os.environ.get(DATA_ENV_VAR)
        if env:
            return CSVDirectoryProvider(env)
        from eventstudy.data.cache import CachedProvider
        from eventstudy.data.yahoo import YahooProvider

        return CachedProvider(YahooProvider())
    if isinstance(data, pd.DataFrame):
        return DataFrameProvider(data, kind=data_kind)
    if isinstance(data, str | os.PathLike):
        return CSVDirectoryProvider(Path(data))
    if isinstance(data, PriceProvider):
        return data
    raise SpecificationError(
        f"data={type(data).__name__} is not understood; pass a provider, a DataFrame of prices "
        "(or returns with data_kind='returns'), or a path to a folder of <TICKER>.csv files."
    )
