import datetime as dt

import pandas as pd
import pytest

from eventstudy.calendar import get_calendar, parse_when
from eventstudy.exceptions import AlignmentError, DataCoverageError, EventError

CAL = get_calendar()


@pytest.mark.parametrize(
    ("when", "session", "rule"),
    [
        ("2025-06-05", "2025-06-05", "session_date"),  # Thursday
        (dt.date(2025, 6, 5), "2025-06-05", "session_date"),
        ("2025-06-07", "2025-06-09", "non_session_next"),  # Saturday
        ("2018-12-01", "2018-12-03", "non_session_next"),  # G20 truce, Saturday
        ("2025-07-04", "2025-07-07", "non_session_next"),  # Independence Day (Friday)
        ("2025-01-09", "2025-01-10", "non_session_next"),  # national day of mourning (Carter)
        ("2025-06-05T09:29-04:00", "2025-06-05", "before_open"),
        ("2025-06-05T09:30-04:00", "2025-06-05", "during_session"),
        ("2025-06-05T15:59:59-04:00", "2025-06-05", "during_session"),
        ("2025-06-05T16:00-04:00", "2025-06-06", "after_close"),  # at the close -> next
        ("2025-04-02T16:15-04:00", "2025-04-03", "after_close"),  # Liberation Day
        ("2025-04-02T20:15Z", "2025-04-03", "after_close"),  # same instant in UTC
        ("2025-06-06T17:00-04:00", "2025-06-09", "after_close"),  # Friday evening -> Monday
        ("2025-06-07T12:00-04:00", "2025-06-09", "non_session_time"),
        # Early close: day after Thanksgiving 2025 closes 13:00.
        ("2025-11-28T12:59-05:00", "2025-11-28", "during_session"),
        ("2025-11-28T13:00-05:00", "2025-12-01", "after_close"),
        ("2025-11-28T14:30-05:00", "2025-12-01", "after_close"),
        ("2025-12-24T13:30-05:00", "2025-12-26", "after_close"),  # Christmas Eve early close
    ],
)
def test_alignment_rules(when, session, rule):
    a = CAL.align(when)
    assert a.session == pd.Timestamp(session)
    assert a.rule == rule
    assert a.assumed_timezone is False


def test_previous_and_raise_policies():
    assert CAL.align("2025-06-07", "previous").session == pd.Timestamp("2025-06-06")
    assert CAL.align("2025-06-07", "previous").rule == "non_session_prev"
    assert CAL.align("2025-07-04", "previous").session == pd.Timestamp("2025-07-03")
    with pytest.raises(AlignmentError, match=r"not a XNYS session.*alignment="):
        CAL.align("2025-06-07", "raise")
    # A session date is never moved, whatever the policy.
    assert CAL.align("2025-06-05", "raise").session == pd.Timestamp("2025-06-05")


def test_naive_time_read_as_new_york_and_flagged():
    a = CAL.align("2025-06-05 16:30")
    assert a.assumed_timezone is True
    assert a.original == pd.Timestamp("2025-06-05 16:30", tz="America/New_York")
    assert a.session == pd.Timestamp("2025-06-06")
    assert a.rule == "after_close"
    assert a.shifted


def test_timezone_conversion_from_beijing():
    # 2025-06-05 21:00 Beijing is 09:00 New York, before the open: same day.
    a = CAL.align(pd.Timestamp("2025-06-05 21:00", tz="Asia/Shanghai"))
    assert a.session == pd.Timestamp("2025-06-05") and a.rule == "before_open"
    # 2025-06-06 04:00 Beijing is 16:00 New York on the 5th: after the close.
    b = CAL.align(pd.Timestamp("2025-06-06 04:00", tz="Asia/Shanghai"))
    assert b.session == pd.Timestamp("2025-06-06") and b.rule == "after_close"


def test_early_close_times():
    assert CAL.session_close("2025-11-28").hour == 13
    assert CAL.is_early_close("2025-11-28")
    assert not CAL.is_early_close("2025-06-05")
    assert CAL.session_close("2025-06-05") == pd.Timestamp("2025-06-05 16:00",
                                                           tz="America/New_York")


def test_offsets_count_trading_days():
    # 10 sessions after 2025-06-05: June has no holiday until the 19th (Juneteenth).
    assert CAL.offset("2025-06-05", 10) == pd.Timestamp("2025-06-20")
    assert CAL.offset("2025-06-05", -1) == pd.Timestamp("2025-06-04")
    assert CAL.offset("2025-06-06", 1) == pd.Timestamp("2025-06-09")


@pytest.mark.parametrize("bad", ["2025-13-01", "not a date", "", None])
def test_malformed_dates(bad):
    with pytest.raises(EventError):
        parse_when(bad)


def test_outside_calendar():
    with pytest.raises(DataCoverageError, match="outside"):
        CAL.align("1900-01-02")
