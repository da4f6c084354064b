"""Worker threads keep BLAS to one thread each, and results keep their order."""

import threading

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import eventstudy._parallel as _parallel


def _blas_threads() -> list[int]:
    np.ones((2, 2)) @ np.ones((2, 2))  # BLAS loaded
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_blas_uses_one_thread_inside_the_workers_and_is_restored_after(monkeypatch):
    monkeypatch.setattr(_parallel, "THREADS", 2)
    with threadpool_limits(limits=2, user_api="blas"):  # as without OPENBLAS_NUM_THREADS=1
        before = _blas_threads()
        inside = _parallel.thread_map(lambda _: _blas_threads(), range(4))
        after = _blas_threads()
    assert before and all(n == 2 for n in before)
    assert all(threads == [1] * len(before) for threads in inside)
    assert after == before


def test_results_in_input_order(monkeypatch):
    monkeypatch.setattr(_parallel, "THREADS", 3)
    assert _parallel.thread_map(lambda x: x * x, range(50)) == [x * x for x in range(50)]


def test_thread_shares_gives_each_thread_every_threads_th_item_once(monkeypatch):
    monkeypatch.setattr(_parallel, "THREADS", 3)
    shares = []
    _parallel.thread_shares(lambda share: shares.append(list(share)), range(0, 20, 2))
    assert sorted(shares) == [[0, 6, 12, 18], [2, 8, 14], [4, 10, 16]]
    monkeypatch.setattr(_parallel, "THREADS", 8)
    shares.clear()
    _parallel.thread_shares(lambda share: shares.append(list(share)), ["a", "b"])
    assert sorted(shares) == [["a"], ["b"]]  # no empty shares


def test_small_work_runs_in_the_calling_thread(monkeypatch):
    monkeypatch.setattr(_parallel, "THREADS", 3)
    me = threading.get_ident()
    small = _parallel.thread_map(lambda _: threading.get_ident(), range(6),
                                 elements=_parallel.MIN_PARALLEL_ELEMENTS - 1)
    large = _parallel.thread_map(lambda _: threading.get_ident(), range(6),
                                 elements=_parallel.MIN_PARALLEL_ELEMENTS)
    assert set(small) == {me}
    assert me not in set(large)

