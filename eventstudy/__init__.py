"""eventstudy: how markets react to dated political events.

The data flow, one module per step: events -> calendar alignment -> prices (provider + cache)
-> returns -> windows -> normal-return model -> abnormal returns -> inference -> results ->
plots and report.

>>> import eventstudy as es
>>> res = es.run_event_study("2025-06-05-trump-xi-call")  # doctest: +SKIP
>>> res.summary()  # doctest: +SKIP
"""

from eventstudy._version import __version__
from eventstudy.abnormal import ARPanel
from eventstudy.api import run_event_study
from eventstudy.calendar import TradingCalendar, get_calendar
from eventstudy.conventions import Conventions
from eventstudy.data import CSVDirectoryProvider, DataFrameProvider, PriceProvider
from eventstudy.estimation import EventStudy
from eventstudy.events import Event, EventSet, load_catalog
from eventstudy.exceptions import DataWarning, EventStudyError, EventStudyWarning
from eventstudy.inference import placebo_study
from eventstudy.models import (
    CAPM,
    ConstantMean,
    FactorModel,
    FamaFrench3,
    MarketAdjusted,
    MarketModel,
)
from eventstudy.results import EventStudyResults
from eventstudy.universe import SECTOR_ETFS, SECTOR_NAMES

__all__ = [
    "CAPM",
    "SECTOR_ETFS",
    "SECTOR_NAMES",
    "ARPanel",
    "CSVDirectoryProvider",
    "ConstantMean",
    "Conventions",
    "DataFrameProvider",
    "DataWarning",
    "Event",
    "EventSet",
    "EventStudy",
    "EventStudyError",
    "EventStudyResults",
    "EventStudyWarning",
    "FactorModel",
    "FamaFrench3",
    "MarketAdjusted",
    "MarketModel",
    "PriceProvider",
    "TradingCalendar",
    "__version__",
    "get_calendar",
    "load_catalog",
    "placebo_study",
    "run_event_study",
]
