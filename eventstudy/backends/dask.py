r"""The same event study on Dask, for panels or event sets that outgrow one machine.

:func:`run_dask` splits the study's asset-events into partitions: the events sorted by day 0
and cut into blocks of ``events_per_partition``, crossed with the assets cut into blocks of
``assets_per_partition``. Each partition is one task. The task builds a sub-study with the
study's settings but only its events and assets, and calls :meth:`EventStudy.fit
<eventstudy.EventStudy.fit>` on the worker, i.e. the in-process vectorized kernel. A task
therefore holds only its own window of the panel: the provider is asked for its tickers between
the start of its first estimation window and the end of its last event window.

The driver gathers the partitions' :class:`~eventstudy.abnormal.ARPanel`\ s, parameters and
dropped rows, puts them back in the in-process order (events as given, then assets as given)
and builds one :class:`~eventstudy.results.EventStudyResults` exactly as
:meth:`EventStudy.fit` does. ``ars``, ``cars``, ``params`` and every test then equal the
in-process results (up to the last bits of floating-point reduction order).

Data
----
The study's ``data`` must be picklable, because it is shipped to the workers once per run:
:class:`~eventstudy.data.parquet.ParquetReturnsProvider` (reads only what each task needs) or a
:class:`~eventstudy.data.CSVDirectoryProvider` on storage every worker can read. A DataFrame
(or :class:`~eventstudy.data.DataFrameProvider`) works too, but the whole frame is copied to
every worker. With ``data=None`` each worker resolves ``EVENTSTUDY_DATA`` or the Yahoo cache in
its own environment.

Notes
-----
Cross-sectional statistics (``results.tests()``, ``results.aggregate()``) run on the driver on
the gathered, window-sized arrays (``N x L2`` abnormal returns and ``N x L1`` estimation
residuals), which the issue accepts. Several are sums over asset-events and could instead be
formed from per-partition sufficient statistics: with :math:`n_p`, :math:`S_p=\sum_i CAR_i`
and :math:`Q_p=\sum_i (CAR_i-\bar C_p)^2` per partition,

.. math::

    n=\sum_p n_p,\quad \overline{CAR}=\frac{\sum_p S_p}{n},\quad
    (n-1)\,s^2=\sum_p\Big(Q_p + n_p(\bar C_p-\overline{CAR})^2\Big)

(Chan, Golub & LeVeque 1983), which gives the cross-sectional t test; the Patell and BMP tests
combine the same way on standardized CARs. Rank and sign tests and the sample-quantile test
need the full cross-section and are not decomposable this way.

Differences from in-process, all in ``results.dropped`` only, never in the numbers:

* ``scope == "data"`` rows (gaps in the data) are those inside the sessions some partition
  loaded, so gaps between two far-apart event blocks are not listed (they affect no estimate);
  rows are deduplicated and ordered by date, then asset.
* The explanatory tail of an asset-event reason refers to the sessions the partition loaded
  (e.g. "no XLK data between ..." names the partition's range, not the whole study's).
* If every asset-event of a partition is dropped, its sub-study raises
  :class:`~eventstudy.exceptions.DataCoverageError`; each of its asset-events is listed with
  that error message as the reason. Only when every partition fails does :func:`run_dask` raise
  (as :meth:`EventStudy.fit` would).

References
----------
Chan, T. F., Golub, G. H., & LeVeque, R. J. (1983). Algorithms for computing the sample
variance: analysis and recommendations. *The American Statistician*, 37(3), 242–247.
"""

from __future__ import annotations

import copy
import threading
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.abnormal import ARPanel
from eventstudy.data.base import resolve_provider
from eventstudy.estimation import EventStudy
from eventstudy.events import EventSet
from eventstudy.exceptions import (
    DataCoverageError,
    DataWarning,
    DependencyError,
    SpecificationError,
)
from eventstudy.results import EventStudyResults

__all__ = ["concat_panels", "run_dask"]

_PANEL_ARRAYS = ("ar", "est_resid", "sigma", "nobs", "k", "returns", "normal")
_SCOPES = ("asset-event", "event-day", "estimation-day", "data")
_DROP_COLUMNS = ["event_id", "asset", "date", "scope", "reason"]
# The summary warning EventStudy.fit issues when asset-events are dropped; partitions each issue
# one with their own counts, the driver issues one for the whole study instead.
_DROP_WARNING = "asset-events could not be estimated"
# Python's warning capture is process-global: fits that record warnings take turns within a
# process (run one thread per worker process to lose nothing).
_FIT_LOCK = threading.Lock()


def _import_dask() -> ModuleType:
    try:
        import dask
    except ImportError:
        raise DependencyError(
            "run_dask needs the optional packages dask and distributed; install them with "
            "`pip install political-eventstudy[dask]`, or call EventStudy.fit() in-process."
        ) from None
    return dask


@dataclass(frozen=True)
class _Partition:
    """Positions of a task's events (in ``study.events``) and its asset tickers.

    Arrays rather than tuples: Dask walks tuples in task arguments item by item.
    """

    events: np.ndarray
    assets: np.ndarray


@dataclass(frozen=True)
class _PartitionResult:
    """What a worker sends back; ``error`` is set (and the rest empty) if nothing was fit."""

    results: EventStudyResults | None
    error: DataCoverageError | None
    warnings: tuple[tuple[type[Warning], str], ...]


def _fit_partition(spec: EventStudy, part: _Partition) -> _PartitionResult:
    """Fit the sub-study of ``part`` on a worker (runs in the worker process)."""
    sub = copy.copy(spec)
    sub.events = EventSet(spec.events[int(i)] for i in part.events)
    sub.assets = list(part.assets)
    results, error = None, None
    with _FIT_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            results = sub.fit()
        except DataCoverageError as exc:  # every asset-event of the partition dropped
            error = exc
    return _PartitionResult(
        results=results,
        error=error,
        warnings=tuple((w.category, str(w.message)) for w in caught),
    )


def concat_panels(panels: Sequence[ARPanel], order: np.ndarray | None = None) -> ARPanel:
    """Stack the rows of several :class:`~eventstudy.abnormal.ARPanel` objects.

    Parameters
    ----------
    panels : sequence of ARPanel
        Panels with the same event and estimation windows and conventions. Their parameter
        dimension ``K`` may differ: ``x_event`` and ``xtx_inv`` are zero-padded to the largest,
        as :meth:`EventStudy.fit <eventstudy.EventStudy.fit>` pads within one study.
    order : ndarray of int, optional
        Positions of the stacked rows in the order wanted (``stacked.subset(order)`` without
        holding the unordered copy).

    Returns
    -------
    ARPanel
        Rows of ``panels[0]``, then ``panels[1]``, ... (or in ``order``); ``keys`` re-indexed
        from 0.

    Raises
    ------
    SpecificationError
        If ``panels`` is empty or the panels' windows or conventions differ.
    """
    if not panels:
        raise SpecificationError("concat_panels needs at least one ARPanel.")
    first = panels[0]
    for p in panels[1:]:
        if not (
            np.array_equal(p.taus, first.taus)
            and np.array_equal(p.est_taus, first.est_taus)
            and p.log_returns == first.log_returns
            and p.prediction_error == first.prediction_error
        ):
            raise SpecificationError(
                "cannot stack ARPanels with different event/estimation windows, return types or "
                "prediction-error conventions; fit them with the same settings."
            )
    sizes = [len(p) for p in panels]
    n, big_k = sum(sizes), max(p.x_event.shape[2] for p in panels)
    # Row i of the stack goes to target[i]; each panel is written straight to its rows.
    target = np.arange(n)
    if order is not None:
        target[np.asarray(order)] = np.arange(n)
    bounds = np.cumsum([0, *sizes])
    out = {name: np.empty((n, *getattr(first, name).shape[1:]),
                          dtype=np.result_type(*(getattr(p, name) for p in panels)))
           for name in _PANEL_ARRAYS}
    # The panels' regressor blocks one after the other; each row keeps pointing to its own.
    blocks = np.cumsum([0, *(len(p.x_event) for p in panels)])
    out["x_event"] = np.zeros((blocks[-1], len(first.taus), big_k))
    out["x_rows"] = np.empty(n, dtype=np.intp)
    out["xtx_inv"] = np.zeros((n, big_k, big_k))
    for i, (p, lo, hi) in enumerate(zip(panels, bounds[:-1], bounds[1:], strict=True)):
        rows, k = target[lo:hi], p.x_event.shape[2]
        for name in _PANEL_ARRAYS:
            out[name][rows] = getattr(p, name)
        out["x_event"][blocks[i]:blocks[i + 1], :, :k] = p.x_event
        out["x_rows"][rows] = p.x_rows + blocks[i]
        out["xtx_inv"][rows, :k, :k] = p.xtx_inv
    keys = pd.concat([p.keys for p in panels], ignore_index=True)
    if order is not None:
        keys = keys.iloc[np.asarray(order)].reset_index(drop=True)
    return ARPanel(
        keys=keys,
        taus=first.taus,
        est_taus=first.est_taus,
        log_returns=first.log_returns,
        prediction_error=first.prediction_error,
        **out,
    )


def _check_block(name: str, value: object, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise SpecificationError(
            f"{name}={value!r} must be a positive integer" + (" or None." if allow_none else ".")
        )
    return int(value)


def _plan(
    aligned: pd.DataFrame, assets: Sequence[str], events_per_partition: int,
    assets_per_partition: int | None,
) -> list[_Partition]:
    """Events sorted by day 0 in blocks, crossed with assets in blocks (in study order)."""
    by_day0 = np.argsort(pd.DatetimeIndex(aligned["day0"]).to_numpy(), kind="stable")
    event_blocks = [by_day0[s : s + events_per_partition]
                    for s in range(0, len(by_day0), events_per_partition)]
    tickers = np.array(assets, dtype=object)
    step = assets_per_partition or len(assets)
    asset_blocks = [tickers[s : s + step] for s in range(0, len(tickers), step)]
    return [_Partition(ev, block) for ev in event_blocks for block in asset_blocks]


def _worker_spec(study: EventStudy) -> EventStudy:
    """The study as shipped to workers.

    A DataFrame or path in ``data`` becomes its provider once here instead of once per task.
    """
    spec = copy.copy(study)
    if study.data is not None:
        spec.data = resolve_provider(study.data, study.data_kind)
    return spec


def _event_dates(study: EventStudy, aligned: pd.DataFrame) -> dict[str, pd.DatetimeIndex]:
    """Event-window sessions of every event, checked against the calendar as fit() does."""
    cal, w = study.calendar, study.windows
    out = {}
    for eid, day0 in zip(aligned["event_id"], aligned["day0"], strict=True):
        cal.offset(day0, w.span[0] - 1)  # raises DataCoverageError like EventStudy.fit
        cal.offset(day0, w.span[1])
        out[eid] = cal.sessions_in_range(cal.offset(day0, w.event[0]),
                                         cal.offset(day0, w.event[1]))
    return out


def _compute(
    dask: ModuleType, client: Any, scheduler: str | None, spec: EventStudy,
    parts: list[_Partition],
) -> list[_PartitionResult]:
    """Run one task per partition; results in partition order."""
    token = uuid.uuid4().hex
    shared = dask.delayed(spec, name=f"eventstudy-spec-{token}")
    fit = dask.delayed(_fit_partition, pure=True)
    tasks = [fit(shared, p, dask_key_name=f"eventstudy-fit-{token}-{i}")
             for i, p in enumerate(parts)]
    if client is None:
        return list(dask.compute(*tasks, scheduler=scheduler))
    from distributed import as_completed

    pending = {f.key: f for f in client.compute(tasks)}
    position = {key: i for i, key in enumerate(pending)}
    out: list[Any] = [None] * len(parts)
    try:
        # Fetch each result as it finishes so workers do not hold finished partitions.
        for future, result in as_completed(list(pending.values()), with_results=True):
            out[position[future.key]] = result
            del pending[future.key]
    finally:
        if pending:
            client.cancel(list(pending.values()))
    return out


def run_dask(
    study: EventStudy,
    client: Any = None,
    *,
    events_per_partition: int = 25,
    assets_per_partition: int | None = 1000,
    scheduler: str | None = None,
) -> EventStudyResults:
    """Run ``study`` on Dask and return the same results as ``study.fit()``.

    Parameters
    ----------
    study : EventStudy
        The specification; its ``data`` must be picklable (see the module docstring).
    client : distributed.Client, optional
        Cluster to run on, e.g. ``Client("tcp://scheduler:8786")`` or a ``LocalCluster``'s
        client. Without one, ``dask.compute`` runs the tasks with ``scheduler``.
    events_per_partition : int, default 25
        Events per task, taken in order of day 0 so a task's data window stays short.
    assets_per_partition : int or None, default 1000
        Assets per task; None keeps all assets in every task. Memory per task grows with
        ``events_per_partition * assets_per_partition * L1``.
    scheduler : str, optional
        Dask scheduler when ``client`` is None: ``"sync"`` (one thread, for debugging),
        ``"threads"``, ``"processes"``, or None for Dask's default (an active distributed
        client if there is one).

    Returns
    -------
    EventStudyResults
        Rows in the in-process order; ``dropped`` as described in the module notes.

    Raises
    ------
    DependencyError
        If dask is not installed.
    SpecificationError
        On bad partition sizes, or ``client`` together with ``scheduler``.
    DataCoverageError
        If no asset-event of any partition can be estimated.

    Warns
    -----
    DataWarning
        Once, when asset-events are dropped (the same message as in-process); any other
        warning raised on a worker is re-issued once on the driver.

    Notes
    -----
    An error raised on a worker (e.g. :class:`~eventstudy.exceptions.UnknownTickerError`)
    surfaces on the driver with its own type; the remaining tasks are cancelled.

    Examples
    --------
    >>> from distributed import Client
    >>> from eventstudy.data.parquet import ParquetReturnsProvider
    >>> study = EventStudy(events, assets=tickers, market="MKT",
    ...                    data=ParquetReturnsProvider("s3://bucket/panel"))  # doctest: +SKIP
    >>> res = run_dask(study, Client("tcp://scheduler:8786"))  # doctest: +SKIP
    """
    if not isinstance(study, EventStudy):
        raise SpecificationError(
            f"run_dask needs an EventStudy, got {type(study).__name__}; build one with "
            "EventStudy(events, assets, ...)."
        )
    events_per_partition = _check_block("events_per_partition", events_per_partition, False)
    assets_per_partition = _check_block("assets_per_partition", assets_per_partition, True)
    if client is not None and scheduler is not None:
        raise SpecificationError(
            f"pass either client= or scheduler= (got both, scheduler={scheduler!r}); "
            "with a client the tasks run on its cluster."
        )
    dask = _import_dask()
    aligned = study.align()
    event_dates = _event_dates(study, aligned)
    spec = _worker_spec(study)
    parts = _plan(aligned, study.assets, events_per_partition, assets_per_partition)
    outputs = _compute(dask, client, scheduler, spec, parts)
    return _assemble(study, aligned, event_dates, parts, outputs)


def _assemble(
    study: EventStudy,
    aligned: pd.DataFrame,
    event_dates: dict[str, pd.DatetimeIndex],
    parts: list[_Partition],
    outputs: list[_PartitionResult],
) -> EventStudyResults:
    """One results object, in the in-process row order, from the partitions' results."""
    done = [o.results for o in outputs if o.results is not None]
    if not done:
        raise next(o.error for o in outputs if o.error is not None)
    event_pos = {eid: i for i, eid in enumerate(aligned["event_id"])}
    asset_pos = {a: j for j, a in enumerate(study.assets)}
    # Block order keeps the parameter columns in the order the whole study would give them.
    done.sort(key=lambda r: asset_pos[r.panel.keys["asset"].iloc[0]])
    keys = pd.concat([r.panel.keys[["event_id", "asset"]] for r in done], ignore_index=True)
    order = np.lexsort((keys["asset"].map(asset_pos).to_numpy(),
                        keys["event_id"].map(event_pos).to_numpy()))
    panel = concat_panels([r.panel for r in done], order)
    params = _concat_params([r.params for r in done]).iloc[order].reset_index(drop=True)

    failed = [(p, o.error) for p, o in zip(parts, outputs, strict=True) if o.error is not None]
    dropped = _merge_dropped(study, aligned, [r.dropped for r in done], failed)
    _reissue_warnings(outputs, dropped, len(aligned) * len(study.assets))
    return EventStudyResults(
        panel=panel,
        events=aligned,
        params=params,
        dropped=dropped,
        event_dates=event_dates,
        car_windows=study.windows.car_windows,
        conventions=study.conventions,
        settings=done[0].settings,
        data_source=done[0].data_source,
    )


def _concat_params(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack parameter tables whose models may name different parameters.

    Each table is ``event_id, asset, model, <parameters>, sigma, ...``; the parameter columns
    are united in order of first appearance, as one study orders them.
    """
    names: dict[str, None] = {}
    for t in tables:
        cols = list(t.columns)
        names.update(dict.fromkeys(cols[cols.index("model") + 1 : cols.index("sigma")]))
    cols = list(tables[0].columns)
    layout = cols[: cols.index("model") + 1] + list(names) + cols[cols.index("sigma"):]
    return pd.concat(tables, ignore_index=True).reindex(columns=layout)


def _merge_dropped(
    study: EventStudy,
    aligned: pd.DataFrame,
    tables: list[pd.DataFrame],
    failed: list[tuple[_Partition, DataCoverageError]],
) -> pd.DataFrame:
    """Dropped rows of all partitions, deduplicated, in the in-process order."""
    event_ids = aligned["event_id"].to_numpy()
    frames = [t[_DROP_COLUMNS] for t in tables if len(t)]
    # The date type fit() gave: the one of tables with dates, else of any table.
    typed = [f["date"] for f in frames if f["date"].dtype.kind == "M"]
    date_type = next((d.dtype for d in typed if d.notna().any()),
                     typed[0].dtype if typed else None)
    if failed:
        rows = [(event_ids[e], a, pd.NaT, "asset-event", f"not estimated: {error}")
                for part, error in failed for e in part.events for a in part.assets]
        frames.append(pd.DataFrame(rows, columns=_DROP_COLUMNS))
    if not frames:  # nothing dropped anywhere: the (empty) table as fit() built it
        return tables[0]
    # Column types inferred from all values together, as fit() infers them from its rows (a
    # partition whose rows all lack an asset, or a date, would otherwise set another type).
    frame = pd.DataFrame(
        {c: np.concatenate([f[c].to_numpy(dtype=object) for f in frames]) for c in _DROP_COLUMNS}
    ).drop_duplicates(ignore_index=True)
    if date_type is not None:
        frame["date"] = frame["date"].astype(date_type)
    # Order: scope; then event, asset, date (data gaps: date, then ticker as loaded).
    event_pos = {eid: i for i, eid in enumerate(event_ids)}
    tickers = list(dict.fromkeys([*study.assets, study.market, study.market_benchmark or ""]))
    ticker_pos = {t: j for j, t in enumerate(tickers)}
    is_data = (frame["scope"] == "data").to_numpy()
    date_key = pd.to_datetime(frame["date"]).to_numpy().astype("datetime64[ns]").view("int64")
    asset_key = frame["asset"].map(ticker_pos).fillna(-1).to_numpy("int64")
    event_key = frame["event_id"].map(event_pos).fillna(-1).to_numpy("int64")
    keys = pd.DataFrame({
        "scope": frame["scope"].map({s: i for i, s in enumerate(_SCOPES)}).fillna(len(_SCOPES)),
        "first": np.where(is_data, date_key, event_key),
        "second": asset_key,
        "third": np.where(is_data, 0, date_key),
    })
    order = keys.sort_values(["scope", "first", "second", "third"], kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _reissue_warnings(
    outputs: list[_PartitionResult], dropped: pd.DataFrame, n_asset_events: int
) -> None:
    """Issue the workers' warnings once each, and one drop summary for the whole study."""
    seen: dict[tuple[type[Warning], str], None] = {}
    for o in outputs:
        for category, message in o.warnings:
            if not (issubclass(category, DataWarning) and _DROP_WARNING in message):
                seen[(category, message)] = None
    for category, message in seen:
        warnings.warn(message, category, stacklevel=4)
    n_lost = int((dropped["scope"] == "asset-event").sum()) if not dropped.empty else 0
    if n_lost:
        warnings.warn(
            f"{n_lost} of {n_asset_events} asset-events could not be estimated and are left "
            "out; see results.dropped for the reasons.",
            DataWarning,
            stacklevel=4,
        )
