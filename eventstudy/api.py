"""``run_event_study``: one call from events to results."""

from __future__ import annotations

from collections.abc import Sequence

from eventstudy._typing import check_option
from eventstudy.estimation import EventStudy
from eventstudy.models import NormalReturnModel
from eventstudy.results import EventStudyResults
from eventstudy.windows import DEFAULT_CAR_WINDOWS

__all__ = ["run_event_study"]


def run_event_study(
    events: object,
    assets: str | Sequence[str] = "sectors",
    market: str = "SPY",
    model: str | NormalReturnModel = "market",
    estimation_window: tuple[int, int] = (-250, -11),
    event_window: tuple[int, int] = (-10, 10),
    car_windows: Sequence[tuple[int, int]] = DEFAULT_CAR_WINDOWS,
    return_type: str = "simple",
    data: object = None,
    data_kind: str = "prices",
    backend: str = "inprocess",
    client: object = None,
    **options: object,
) -> EventStudyResults:
    """Run an event study and return its results.

    A thin factory over :class:`~eventstudy.EventStudy`:
    ``run_event_study(events, ...) == EventStudy(events, ...).fit()``.

    Parameters
    ----------
    events : date, Event, catalog id, list, DataFrame or EventSet
        E.g. ``"2025-06-05-trump-xi-call"`` (catalog), ``"2025-06-05"`` (date) or
        ``pd.Timestamp("2025-06-05 13:30", tz="America/New_York")``.
    assets : "sectors" or sequence of str, default "sectors"
        ``"sectors"`` = the market ticker plus the 11 SPDR sector ETFs.
    market : str, default "SPY"
    model : str or NormalReturnModel, default "market"
        ``"market"``, ``"constant_mean"``, ``"market_adjusted"``, ``"capm"``, ``"ff3"`` or a
        model instance.
    estimation_window, event_window : (int, int)
        Trading days relative to day 0.
    car_windows : sequence of (int, int)
    return_type : {"simple", "log"}
    data : provider, DataFrame, path or None
        Price source; None uses ``EVENTSTUDY_DATA`` or cached Yahoo.
    data_kind : {"prices", "returns"}
    backend : {"inprocess", "dask"}, default "inprocess"
        ``"dask"`` partitions the asset-events and fits them on Dask workers with the same
        kernel (optional extra ``political-eventstudy[dask]``); the results are the same.
    client : distributed.Client, optional
        Dask cluster for ``backend="dask"``; without one, Dask's default scheduler runs it.
    **options
        Passed to :class:`~eventstudy.EventStudy`: ``market_benchmark``, ``alignment``,
        ``exclude``, ``exclude_window``, ``min_estimation_obs``, ``conventions``,
        ``factors``, ``calendar``.

    Returns
    -------
    EventStudyResults

    Examples
    --------
    >>> import eventstudy as es
    >>> res = es.run_event_study("2025-06-05-trump-xi-call")  # doctest: +SKIP
    >>> res.cars.query("start == -1 and end == 1")  # doctest: +SKIP
    """
    check_option("backend", backend, ("inprocess", "dask"))
    study = EventStudy(
        events,
        assets,
        market=market,
        model=model,
        estimation_window=estimation_window,
        event_window=event_window,
        car_windows=car_windows,
        return_type=return_type,
        data=data,
        data_kind=data_kind,
        **options,  # type: ignore[arg-type]
    )
    if backend == "dask":
        from eventstudy.backends.dask import run_dask

        return run_dask(study, client=client)
    return study.fit()
