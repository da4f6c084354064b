"""Where the numbers come from: price providers, the disk cache and factor data."""

from eventstudy.data.base import DataFrameProvider, PriceProvider, resolve_provider
from eventstudy.data.csvdir import CSVDirectoryProvider

__all__ = ["CSVDirectoryProvider", "DataFrameProvider", "PriceProvider", "resolve_provider"]
