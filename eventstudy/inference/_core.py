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
from scipy import sparse

from eventstudy._parallel import thread_map
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
class _Rows:
    """Rows of residuals prepared once for many pairwise-complete correlations.

    Each row is centred on its own mean (correlations do not change; the one-pass sums below
    then do not cancel), missing days are 0 in ``x0`` and 1 in ``missing``.
    """

    x0: np.ndarray
    x0sq: np.ndarray
    total: np.ndarray
    total_sq: np.ndarray
    missing: np.ndarray | sparse.csr_array
    n_missing: np.ndarray
    constant: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray) -> _Rows:
        """Prepare the rows of ``x`` (NaN on missing days)."""
        finite = np.isfinite(x)
        count = finite.sum(axis=1)
        x0 = np.where(finite, x, 0.0)
        with np.errstate(invalid="ignore"):
            means = np.nan_to_num(x0.sum(axis=1) / count)
        x0 = np.where(finite, x0 - means[:, None], 0.0)
        # A constant row has zero variance over any days (rounding would not say so exactly).
        constant = ~(np.fmax.reduce(x, axis=1) > np.fmin.reduce(x, axis=1))  # NaN-ignoring
        n_missing = x.shape[1] - count
        # Few missing days is the usual case: a sparse indicator makes its products cheap.
        dense = n_missing.sum() > 0.05 * x.size
        missing = (~finite).astype(float) if dense else sparse.csr_array(~finite, dtype=float)
        x0sq = x0**2
        return cls(x0, x0sq, x0.sum(axis=1), x0sq.sum(axis=1), missing, n_missing, constant)

    def take(self, rows: np.ndarray) -> _Rows:
        """The prepared rows ``rows`` (integer positions or a boolean mask)."""
        return _Rows(self.x0[rows], self.x0sq[rows], self.total[rows], self.total_sq[rows],
                     self.missing[rows], self.n_missing[rows], self.constant[rows])


def _dense(product: np.ndarray | sparse.sparray) -> np.ndarray:
    """``product`` as a dense array (a sparse-by-sparse product is sparse)."""
    return product.toarray() if sparse.issparse(product) else np.asarray(product)


def _corr(a: _Rows, b: _Rows, min_periods: int = 3) -> np.ndarray:
    """Pairwise-complete correlations of the rows of ``a`` with those of ``b``.

    One dense product of the zero-filled rows; the sums over a pair's common days are each
    row's totals less its values on the other row's missing days (products with the
    missing-day indicators, sparse when few days are missing).
    """
    na = a.x0.shape[0]
    a_missing = a.missing.toarray() if sparse.issparse(a.missing) else a.missing
    # a's rows on b's missing days: missing days too, values, squares (one product each way).
    on_b_missing = _dense(np.vstack([a_missing, a.x0, a.x0sq]) @ b.missing.T)
    both_missing, a_off, aa_off = np.split(on_b_missing, [na, 2 * na])
    b_off, bb_off = np.split(_dense(a.missing @ np.vstack([b.x0, b.x0sq]).T), 2, axis=1)
    n = both_missing
    n += a.x0.shape[1] - a.n_missing[:, None] - b.n_missing
    sa = np.subtract(a.total[:, None], a_off, out=a_off)
    sb = np.subtract(b.total, b_off)
    # Co-moments over the common days, in place: (n_a, n_b) temporaries are most of the time.
    with np.errstate(invalid="ignore", divide="ignore"):
        r = a.x0 @ b.x0.T
        r -= sa * sb / n
        var_a = np.subtract(a.total_sq[:, None], aa_off, out=aa_off)
        var_a -= np.square(sa, out=sa) / n
        var_b = np.subtract(b.total_sq, bb_off)
        var_b -= np.square(sb, out=sb) / n
        var_a *= var_b
        r /= np.sqrt(var_a, out=var_a)
    r[(n < min_periods) | ~np.isfinite(r)] = np.nan
    r[a.constant] = np.nan
    r[:, b.constant] = np.nan
    return np.clip(r, -1.0, 1.0, out=r)


def _corr_with_complete(a: _Rows, b: _Rows, min_periods: int = 3) -> np.ndarray:
    r"""Pairwise-complete correlations of rows ``a`` with rows ``b`` that miss no day.

    The common days of a pair are :math:`a_i`'s :math:`n_i` days :math:`D_i`. With
    :math:`a_i` centred on them and scaled to norm 1 (:math:`\hat a_i`, 0 elsewhere) and
    :math:`b_j` centred over all days, :math:`r_{ij} = \hat a_i'b_j / s_{ij}` where
    :math:`s_{ij}^2 = \sum_{D_i} b_j^2 - (\sum_{D_i} b_j)^2/n_i` and the sums over
    :math:`D_i` are :math:`b_j`'s totals less its values on :math:`a_i`'s missing days
    (:math:`\sum_{D_i} b_j = -m_{ij}`). Fewer element-wise steps than :func:`_corr`.
    """
    n = (a.x0.shape[1] - a.n_missing)[:, None]
    m = _dense(a.missing @ b.x0.T)  # b_j's values on a_i's missing days
    var_b = b.total_sq - _dense(a.missing @ b.x0sq.T)
    var_b -= np.square(m, out=m) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a.x0 / np.sqrt(a.total_sq)[:, None]) @ b.x0.T
        r /= np.sqrt(var_b, out=var_b)
    r[~np.isfinite(r)] = np.nan
    r[(n[:, 0] < min_periods) | a.constant] = np.nan
    r[:, b.constant] = np.nan
    return np.clip(r, -1.0, 1.0, out=r)


@dataclass(frozen=True)
class Cluster:
    """Asset-events that share day 0, with their estimation residuals (rows x days).

    Days no row has (e.g. excluded for contamination) are dropped from ``resid``: they enter
    no pair.
    """

    rows: np.ndarray
    resid: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "resid", self.resid[:, np.isfinite(self.resid).any(axis=0)])

    @functools.cached_property
    def _prepared(self) -> _Rows:
        return _Rows.of(self.resid)

    def _corr_rows(self, of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Correlations of rows ``of`` with every row (0 where not finite), and finiteness.

        A row with itself is not a pair: that entry is 0 and not finite.
        """
        r = _corr(self._prepared.take(of), self._prepared)
        r[np.arange(of.size), of] = np.nan
        finite = np.isfinite(r)
        return np.where(finite, r, 0.0), finite

    @functools.cached_property
    def totals(self) -> tuple[float, int]:
        r"""Sum and count of the finite correlations :math:`r_{ij}`, :math:`i\ne j`.

        The same numbers as pandas' pairwise-complete ``corr`` summed off its diagonal, in
        O(n L) for rows without missing days: with those rows :math:`z_i` scaled to mean 0
        and norm 1 (all pairs share all days), :math:`\sum_{i\ne j} r_{ij} =
        \lVert\sum_i z_i\rVert^2 - n`. Only the pairs involving a row with missing days need
        their own correlations.
        """
        rows = self._prepared
        complete = rows.n_missing == 0
        total, count = 0.0, 0
        if self.resid.shape[1] >= 3:
            varies = complete & ~rows.constant  # zero variance: no finite correlation
            z = rows.x0[varies] / np.sqrt(rows.total_sq[varies])[:, None]
            total = float((z.sum(axis=0) ** 2).sum()) - z.shape[0]
            count = z.shape[0] * (z.shape[0] - 1)
        gappy = np.flatnonzero(~complete)
        if gappy.size:
            gappy_rows = rows.take(gappy)
            among_gappy = _corr(gappy_rows, gappy_rows)
            np.fill_diagonal(among_gappy, np.nan)  # a row with itself is not a pair
            # Each pair of a gappy and a complete row is two ordered pairs.
            with_complete = _corr_with_complete(gappy_rows, rows.take(complete))
            for r, pairs in ((with_complete, 2), (among_gappy, 1)):
                finite = np.isfinite(r)
                total += pairs * float(r[finite].sum())
                count += pairs * int(finite.sum())
        return total, count

    def pair_sums(self, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""Sum and count of the finite correlations over ordered pairs of kept rows.

        Parameters
        ----------
        keep : ndarray of bool, shape (W, n)
            Rows kept, for each of ``W`` windows.

        Returns
        -------
        sums : ndarray of float, shape (W,)
        counts : ndarray of int, shape (W,)

        Notes
        -----
        From the cluster totals by taking out each window's dropped rows :math:`E`:
        :math:`\sum_{i\ne j\in K} r_{ij} = \sum_{i\ne j} r_{ij} - 2\sum_{e\in E} S_e +
        \sum_{e\ne e'\in E} r_{ee'}` with :math:`S_e` the off-diagonal row sum of row
        :math:`e`. Only the rows dropped in some window get their correlations computed, once
        for all windows; a window that drops most rows is summed directly.
        """
        total, count = self.totals
        sums = np.full(keep.shape[0], total)
        counts = np.full(keep.shape[0], count)
        drop = ~keep
        few = (drop.any(axis=1)) & (2 * drop.sum(axis=1) <= keep.shape[1])
        for w in np.flatnonzero(drop.any(axis=1) & ~few):
            sums[w], counts[w] = Cluster(self.rows[keep[w]], self.resid[keep[w]]).totals
        if few.any():
            dropped = np.flatnonzero(drop[few].any(axis=0))
            r0, finite = self._corr_rows(dropped)
            by_row, n_by_row = r0.sum(axis=1), finite.sum(axis=1)
            d = drop[few][:, dropped].astype(float)  # (windows, dropped rows)
            among = np.einsum("wi,ij,wj->w", d, r0[:, dropped], d)
            n_among = np.einsum("wi,ij,wj->w", d, finite[:, dropped].astype(float), d)
            sums[few] = total - 2.0 * d @ by_row + among
            counts[few] = count - 2 * np.rint(d @ n_by_row).astype(int) + np.rint(
                n_among).astype(int)
        return sums, counts


def day0_clusters(panel: ARPanel) -> list[np.ndarray]:
    """Row positions of the asset-events grouped by ``keys["day0"]`` (same calendar days)."""
    codes = panel.keys["day0"].factorize()[0]
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(order, bounds)


def mean_cross_correlation(panel: ARPanel, used: np.ndarray) -> list[tuple[float, str]]:
    r"""Average cross-correlation :math:`\bar r` over all pairs of the ``used`` asset-events.

    Pairs in different day-0 clusters count as uncorrelated (their event days are different
    calendar days); within a cluster, the average of the pairwise-complete correlations of
    the estimation residuals is used:

    .. math:: \bar r = \frac{\sum_g n_g(n_g-1)\,\bar r_g}{n(n-1)}.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns; ``keys["day0"]`` defines the clusters, ``est_resid`` the residuals.
    used : ndarray of bool, shape (W, N)
        Asset-events used, for each of ``W`` windows (all windows at once: the correlations
        of asset-events some window leaves out are computed once).

    Returns
    -------
    list of (float, str)
        For each window, :math:`\bar r` and a note: empty, or the reason :math:`\bar r` is NaN
        (a cluster with two or more used asset-events has no pair with enough common days).
    """
    n = used.sum(axis=1)
    weighted = np.zeros(used.shape[0])
    undefined = np.zeros(used.shape[0], dtype=bool)
    # Asset-events alone on their day 0 have no pair. Clusters are independent: spread over
    # threads, each cluster's residuals copied only while its task runs.
    groups = [rows for rows in day0_clusters(panel) if rows.size > 1]
    sums = thread_map(
        lambda rows: Cluster(rows, panel.est_resid[rows]).pair_sums(used[:, rows]), groups)
    for rows, (off_sum, count) in zip(groups, sums, strict=True):
        ng = used[:, rows].sum(axis=1)
        pairs = ng >= 2
        undefined |= pairs & (count == 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            weighted += np.where(pairs & (count > 0), ng * (ng - 1) * off_sum / count, 0.0)
    out = []
    for w in range(used.shape[0]):
        if n[w] < 2:
            out.append((0.0, ""))
        elif undefined[w]:
            out.append((np.nan, "the cross-correlation of estimation residuals is undefined "
                        "(fewer than 3 common estimation days in every pair of an event date)"))
        else:
            out.append((weighted[w] / (n[w] * (n[w] - 1)), ""))
    return out
