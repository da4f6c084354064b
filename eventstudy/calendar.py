"""Trading sessions (NYSE, via ``exchange_calendars``) and the alignment of events to day 0.

An event's day 0 is the first session whose prices can reflect the news. The rules, in order:

=====================  ===================================================================
rule                   when it applies and what day 0 is
=====================  ===================================================================
``session_date``       a date-only event on a session: that session
``non_session_next``   a date-only event on a weekend or holiday, policy ``"next"``:
                       the next session (default)
``non_session_prev``   the same, policy ``"previous"``: the previous session
``before_open``        a timestamp before the open of a session day: that session
``during_session``     a timestamp from the open to before the close: that session
``after_close``        a timestamp at or after the close (16:00 New York, 13:00 on early-close
                       days): the next session
``non_session_time``   a timestamp on a weekend or holiday: the next session
=====================  ===================================================================

A naive timestamp with a time of day is read as New York time; the aligned event records
``assumed_timezone=True`` so the assumption is visible in the results.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventstudy._typing import ALIGNMENT_POLICIES, AlignmentPolicy, DateLike, check_option
from eventstudy.exceptions import AlignmentError, DataCoverageError, EventError

__all__ = ["NEW_YORK", "AlignedDate", "TradingCalendar", "get_calendar", "parse_when"]

NEW_YORK = "America/New_York"
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


@dataclass(frozen=True)
class ParsedWhen:
    """A user-supplied event time, normalised.

    Attributes
    ----------
    timestamp : pandas.Timestamp
        Midnight (naive) for a date-only event; otherwise tz-aware, in New York time.
    has_time : bool
        Whether a time of day was given.
    assumed_timezone : bool
        Whether a naive time of day was read as New York time.
    """

    timestamp: pd.Timestamp
    has_time: bool
    assumed_timezone: bool


def parse_when(when: DateLike) -> ParsedWhen:
    """Parse an event date or timestamp.

    Parameters
    ----------
    when : str, date, datetime, Timestamp or numpy.datetime64
        ``"2025-06-05"`` (date only), ``"2025-06-05 13:30"`` (naive, read as New York time),
        ``"2025-06-05T13:30-04:00"`` or a tz-aware ``Timestamp``.

    Returns
    -------
    ParsedWhen

    Raises
    ------
    EventError
        If ``when`` cannot be read as a date.
    """
    if isinstance(when, dt.date) and not isinstance(when, dt.datetime):
        return ParsedWhen(pd.Timestamp(when), has_time=False, assumed_timezone=False)
    if isinstance(when, str) and _DATE_ONLY.match(when):
        try:
            return ParsedWhen(pd.Timestamp(when.strip()), has_time=False, assumed_timezone=False)
        except ValueError as exc:
            raise EventError(
                f"event date {when!r} is not a valid date ({exc}); give a calendar date that "
                "exists, in ISO format YYYY-MM-DD."
            ) from None
    if when is None or (isinstance(when, float) and np.isnan(when)):
        raise EventError("an event has no date; give a date such as '2025-06-05'.")
    if isinstance(when, bool | int | float | np.number):
        # pandas would read 20250605 as nanoseconds after 1970-01-01: never what was meant.
        raise EventError(
            f"event date {when!r} is a number, not a date; pass a string such as '2025-06-05' "
            "or a Timestamp."
        )
    try:
        ts = pd.Timestamp(when)
    except (ValueError, TypeError) as exc:
        raise EventError(
            f"event date {when!r} cannot be parsed ({exc}); use ISO format, e.g. '2025-06-05' "
            "or '2025-06-05T13:30-04:00'."
        ) from None
    if ts is pd.NaT:
        raise EventError(f"event date {when!r} is missing (NaT); give a date.")
    if ts.tzinfo is None:
        if ts == ts.normalize():
            return ParsedWhen(ts, has_time=False, assumed_timezone=False)
        local = ts.tz_localize(NEW_YORK, nonexistent="shift_forward", ambiguous=True)
        return ParsedWhen(local, has_time=True, assumed_timezone=True)
    return ParsedWhen(ts.tz_convert(NEW_YORK), has_time=True, assumed_timezone=False)


@dataclass(frozen=True)
class AlignedDate:
    """Where an event lands on the trading calendar.

    Attributes
    ----------
    original : pandas.Timestamp
        The event time as given (naive midnight for date-only events, else New York time).
    session : pandas.Timestamp
        Day 0: the aligned session (naive date).
    rule : str
        The alignment rule applied (see the module docstring).
    assumed_timezone : bool
        True when a naive time of day was read as New York time.
    """

    original: pd.Timestamp
    session: pd.Timestamp
    rule: str
    assumed_timezone: bool = False

    @property
    def shifted(self) -> bool:
        """Whether day 0 differs from the event's own calendar date."""
        return self.session != self.original.tz_localize(None).normalize()


class TradingCalendar:
    """NYSE trading sessions with open and close times, early closes included.

    Parameters
    ----------
    name : str, default "XNYS"
        ``exchange_calendars`` calendar code.
    start : str, default "1928-01-03"
        First date the calendar covers.
    """

    def __init__(self, name: str = "XNYS", start: str = "1928-01-03") -> None:
        import exchange_calendars as xcals

        self.name = name
        with warnings.catch_warnings():
            # exchange_calendars reads Series.values, deprecated in pandas 3.1; not ours to fix.
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
            self._cal = xcals.get_calendar(name, start=start)
        schedule = self._cal.schedule
        self.sessions: pd.DatetimeIndex = pd.DatetimeIndex(schedule.index).as_unit("ns")
        self.sessions.freq = None
        self._open = pd.DatetimeIndex(schedule["open"]).tz_convert(NEW_YORK)
        self._close = pd.DatetimeIndex(schedule["close"]).tz_convert(NEW_YORK)

    def __repr__(self) -> str:
        return (
            f"TradingCalendar({self.name!r}, {self.sessions[0].date()}..{self.sessions[-1].date()})"
        )

    # --- sessions -----------------------------------------------------------------------------
    def is_session(self, date: DateLike) -> bool:
        """Return whether ``date`` is a trading session."""
        return pd.Timestamp(date).normalize() in self.sessions

    def sessions_in_range(self, start: DateLike, end: DateLike) -> pd.DatetimeIndex:
        """Sessions from ``start`` to ``end`` inclusive."""
        lo = self.sessions.searchsorted(pd.Timestamp(start).normalize(), side="left")
        hi = self.sessions.searchsorted(pd.Timestamp(end).normalize(), side="right")
        return self.sessions[lo:hi]

    def session_close(self, session: DateLike) -> pd.Timestamp:
        """Close time of ``session`` in New York time (13:00 on early-close days)."""
        return self._close[self._position(session)]

    def session_open(self, session: DateLike) -> pd.Timestamp:
        """Open time of ``session`` in New York time."""
        return self._open[self._position(session)]

    def is_early_close(self, session: DateLike) -> bool:
        """Return whether ``session`` closes before 16:00 New York time."""
        return self.session_close(session).hour < 16

    def offset(self, session: DateLike, n: int) -> pd.Timestamp:
        """The session ``n`` trading days after (``n < 0``: before) ``session``."""
        i = self._position(session) + n
        if not 0 <= i < len(self.sessions):
            raise DataCoverageError(
                f"{n} sessions from {pd.Timestamp(session).date()} is outside the calendar "
                f"({self.sessions[0].date()}..{self.sessions[-1].date()}); shorten the "
                "estimation_window / event_window or choose an event further inside that range."
            )
        return self.sessions[i]

    def _position(self, session: DateLike) -> int:
        ts = pd.Timestamp(session).tz_localize(None).normalize()
        i = self.sessions.searchsorted(ts)
        if i >= len(self.sessions) or self.sessions[i] != ts:
            raise AlignmentError(f"{ts.date()} is not a {self.name} trading session.")
        return int(i)

    def _check_range(self, day: pd.Timestamp) -> None:
        if not self.sessions[0] <= day <= self.sessions[-1]:
            raise DataCoverageError(
                f"event date {day.date()} is outside the {self.name} calendar "
                f"({self.sessions[0].date()}..{self.sessions[-1].date()}); check the date."
            )

    def _next_session(self, day: pd.Timestamp, *, strictly_after: bool) -> pd.Timestamp:
        i = self.sessions.searchsorted(day, side="right" if strictly_after else "left")
        if i >= len(self.sessions):
            raise DataCoverageError(
                f"no {self.name} session after {day.date()} in the calendar "
                f"(last: {self.sessions[-1].date()})."
            )
        return self.sessions[i]

    # --- alignment ----------------------------------------------------------------------------
    def align(self, when: DateLike, policy: AlignmentPolicy = "next") -> AlignedDate:
        """Align an event date or timestamp to its day-0 session.

        Parameters
        ----------
        when : date-like
            Date-only, naive timestamp (read as New York time) or tz-aware timestamp.
        policy : {"next", "previous", "raise"}, default "next"
            What to do with a date-only event that falls on a weekend or holiday.
            Timestamps on non-session days always go to the next session, the first that
            can react.

        Returns
        -------
        AlignedDate

        Raises
        ------
        AlignmentError
            With ``policy="raise"`` and a non-session date.
        DataCoverageError
            If the date lies outside the calendar.
        """
        check_option("alignment", policy, ALIGNMENT_POLICIES)
        parsed = parse_when(when)
        ts = parsed.timestamp
        day = ts.tz_localize(None).normalize() if ts.tzinfo is not None else ts.normalize()
        self._check_range(day)
        is_session = day in self.sessions
        if not parsed.has_time:
            if is_session:
                return AlignedDate(ts, day, "session_date")
            if policy == "raise":
                raise AlignmentError(
                    f"event date {day.date()} ({day.day_name()}) is not a {self.name} session; "
                    "pass alignment='next' or 'previous', or give a trading day."
                )
            if policy == "next":
                return AlignedDate(ts, self._next_session(day, strictly_after=True),
                                   "non_session_next")
            i = self.sessions.searchsorted(day, side="left") - 1
            if i < 0:
                raise DataCoverageError(f"no {self.name} session before {day.date()}.")
            return AlignedDate(ts, self.sessions[i], "non_session_prev")
        assumed = parsed.assumed_timezone
        if not is_session:
            return AlignedDate(ts, self._next_session(day, strictly_after=True),
                               "non_session_time", assumed)
        if ts < self.session_open(day):
            return AlignedDate(ts, day, "before_open", assumed)
        if ts < self.session_close(day):
            return AlignedDate(ts, day, "during_session", assumed)
        return AlignedDate(ts, self._next_session(day, strictly_after=True), "after_close",
                           assumed)


@functools.cache
def get_calendar(name: str = "XNYS") -> TradingCalendar:
    """Return the shared, lazily built :class:`TradingCalendar` for ``name``."""
    return TradingCalendar(name)
