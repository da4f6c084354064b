r"""Pieces shared by the tests across asset-events: the result record and common statistics.

Every test in :mod:`eventstudy.inference` takes an :class:`~eventstudy.abnormal.ARPanel` and a
list of ``(start, end)`` windows and returns one :class:`TestResult` per window. A window with
``start == end`` is a single event day (the statistic is then about the AAR of that day);
longer windows are about the CAAR. Asset-events whose CAR is missing (a missing day in the
window) or whose residual standard deviation is not finite are left out of that window, and
``n`` says how many were used.

A test that cannot be computed (too few asset-events, zero variance, a quantity undefined for
the data) returns NaN ``statistic`` and ``pvalue`` with the reason in ``note``, so that one
inapplicable test does not stop a battery.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from eventstudy._typing import ALTERNATIVES, check_option, check_window
from eventstudy.abnormal import ARPanel
from eventstudy.conventions import Conventions, get_conventions
from eventstudy.inference.per_asset import pvalue

__all__ = ["TestResult"]


@dataclass(frozen=True)
class TestResult:
    """One test of one window across asset-events.

    Attributes
    ----------
    test : str
        Registry name of the test (see :data:`eventstudy.inference.TESTS`).
    start, end : int
        Window in trading days relative to day 0; ``start == end`` for a single day.
    statistic : float
        Test statistic (NaN when the test does not apply).
    pvalue : float
        P-value for ``alternative`` (NaN when the test does not apply).
    n : int
        Asset-events used.
    distribution : str
        Reference distribution of the statistic under the null, e.g. ``"t(199)"``.
    null : str
        The null hypothesis in words.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis.
    note : str
        Why the test does not apply, or a remark on how it was computed.
    conventions : str
        Name of the :class:`~eventstudy.conventions.Conventions` preset used.
    """

    __test__ = False  # not a pytest test class

    test: str
    start: int
    end: int
    statistic: float
    pvalue: float
    n: int
    distribution: str
    null: str
    alternative: str
    note: str = ""
    conventions: str = "clm"


@dataclass(frozen=True)
class Outcome:
    """What a test computes for one window; :func:`run_windows` adds the labels."""

    statistic: float
    pvalue: float
    n: int
    distribution: str
    note: str = ""


def not_applicable(n: int, distribution: str, reason: str) -> Outcome:
    """An :class:`Outcome` with NaN statistic and p-value and the reason in ``note``."""
    return Outcome(np.nan, np.nan, int(n), distribution, reason)


def t_dist(df: float) -> str:
    """Label of Student's t with ``df`` degrees of freedom (integer when it is one)."""
    return f"t({df:g})" if float(df).is_integer() else f"t({df:.2f})"


NORMAL = "N(0,1)"


def z_outcome(stat: float, n: int, alternative: str, note: str = "") -> Outcome:
    """Outcome of a statistic referred to the standard normal."""
    return Outcome(float(stat), float(pvalue(np.asarray(stat), alternative)), int(n), NORMAL,
                   note)


def t_outcome(stat: float, df: float, n: int, alternative: str, note: str = "") -> Outcome:
    """Outcome of a statistic referred to Student's t with ``df`` degrees of freedom."""
    return Outcome(float(stat), float(pvalue(np.asarray(stat), alternative, df)), int(n),
                   t_dist(df), note)


def run_windows(
    name: str,
    null: str,
    windows: Sequence[tuple[int, int]],
    alternative: str,
    conventions: Conventions,
    compute: Callable[[int, int], Outcome],
) -> list[TestResult]:
    """Evaluate ``compute`` for each window and label the outcomes as :class:`TestResult`."""
    out = []
    for start, end in windows:
        o = compute(start, end)
        out.append(TestResult(name, start, end, o.statistic, o.pvalue, o.n, o.distribution,
                              null, alternative, o.note, conventions.name))
    return out


def prepare(
    panel: ARPanel,
    windows: Sequence[tuple[int, int]],
    alternative: str,
    conventions: str | Conventions,
) -> tuple[list[tuple[int, int]], str, Conventions]:
    """Validate the arguments every test shares.

    Returns the windows as ``(int, int)`` pairs (each inside the event window), the
    alternative, and the :class:`Conventions`.

    Raises
    ------
    SpecificationError
        If ``alternative`` or ``conventions`` is not valid.
    WindowError
        If a window is malformed or outside the event window.
    """
    checked = []
    for w in windows:
        start, end = check_window("window", w)
        panel.window_slice(start, end)
        checked.append((start, end))
    return checked, check_option("alternative", alternative, ALTERNATIVES), \
        get_conventions(conventions)


# --- cumulative abnormal returns and their standardization ------------------------------------
def with_pe(panel: ARPanel, prediction_error: bool) -> ARPanel:
    """``panel`` whose variances include the prediction-error term iff ``prediction_error``."""
    if panel.prediction_error == prediction_error:
        return panel
    return replace(panel, prediction_error=prediction_error)


def window_cars(panel: ARPanel, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """CARs over ``start..end`` and the mask of asset-events usable for the window.

    An asset-event is usable when its CAR (every day of the window) and its ``sigma`` are
    finite and ``sigma > 0``.
    """
    car = panel.car(start, end)
    ok = np.isfinite(car) & np.isfinite(panel.sigma) & (panel.sigma > 0)
    return car, ok


def scar(panel: ARPanel, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Standardized CARs (CLM eq. 4.4.11 variance) and the usable mask."""
    car, ok = window_cars(panel, start, end)
    with np.errstate(invalid="ignore", divide="ignore"):
        return car / np.sqrt(panel.car_var(start, end)), ok


def mean_t(x: np.ndarray) -> tuple[float, float]:
    r"""Cross-sectional t of ``x``: :math:`\bar x / (s/\sqrt n)` and ``s`` (ddof 1)."""
    s = float(np.std(x, ddof=1))
    return float(np.mean(x) / (s / np.sqrt(x.size))) if s > 0 else np.nan, s


def cross_sectional_t(x: np.ndarray, alternative: str, what: str) -> Outcome:
    """Student t of the mean of ``x`` against t(n-1); not applicable for n < 2 or s = 0."""
    n = x.size
    if n < 2:
        return not_applicable(n, t_dist(max(n - 1, 0)), f"needs at least 2 {what}; got {n}")
    t, s = mean_t(x)
    if not s > 0:
        return not_applicable(n, t_dist(n - 1), f"the {what} have zero cross-sectional variance")
    return t_outcome(t, n - 1, n, alternative)


# --- event-date clusters and the average cross-correlation ------------------------------------
@dataclass(frozen=True)
class Cluster:
    """Asset-events that share day 0, with their estimation residuals (rows x days)."""

    rows: np.ndarray
    resid: np.ndarray

    @functools.cached_property
    def corr(self) -> np.ndarray:
        """Pairwise-complete correlation matrix of the residuals (see :func:`pairwise_corr`)."""
        return pairwise_corr(self.resid)

    @functools.cached_property
    def offdiag(self) -> tuple[float, int]:
        r"""Sum and count of the finite off-diagonal correlations (the diagonal is 1).

        Without missing days (other than days no row has) every pair shares all days, and
        with rows :math:`z_i` scaled to mean 0 and norm 1,
        :math:`\sum_{i\ne j} r_{ij} = \lVert\sum_i z_i\rVert^2 - n`: O(n L) instead of the
        O(n^2 L) correlation matrix.
        """
        x = self.resid
        n = x.shape[0]
        # Days no row has (e.g. excluded for contamination) do not enter any pair.
        x = x[:, np.isfinite(x).any(axis=0)]
        if x.shape[1] >= 3 and np.isfinite(x).all():
            dev = x - x.mean(axis=1, keepdims=True)
            norm = np.sqrt((dev**2).sum(axis=1))
            if (norm > 0).all():
                z = dev / norm[:, None]
                return float((z.sum(axis=0) ** 2).sum()) - n, n * (n - 1)
        return _offdiag(self.corr)


def _offdiag(corr: np.ndarray) -> tuple[float, int]:
    finite = np.isfinite(corr)
    n = corr.shape[0]
    return float(np.where(finite, corr, 0.0).sum()) - n, int(finite.sum()) - n


def day0_clusters(panel: ARPanel) -> list[np.ndarray]:
    """Row positions of the asset-events grouped by ``keys["day0"]`` (same calendar days)."""
    codes = panel.keys["day0"].factorize()[0]
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(order, bounds)


def pairwise_corr(x: np.ndarray, min_periods: int = 3) -> np.ndarray:
    """Pearson correlations between the rows of ``x`` over the columns both rows have.

    Pairwise-complete, like :meth:`pandas.DataFrame.corr`, but vectorized: each pair uses its
    own common days and its own means. Pairs with fewer than ``min_periods`` common days, or
    with zero variance over them, are NaN. The diagonal is 1.
    """
    m = np.isfinite(x).astype(float)
    x0 = np.where(m > 0, x, 0.0)
    n = m @ m.T
    sx = x0 @ m.T  # sum of row i over the days row j has
    sxx = (x0**2) @ m.T
    sxy = x0 @ x0.T
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        var_i = sxx - sx**2 / n
        r = cov / np.sqrt(var_i * var_i.T)
    r[(n < min_periods) | ~np.isfinite(r)] = np.nan
    np.fill_diagonal(r, 1.0)
    return np.clip(r, -1.0, 1.0)


def clusters_with_corr(panel: ARPanel) -> list[Cluster]:
    """Day-0 clusters of two or more asset-events, with the correlations of their residuals.

    Asset-events alone on their day 0 have no cross-correlation to estimate and are left out.
    """
    return [Cluster(rows, panel.est_resid[rows])
            for rows in day0_clusters(panel) if rows.size > 1]


def mean_cross_correlation(clusters: list[Cluster], used: np.ndarray) -> tuple[float, str]:
    r"""Average cross-correlation :math:`\bar r` over all pairs of the ``used`` asset-events.

    Pairs in different day-0 clusters count as uncorrelated (their event days are different
    calendar days); within a cluster, the average of the pairwise-complete correlations of
    the estimation residuals is used:

    .. math:: \bar r = \frac{\sum_g n_g(n_g-1)\,\bar r_g}{n(n-1)}.

    Returns
    -------
    rbar : float
        NaN if a cluster with two or more asset-events has no pair with enough common days.
    note : str
        Empty, or the reason ``rbar`` is NaN.
    """
    n = int(used.sum())
    if n < 2:
        return 0.0, ""
    total = 0.0
    for c in clusters:
        keep = used[c.rows]
        ng = int(keep.sum())
        if ng < 2:
            continue
        # All of a cluster is the usual case: its sums are computed once for every window.
        off_sum, count = c.offdiag if ng == c.rows.size else _offdiag(
            c.corr[np.ix_(keep, keep)])
        if count == 0:
            return np.nan, ("the cross-correlation of estimation residuals is undefined "
                            "(fewer than 3 common estimation days in every pair of an event date)")
        total += ng * (ng - 1) * off_sum / count
    return total / (n * (n - 1)), ""
