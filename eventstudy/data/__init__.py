"""Where the numbers come from: price providers, the disk cache and factor data."""

from eventstudy.data.base import DataFrameProvider, PriceProvider, resolve_provider
from eventstudy.data.cache import CachedProvider
from eventstudy.data.csvdir import CSVDirectoryProvider
from eventstudy.data.factors import (
    CSVFactorProvider,
    DataFrameFactorProvider,
    FactorProvider,
    FrenchFactorProvider,
    dtb3_to_daily,
    resolve_factor_provider,
)
from eventstudy.data.parquet import ParquetReturnsProvider, write_partitioned
from eventstudy.data.yahoo import YahooProvider

__all__ = [
    "CSVDirectoryProvider",
    "CSVFactorProvider",
    "CachedProvider",
    "DataFrameFactorProvider",
    "DataFrameProvider",
    "FactorProvider",
    "FrenchFactorProvider",
    "ParquetReturnsProvider",
    "PriceProvider",
    "YahooProvider",
    "dtb3_to_daily",
    "resolve_factor_provider",
    "resolve_provider",
    "write_partitioned",
]
