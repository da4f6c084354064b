"""Execution backends that run an :class:`~eventstudy.EventStudy` somewhere other than in-process.

:func:`~eventstudy.backends.dask.run_dask` splits the asset-events into partitions, fits each on
a Dask worker with the same in-process kernel and gathers one
:class:`~eventstudy.results.EventStudyResults` on the driver. Dask itself is imported only when
the backend runs.
"""

from eventstudy.backends.dask import concat_panels, run_dask

__all__ = ["concat_panels", "run_dask"]
