"""Fama–French factors and the risk-free rate, in decimals per trading day.

Every factor provider answers ``get_factors(start, end)`` with a DataFrame indexed by a
tz-naive ``DatetimeIndex`` named ``date`` and columns ``mkt_rf, smb, hml, rf`` (more columns are
allowed), **in decimals per day** (0.0123 is 1.23 %). Kenneth French publishes percent; the
providers here divide by 100 once, on reading.

Sources: a folder like ``shared/data/factors`` (:class:`CSVFactorProvider`), French's data
library over the internet (:class:`FrenchFactorProvider`), or a DataFrame already in memory
(:class:`DataFrameFactorProvider`). :func:`resolve_factor_provider` picks one.
"""

from __future__ import annotations

import functools
import io
import os
import re
import time
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from eventstudy._typing import DateLike, check_option
from eventstudy.data.base import read_csv_file, validate_dates_index
from eventstudy.exceptions import (
    DataError,
    DataWarning,
    DownloadError,
    EmptyDataError,
    SpecificationError,
)

__all__ = [
    "BILL_DAYS",
    "FACTORS_ENV_VAR",
    "FACTOR_COLUMNS",
    "FRENCH_DAILY_URL",
    "RISK_FREE_SOURCES",
    "TRADING_DAYS_PER_YEAR",
    "CSVFactorProvider",
    "DataFrameFactorProvider",
    "FactorProvider",
    "FrenchFactorProvider",
    "check_factor_frame",
    "dtb3_to_daily",
    "parse_french_daily_csv",
    "resolve_factor_provider",
]

FACTORS_ENV_VAR = "EVENTSTUDY_FACTORS"
FACTOR_COLUMNS: tuple[str, ...] = ("mkt_rf", "smb", "hml", "rf")
RISK_FREE_SOURCES: tuple[str, ...] = ("ff", "dtb3")
FRENCH_DAILY_URL = (
    "https://mba.tuck.dartmouth.edu/pages/faculty/ken.french/ftp/"
    "F-F_Research_Data_Factors_daily_CSV.zip"
)
#: Days to maturity of the 3-month (13-week) bill quoted by FRED series DTB3.
BILL_DAYS = 91
#: Trading days per year used to turn an annual rate into a per-session rate.
TRADING_DAYS_PER_YEAR = 252
# French's names -> ours.
_FRENCH_NAMES = {"Mkt-RF": "mkt_rf", "SMB": "smb", "HML": "hml", "RF": "rf"}
# French marks missing values with these codes.
_FRENCH_MISSING = (-99.99, -999.0)
# A bond-market holiday is one NYSE session without a DTB3 quote; longer gaps are not filled.
_DTB3_MAX_FILL = 1


@runtime_checkable
class FactorProvider(Protocol):
    """Anything that returns daily factor returns in decimals."""

    def get_factors(
        self, start: DateLike | None = None, end: DateLike | None = None
    ) -> pd.DataFrame:
        """Return factors (``mkt_rf, smb, hml, rf``, decimals per day) indexed by ``date``."""
        ...


def check_factor_frame(frame: pd.DataFrame, what: str = "factors") -> pd.DataFrame:
    """Validate a factor frame in decimals and return a clean float copy.

    Parameters
    ----------
    frame : pandas.DataFrame
        Daily factors indexed by date, with at least ``mkt_rf`` and ``rf``.
    what : str, default "factors"
        Name used in messages.

    Returns
    -------
    pandas.DataFrame
        Float columns, index ``date`` (tz-naive, ascending, unique).

    Raises
    ------
    DataError
        On missing columns, non-numeric values, or values that look like percent. The check is
        a plausibility bound, not a proof: ``mkt_rf`` with a median absolute value above 0.05
        (5 % a day) or any value beyond 1 (100 %), or ``rf`` beyond 0.005 (0.5 % a day), cannot
        be daily decimals.
    """
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise EmptyDataError(f"{what} is empty or not a DataFrame.")
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    missing = [c for c in ("mkt_rf", "rf") if c not in out.columns]
    if missing:
        raise DataError(
            f"{what} lacks column(s) {missing}; it has {list(out.columns)}. Name the columns "
            f"{list(FACTOR_COLUMNS)} (French's 'Mkt-RF', 'SMB', 'HML', 'RF' renamed)."
        )
    out.index = validate_dates_index(out.index, what)
    try:
        out = out.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} must be numeric ({exc}).") from None
    mkt = out["mkt_rf"].abs()
    if mkt.median() > 0.05 or mkt.max() > 1 or out["rf"].abs().max() > 0.005:
        raise DataError(
            f"{what} looks like percent (median |mkt_rf| = {mkt.median():.4g}, "
            f"max |rf| = {out['rf'].abs().max():.4g}); factors must be decimals per day: "
            "divide the frame by 100."
        )
    return out


def dtb3_to_daily(dtb3: pd.Series) -> pd.Series:
    r"""Convert 3-month T-bill discount rates (percent p.a.) to decimal returns per session.

    Parameters
    ----------
    dtb3 : pandas.Series
        FRED series DTB3: secondary-market rate of the 13-week bill, percent per annum,
        bank-discount basis (Actual/360).

    Returns
    -------
    pandas.Series
        Risk-free return per trading day, in decimals.

    Notes
    -----
    With :math:`d` the discount rate in decimals and :math:`n = 91` days to maturity, the
    bill's price per unit of face value is :math:`P = 1 - d\,n/360`. Its investment rate
    (coupon-equivalent or bond-equivalent yield), the simple annual return on the price paid
    over a 365-day year, is

    .. math:: i = \frac{365\, d}{360 - n\, d},

    the formula the U.S. Treasury uses to publish the "coupon equivalent" next to the discount
    rate of bills of up to six months. Treating :math:`i` as the annual rate and spreading it
    over :data:`TRADING_DAYS_PER_YEAR` = 252 sessions by compounding gives the rate per session

    .. math:: r = (1 + i)^{1/252} - 1 .

    For :math:`d = 5\%`, :math:`i = 5.13\%` and :math:`r = 1.99 \times 10^{-4}`.

    References
    ----------
    .. [1] U.S. Department of the Treasury, "Daily Treasury Bill Rates: Description", coupon
       equivalent of bills with 182 days or less to maturity.
    .. [2] Fabozzi, F. J., *Bond Markets, Analysis, and Strategies*, ch. "Money market
       instruments": bank discount yield and bond-equivalent yield of Treasury bills.
    """
    d = dtb3.astype(np.float64) / 100.0
    investment = 365.0 * d / (360.0 - BILL_DAYS * d)
    return ((1.0 + investment) ** (1.0 / TRADING_DAYS_PER_YEAR) - 1.0).rename("rf")


class _FrameFactorProvider:
    """Shared ``get_factors`` / ``risk_free`` over a factor frame produced by ``_frame``."""

    def _frame(self) -> pd.DataFrame:
        raise NotImplementedError

    def get_factors(
        self, start: DateLike | None = None, end: DateLike | None = None
    ) -> pd.DataFrame:
        """Return daily factors in decimals from ``start`` to ``end`` (inclusive).

        Raises
        ------
        EmptyDataError
            If no day of the data falls in the range; the message gives the coverage.
        """
        return _slice(self._frame(), start, end, repr(self))

    def risk_free(
        self, start: DateLike | None = None, end: DateLike | None = None, source: str = "ff"
    ) -> pd.Series:
        """Return the daily risk-free rate in decimals.

        Parameters
        ----------
        start, end : date-like, optional
            Inclusive range.
        source : {"ff", "dtb3"}, default "ff"
            ``"ff"``: French's ``RF`` (one-month T-bill return per trading day).
            ``"dtb3"``: the 3-month T-bill rate; only :class:`CSVFactorProvider` has it.

        Returns
        -------
        pandas.Series
            Named ``rf``, indexed by ``date``.
        """
        check_option("source", source, RISK_FREE_SOURCES)
        if source == "dtb3":
            raise SpecificationError(
                f"{self!r} has no DTB3 series; use source='ff' (risk_free='ff' in "
                "run_event_study / EventStudy), or a CSVFactorProvider over a folder holding "
                "DTB3.csv."
            )
        return self.get_factors(start, end)["rf"]


class DataFrameFactorProvider(_FrameFactorProvider):
    """Factors from a DataFrame in memory, in decimals per day.

    Parameters
    ----------
    frame : pandas.DataFrame
        Indexed by date, with columns ``mkt_rf`` and ``rf`` and usually ``smb``, ``hml``.
        Checked with :func:`check_factor_frame` (percent is rejected).
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = check_factor_frame(frame, "factors")

    def __repr__(self) -> str:
        idx = self.frame.index
        return f"DataFrameFactorProvider({idx[0].date()}..{idx[-1].date()})"

    def _frame(self) -> pd.DataFrame:
        return self.frame


class CSVFactorProvider(_FrameFactorProvider):
    """Factors from a folder holding ``FF3_daily.csv`` and, optionally, ``DTB3.csv``.

    ``FF3_daily.csv`` has columns ``date,mkt_rf,smb,hml,rf`` in **percent** per day as French
    publishes them; they are divided by 100. ``DTB3.csv`` has ``date,dtb3``: the 3-month
    T-bill rate, percent p.a., discount basis, one row per date with a quote.

    Parameters
    ----------
    path : str or Path
        The folder, e.g. ``"../shared/data/factors"``.

    Examples
    --------
    >>> from eventstudy.data import CSVFactorProvider
    >>> ff = CSVFactorProvider("../shared/data/factors")  # doctest: +SKIP
    >>> ff.get_factors("2025-04-01", "2025-04-30")  # doctest: +SKIP
    >>> ff.risk_free("2025-04-01", "2025-04-30", source="dtb3")  # doctest: +SKIP
    """

    FF3_FILE = "FF3_daily.csv"
    DTB3_FILE = "DTB3.csv"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        if not (self.path / self.FF3_FILE).is_file():
            raise DataError(
                f"{self.FF3_FILE} not found in {str(self.path)!r}; pass the folder that holds "
                f"it (e.g. ../shared/data/factors) or unset {FACTORS_ENV_VAR}."
            )

    def __repr__(self) -> str:
        return f"CSVFactorProvider({str(self.path)!r})"

    def _frame(self) -> pd.DataFrame:
        file = self.path / self.FF3_FILE
        return _read_ff3_csv(file, file.stat().st_mtime_ns)

    def risk_free(
        self, start: DateLike | None = None, end: DateLike | None = None, source: str = "ff"
    ) -> pd.Series:
        """Return the daily risk-free rate in decimals.

        Parameters
        ----------
        start, end : date-like, optional
            Inclusive range.
        source : {"ff", "dtb3"}, default "ff"
            ``"ff"``: French's ``RF`` column divided by 100.
            ``"dtb3"``: the 3-month T-bill rate converted with :func:`dtb3_to_daily`, on NYSE
            sessions.

        Returns
        -------
        pandas.Series
            Named ``rf``, indexed by ``date``.

        Warns
        -----
        DataWarning
            With ``source="dtb3"``, naming the NYSE sessions that have no quote. The Treasury
            market closes on Columbus Day and Veterans Day while the NYSE trades; such a
            single-session gap takes the previous quote (the rate in force), and the filled
            dates are also in ``result.attrs["filled"]``. Longer gaps are left NaN. Quotes on
            days the NYSE is closed are dropped. The series covers the sessions from the first
            to the last quote.
        """
        check_option("source", source, RISK_FREE_SOURCES)
        if source == "ff":
            return self.get_factors(start, end)["rf"]
        file = self.path / self.DTB3_FILE
        if not file.is_file():
            raise DataError(
                f"{self.DTB3_FILE} not found in {str(self.path)!r}; add FRED's DTB3 series as "
                "date,dtb3 there, or use source='ff'."
            )
        return _dtb3_on_sessions(_read_dtb3_csv(file, file.stat().st_mtime_ns), start, end)


class FrenchFactorProvider(_FrameFactorProvider):
    """Daily Fama–French 3 factors downloaded from Kenneth French's data library.

    The zip (``F-F_Research_Data_Factors_daily_CSV.zip``) is fetched once per instance and
    parsed with :func:`parse_french_daily_csv`.

    Parameters
    ----------
    url : str, default :data:`FRENCH_DAILY_URL`
        Location of the zip.
    fetch : callable, optional
        ``fetch(url, timeout) -> bytes``; default: :func:`urllib.request.urlopen`. Tests pass a
        stand-in.
    attempts : int, default 3
        Attempts before giving up on network errors (HTTP 429 and 5xx included).
    backoff : float, default 1.0
        Seconds before the second attempt; doubles after each failure.
    sleep : callable, default time.sleep
        Called with the seconds to wait between attempts.
    timeout : float, default 30
        Seconds per request.

    References
    ----------
    .. [1] French, K. R., Data Library, "Fama/French 3 Factors [Daily]",
       https://mba.tuck.dartmouth.edu/pages/faculty/ken.french/data_library.html
    """

    def __init__(
        self,
        url: str = FRENCH_DAILY_URL,
        *,
        fetch: Callable[[str, float], bytes] | None = None,
        attempts: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
    ) -> None:
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise SpecificationError(f"attempts={attempts!r} must be an integer >= 1.")
        self.url = url
        self._fetch = fetch or _urlopen_bytes
        self.attempts = attempts
        self.backoff = float(backoff)
        self.sleep = sleep
        self.timeout = timeout
        self._cached: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return f"FrenchFactorProvider({self.url!r})"

    def _frame(self) -> pd.DataFrame:
        if self._cached is None:
            self._cached = _parse_french_zip(self._download(), self.url)
        return self._cached

    def _download(self) -> bytes:
        last = ""
        for attempt in range(1, self.attempts + 1):
            try:
                return self._fetch(self.url, self.timeout)
            except urllib.error.HTTPError as exc:
                if exc.code != 429 and exc.code < 500:
                    raise DownloadError(
                        f"{self.url} answered HTTP {exc.code} ({exc.reason}); the file may have "
                        "moved: check the data library page, pass url=, or point "
                        f"{FACTORS_ENV_VAR} at a folder with FF3_daily.csv."
                    ) from exc
                last = f"HTTP {exc.code} {exc.reason}"
            except OSError as exc:  # URLError, time-outs, connection resets
                last = f"{type(exc).__name__}: {exc}"
            if attempt < self.attempts:
                self.sleep(self.backoff * 2 ** (attempt - 1))
        raise DownloadError(
            f"could not download French's daily factors from {self.url} after {self.attempts} "
            f"attempt(s) ({last}); check the internet connection, or download the zip by hand "
            f"and point {FACTORS_ENV_VAR} at a folder with FF3_daily.csv "
            "(date,mkt_rf,smb,hml,rf in percent)."
        )


def parse_french_daily_csv(text: str) -> pd.DataFrame:
    """Parse the CSV inside French's daily factors zip.

    The file starts with free-text lines, then a header ``,Mkt-RF,SMB,HML,RF``, then rows
    ``YYYYMMDD, v1, v2, ...`` in percent, and ends with a blank line and a copyright line. The
    table ends at the first line that does not start with an 8-digit date.

    Parameters
    ----------
    text : str
        The CSV text.

    Returns
    -------
    pandas.DataFrame
        Columns ``mkt_rf, smb, hml, rf`` (plus any further factors, lower case) in decimals
        per day, index ``date``. French's missing-value codes (-99.99, -999) become NaN with a
        :class:`~eventstudy.exceptions.DataWarning`.

    Raises
    ------
    DataError
        If no header with ``Mkt-RF`` and ``RF`` or no data row is found.
    """
    lines = text.splitlines()
    header = next(
        (i for i, line in enumerate(lines) if line.strip().startswith(",") and "Mkt-RF" in line),
        None,
    )
    if header is None:
        raise DataError(
            "no header line ',Mkt-RF,SMB,HML,RF' in the French factors file; it is not the "
            "daily 3-factor file, or its layout changed."
        )
    names = [c.strip() for c in lines[header].split(",")[1:]]
    rows = []
    for line in lines[header + 1 :]:
        fields = [f.strip() for f in line.split(",")]
        if not re.fullmatch(r"\d{8}", fields[0]):
            break
        if len(fields) != len(names) + 1:
            raise DataError(
                f"French factors row {line.strip()!r} has {len(fields) - 1} values for "
                f"{len(names)} columns."
            )
        rows.append(fields)
    if not rows:
        raise DataError("the French factors file has a header but no daily rows.")
    columns = [_FRENCH_NAMES.get(n, n.lower().replace("-", "_")) for n in names]
    if "mkt_rf" not in columns or "rf" not in columns:
        raise DataError(f"the French factors file has columns {names}; expected Mkt-RF and RF.")
    table = np.array([r[1:] for r in rows], dtype=np.float64)
    index = pd.to_datetime([r[0] for r in rows], format="%Y%m%d").rename("date")
    frame = pd.DataFrame(table, index=index, columns=columns)
    coded = frame.isin(_FRENCH_MISSING)
    if coded.any().any():
        warnings.warn(
            DataWarning(
                f"the French factors file marks {int(coded.sum().sum())} value(s) as missing "
                "(-99.99 or -999); they are NaN."
            ),
            stacklevel=2,
        )
        frame = frame.mask(coded)
    frame.index = validate_dates_index(frame.index, "French factors")
    return frame / 100.0


def resolve_factor_provider(factors: object = None) -> FactorProvider:
    """Turn the ``factors=`` argument into a factor provider.

    Resolution order: an explicit ``factors`` (a provider, a DataFrame in decimals, or a path
    to a folder with ``FF3_daily.csv``) > the environment variable ``EVENTSTUDY_FACTORS`` (path
    to such a folder) > :class:`FrenchFactorProvider` (internet).

    Parameters
    ----------
    factors : FactorProvider, DataFrame, str, Path or None
        Where the factors come from.

    Returns
    -------
    FactorProvider
    """
    if factors is None:
        env = os.environ.get(FACTORS_ENV_VAR)
        if env:
            return CSVFactorProvider(env)
        return FrenchFactorProvider()
    if isinstance(factors, pd.DataFrame):
        return DataFrameFactorProvider(factors)
    if isinstance(factors, str | os.PathLike):
        return CSVFactorProvider(factors)
    if isinstance(factors, FactorProvider):
        return factors
    raise SpecificationError(
        f"factors={type(factors).__name__} is not understood; pass a factor provider, a "
        "DataFrame of daily factors in decimals, or a folder holding FF3_daily.csv."
    )


# --- helpers -----------------------------------------------------------------------------------
def _urlopen_bytes(url: str, timeout: float) -> bytes:
    from eventstudy._version import __version__

    request = urllib.request.Request(url, headers={"User-Agent": f"eventstudy/{__version__}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def _parse_french_zip(payload: bytes, source: str) -> pd.DataFrame:
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
    except zipfile.BadZipFile:
        raise DataError(
            f"{source} did not return a zip file ({len(payload)} bytes starting "
            f"{payload[:40]!r}); the library may have moved it: check the URL."
        ) from None
    with archive:
        members = [n for n in archive.namelist() if n.lower().endswith(".csv")]
        if len(members) != 1:
            raise DataError(
                f"expected one CSV in the zip from {source}, found {members or 'none'}."
            )
        # The files are ASCII; latin-1 decodes any byte, so a stray symbol cannot fail.
        text = archive.read(members[0]).decode("latin-1")
    return parse_french_daily_csv(text)


@functools.lru_cache(maxsize=8)
def _read_ff3_csv(file: Path, mtime_ns: int) -> pd.DataFrame:
    # mtime_ns is part of the cache key so an edited file is read again.
    del mtime_ns
    raw = read_csv_file(file, "date,mkt_rf,smb,hml,rf")
    missing = [c for c in ("date", *FACTOR_COLUMNS) if c not in raw.columns]
    if missing:
        raise DataError(
            f"{file} lacks column(s) {missing}; expected date,mkt_rf,smb,hml,rf in percent."
        )
    frame = raw.set_index("date")[list(FACTOR_COLUMNS)]
    frame.index = validate_dates_index(frame.index, str(file))
    try:
        return frame.astype(np.float64) / 100.0
    except (TypeError, ValueError) as exc:
        raise DataError(f"{file} must hold numbers ({exc}).") from None


@functools.lru_cache(maxsize=8)
def _read_dtb3_csv(file: Path, mtime_ns: int) -> pd.Series:
    del mtime_ns
    raw = read_csv_file(file, "date,dtb3")
    if "date" not in raw.columns or "dtb3" not in raw.columns:
        raise DataError(f"{file} must have columns date,dtb3; it has {list(raw.columns)}.")
    series = raw.set_index("date")["dtb3"]
    series.index = validate_dates_index(series.index, str(file))
    try:
        series = series.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{file} must hold numbers ({exc}).") from None
    if series.isna().any():
        raise DataError(
            f"{file} has {int(series.isna().sum())} blank value(s); keep only dates with a "
            "quote (FRED leaves bond-market holidays blank)."
        )
    return series


def _dtb3_on_sessions(dtb3: pd.Series, start: DateLike | None, end: DateLike | None) -> pd.Series:
    from eventstudy.calendar import get_calendar

    daily = dtb3_to_daily(dtb3)
    lo = daily.index[0] if start is None else max(_day(start), daily.index[0])
    hi = daily.index[-1] if end is None else min(_day(end), daily.index[-1])
    sessions = get_calendar().sessions_in_range(lo, hi).rename("date")
    if len(sessions) == 0:
        raise EmptyDataError(
            f"no NYSE session with a DTB3 quote between {_day(start) if start else lo} and "
            f"{_day(end) if end else hi}; DTB3 covers {dtb3.index[0].date()}.."
            f"{dtb3.index[-1].date()}."
        )
    # Fill on the union with the quote dates so a session after a gap looks back to the last
    # quote, and the limit counts consecutive sessions without one.
    union = daily.index.union(sessions)
    filled = daily.reindex(union).ffill(limit=_DTB3_MAX_FILL).reindex(sessions)
    gap = sessions[~sessions.isin(daily.index)]
    used = gap[filled.loc[gap].notna()]
    left = gap[filled.loc[gap].isna()]
    if len(gap):
        shown = ", ".join(str(d.date()) for d in gap[:5]) + (", ..." if len(gap) > 5 else "")
        note = f"; {len(left)} in longer gaps are left NaN" if len(left) else ""
        warnings.warn(
            DataWarning(
                f"risk_free(source='dtb3'): {len(gap)} NYSE session(s) have no DTB3 quote "
                f"({shown}): bond-market holidays such as Columbus Day and Veterans Day. "
                f"{len(used)} take the previous session's rate{note}."
            ),
            stacklevel=3,
        )
    filled.attrs["filled"] = list(used)
    return filled.rename("rf")


def _slice(
    frame: pd.DataFrame, start: DateLike | None, end: DateLike | None, what: str
) -> pd.DataFrame:
    out = frame
    if start is not None:
        out = out.loc[_day(start) :]
    if end is not None:
        out = out.loc[: _day(end)]
    if out.empty:
        first = "the start" if start is None else str(_day(start).date())
        last = "the end" if end is None else str(_day(end).date())
        raise EmptyDataError(
            f"{what} has no factors from {first} to {last}; it covers "
            f"{frame.index[0].date()}..{frame.index[-1].date()}: pass factors= data that "
            "cover the estimation and event windows, or move the events."
        )
    return out.copy()


def _day(value: DateLike) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("America/New_York").tz_localize(None)
    return ts.normalize()
