"""Exceptions and warnings raised by eventstudy.

Every error derives from :class:`EventStudyError` and from the builtin exception that matches
its meaning (``ValueError``, ``LookupError``, ``RuntimeError``, ``ImportError``), so callers can
catch either. Messages name the problem and the fix.
"""

from __future__ import annotations

__all__ = [
    "AlignmentError",
    "CacheError",
    "DataCoverageError",
    "DataError",
    "DataWarning",
    "DependencyError",
    "DownloadError",
    "EmptyDataError",
    "EventError",
    "EventStudyError",
    "EventStudyWarning",
    "InvalidIndexError",
    "InvalidPriceError",
    "SpecificationError",
    "UnknownTickerError",
    "WindowError",
]


class EventStudyError(Exception):
    """Base class of every error raised by eventstudy."""


class SpecificationError(EventStudyError, ValueError):
    """An argument has an invalid value (unknown model or test name, bad option)."""


class WindowError(SpecificationError):
    """Estimation or event windows are reversed, overlap, or do not fit the data."""


class EventError(EventStudyError, ValueError):
    """An event is malformed: unparseable date, duplicate id, missing field."""


class AlignmentError(EventError):
    """An event could not be aligned to a trading session under the chosen policy."""


class DataError(EventStudyError, ValueError):
    """Price, return or factor data are unusable as given."""


class UnknownTickerError(DataError, LookupError):
    """A ticker is not available from the data source."""


class EmptyDataError(DataError):
    """A data source returned no rows."""


class InvalidIndexError(DataError):
    """A user DataFrame has duplicate, unsorted or non-date index values."""


class InvalidPriceError(DataError):
    """Prices are non-positive or non-finite."""


class DataCoverageError(DataError):
    """Requested dates lie outside the data (event before the first or after the last session)."""


class DownloadError(EventStudyError, RuntimeError):
    """A download failed after the allowed retries."""


class CacheError(EventStudyError, RuntimeError):
    """The disk cache could not be read or written."""


class DependencyError(EventStudyError, ImportError):
    """An optional dependency needed by a function is not installed."""


class EventStudyWarning(UserWarning):
    """Base class of warnings issued by eventstudy."""


class DataWarning(EventStudyWarning):
    """Something in the data was excluded or assumed; the results record it too."""
