"""ParquetReturnsProvider and write_partitioned: lazy reads by ticker and year, kinds, errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import eventstudy as es
from eventstudy.data.base import PriceProvider
from eventstudy.data.parquet import ParquetReturnsProvider, write_partitioned
from eventstudy.exceptions import (
    DataError,
    DataWarning,
    InvalidIndexError,
    InvalidPriceError,
    SpecificationError,
    UnknownTickerError,
)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """Returns of five tickers on NYSE sessions 2018-2021, with a late starter and a gap."""
    idx = es.get_calendar().sessions_in_range("2018-01-01", "2021-12-31")
    rng = np.random.default_rng(7)
    out = pd.DataFrame(rng.normal(0, 0.01, (len(idx), 5)), index=idx,
                       columns=["MKT", "ZZ", "AA", "MM", "BB"])
    out.loc[:"2019-06-30", "MM"] = np.nan
    out.loc["2020-03-10", "AA"] = np.nan
    return out


@pytest.fixture(scope="module")
def dataset(frame, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("panel")
    write_partitioned(frame, path, row_group_size=300)
    return path


def expected(frame: pd.DataFrame, tickers, start, end) -> pd.DataFrame:
    out = frame.loc[start:end, tickers].dropna(how="all")
    out.index = out.index.as_unit("ns").rename("date")
    return out


def test_layout_is_long_and_partitioned_by_year(dataset, frame):
    years = sorted(p.name for p in dataset.iterdir())
    assert years == ["year=2018", "year=2019", "year=2020", "year=2021"]
    table = pq.read_table(dataset / "year=2019" / "part-0.parquet")
    assert table.column_names == ["date", "ticker", "value"]
    tickers = table.column("ticker").to_pylist()
    assert tickers == sorted(tickers)  # sorted by ticker, so row-group statistics prune
    assert pq.ParquetFile(dataset / "year=2019" / "part-0.parquet").num_row_groups > 1
    # NaN cells are absent rows: MM has no 2019 value before July.
    n_2019 = len(frame.loc["2019"])
    assert len(table) == 5 * n_2019 - int(frame.loc["2019", "MM"].isna().sum())


@pytest.mark.parametrize(
    ("tickers", "start", "end"),
    [
        (["BB", "MKT"], "2019-03-01", "2020-02-03"),
        (["MM"], "2019-05-01", "2019-08-30"),  # starts mid-range
        (["AA", "ZZ", "MKT", "BB", "MM"], "2020-03-02", "2020-03-20"),  # gap inside
        (["ZZ"], None, "2018-01-31"),
        (["MKT"], "2021-12-01", None),
    ],
)
def test_reads_only_the_requested_tickers_and_dates(dataset, frame, tickers, start, end):
    got = ParquetReturnsProvider(dataset).get_prices(tickers, start, end)
    want = expected(frame, tickers, start, end)
    assert list(got.columns) == tickers
    pd.testing.assert_frame_equal(got, want, check_freq=False, rtol=0, atol=0)


def test_years_outside_the_range_are_never_opened(frame, tmp_path):
    write_partitioned(frame, tmp_path)
    (tmp_path / "year=2021" / "part-0.parquet").write_bytes(b"not parquet")
    provider = ParquetReturnsProvider(tmp_path)
    got = provider.get_prices(["AA", "BB"], "2018-06-01", "2020-12-31")
    pd.testing.assert_frame_equal(got, expected(frame, ["AA", "BB"], "2018-06-01", "2020-12-31"),
                                  check_freq=False)
    with pytest.raises(DataError, match="year=2021"):  # read only when asked for
        provider.get_prices(["AA"], "2021-01-04", "2021-01-29")


def test_known_ticker_without_data_in_range_is_all_nan(dataset):
    got = ParquetReturnsProvider(dataset).get_prices(["MM", "MKT"], "2018-02-01", "2018-03-01")
    assert got["MM"].isna().all()
    assert got["MKT"].notna().all()


def test_unknown_ticker_error_names_it(dataset):
    provider = ParquetReturnsProvider(dataset)
    with pytest.raises(UnknownTickerError, match=r"\['NOPE'\]") as info:
        provider.get_prices(["AA", "NOPE"], "2019-01-01", "2019-02-01")
    assert isinstance(info.value, LookupError)
    assert provider.available_tickers() == ["AA", "BB", "MKT", "MM", "ZZ"]


def test_protocol_kind_and_pickle(dataset):
    provider = ParquetReturnsProvider(dataset)
    assert isinstance(provider, PriceProvider)
    assert provider.kind == "returns"
    provider.get_prices(["AA"], "2019-01-01", "2019-01-31")  # opens the dataset
    clone = pickle.loads(pickle.dumps(provider))
    assert "_dataset" not in clone.__dict__
    pd.testing.assert_frame_equal(clone.get_prices(["AA"], "2019-01-01", "2019-01-31"),
                                  provider.get_prices(["AA"], "2019-01-01", "2019-01-31"))
    assert repr(clone) == f"ParquetReturnsProvider({str(dataset)!r}, kind='returns')"


def test_event_study_uses_returns_as_returns(dataset, frame):
    kwargs = dict(assets=["AA", "BB", "MM"], market="MKT", estimation_window=(-120, -11),
                  min_estimation_obs=60)
    events = ["2019-09-03", "2020-06-01"]
    with pytest.warns(DataWarning, match="1 of 6 asset-events"):  # MM starts in July 2019
        lazy = es.EventStudy(events, data=ParquetReturnsProvider(dataset), **kwargs).fit()
    with pytest.warns(DataWarning, match="1 of 6 asset-events"):
        eager = es.EventStudy(events, data=frame, data_kind="returns", **kwargs).fit()
    pd.testing.assert_frame_equal(lazy.params, eager.params, rtol=0, atol=1e-14)
    pd.testing.assert_frame_equal(lazy.cars, eager.cars, rtol=0, atol=1e-14)
    pd.testing.assert_frame_equal(lazy.dropped, eager.dropped)


def test_prices_kind_computes_returns(frame, tmp_path):
    prices = 100 * (1 + frame.fillna(0)).cumprod()
    write_partitioned(prices, tmp_path, kind="prices")
    provider = ParquetReturnsProvider(tmp_path, kind="prices")
    kwargs = dict(assets=["AA", "BB"], market="MKT", estimation_window=(-120, -11),
                  min_estimation_obs=60)
    lazy = es.EventStudy("2020-06-01", data=provider, **kwargs).fit()
    eager = es.EventStudy("2020-06-01", data=prices, **kwargs).fit()
    pd.testing.assert_frame_equal(lazy.cars, eager.cars, rtol=0, atol=1e-14)
    with pytest.raises(DataError, match="kind='prices'"):
        ParquetReturnsProvider(tmp_path)  # the default kind is returns: refused, not misread


def test_local_path_is_stored_absolute(dataset, monkeypatch):
    monkeypatch.chdir(dataset.parent)
    provider = ParquetReturnsProvider(dataset.name)
    assert provider.path == str(dataset.resolve())
    monkeypatch.chdir(dataset.parent.parent)  # e.g. a worker started elsewhere
    assert pickle.loads(pickle.dumps(provider)).get_prices(["AA"], "2019-01-02",
                                                           "2019-01-02").shape == (1, 1)


def test_kind_is_checked(dataset):
    with pytest.raises(SpecificationError, match="kind"):
        ParquetReturnsProvider(dataset, kind="levels")


def test_writer_refuses_non_empty_folder_and_bad_prices(frame, dataset, tmp_path):
    with pytest.raises(DataError, match="already holds"):
        write_partitioned(frame, dataset)
    with pytest.raises(InvalidPriceError):
        write_partitioned(frame, tmp_path / "p", kind="prices")  # returns are not prices
    with pytest.raises(DataError, match="row_group_size"):
        write_partitioned(frame, tmp_path / "q", row_group_size=0)


def test_bad_datasets_are_explained(tmp_path):
    with pytest.raises(DataError, match="cannot open"):
        ParquetReturnsProvider(tmp_path / "missing")
    wide = tmp_path / "wide"
    wide.mkdir()
    pq.write_table(pa.table({"date": [1], "AA": [0.1]}), wide / "x.parquet")
    with pytest.raises(DataError, match=r"lacks column\(s\) \['ticker', 'value'\]"):
        ParquetReturnsProvider(wide)


def test_duplicate_rows_are_reported(tmp_path):
    folder = tmp_path / "year=2020"
    folder.mkdir()
    table = pa.table({"date": pa.array([pd.Timestamp("2020-01-02").date()] * 2, pa.date32()),
                      "ticker": ["AA", "AA"], "value": [0.1, 0.2]})
    pq.write_table(table, folder / "part-0.parquet")
    with pytest.raises(InvalidIndexError, match="more than once"):
        ParquetReturnsProvider(tmp_path).get_prices(["AA"])
