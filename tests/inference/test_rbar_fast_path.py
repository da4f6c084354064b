"""The O(nL) average correlation equals the pairwise-complete matrix where both apply."""

import numpy as np
import pandas as pd
import pytest
from inference_panels import tiny_panel

import eventstudy._parallel as _parallel
from eventstudy.inference._core import Cluster, _corr, _Rows, mean_cross_correlation


def _mean_offdiag_by_pandas(x: np.ndarray) -> tuple[float, int]:
    corr = pd.DataFrame(x.T).corr(min_periods=3).to_numpy()
    off = corr[~np.eye(len(x), dtype=bool)]
    return float(np.nansum(off)), int(np.isfinite(off).sum())


def test_fast_path_matches_pairwise_correlations():
    rng = np.random.default_rng(1)
    common = rng.normal(size=120)
    x = 0.4 * common + rng.normal(size=(30, 120))
    x[:, [5, 50]] = np.nan  # days no asset has (contamination exclusions)
    got = Cluster(np.arange(30), x).totals
    want = _mean_offdiag_by_pandas(x)
    assert got[1] == want[1] == 30 * 29
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)


def test_scattered_missing_days_use_the_pairwise_matrix():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 60))
    x[3, 10] = np.nan
    got = Cluster(np.arange(8), x).totals
    want = _mean_offdiag_by_pandas(x)
    assert got[1] == want[1]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)


def _gappy_rows(seed: int, n: int = 40, days: int = 90, missing: float = 0.02) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = 0.5 * rng.normal(size=days) + rng.normal(size=(n, days))
    x[rng.random(x.shape) < missing] = np.nan
    x[7, :] = np.nan
    x[7, :2] = [0.1, 0.2]  # two common days at most: no correlation with anyone
    x[9] = 0.3  # zero variance: no correlation either
    return x


@pytest.mark.parametrize("missing", [0.02, 0.3])  # gathered sums and indicator products
def test_totals_with_scattered_missing_days_match_pandas(missing):
    x = _gappy_rows(3, missing=missing)
    got = Cluster(np.arange(len(x)), x).totals
    want = _mean_offdiag_by_pandas(x)
    assert got[1] == want[1]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)


def _windows_dropping(n_rows: int, seed: int, counts: list[int]) -> np.ndarray:
    """Kept rows for windows dropping none and then ``counts`` rows at random."""
    rng = np.random.default_rng(seed)
    keep = np.ones((len(counts) + 1, n_rows), dtype=bool)
    for w, n_dropped in enumerate(counts):
        keep[w + 1, rng.choice(n_rows, n_dropped, replace=False)] = False
    return keep


def _assert_pair_sums_match_pandas(x: np.ndarray, keep: np.ndarray) -> None:
    sums, counts = Cluster(np.arange(len(x)), x).pair_sums(keep)
    for w in range(len(keep)):
        want = _mean_offdiag_by_pandas(x[keep[w]])
        assert counts[w] == want[1]
        np.testing.assert_allclose(sums[w], want[0], rtol=1e-12)


def test_pair_sums_of_kept_rows_match_pandas_on_each_subset():
    x = _gappy_rows(4)
    _assert_pair_sums_match_pandas(x, _windows_dropping(len(x), 5, [1, 5, 30]))


def test_correlations_between_two_row_sets_match_pandas():
    x = _gappy_rows(6)
    full = pd.DataFrame(x.T).corr(min_periods=3).to_numpy()
    got = _corr(_Rows.of(x[:6]), _Rows.of(x))
    np.testing.assert_allclose(got, full[:6], rtol=1e-12, atol=1e-14)
    assert np.array_equal(np.isnan(got), np.isnan(full[:6]))


@pytest.mark.parametrize("gappy", [False, True])
def test_pair_sums_with_complete_and_constant_rows_dropped(gappy):
    rng = np.random.default_rng(7)
    x = 0.3 * rng.normal(size=80) + rng.normal(size=(25, 80))
    x[2] = 0.1  # constant
    x[:, [3, 40]] = np.nan  # days no row has
    if gappy:
        x[5, 10] = x[6, [11, 12]] = np.nan
    keep = _windows_dropping(len(x), 8, [1, 4, len(x) - 3])
    keep[1] = True
    keep[1, 2] = False  # the constant row alone dropped
    _assert_pair_sums_match_pandas(x, keep)


def test_fewer_than_three_common_days_give_no_pairs():
    x = np.array([[0.1, 0.2, np.nan], [0.3, 0.1, np.nan], [0.2, np.nan, 0.4]])
    assert Cluster(np.arange(3), x).totals == (0.0, 0)
    assert _mean_offdiag_by_pandas(x) == (0.0, 0)


def test_rbar_is_the_same_on_threads(monkeypatch):
    """The r-bar clusters on three threads give the bits they give in one."""
    panel = tiny_panel()
    used = np.ones((2, len(panel.sigma)), dtype=bool)
    used[1, 0] = False
    monkeypatch.setattr(_parallel, "THREADS", 1)
    alone = mean_cross_correlation(panel, used)
    monkeypatch.setattr(_parallel, "THREADS", 3)
    monkeypatch.setattr(_parallel, "MIN_PARALLEL_ELEMENTS", 0)
    assert mean_cross_correlation(panel, used) == alone
    assert all(np.isfinite(r) for r, _ in alone)
