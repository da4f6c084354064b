"""One table of bad inputs and what each must produce.

Every row states either

* the exact exception class (``type(exc) is X``, not a subclass) and message fragments that
  name the argument or value at fault and the fix, or
* the exact ``results.dropped`` reason of the asset-events / event days left out (the rest is
  computed), or
* for inputs that are legal but shifted or assumed (weekend dates, naive timestamps), the
  recorded day 0, rule and ``assumed_timezone``.

Inputs already checked in ``tests/test_errors.py`` are not repeated with the same values; the
rows here use other values or other paths (returns frames, CSV folders, factor data, tables of
events) and check the exact class.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.calendar import get_calendar
from eventstudy.exceptions import (
    AlignmentError,
    DataCoverageError,
    DataError,
    DataWarning,
    EmptyDataError,
    EventError,
    InvalidIndexError,
    InvalidPriceError,
    SpecificationError,
    WindowError,
)

SESSIONS = get_calendar().sessions_in_range("2023-01-03", "2024-12-31")
HAS_RUN_TESTS = importlib.util.find_spec("eventstudy.inference") is not None and hasattr(
    importlib.import_module("eventstudy.inference"), "run_tests"
)


def prices(seed: int = 0) -> pd.DataFrame:
    """Market MKT and assets A0, A1 on NYSE sessions 2023-01-03..2024-12-31."""
    rng = np.random.default_rng(seed)
    r = rng.normal(0, 0.01, (len(SESSIONS), 3))
    return pd.DataFrame(100 * np.cumprod(1 + r, axis=0), index=SESSIONS,
                        columns=["MKT", "A0", "A1"])


def returns() -> pd.DataFrame:
    return prices().pct_change().iloc[1:]


def factors() -> pd.DataFrame:
    """Daily FF3 factors in decimals over the same sessions."""
    rng = np.random.default_rng(5)
    f = pd.DataFrame(rng.normal(0, 0.005, (len(SESSIONS), 3)), index=SESSIONS,
                     columns=["mkt_rf", "smb", "hml"])
    return f.assign(rf=0.0001)


def run(data=None, **kw):
    kw.setdefault("assets", ["A0", "A1"])
    kw.setdefault("market", "MKT")
    events = kw.pop("events", "2024-06-03")
    return es.run_event_study(events, data=prices() if data is None else data, **kw)


def with_row(frame: pd.DataFrame, i: int, value: object) -> pd.DataFrame:
    """``frame`` with every cell of row ``i`` set to ``value`` (object dtype if needed)."""
    out = frame.astype(object) if isinstance(value, str) else frame.copy()
    out.iloc[i, :] = value
    return out


def edit(**cols) -> pd.DataFrame:
    """Prices with some cells replaced: ``edit(A1=(slice, value))``."""
    p = prices()
    for col, (rows, value) in cols.items():
        p.loc[rows, col] = value
    return p


def csv_folder(tmp_path: Path, frame: pd.DataFrame, raw: dict | None = None) -> Path:
    """A folder of <TICKER>.csv files; ``raw`` replaces some files' bytes."""
    folder = tmp_path / "prices"
    folder.mkdir()
    for col in frame.columns:
        frame[[col]].rename(columns={col: "adj_close"}).rename_axis("date").to_csv(
            folder / f"{col}.csv")
    for ticker, payload in (raw or {}).items():
        (folder / f"{ticker}.csv").write_bytes(payload)
    return folder


def factor_folder(tmp_path: Path, payload: bytes) -> Path:
    folder = tmp_path / "factors"
    folder.mkdir()
    (folder / "FF3_daily.csv").write_bytes(payload)
    return folder


# --- expectations -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Dropped:
    """A row expected in ``results.dropped`` (exact reason), and what must still be computed."""

    scope: str
    event_id: str
    asset: str
    reason: str
    computed: frozenset = field(default_factory=frozenset)  # (event_id, asset) in res.cars
    date: str | None = None


@dataclass(frozen=True)
class Aligned:
    """Recorded alignment of the single event."""

    day0: str
    rule: str
    assumed_timezone: bool = False


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[Path], object]
    raises: type | None = None
    match: tuple[str, ...] = ()  # substrings: the argument or value at fault, and the fix
    dropped: Dropped | None = None
    aligned: Aligned | None = None
    xfail: str | None = None


def both(*pairs: tuple[str, str]) -> frozenset:
    return frozenset(pairs)


E1 = "2024-06-03"
CASES = [
    # --- malformed dates -------------------------------------------------------------------
    Case("date-month-13", lambda _: run(events="2024-13-01"), EventError,
         ("event date '2024-13-01' is not a valid date", "ISO format YYYY-MM-DD")),
    Case("date-free-text-in-list", lambda _: run(events=[E1, "next Tuesday"]), EventError,
         ("event date 'next Tuesday' cannot be parsed", "use ISO format")),
    Case("date-none", lambda _: run(events=[None]), EventError,
         ("an event has no date", "give a date such as '2025-06-05'")),
    Case("date-nat", lambda _: run(events=[pd.NaT]), EventError,
         ("event date NaT is missing", "give a date")),
    # Was read by pandas as 20240603 ns after 1970-01-01 and failed later as a coverage error.
    Case("date-integer", lambda _: run(events=20240603), EventError,
         ("event date 20240603 is a number", "pass a string such as '2025-06-05'")),
    Case("date-bad-row-in-table",
         lambda _: run(events=pd.DataFrame({"date": [E1, "bogus"]})), EventError,
         ("events table row 1: event date 'bogus' cannot be parsed", "use ISO format")),
    Case("date-table-without-date-column",
         lambda _: run(events=pd.DataFrame({"day": [E1]})), EventError,
         ("events table needs a 'date' (or 'when') column", "it has ['day']")),
    # Raised ZoneInfoNotFoundError / DateParseError (not EventError) before.
    Case("date-table-unknown-time-zone",
         lambda _: run(events=pd.DataFrame({"date": [E1], "time": ["10:00"],
                                            "timezone": ["Mars/Olympus"]})), EventError,
         ("events table row 0: date '2024-06-03', time '10:00', timezone 'Mars/Olympus'",
          "IANA time zones such as 'America/New_York'")),
    Case("date-table-bad-date-with-time",
         lambda _: run(events=pd.DataFrame({"date": [E1, "bogus"], "time": ["10:00", "11:00"]})),
         EventError, ("events table row 1: event date 'bogus' cannot be parsed",
                      "use ISO format")),
    # Failed with AttributeError ('NaTType' object has no attribute 'normalize') before.
    Case("events-empty-table", lambda _: run(events=pd.DataFrame({"date": []})), EventError,
         ("no events given (the table or EventSet is empty)", "at least one row")),
    Case("events-empty-eventset", lambda _: run(events=es.EventSet([])), EventError,
         ("no events given (the table or EventSet is empty)", "pass a date, an Event")),
    Case("date-table-time-zone-column",
         lambda _: run(events=pd.DataFrame({"date": ["2024-06-03"], "time": ["22:30"],
                                            "timezone": ["Asia/Shanghai"]})),
         aligned=Aligned("2024-06-03", "during_session", assumed_timezone=False)),
    # --- events outside the data ----------------------------------------------------------
    Case("event-after-data", lambda _: run(events="2025-03-03"), DataCoverageError,
         ("A0 data end 2024-12-31, before the event window ends (2025-03-17)",
          "Check the event dates")),
    Case("event-before-data", lambda _: run(events="2022-06-01"), DataCoverageError,
         ("no prices for ['A0', 'A1', 'MKT'] between 2021-06-03 and 2022-06-15",
          "Check the event dates")),
    Case("event-outside-calendar", lambda _: run(events="2030-01-02"), DataCoverageError,
         ("event date 2030-01-02 is outside the XNYS calendar", "check the date")),
    Case("one-event-of-two-after-data", lambda _: run(events=[E1, "2025-03-03"]),
         dropped=Dropped("asset-event", "2025-03-03", "A0",
                         "no returns in the event window; A0 data end 2024-12-31, before the "
                         "event window ends (2025-03-17)",
                         computed=both((E1, "A0"), (E1, "A1")))),
    # --- weekends and holidays under each alignment policy --------------------------------
    Case("saturday-next", lambda _: run(events="2024-06-01", alignment="next"),
         aligned=Aligned("2024-06-03", "non_session_next")),
    Case("saturday-previous", lambda _: run(events="2024-06-01", alignment="previous"),
         aligned=Aligned("2024-05-31", "non_session_prev")),
    Case("saturday-raise", lambda _: run(events="2024-06-01", alignment="raise"),
         AlignmentError, ("event date 2024-06-01 (Saturday) is not a XNYS session",
                          "pass alignment='next' or 'previous'")),
    Case("holiday-next", lambda _: run(events="2024-07-04", alignment="next"),
         aligned=Aligned("2024-07-05", "non_session_next")),
    Case("holiday-previous", lambda _: run(events="2024-07-04", alignment="previous"),
         aligned=Aligned("2024-07-03", "non_session_prev")),
    Case("holiday-raise", lambda _: run(events="2024-07-04", alignment="raise"),
         AlignmentError, ("event date 2024-07-04 (Thursday) is not a XNYS session",
                          "pass alignment='next' or 'previous'")),
    # A time of day on a closed day goes to the next session under every policy.
    Case("saturday-timestamp-raise", lambda _: run(events="2024-06-01 10:00", alignment="raise"),
         aligned=Aligned("2024-06-03", "non_session_time", assumed_timezone=True)),
    # --- duplicate events -----------------------------------------------------------------
    Case("duplicate-event-objects",
         lambda _: run(events=[es.Event("talks", E1), es.Event("talks", E1)]), EventError,
         ("duplicate event id(s) ['2024-06-03-talks']", "give each event a distinct name or id")),
    Case("duplicate-ids-in-table",
         lambda _: run(events=pd.DataFrame({"date": [E1, "2024-07-01"], "id": ["x", "x"]})),
         EventError, ("duplicate event id(s) ['x']", "give each event a distinct name or id")),
    # --- time zones -----------------------------------------------------------------------
    Case("naive-timestamp-assumed-new-york", lambda _: run(events="2024-06-03 10:00"),
         aligned=Aligned("2024-06-03", "during_session", assumed_timezone=True)),
    Case("aware-timestamp-after-close",
         lambda _: run(events=pd.Timestamp("2024-06-03 21:30", tz="UTC")),
         aligned=Aligned("2024-06-04", "after_close", assumed_timezone=False)),
    # --- windows --------------------------------------------------------------------------
    Case("estimation-touches-event-window", lambda _: run(estimation_window=(-250, -10)),
         WindowError, ("estimation_window=(-250, -10) overlaps event_window=(-10, 10)",
                       "e.g. estimation_window=(-250, -11)")),
    Case("estimation-reversed", lambda _: run(estimation_window=(-11, -250)), WindowError,
         ("estimation_window=(-11, -250) is reversed", "write (-250, -11)")),
    Case("estimation-after-event", lambda _: run(estimation_window=(20, 100)), WindowError,
         ("estimation_window=(20, 100) lies after the event window",
          "place it before the event window")),
    Case("car-window-reversed", lambda _: run(car_windows=[(1, -1)]), WindowError,
         ("car_windows=(1, -1) is reversed", "write (-1, 1)")),
    Case("estimation-longer-than-data",
         lambda _: run(estimation_window=(-600, -11), min_estimation_obs=590), DataCoverageError,
         ("too few estimation returns: 344 usable of 590 (need 590); A0 data start 2023-01-04",
          "shorten the estimation window / lower min_estimation_obs")),
    Case("window-beyond-calendar", lambda _: run(events="1928-03-01"), DataCoverageError,
         ("-251 sessions from 1928-03-01 is outside the calendar",
          "shorten the estimation_window / event_window")),
    Case("event-window-past-data-end", lambda _: run(events="2024-12-20"),
         dropped=Dropped("event-day", "2024-12-20", "A0",
                         "return missing on this event-window day; CARs spanning it are NaN",
                         computed=both(("2024-12-20", "A0"), ("2024-12-20", "A1")),
                         date="2025-01-02")),
    # --- too few estimation observations after removing days ------------------------------
    Case("few-obs-after-missing-days", lambda _: run(edit(A1=(slice("2023-07-01", "2024-05-01"),
                                                              np.nan))),
         dropped=Dropped("asset-event", E1, "A1",
                         "too few estimation returns: 29 usable of 240 (need 100)",
                         computed=both((E1, "A0")))),
    Case("few-obs-after-exclusions",
         lambda _: run(exclude=["2024-03-01"], exclude_window=(-150, 0)), DataCoverageError,
         ("too few estimation returns: 89 usable of 240 (need 100)",
          "lower min_estimation_obs")),
    # --- an asset without data for one event of several -----------------------------------
    Case("asset-without-data-for-one-event",
         lambda _: run(edit(A1=(slice(None, "2024-06-20"), np.nan)),
                       events=[E1, "2024-12-02"], estimation_window=(-100, -11),
                       min_estimation_obs=50),
         dropped=Dropped("asset-event", E1, "A1",
                         "too few estimation returns: 0 usable of 90 (need 50); A1 data start "
                         "2024-06-24, after the estimation window starts (2024-01-09)",
                         computed=both((E1, "A0"), ("2024-12-02", "A0"), ("2024-12-02", "A1")))),
    # --- degenerate prices ----------------------------------------------------------------
    Case("constant-asset-price", lambda _: run(edit(A1=(slice(None), 50.0))),
         dropped=Dropped("asset-event", E1, "A1",
                         "zero residual variance in the estimation window (constant price?)",
                         computed=both((E1, "A0")))),
    Case("constant-market-price", lambda _: run(edit(MKT=(slice(None), 50.0))),
         DataCoverageError, ("regressors are collinear in the estimation window",
                             "no asset-event could be estimated")),
    Case("price-minus-infinity", lambda _: run(edit(A0=("2023-01-10", -np.inf))),
         InvalidPriceError, ("A0 on 2023-01-10 = -inf", "prices must be > 0")),
    Case("price-text", lambda _: run(with_row(prices(), 5, "n/a")), InvalidPriceError,
         ("data must be numeric", "'n/a'")),
    Case("price-zero-in-csv-folder",
         lambda tmp: run(csv_folder(tmp, edit(A1=("2023-02-01", 0.0)))), InvalidPriceError,
         ("A1.csv: 1 non-positive or infinite price(s), first adj_close on 2023-02-01 = 0.0",
          "prices must be > 0")),
    # Raised UnicodeDecodeError / pandas' own EmptyDataError (not EventStudyError) before.
    Case("csv-file-not-text",
         lambda tmp: run(csv_folder(tmp, prices(), raw={"A1": b"\x00\x01\xff\xfe"})), DataError,
         ("A1.csv is not a readable CSV", "expected a header date,adj_close")),
    Case("csv-file-zero-bytes", lambda tmp: run(csv_folder(tmp, prices(), raw={"A1": b""})),
         EmptyDataError, ("A1.csv is empty (0 bytes)", "write a header date,adj_close")),
    Case("returns-infinite",
         lambda _: run(with_row(returns(), 9, np.inf), data_kind="returns"), InvalidPriceError,
         ("3 infinite return(s), first MKT on 2023-01-18 = inf", "replace them with NaN")),
    # Accepted before: a simple return of -100 % or less needs a price of zero or below.
    Case("returns-simple-below-minus-one",
         lambda _: run(with_row(returns(), 310, -1.2), data_kind="returns"), InvalidPriceError,
         ("3 simple return(s) of -100 % or less, first A0 on 2024-04-01 = -1.2",
          "return_type='log'")),
    Case("returns-log-below-minus-one-is-fine",
         lambda _: run(with_row(returns(), 310, -1.2), data_kind="returns",
                       return_type="log"),
         None, (), aligned=Aligned("2024-06-03", "session_date", False)),
    # Raised a bare ValueError from astype before.
    Case("returns-text",
         lambda _: run(with_row(returns(), 9, "x"), data_kind="returns"), InvalidPriceError,
         ("data: returns must be numeric", "'x'")),
    # --- returns frames with bad dates ----------------------------------------------------
    Case("returns-duplicate-dates",
         lambda _: run(pd.concat([returns(), returns().iloc[[3]]]).sort_index(),
                       data_kind="returns"), InvalidIndexError,
         ("data: duplicate dates ['2023-01-09']", "keep one row per date")),
    Case("returns-unsorted-dates", lambda _: run(returns().iloc[::-1], data_kind="returns"),
         InvalidIndexError, ("data: dates are not in ascending order", "df.sort_index()")),
    Case("returns-unparseable-dates",
         lambda _: run(returns().set_axis([f"day-{i}" for i in range(len(SESSIONS) - 1)]),
                       data_kind="returns"), InvalidIndexError,
         ("data: the index must hold dates", "df.set_index(pd.to_datetime(df['date']))")),
    # --- unknown names --------------------------------------------------------------------
    Case("unknown-model", lambda _: run(model="fama_french"), SpecificationError,
         ("model='fama_french' is not valid",
          "choose one of 'constant_mean', 'market_adjusted', 'market', 'capm', 'ff3'")),
    Case("unknown-test", lambda _: run().tests(["nope"]), SpecificationError,
         ("tests='nope' is not valid", "choose one of 't_csect'", "'bootstrap'", "'wilcoxon'"),
         xfail=None if HAS_RUN_TESTS else "eventstudy.inference.run_tests is not there yet"),
    Case("unknown-alternative", lambda _: run().tests(["t_csect"], alternative="up"),
         SpecificationError, ("alternative='up' is not valid",
                              "choose one of 'two-sided', 'greater', 'less'"),
         xfail=None if HAS_RUN_TESTS else "eventstudy.inference.run_tests is not there yet"),
    Case("unknown-risk-free", lambda _: run(risk_free="libor"), SpecificationError,
         ("risk_free='libor' is not valid", "choose one of 'dtb3', 'ff'")),
    # --- factor data ----------------------------------------------------------------------
    Case("factors-miss-the-whole-range",
         lambda _: run(model="ff3", factors=factors().loc[:"2023-03-01"]), EmptyDataError,
         ("has no factors from 2023-06-02 to 2024-06-17; it covers 2023-01-03..2023-03-01",
          "pass factors= data that cover the estimation and event windows")),
    Case("factors-in-percent", lambda _: run(model="ff3", factors=factors() * 100), DataError,
         ("factors looks like percent", "divide the frame by 100")),
    # Raised UnicodeDecodeError / pandas' own EmptyDataError before.
    Case("factors-csv-not-text",
         lambda tmp: run(model="ff3", factors=factor_folder(tmp, b"\x00\xff\xfe")), DataError,
         ("FF3_daily.csv is not a readable CSV", "expected a header date,mkt_rf,smb,hml,rf")),
    Case("factors-csv-zero-bytes", lambda tmp: run(model="ff3", factors=factor_folder(tmp, b"")),
         EmptyDataError, ("FF3_daily.csv is empty (0 bytes)", "write a header date,mkt_rf")),
    Case("capm-dtb3-from-a-dataframe", lambda _: run(model="capm", factors=factors()),
         SpecificationError, ("has no DTB3 series", "risk_free='ff'")),
    Case("factors-start-inside-estimation-window",
         lambda _: run(model="ff3", factors=factors().loc["2024-03-01":]), DataCoverageError,
         ("too few estimation returns: 54 usable of 240 (need 100); factor data missing on 186 "
          "of 240 estimation days", "shorten the estimation window")),
    Case("factors-end-inside-event-window",
         lambda _: run(model="ff3", factors=factors().loc[:"2024-05-31"]),
         dropped=Dropped("event-day", E1, "A0",
                         "factor data missing on this event-window day; CARs spanning it are NaN",
                         date="2024-06-03",
                         computed=both((E1, "A0"), (E1, "A1")))),
    Case("factors-gap-in-estimation-window",
         lambda _: run(model="ff3", factors=factors().drop(pd.Timestamp("2024-01-04"))),
         dropped=Dropped("data", None, None,
                         "no factor data on this session (model ff3); left out of estimation and "
                         "abnormal returns", date="2024-01-04",
                         computed=both((E1, "A0"), (E1, "A1")))),
]


PARAMS = [
    pytest.param(case, id=case.id,
                 marks=[pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else [])
    for case in CASES
]


@pytest.mark.parametrize("case", PARAMS)
def test_bad_input(case: Case, tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if case.raises is not None:
            with pytest.raises(Exception) as info:  # the exact type is checked below
                case.call(tmp_path)
            exc = info.value
            assert type(exc) is case.raises, f"{type(exc).__name__}: {exc}"
            for fragment in case.match:
                assert fragment in str(exc), f"{fragment!r} not in {str(exc)!r}"
            return
        res = case.call(tmp_path)
    if case.aligned is not None:
        ev = res.events.iloc[0]
        assert (str(ev["day0"].date()), ev["rule"], bool(ev["assumed_timezone"])) == (
            case.aligned.day0, case.aligned.rule, case.aligned.assumed_timezone)
        assert bool(ev["shifted"]) == (case.aligned.rule not in ("session_date", "before_open",
                                                                 "during_session"))
        assert res.dropped.query("scope == 'asset-event'").empty
        return
    want = case.dropped
    assert want is not None
    rows = res.dropped[res.dropped["scope"] == want.scope]
    if want.event_id is not None:
        rows = rows[rows["event_id"] == want.event_id]
    if want.asset is not None:
        rows = rows[rows["asset"] == want.asset]
    if want.date is not None:
        rows = rows[rows["date"] == pd.Timestamp(want.date)]
    assert len(rows), f"no {want} in\n{res.dropped.to_string()}"
    assert rows["reason"].tolist() == [want.reason] * len(rows)
    computed = set(zip(res.cars["event_id"], res.cars["asset"], strict=True))
    assert computed == set(want.computed)
    if want.scope == "asset-event":
        assert any(issubclass(w.category, DataWarning) for w in caught)
        assert (want.event_id, want.asset) not in computed


@pytest.mark.parametrize(("tz", "time"), [
    ("UTC", "00:00"),  # dates stored as UTC midnight, e.g. pd.to_datetime(..., utc=True)
    ("Asia/Shanghai", "00:00"),
    ("America/New_York", "00:00"),
    ("America/New_York", "16:00"),  # close times
    ("UTC", "21:00"),  # 16:00 or 17:00 New York: still that session
])
@pytest.mark.parametrize("kind", ["prices", "returns"])
def test_tz_aware_daily_index_keeps_its_sessions(tz, time, kind):
    """A tz-aware index was converted to New York before taking the date: UTC-midnight daily
    data moved one day back (every Monday onto a Sunday), and the study came out all NaN."""
    frame = prices() if kind == "prices" else returns()
    naive = run(frame, data_kind=kind)
    stamped = frame.set_axis(
        (frame.index + pd.Timedelta(time + ":00")).tz_localize(tz), axis=0)
    res = run(stamped, data_kind=kind)
    pd.testing.assert_frame_equal(res.cars, naive.cars, check_exact=True)
    assert res.dropped.empty
