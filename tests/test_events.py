from pathlib import Path

import pandas as pd
import pytest

import eventstudy as es
from eventstudy.events import Event, EventSet, load_catalog, to_event_set
from eventstudy.exceptions import EventError


def test_catalog_rows_are_sourced_and_aligned():
    cat = load_catalog()
    assert len(cat) >= 10
    frame = cat.to_frame()
    assert frame["id"].is_unique
    assert frame["source"].str.startswith("http").all()
    seed = cat.get("2025-06-05-trump-xi-call")
    assert pd.Timestamp(str(seed.when)).date() == pd.Timestamp("2025-06-05").date()
    assert seed.direction in ("de-escalation", "talks")
    # Every catalog event aligns to a session without error.
    cal = es.get_calendar()
    for ev in cat:
        assert cal.is_session(cal.align(ev.when).session)


def test_catalog_timestamps_keep_their_time_zone():
    path = Path(es.__file__).parent / "catalog" / "us_china_trade.csv"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    timed = raw[raw["time"] != ""]
    cat = load_catalog()
    for row in timed.itertuples():
        ev = cat.get(row.id)
        ts = pd.Timestamp(ev.when)
        assert ts.tzinfo is not None
        expected = pd.Timestamp(f"{row.date} {row.time}", tz=row.timezone)
        assert ts == expected


def test_event_set_from_frame_csv_and_list(tmp_path):
    frame = pd.DataFrame({
        "date": ["2025-06-05", "2025-05-12"],
        "name": ["Call", "Geneva"],
        "tags": ["talks;call", "de-escalation"],
        "source": ["https://example.org/a", ""],
    })
    events = EventSet.from_frame(frame)
    assert [e.id for e in events] == ["2025-06-05-call", "2025-05-12-geneva"]
    assert events[0].tags == ("talks", "call")
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    assert EventSet.from_csv(path).to_frame().equals(events.to_frame())
    mixed = to_event_set(["2025-06-05-trump-xi-call", "2025-06-06",
                          Event("Mine", "2025-06-10", tags="escalation")])
    assert [e.id for e in mixed] == ["2025-06-05-trump-xi-call", "2025-06-06", "2025-06-10-mine"]
    assert mixed[2].direction == "escalation"
    assert len(events.filter("call")) == 1


def test_event_errors():
    with pytest.raises(EventError, match="'date'"):
        EventSet.from_frame(pd.DataFrame({"day": ["2025-06-05"]}))
    with pytest.raises(EventError, match="row 1"):
        EventSet.from_frame(pd.DataFrame({"date": ["2025-06-05", "garbage"]}))
    with pytest.raises(EventError, match="no event with id"):
        load_catalog().get("2099-01-01-nothing")
    with pytest.raises(EventError, match="duplicate"):
        EventSet([Event("a", "2025-06-05"), Event("a", "2025-06-05")])
