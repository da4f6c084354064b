"""Threads for independent numpy work (numpy releases the GIL inside each operation)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import TypeVar

from threadpoolctl import threadpool_limits

T = TypeVar("T")
R = TypeVar("R")

#: Threads for independent pieces of work: blocks of the batched fit and of the sample-quantile
#: test, event-date clusters of the cross-correlation. Results never depend on it. Set it to 1
#: where processes already use every core, e.g. in Dask workers.
THREADS = min(4, os.cpu_count() or 1)

#: Work on fewer array elements than this runs in the calling thread (see :func:`thread_map`).
MIN_PARALLEL_ELEMENTS = 1 << 20


def thread_map(
    func: Callable[[T], R],
    items: Iterable[T],
    *,
    uses_blas: bool = True,
    elements: int | None = None,
) -> list[R]:
    """``[func(x) for x in items]``, spread over :data:`THREADS` threads when there are several.

    While the threads run, BLAS (matrix products) uses one thread each: BLAS's own threads on
    top of ours would oversubscribe the cores (the rank tests took twice as long). Work
    without matrix products passes ``uses_blas=False`` and skips that limit, which costs
    about 1 ms per call (10 ms or more the first time in a process: threadpoolctl looks up
    every loaded library). ``elements``, the size of the arrays the items work on, lets small
    work run in the calling thread: below :data:`MIN_PARALLEL_ELEMENTS`, starting threads
    and limiting BLAS cost more than they save.
    """
    items = list(items)
    small = elements is not None and elements < MIN_PARALLEL_ELEMENTS
    if THREADS <= 1 or len(items) <= 1 or small:
        return [func(x) for x in items]
    with (threadpool_limits(limits=1, user_api="blas") if uses_blas else nullcontext(),
          ThreadPoolExecutor(min(THREADS, len(items))) as pool):
        return list(pool.map(func, items))


def thread_shares(
    func: Callable[[Sequence[T]], object], items: Sequence[T], *, uses_blas: bool = True
) -> None:
    """Call ``func`` once per thread on every :data:`THREADS`-th item (``items[i::THREADS]``).

    For work whose items share per-thread work arrays: ``func`` makes them once and loops
    over its share. ``uses_blas`` as in :func:`thread_map`.
    """
    workers = max(1, min(THREADS, len(items)))
    thread_map(func, [items[i::workers] for i in range(workers)], uses_blas=uses_blas)


def row_slices(n_rows: int, min_rows: int = 16_384) -> list[slice]:
    """Up to :data:`THREADS` contiguous slices of ``n_rows`` rows, each of ``min_rows`` or more.

    For splitting one large element-wise computation among threads (a single slice when
    the work is too small to gain from threads).
    """
    parts = max(1, min(THREADS, n_rows // max(min_rows, 1)))
    bounds = [n_rows * i // parts for i in range(parts + 1)]
    return [slice(lo, hi) for lo, hi in itertools.pairwise(bounds)]
