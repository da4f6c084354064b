"""Events: what happened, when, and where the claim comes from.

An :class:`Event` holds the raw date or timestamp as given. :class:`EventSet` is an ordered,
id-unique collection built from a list, a CSV file, a DataFrame or the built-in catalog
(:func:`load_catalog`). Alignment to trading sessions happens in :mod:`eventstudy.calendar`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from eventstudy._typing import DateLike
from eventstudy.calendar import parse_when
from eventstudy.exceptions import EventError

__all__ = ["CATALOG_NAME", "Event", "EventSet", "load_catalog", "to_event_set"]

CATALOG_NAME = "us_china_trade"


@dataclass(frozen=True)
class Event:
    """A dated event.

    Parameters
    ----------
    name : str
        Short title.
    when : date-like
        Date (``"2025-06-05"``), naive timestamp (read as New York time) or tz-aware
        timestamp.
    description : str, optional
        One sentence on what happened.
    source : str, optional
        Where the date comes from (URL).
    tags : tuple of str, optional
        Labels for grouping, e.g. ``("escalation", "tariffs")``.
    id : str, optional
        Unique identifier; defaults to ``"<date>-<slug of name>"``.
    """

    name: str
    when: DateLike
    description: str = ""
    source: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    id: str = ""

    def __post_init__(self) -> None:
        parsed = parse_when(self.when)  # fail early on unparseable dates
        if isinstance(self.tags, str):
            object.__setattr__(self, "tags", _split_tags(self.tags))
        else:
            object.__setattr__(self, "tags", tuple(self.tags))
        if not self.id:
            day = parsed.timestamp.strftime("%Y-%m-%d")
            slug = _slug(self.name)
            object.__setattr__(self, "id", f"{day}-{slug}" if slug and slug != day else day)

    @property
    def direction(self) -> str:
        """First tag if it is a direction (escalation / de-escalation / talks), else ``""``."""
        first = self.tags[0] if self.tags else ""
        return first if first in ("escalation", "de-escalation", "talks") else ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def _split_tags(text: object) -> tuple[str, ...]:
    if not isinstance(text, str):
        return ()
    return tuple(t.strip() for t in re.split(r"[;,]", text) if t.strip())


class EventSet(Sequence[Event]):
    """An ordered collection of events with unique ids.

    Parameters
    ----------
    events : iterable of Event

    Raises
    ------
    EventError
        If two events share an id.
    """

    def __init__(self, events: Iterable[Event]) -> None:
        self._events = tuple(events)
        seen: dict[str, int] = {}
        for e in self._events:
            seen[e.id] = seen.get(e.id, 0) + 1
        dups = [k for k, v in seen.items() if v > 1]
        if dups:
            raise EventError(
                f"duplicate event id(s) {dups}; give each event a distinct name or id "
                "(the same date twice needs two names)."
            )

    def __getitem__(self, i):  # type: ignore[override]
        """Event by position, or a new EventSet for a slice."""
        if isinstance(i, slice):
            return EventSet(self._events[i])
        return self._events[i]

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __repr__(self) -> str:
        return f"EventSet({len(self)} events)"

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()  # type: ignore[operator]

    def get(self, event_id: str) -> Event:
        """Event with id ``event_id``.

        Raises
        ------
        EventError
            If no event has that id; the message lists the ids.
        """
        for e in self._events:
            if e.id == event_id:
                return e
        raise EventError(f"no event with id {event_id!r}; ids: {[e.id for e in self._events]}.")

    def filter(self, tag: str | None = None) -> EventSet:
        """Events carrying ``tag`` (all events if ``tag`` is None)."""
        if tag is None:
            return self
        return EventSet(e for e in self._events if tag in e.tags)

    def to_frame(self) -> pd.DataFrame:
        """One row per event: id, when, name, description, tags, source."""
        return pd.DataFrame(
            {
                "id": [e.id for e in self._events],
                "when": [str(e.when) for e in self._events],
                "name": [e.name for e in self._events],
                "description": [e.description for e in self._events],
                "tags": [";".join(e.tags) for e in self._events],
                "source": [e.source for e in self._events],
            }
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> EventSet:
        """Build events from a DataFrame.

        Required column: ``date`` (or ``when``). Optional: ``time`` and ``timezone`` (combined
        with ``date``), ``name``, ``id``, ``description``, ``source``, ``tags`` (``;``-separated).
        Other columns are ignored.
        """
        cols = {c.lower(): c for c in frame.columns}
        date_col = cols.get("when") or cols.get("date")
        if date_col is None:
            raise EventError(
                f"events table needs a 'date' (or 'when') column; it has {list(frame.columns)}."
            )
        events = []
        for i, row in enumerate(frame.to_dict("records")):
            when = row[date_col]
            time = row.get(cols.get("time", ""), None)
            tz = row.get(cols.get("timezone", ""), None)
            name = row.get(cols.get("name", ""), None)
            try:
                if isinstance(time, str) and time.strip():
                    when = f"{parse_when(when).timestamp.date()} {time.strip()}"
                    if isinstance(tz, str) and tz.strip():
                        when = pd.Timestamp(when).tz_localize(tz.strip())
                events.append(
                    Event(
                        name=str(name) if isinstance(name, str) and name else str(when),
                        when=when,
                        description=_text(row.get(cols.get("description", ""))),
                        source=_text(row.get(cols.get("source", ""))),
                        tags=_split_tags(row.get(cols.get("tags", ""))),
                        id=_text(row.get(cols.get("id", ""))),
                    )
                )
            except EventError as exc:
                raise EventError(f"events table row {i}: {exc}") from None
            except (ValueError, TypeError, LookupError) as exc:  # unknown zone: a KeyError
                raise EventError(
                    f"events table row {i}: date {row[date_col]!r}, time {time!r}, timezone "
                    f"{tz!r} cannot be read ({type(exc).__name__}: {exc}); use ISO dates, "
                    "times like '13:30' and IANA time zones such as 'America/New_York'."
                ) from None
        return cls(events)

    @classmethod
    def from_csv(cls, path: str | Path) -> EventSet:
        """Read events from a CSV file (columns as in :meth:`from_frame`)."""
        return cls.from_frame(pd.read_csv(path, dtype=str, keep_default_na=False))


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def load_catalog(name: str = CATALOG_NAME) -> EventSet:
    """The built-in catalog of US–China trade-policy events, each with a source URL.

    Parameters
    ----------
    name : str, default "us_china_trade"
        Catalog file name in ``eventstudy/catalog`` (without ``.csv``).

    Returns
    -------
    EventSet
    """
    ref = resources.files("eventstudy").joinpath("catalog", f"{name}.csv")
    if not ref.is_file():
        raise EventError(f"no built-in catalog named {name!r}; available: {CATALOG_NAME!r}.")
    with ref.open("r", encoding="utf-8") as fh:
        return EventSet.from_frame(pd.read_csv(fh, dtype=str, keep_default_na=False))


def to_event_set(events: object) -> EventSet:
    """Turn the ``events=`` argument of :func:`run_event_study` into an :class:`EventSet`.

    Accepts an :class:`EventSet`, an :class:`Event`, a catalog id, a date string, a
    timestamp, a DataFrame, or a list of any of these.
    """
    if isinstance(events, EventSet | pd.DataFrame):
        out_set = events if isinstance(events, EventSet) else EventSet.from_frame(events)
        if not len(out_set):
            raise EventError(
                "no events given (the table or EventSet is empty); pass a date, an Event, a "
                "catalog id, a list, or a table with at least one row."
            )
        return out_set
    if isinstance(events, str | Event) or not isinstance(events, Iterable):
        events = [events]
    out: list[Event] = []
    catalog: EventSet | None = None
    for item in events:
        if isinstance(item, Event):
            out.append(item)
            continue
        if isinstance(item, str) and re.match(r"^\d{4}-\d{2}-\d{2}-[a-z]", item.strip()):
            catalog = catalog or load_catalog()
            out.append(catalog.get(item.strip()))
            continue
        parsed = parse_when(item)  # type: ignore[arg-type]
        label = str(item) if isinstance(item, str) else str(parsed.timestamp)
        out.append(Event(name=label, when=item, id=label))  # type: ignore[arg-type]
    if not out:
        raise EventError("no events given; pass a date, an Event, a catalog id or a list.")
    return EventSet(out)
