"""A returns (or prices) panel in partitioned Parquet, read lazily by ticker and date range.

The dataset is in *long* format, one row per (session, ticker) with a value, hive-partitioned
by calendar year::

    panel/
      year=2019/part-0.parquet     columns: date (date32), ticker (string), value (float64)
      year=2020/part-0.parquet
      ...

Within each file rows are sorted by ``ticker`` then ``date`` and split into row groups, so the
Parquet statistics let a reader skip the row groups of tickers it did not ask for, and the
``year`` partition lets it skip the years outside the requested dates. A study therefore reads
only the tickers and years its windows touch, never the whole panel. Missing values are simply
absent rows.

Long rather than wide because the layout does not change when tickers are added, thousands of
tickers do not become thousands of Parquet columns, and the same files are read as they are by
``dask.dataframe.read_parquet``, Spark or DuckDB. :func:`write_partitioned` creates such a
dataset from a wide DataFrame (dates x tickers).

Paths may be local folders or any URI ``pyarrow.fs`` understands (``s3://bucket/panel``,
``gs://...``); a pre-built ``pyarrow.fs.FileSystem`` can be passed too. Providers pickle as
their path (the opened dataset is rebuilt on first use), so they can be shipped to Dask workers.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eventstudy._typing import DATA_KINDS, DateLike, check_option
from eventstudy.data.base import check_price_frame, check_returns_frame
from eventstudy.exceptions import (
    DataError,
    InvalidIndexError,
    UnknownTickerError,
)

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

__all__ = ["LONG_COLUMNS", "ParquetReturnsProvider", "write_partitioned"]

#: Columns of the long format, in file order.
LONG_COLUMNS: tuple[str, str, str] = ("date", "ticker", "value")
_KIND_KEY = b"eventstudy.kind"
_DEFAULT_ROW_GROUP = 100_000


def _filesystem(
    path: str | os.PathLike[str], filesystem: pafs.FileSystem | None
) -> tuple[pafs.FileSystem, str]:
    """File system and path inside it for a local path or a URI."""
    import pyarrow.fs as pafs

    if filesystem is not None:
        return filesystem, str(path)
    text = os.fspath(path)
    if "://" in text:
        return pafs.FileSystem.from_uri(text)
    return pafs.LocalFileSystem(), str(Path(text).expanduser().resolve())


def write_partitioned(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    kind: str = "returns",
    row_group_size: int = _DEFAULT_ROW_GROUP,
    filesystem: pafs.FileSystem | None = None,
) -> list[str]:
    """Write a wide frame (dates x tickers) as a long, year-partitioned Parquet dataset.

    Parameters
    ----------
    frame : pandas.DataFrame
        Returns (``kind="returns"``) or adjusted closes (``kind="prices"``), one column per
        ticker, indexed by date. NaN cells are not stored.
    path : str or path-like
        Target folder or URI (``s3://bucket/panel``). It must not exist yet or be empty.
    kind : {"returns", "prices"}, default "returns"
        What the values are; checked like the in-memory provider checks them (prices must be
        positive) and recorded in the file metadata, so a reader with the other ``kind`` fails
        instead of misreading the numbers.
    row_group_size : int, default 100_000
        Rows per Parquet row group. Smaller groups let ticker filters skip more data at the cost
        of more metadata.
    filesystem : pyarrow.fs.FileSystem, optional
        File system to write to; inferred from ``path`` when omitted.

    Returns
    -------
    list of str
        Files written, one per calendar year.

    Raises
    ------
    DataError
        If ``path`` already holds files, or the frame is empty or invalid for ``kind``.

    Examples
    --------
    >>> write_partitioned(returns, "panel/")  # doctest: +SKIP
    >>> provider = ParquetReturnsProvider("panel/")  # doctest: +SKIP
    """
    import pyarrow as pa
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    kind = check_option("kind", kind, DATA_KINDS)
    if isinstance(row_group_size, bool) or not isinstance(row_group_size, int) or (
        row_group_size < 1
    ):
        raise DataError(f"row_group_size={row_group_size!r} must be a positive integer.")
    clean = (check_price_frame if kind == "prices" else check_returns_frame)(frame, "frame")
    fs, root = _filesystem(path, filesystem)
    existing = fs.get_file_info(pafs.FileSelector(root, allow_not_found=True, recursive=False))
    if existing:
        raise DataError(
            f"{path} already holds {len(existing)} entries; write_partitioned only writes to a "
            "new or empty folder (remove it or choose another path)."
        )
    fs.create_dir(root, recursive=True)
    schema = pa.schema(
        [("date", pa.date32()), ("ticker", pa.string()), ("value", pa.float64())],
        metadata={_KIND_KEY: kind.encode()},
    )
    clean = clean[sorted(clean.columns)]
    written = []
    for year, part in clean.groupby(clean.index.year, sort=True):
        values = part.to_numpy().T.ravel()  # ticker-major: sorted by ticker, then date
        keep = ~np.isnan(values)
        if not keep.any():
            continue
        days = part.index.to_numpy().astype("datetime64[D]")
        table = pa.table(
            {
                "date": pa.array(np.tile(days, part.shape[1])[keep], pa.date32()),
                "ticker": pa.array(np.repeat(part.columns.to_numpy(), len(part))[keep],
                                   pa.string()),
                "value": pa.array(values[keep], pa.float64()),
            },
            schema=schema,
        )
        folder = f"{root}/year={year}"
        fs.create_dir(folder, recursive=True)
        file = f"{folder}/part-0.parquet"
        pq.write_table(table, file, filesystem=fs, row_group_size=row_group_size)
        written.append(file)
    return written


class ParquetReturnsProvider:
    """Returns (or prices) from a long, year-partitioned Parquet dataset, read lazily.

    Only the requested tickers and the years overlapping the requested dates are read, through
    ``pyarrow.dataset`` filters (see the module docstring for the layout).

    Parameters
    ----------
    path : str or path-like
        Dataset folder or URI, e.g. ``"panel/"`` or ``"s3://bucket/panel"``; a local folder
        is stored as an absolute path.
    kind : {"returns", "prices"}, default "returns"
        What the values are. :class:`~eventstudy.EventStudy` uses returns as they are when
        ``kind == "returns"`` and computes returns from prices otherwise.
    filesystem : pyarrow.fs.FileSystem, optional
        File system holding ``path``; inferred from ``path`` when omitted.

    Raises
    ------
    DataError
        If the dataset cannot be opened, lacks the columns ``date, ticker, value``, or was
        written with the other ``kind``.

    Examples
    --------
    >>> from eventstudy.data.parquet import ParquetReturnsProvider
    >>> provider = ParquetReturnsProvider("panel/")  # doctest: +SKIP
    >>> EventStudy(events, assets=["A", "B"], market="MKT", data=provider).fit()  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        kind: str = "returns",
        *,
        filesystem: pafs.FileSystem | None = None,
    ) -> None:
        self.kind = check_option("kind", kind, DATA_KINDS)
        self.filesystem = filesystem
        # A local path is made absolute here, so the provider names the same folder in
        # whichever process (e.g. a Dask worker) unpickles it.
        text = os.fspath(path)
        local = filesystem is None and "://" not in text
        self.path = str(Path(text).expanduser().resolve()) if local else text
        self._check_dataset()

    def __repr__(self) -> str:
        return f"ParquetReturnsProvider({self.path!r}, kind={self.kind!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_dataset", None)  # reopened lazily where it is unpickled
        return state

    @functools.cached_property
    def _dataset(self) -> ds.Dataset:
        import pyarrow.dataset as ds

        fs, root = _filesystem(self.path, self.filesystem)
        try:
            return ds.dataset(root, filesystem=fs, format="parquet", partitioning="hive")
        except (FileNotFoundError, OSError, ValueError) as exc:
            raise DataError(
                f"cannot open the Parquet dataset at {self.path!r} ({exc}); pass a folder "
                "written by eventstudy.data.parquet.write_partitioned."
            ) from None

    def _check_dataset(self) -> None:
        import pyarrow as pa

        schema = self._dataset.schema
        missing = [c for c in LONG_COLUMNS if c not in schema.names]
        if missing:
            raise DataError(
                f"the Parquet dataset at {self.path!r} lacks column(s) {missing}; it must be in "
                "long format with columns date, ticker, value (see write_partitioned)."
            )
        date_type = schema.field("date").type
        if not (pa.types.is_date(date_type) or (
            pa.types.is_timestamp(date_type) and date_type.tz is None
        )):
            raise DataError(
                f"column 'date' of {self.path!r} has type {date_type}; use date32 or a "
                "tz-naive timestamp."
            )
        declared = (schema.metadata or {}).get(_KIND_KEY)
        if declared is not None and declared.decode() != self.kind:
            raise DataError(
                f"the dataset at {self.path!r} was written with kind={declared.decode()!r}; "
                f"open it with ParquetReturnsProvider(..., kind={declared.decode()!r})."
            )

    def _date_scalar(self, when: DateLike) -> pa.Scalar:
        import pyarrow as pa

        day = pd.Timestamp(when).normalize()
        target = self._dataset.schema.field("date").type
        if pa.types.is_date(target):
            return pa.scalar(dt.date(day.year, day.month, day.day), type=target)
        return pa.scalar(day.to_pydatetime(), type=target)

    def available_tickers(self) -> list[str]:
        """All tickers in the dataset, sorted (reads the whole ``ticker`` column)."""
        import pyarrow.compute as pc

        column = self._dataset.to_table(columns=["ticker"]).column("ticker")
        return sorted(pc.unique(column).to_pylist())

    def get_prices(
        self, tickers: Sequence[str], start: DateLike | None = None, end: DateLike | None = None
    ) -> pd.DataFrame:
        """Values of ``tickers`` from ``start`` to ``end`` (inclusive), dates x tickers.

        Named ``get_prices`` for the provider protocol; the values are returns when
        ``kind == "returns"``.

        Parameters
        ----------
        tickers : sequence of str
        start, end : date-like, optional
            Inclusive bounds; open when omitted.

        Returns
        -------
        pandas.DataFrame
            Index: the sorted dates on which any requested ticker has a value, named ``date``;
            columns: ``tickers`` in the order given; NaN where a ticker has no value.

        Raises
        ------
        UnknownTickerError
            If a ticker has no row anywhere in the dataset.
        DataError
            If a file the request needs cannot be read.
        InvalidIndexError
            If the dataset holds a (date, ticker) pair twice.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        tickers = [str(t) for t in tickers]
        where = pc.field("ticker").isin(pa.array(tickers, pa.string()))
        partitions = self._dataset.partitioning
        by_year = partitions is not None and "year" in partitions.schema.names
        if start is not None:
            where &= pc.field("date") >= self._date_scalar(start)
            if by_year:
                where &= pc.field("year") >= pd.Timestamp(start).year
        if end is not None:
            where &= pc.field("date") <= self._date_scalar(end)
            if by_year:
                where &= pc.field("year") <= pd.Timestamp(end).year
        try:
            table = self._dataset.to_table(columns=list(LONG_COLUMNS), filter=where)
        except (OSError, pa.ArrowInvalid) as exc:
            raise DataError(f"cannot read the Parquet dataset at {self.path!r}: {exc}") from None
        long = table.to_pandas(date_as_object=False)
        try:
            wide = long.pivot(index="date", columns="ticker", values="value")
        except ValueError:
            pairs = long[long.duplicated(["date", "ticker"])].head(3)
            raise InvalidIndexError(
                f"the dataset at {self.path!r} holds some (date, ticker) pairs more than once, "
                f"e.g. {list(pairs.itertuples(index=False, name=None))}; keep one row per pair."
            ) from None
        absent = [t for t in tickers if t not in wide.columns]
        if absent:
            self._raise_unknown(absent)
        out = wide.reindex(columns=tickers).astype(float)
        out.index = pd.DatetimeIndex(out.index).as_unit("ns").rename("date")
        out.columns.name = None
        return out

    def _raise_unknown(self, tickers: list[str]) -> None:
        """Raise for those of ``tickers`` that have no row at all (others are just missing)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        found = self._dataset.to_table(
            columns=["ticker"], filter=pc.field("ticker").isin(pa.array(tickers, pa.string()))
        ).column("ticker")
        unknown = sorted(set(tickers) - set(pc.unique(found).to_pylist()))
        if unknown:
            raise UnknownTickerError(
                f"ticker(s) {unknown} not in the Parquet dataset at {self.path!r}; see "
                "available_tickers() for those it holds."
            )
