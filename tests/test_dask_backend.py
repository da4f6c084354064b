"""run_dask gives the in-process results: synthetic Parquet panels and the real snapshot.

One two-process LocalCluster serves the module; a few tests use the synchronous scheduler
without a client. Studies are small (a handful of events and assets) so this runs in
``make test``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.abnormal import ARPanel
from eventstudy.backends.dask import concat_panels, run_dask
from eventstudy.data.parquet import ParquetReturnsProvider, write_partitioned
from eventstudy.exceptions import (
    DataCoverageError,
    DataWarning,
    DependencyError,
    SpecificationError,
    UnknownTickerError,
)
from eventstudy.models import Design, DesignInputs, NormalReturnModel

distributed = pytest.importorskip("distributed")

EVENTS = ["2016-03-01", "2016-09-15", "2017-02-01", "2017-08-01", "2018-01-10", "2018-06-01",
          "2019-05-06", "2020-02-03"]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as c:
            yield c


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    """A market and seven assets with known quirks.

    A3 starts 2016-12-01 (drops the 2016 and early-2017 events, fits the 2017-08 event on part
    of its window); A1 misses 2018-01-12 (day +2 of the 2018-01-10 event) and a day in an
    estimation window; A5 and A6 start in 2019 (every 2016-2018 event of theirs is dropped).
    """
    idx = es.get_calendar().sessions_in_range("2015-01-01", "2020-12-31")
    rng = np.random.default_rng(2024)
    mkt = rng.normal(3e-4, 0.01, len(idx))
    cols = {"MKT": mkt}
    for j in range(7):
        cols[f"A{j}"] = 1e-4 * j + (0.4 + 0.2 * j) * mkt + rng.normal(0, 0.012, len(idx))
    frame = pd.DataFrame(cols, index=idx)
    frame.loc[:"2016-11-30", "A3"] = np.nan
    frame.loc["2018-01-12", "A1"] = np.nan
    frame.loc["2017-10-02", "A1"] = np.nan
    frame.loc[:"2018-12-31", ["A5", "A6"]] = np.nan
    return frame


@pytest.fixture(scope="module")
def panel_dir(returns, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("panel")
    write_partitioned(returns, path, row_group_size=500)
    return path


def fit_both(study: es.EventStudy, **kwargs):
    """In-process and Dask results, with the warnings each issued."""
    with warnings.catch_warnings(record=True) as w_in:
        warnings.simplefilter("always")
        inproc = study.fit()
    with warnings.catch_warnings(record=True) as w_dask:
        warnings.simplefilter("always")
        dask = run_dask(study, **kwargs)
    return inproc, dask, w_in, w_dask


def assert_same_numbers(a: es.EventStudyResults, b: es.EventStudyResults) -> None:
    pd.testing.assert_frame_equal(a.params, b.params, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(a.ars, b.ars, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(a.cars, b.cars, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(a.panel.keys, b.panel.keys)
    for name in ("ar", "est_resid", "sigma", "nobs", "k", "event_regressors", "xtx_inv",
                 "returns", "normal"):
        values = [getattr(r.panel, name) for r in (b, a)]
        np.testing.assert_allclose(*(v() if callable(v) else v for v in values),
                                   rtol=0, atol=1e-12, err_msg=name)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert list(a.event_dates) == list(b.event_dates)
    for eid, dates in a.event_dates.items():
        pd.testing.assert_index_equal(b.event_dates[eid], dates)
    assert a.settings == b.settings
    assert a.car_windows == b.car_windows
    assert repr(b.data_source) == repr(a.data_source)


def drop_messages(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, DataWarning)]


def synthetic_study(panel_dir, assets=("A0", "A1", "A2", "A3", "A4", "MKT"), events=EVENTS,
                    **kwargs) -> es.EventStudy:
    return es.EventStudy(list(events), assets=list(assets), market="MKT",
                         data=ParquetReturnsProvider(panel_dir), **kwargs)


def test_cluster_equals_in_process(client, panel_dir):
    study = synthetic_study(panel_dir)
    # Blocks (A0..A4) and (MKT): the market's constant-mean partitions have K = 1, padded to 2.
    inproc, dask, w_in, w_dask = fit_both(study, client=client, events_per_partition=3,
                                          assets_per_partition=5)
    assert_same_numbers(inproc, dask)
    pd.testing.assert_frame_equal(inproc.dropped, dask.dropped)
    # The study has every kind of dropped row, so the comparison above covers each.
    assert set(inproc.dropped["scope"]) == {"asset-event", "event-day", "data"}
    assert (inproc.dropped["asset"] == "A3").sum() == 3
    assert drop_messages(w_dask) == drop_messages(w_in) == [
        "3 of 48 asset-events could not be estimated and are left out; see results.dropped "
        "for the reasons."
    ]
    pd.testing.assert_frame_equal(inproc.tests(), dask.tests(), rtol=0, atol=1e-12)


class ThroughOrigin(NormalReturnModel):
    """Market model without intercept: its one parameter is named beta."""

    name = "through_origin"
    needs_market = True

    def design(self, inputs: DesignInputs) -> Design:
        market = inputs.market.to_numpy(dtype=float)[:, None]
        return Design(np.zeros(len(inputs.index)), market, ("beta",))


def test_sync_scheduler_without_client(panel_dir):
    # The market asset's constant-mean model names its parameter alpha. With the market in the
    # last asset block the columns must still come out in study order: (beta, alpha).
    study = synthetic_study(panel_dir, assets=["A0", "A1", "A2", "MKT"], model=ThroughOrigin(),
                            estimation_window=(-150, -11), conventions="estudy2")
    inproc, dask, _, _ = fit_both(study, events_per_partition=3, assets_per_partition=3,
                                  scheduler="sync")
    assert_same_numbers(inproc, dask)
    pd.testing.assert_frame_equal(inproc.dropped, dask.dropped)
    assert list(dask.params.columns[3:5]) == ["beta", "alpha"]


def test_reason_detail_refers_to_the_sessions_a_partition_loaded(panel_dir):
    # With two events per partition the first partition ends before A3's data start, so its
    # reasons say "no A3 data between <its range>" where the whole study says "A3 data start".
    study = synthetic_study(panel_dir, estimation_window=(-150, -11))
    inproc, dask, _, _ = fit_both(study, events_per_partition=2, scheduler="sync")
    assert_same_numbers(inproc, dask)
    key = ["event_id", "asset", "date", "scope"]
    pd.testing.assert_frame_equal(inproc.dropped[key], dask.dropped[key])
    head = [r.split("; ")[0] for r in inproc.dropped["reason"]]
    assert [r.split("; ")[0] for r in dask.dropped["reason"]] == head
    tails = dask.dropped.loc[dask.dropped["event_id"].isin(EVENTS[:2]), "reason"]
    assert tails.str.endswith("no A3 data between 2015-07-24 and 2016-09-29").all()


def test_partition_with_every_asset_event_dropped(client, panel_dir):
    # Assets in blocks of one: the (2016-2018 events) x A5 and x A6 partitions fit nothing.
    study = synthetic_study(panel_dir, assets=["A0", "A5", "A6"])
    inproc, dask, w_in, w_dask = fit_both(study, client=client, events_per_partition=6,
                                          assets_per_partition=1)
    assert_same_numbers(inproc, dask)
    key = ["event_id", "asset", "date", "scope"]
    pd.testing.assert_frame_equal(inproc.dropped[key], dask.dropped[key])
    failed = dask.dropped["event_id"].isin(EVENTS[:6]) & dask.dropped["asset"].isin(["A5", "A6"])
    assert failed.sum() == 12
    assert dask.dropped.loc[failed, "reason"].str.startswith(
        "not estimated: no asset-event could be estimated").all()
    # Partitions that fitted something report the in-process reasons (2019-05-06: A5, A6).
    pd.testing.assert_frame_equal(inproc.dropped[~failed], dask.dropped[~failed])
    assert (~failed).sum() == 2
    assert drop_messages(w_dask) == drop_messages(w_in)
    assert len(drop_messages(w_dask)) == 1


def test_partition_before_the_data_starts(panel_dir):
    # The panel starts in 2015: the 2014 event's partition loads sessions without any row,
    # its sub-study raises DataCoverageError, and its asset-events are reported as dropped.
    study = synthetic_study(panel_dir, events=["2014-06-02", *EVENTS[-2:]])
    inproc, dask, _, _ = fit_both(study, scheduler="sync", events_per_partition=1)
    assert_same_numbers(inproc, dask)
    lost = dask.dropped[dask.dropped["event_id"] == "2014-06-02"]
    assert len(lost) == 6
    assert lost["reason"].str.startswith("not estimated: no returns for").all()
    # Data gaps between the 2014 and 2019 events lie in no partition's sessions (documented);
    # without them no dropped row has a date, so pandas types the column differently.
    key = ["event_id", "asset", "date", "scope"]
    pd.testing.assert_frame_equal(inproc.dropped.loc[inproc.dropped["scope"] != "data", key],
                                  dask.dropped.loc[dask.dropped["scope"] != "data", key],
                                  check_dtype=False)


def test_every_partition_dropped_raises_like_fit(panel_dir):
    study = synthetic_study(panel_dir, assets=["A5", "A6"], events=EVENTS[:4])
    with pytest.raises(DataCoverageError, match="no asset-event could be estimated"):
        study.fit()
    with pytest.raises(DataCoverageError, match="no asset-event could be estimated"):
        run_dask(study, scheduler="sync", events_per_partition=2, assets_per_partition=1)


def test_worker_errors_keep_their_type(client, panel_dir):
    study = synthetic_study(panel_dir, assets=["A0", "NOPE"])
    with pytest.raises(UnknownTickerError, match="NOPE"):
        run_dask(study, client=client, events_per_partition=4)


def test_snapshot_csv_folder_with_catalog_exclusion(client, prices_dir):
    # exclude="catalog" removes every catalog event's days, studied ones included: the G20
    # event's estimation window loses the two 2018 events, which sit in the other partition.
    events = ["2018-05-29-white-house-proceeds-with-tariffs",
              "2018-07-06-first-section-301-tariffs-effective",
              "2018-12-01-g20-buenos-aires-truce", "2019-08-05-china-currency-manipulator"]
    study = es.EventStudy(events, assets="sectors", data=prices_dir, exclude="catalog")
    inproc, dask, w_in, w_dask = fit_both(study, client=client, events_per_partition=2,
                                          assets_per_partition=5)
    assert_same_numbers(inproc, dask)
    pd.testing.assert_frame_equal(inproc.dropped, dask.dropped)
    excluded = dask.dropped[dask.dropped["scope"] == "estimation-day"]
    g20 = excluded.loc[excluded["event_id"] == events[2], "reason"]
    assert g20.str.contains("catalog event 2018-07-06-first").any()
    assert g20.str.contains("catalog event 2018-05-29-white").any()
    assert set(dask.dropped.loc[dask.dropped["scope"] == "asset-event", "asset"]) == {"XLC"}
    assert drop_messages(w_dask) == drop_messages(w_in)


class WarningProvider(ParquetReturnsProvider):
    """Warns on every read, as a data source with a caveat would."""

    def get_prices(self, tickers, start=None, end=None):
        warnings.warn("vendor data are delayed", UserWarning, stacklevel=2)
        return super().get_prices(tickers, start, end)


def test_worker_warnings_are_issued_once(panel_dir):
    study = es.EventStudy(EVENTS[4:], assets=["A0", "A1", "A2"], market="MKT",
                          data=WarningProvider(panel_dir))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_dask(study, scheduler="sync", events_per_partition=1, assets_per_partition=1)
    assert [str(w.message) for w in caught] == ["vendor data are delayed"]
    assert caught[0].filename == __file__


def test_missing_dask_names_the_extra(panel_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(DependencyError, match=r"pip install political-eventstudy\[dask\]"):
        run_dask(synthetic_study(panel_dir))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"events_per_partition": 0}, "events_per_partition=0"),
        ({"assets_per_partition": 2.5}, "assets_per_partition=2.5"),
        ({"client": object(), "scheduler": "sync"}, "either client= or scheduler="),
    ],
)
def test_bad_arguments(panel_dir, kwargs, match):
    with pytest.raises(SpecificationError, match=match):
        run_dask(synthetic_study(panel_dir), **kwargs)


def test_needs_an_event_study():
    with pytest.raises(SpecificationError, match="needs an EventStudy"):
        run_dask("2019-05-06")  # type: ignore[arg-type]


def make_panel(n: int, k: int, taus: tuple[int, int] = (-1, 1), seed: int = 0) -> ARPanel:
    rng = np.random.default_rng(seed)
    taus = np.arange(taus[0], taus[1] + 1)
    L2, L1 = len(taus), 5
    return ARPanel(
        keys=pd.DataFrame({"event_id": [f"e{seed}"] * n, "asset": [f"a{i}" for i in range(n)]}),
        taus=taus, est_taus=np.arange(-9, -4), ar=rng.normal(size=(n, L2)),
        est_resid=rng.normal(size=(n, L1)), sigma=rng.uniform(1, 2, n), nobs=np.full(n, L1),
        k=np.full(n, k), x_event=rng.normal(size=(n, L2, k)), xtx_inv=rng.normal(size=(n, k, k)),
        returns=rng.normal(size=(n, L2)), normal=rng.normal(size=(n, L2)),
    )


def test_concat_panels_pads_parameter_dimension():
    small, big = make_panel(2, 1, seed=1), make_panel(3, 2, seed=2)
    out = concat_panels([small, big])
    assert len(out) == 5
    x = out.event_regressors()
    assert x.shape == (5, 3, 2) and out.xtx_inv.shape == (5, 2, 2)
    np.testing.assert_array_equal(x[:2, :, :1], small.x_event)
    np.testing.assert_array_equal(x[:2, :, 1], 0.0)
    np.testing.assert_array_equal(x[2:], big.x_event)
    np.testing.assert_array_equal(out.xtx_inv[:2, 0, 0], small.xtx_inv[:, 0, 0])
    np.testing.assert_array_equal(out.xtx_inv[:2, 1, :], 0.0)
    np.testing.assert_array_equal(out.xtx_inv[2:], big.xtx_inv)
    np.testing.assert_array_equal(out.ar, np.vstack([small.ar, big.ar]))
    assert list(out.keys.index) == list(range(5))
    backwards = concat_panels([small, big], order=np.arange(5)[::-1])
    np.testing.assert_array_equal(backwards.xtx_inv, out.xtx_inv[::-1])
    np.testing.assert_array_equal(backwards.event_regressors(), x[::-1])
    pd.testing.assert_frame_equal(backwards.keys, out.subset(np.arange(5)[::-1]).keys)
    # Zero padding leaves every variance unchanged.
    np.testing.assert_allclose(out.car_var(-1, 1)[:2], small.car_var(-1, 1), rtol=1e-15)


def test_concat_panels_refuses_mismatched_windows():
    with pytest.raises(SpecificationError, match="different event/estimation windows"):
        concat_panels([make_panel(2, 1), make_panel(2, 1, taus=(-2, 2))])
    with pytest.raises(SpecificationError, match="at least one"):
        concat_panels([])
