"""A folder of ``<TICKER>.csv`` files: the format of the offline snapshot in ``shared/data``.

Each file has a header ``date,adj_close[,close,volume]`` with ISO dates in ascending order.
Index tickers drop the caret in the file name (``^GSPC`` is ``GSPC.csv``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from eventstudy._typing import DateLike
from eventstudy.data.base import check_price_frame, read_csv_file
from eventstudy.exceptions import DataError, UnknownTickerError

__all__ = ["CSVDirectoryProvider", "ticker_to_filename"]


def ticker_to_filename(ticker: str) -> str:
    """File name for ``ticker``: upper case, caret dropped, ``.csv`` appended."""
    return ticker.strip().lstrip("^").upper() + ".csv"


class CSVDirectoryProvider:
    """Adjusted closes from a folder of ``<TICKER>.csv`` files.

    Parameters
    ----------
    path : str or Path
        The folder, e.g. ``"../shared/data/prices"``.
    column : str, default "adj_close"
        Which price column to read.

    Examples
    --------
    >>> from eventstudy import CSVDirectoryProvider
    >>> provider = CSVDirectoryProvider("../shared/data/prices")  # doctest: +SKIP
    >>> provider.get_prices(["SPY", "XLK"], "2025-06-01", "2025-06-10")  # doctest: +SKIP
    """

    def __init__(self, path: str | Path, column: str = "adj_close") -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise DataError(
                f"price folder {str(self.path)!r} does not exist; pass the folder that holds "
                "<TICKER>.csv files (e.g. ../shared/data/prices) or unset EVENTSTUDY_DATA."
            )
        self.column = column

    def __repr__(self) -> str:
        return f"CSVDirectoryProvider({str(self.path)!r})"

    def available_tickers(self) -> list[str]:
        """Tickers with a file in the folder (file stems, upper case)."""
        return sorted(p.stem.upper() for p in self.path.glob("*.csv"))

    def coverage(self) -> pd.DataFrame:
        """First date, last date and number of rows of each ticker."""
        rows = []
        for ticker in self.available_tickers():
            s = self._read(ticker)
            rows.append((ticker, s.index[0], s.index[-1], int(s.notna().sum())))
        return pd.DataFrame(rows, columns=["ticker", "first", "last", "rows"]).set_index("ticker")

    def get_prices(
        self, tickers: Sequence[str], start: DateLike | None = None, end: DateLike | None = None
    ) -> pd.DataFrame:
        """Return adjusted closes for ``tickers`` from ``start`` to ``end`` (inclusive).

        Raises
        ------
        UnknownTickerError
            If a ticker has no file; the message lists the tickers that do.
        """
        missing = [t for t in tickers if not (self.path / ticker_to_filename(t)).is_file()]
        if missing:
            raise UnknownTickerError(
                f"no data for ticker(s) {missing} in {self.path}; available: "
                f"{', '.join(self.available_tickers())}."
            )
        series = {t: self._read(t) for t in tickers}
        frame = pd.concat(series, axis=1, sort=True) if series else pd.DataFrame()
        frame.index.name = "date"
        if start is not None:
            frame = frame.loc[pd.Timestamp(start).normalize():]
        if end is not None:
            frame = frame.loc[: pd.Timestamp(end).normalize()]
        return frame

    def _read(self, ticker: str) -> pd.Series:
        file = self.path / ticker_to_filename(ticker)
        return _read_csv(file, file.stat().st_mtime_ns, self.column).rename(ticker)


@functools.lru_cache(maxsize=256)
def _read_csv(file: Path, mtime_ns: int, column: str) -> pd.Series:
    # mtime_ns is part of the cache key so an edited file is read again.
    del mtime_ns
    raw = read_csv_file(file, f"date,{column}", empty_fix=", or delete the file")
    if "date" not in raw.columns or column not in raw.columns:
        raise DataError(
            f"{file} must have columns 'date' and {column!r}; it has {list(raw.columns)}."
        )
    frame = raw.set_index("date")[[column]]
    clean = check_price_frame(frame, what=str(file))
    return clean[column]
