"""The O(nL) average correlation equals the pairwise-complete matrix where both apply."""

import numpy as np
import pandas as pd

from eventstudy.inference._core import Cluster


def _mean_offdiag_by_pandas(x: np.ndarray) -> tuple[float, int]:
    corr = pd.DataFrame(x.T).corr(min_periods=3).to_numpy()
    off = corr[~np.eye(len(x), dtype=bool)]
    return float(np.nansum(off)), int(np.isfinite(off).sum())


def test_fast_path_matches_pairwise_correlations():
    rng = np.random.default_rng(1)
    common = rng.normal(size=120)
    x = 0.4 * common + rng.normal(size=(30, 120))
    x[:, [5, 50]] = np.nan  # days no asset has (contamination exclusions)
    got = Cluster(np.arange(30), x).offdiag
    want = _mean_offdiag_by_pandas(x)
    assert got[1] == want[1] == 30 * 29
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)


def test_scattered_missing_days_use_the_pairwise_matrix():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 60))
    x[3, 10] = np.nan
    got = Cluster(np.arange(8), x).offdiag
    want = _mean_offdiag_by_pandas(x)
    assert got[1] == want[1]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
