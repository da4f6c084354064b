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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from eventstudy._parallel import thread_map
from eventstudy._typing import ALTERNATIVES, check_option, check_window
from eventstudy.abnormal import ARPanel, as_slice
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

    def usable() -> np.ndarray:
        fit_ok = panel.cached(("sigma_ok",),
                              lambda: np.isfinite(panel.sigma) & (panel.sigma > 0))
        return np.isfinite(car) & fit_ok

    return car, panel.cached(("usable", start, end), usable)


def scar(panel: ARPanel, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Standardized CARs (CLM eq. 4.4.11 variance) and the usable mask."""
    return panel.scar(start, end), window_cars(panel, start, end)[1]


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
def _constant_rows(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` whose values (NaN ignored) are all equal: zero variance over any days.

    Compared exactly: rounding would not give such a row a variance of exactly zero.
    """
    return ~(np.fmax.reduce(x, axis=1) > np.fmin.reduce(x, axis=1))


@dataclass(frozen=True)
class _Rows:
    """Rows of residuals prepared once for many pairwise-complete correlations.

    Each row is centred on its own mean (correlations do not change; the one-pass sums below
    then do not cancel), missing days are 0 in ``x0`` and 1 in ``absent``; ``missing_days``
    lists them row after row, row ``i``'s from ``missing_starts[i]``.
    """

    x0: np.ndarray
    total: np.ndarray
    total_sq: np.ndarray
    absent: np.ndarray
    missing_days: np.ndarray
    missing_starts: np.ndarray
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
        constant = _constant_rows(x)
        n_missing = x.shape[1] - count
        return cls(x0, x0.sum(axis=1), np.einsum("ij,ij->i", x0, x0),
                   (~finite).astype(float), np.nonzero(~finite)[1],
                   np.concatenate([[0], np.cumsum(n_missing)]), n_missing, constant)

    @property
    def few_missing(self) -> bool:
        """Whether at most 5 % of the days are missing (sums over them by gathering)."""
        return self.missing_days.size <= 0.05 * self.absent.size


def _missing_day_sums(rows: _Rows, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's sums of ``values`` and of their squares over its missing days.

    Parameters
    ----------
    rows : _Rows
        ``g`` rows with their missing days.
    values : ndarray, shape (m, L)
        Values by day.

    Returns
    -------
    sums, square_sums : ndarray, shape (g, m)
        Entry ``(i, j)`` sums ``values[j, d]`` (``values[j, d] ** 2``) over row ``i``'s
        missing days ``d``: gathered once and added when few days are missing, else matrix
        products with the missing-day indicators.
    """
    if not rows.few_missing:
        return rows.absent @ values.T, rows.absent @ np.square(values).T
    columns = values.T  # columns[d]: day d's values of every series (a strided gather)
    starts = rows.missing_starts[:-1]
    # Each row's first missing day, then its k-th, k = 1, 2, ... (rows summed in day order).
    has = np.flatnonzero(rows.n_missing)
    if has.size == rows.n_missing.size:  # usual for rows chosen for their missing days
        sums = columns[rows.missing_days[starts]]
    else:
        sums = np.zeros((rows.n_missing.size, values.shape[0]))
        sums[has] = columns[rows.missing_days[starts[has]]]
    square_sums = np.square(sums)
    for k in range(1, int(rows.n_missing.max(initial=0))):
        more = np.flatnonzero(rows.n_missing > k)
        on = columns[rows.missing_days[starts[more] + k]]
        sums[more] += on
        square_sums[more] += np.square(on, out=on)
    return sums, square_sums


def _corr(a: _Rows, b: _Rows, min_periods: int = 3) -> np.ndarray:
    """Pairwise-complete correlations of the rows of ``a`` with those of ``b``.

    One dense product of the zero-filled rows; the sums over a pair's common days are each
    row's totals less its values on the other row's missing days.
    """
    n = _missing_day_sums(b, a.absent)[0].T  # days both rows miss
    n += a.x0.shape[1] - a.n_missing[:, None] - b.n_missing
    b_off, bb_off = _missing_day_sums(a, b.x0)
    # a's values on b's missing days: the transpose of the above for the rows with themselves.
    a_off, aa_off = (sums.T for sums in ((b_off, bb_off) if a is b
                                         else _missing_day_sums(b, a.x0)))
    sa = np.subtract(a.total[:, None], a_off)
    sb = np.subtract(b.total, b_off)
    # Co-moments over the common days, in place: (n_a, n_b) temporaries are most of the time.
    with np.errstate(invalid="ignore", divide="ignore"):
        r = a.x0 @ b.x0.T
        r -= sa * sb / n
        var_a = np.subtract(a.total_sq[:, None], aa_off)
        var_a -= np.square(sa, out=sa) / n
        var_b = np.subtract(b.total_sq, bb_off)
        var_b -= np.square(sb, out=sb) / n
        var_a *= var_b
        r /= np.sqrt(var_a, out=var_a)
    r[(n < min_periods) | ~np.isfinite(r)] = np.nan
    r[a.constant] = np.nan
    r[:, b.constant] = np.nan
    return np.clip(r, -1.0, 1.0, out=r)


def _corr_with_complete(
    a: _Rows, dev: np.ndarray, css: np.ndarray, constant: np.ndarray, min_periods: int = 3
) -> np.ndarray:
    r"""Pairwise-complete correlations of rows ``a`` with rows ``b`` that miss no day.

    ``b`` is given centred (``dev``, rows x days), with its centred sums of squares ``css``
    and the rows that enter no correlation (``constant``: NaN columns of the result).
    The common days of a pair are :math:`a_i`'s :math:`n_i` days :math:`D_i`. With
    :math:`a_i` centred on them and scaled to norm 1 (:math:`\hat a_i`, 0 elsewhere) and
    :math:`b_j` centred over all days, :math:`r_{ij} = \hat a_i'b_j / s_{ij}` where
    :math:`s_{ij}^2 = \sum_{D_i} b_j^2 - (\sum_{D_i} b_j)^2/n_i` and the sums over
    :math:`D_i` are :math:`b_j`'s totals less its values on :math:`a_i`'s missing days
    (:math:`\sum_{D_i} b_j = -m_{ij}`). Rows of ``dev`` that are all 0 give NaN.
    """
    n = (a.x0.shape[1] - a.n_missing)[:, None]
    m, m_sq = _missing_day_sums(a, dev)  # b_j's values on a_i's missing days
    var_b = np.subtract(css, m_sq, out=m_sq)
    var_b -= np.square(m, out=m) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a.x0 / np.sqrt(a.total_sq)[:, None]) @ dev.T
        r /= np.sqrt(var_b, out=var_b)
    r[~np.isfinite(r)] = np.nan
    r[(n[:, 0] < min_periods) | a.constant] = np.nan
    r[:, constant] = np.nan
    return np.clip(r, -1.0, 1.0, out=r)


@dataclass(frozen=True)
class _Prepared:
    r"""A cluster's rows prepared once for its sums and for correlations of chosen rows.

    Rows without missing days (``complete``) are centred (``dev``) and scaled by ``weight``
    (:math:`1/\lVert dev_i\rVert`; 0 for constant rows, rows with missing days, and every
    row when fewer than 3 days are left); the correlations of the rows with missing days
    (``gappy``) with every row are computed once (``gappy_corr``, NaN where undefined).
    """

    dev: np.ndarray
    weight: np.ndarray
    complete: np.ndarray
    gappy: np.ndarray
    gappy_corr: np.ndarray
    gappy_position: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, min_periods: int = 3) -> _Prepared:
        """Prepare the rows of ``x`` (rows x days, NaN on missing days)."""
        sums = x.sum(axis=1)
        complete = np.isfinite(sums)  # a row sum is NaN exactly when a day is missing
        if x.size and not complete.any():
            # Days no row has (e.g. excluded for contamination) enter no pair: left out.
            x = x[:, np.isfinite(x).any(axis=0)]
            sums = x.sum(axis=1)
            complete = np.isfinite(sums)
        n, days = x.shape
        dev = x - np.where(complete, sums / max(days, 1), 0.0)[:, None]
        gappy = np.flatnonzero(~complete)
        dev[gappy] = 0.0
        css = np.einsum("ij,ij->i", dev, dev)
        # A constant row has zero variance over any days, which rounding would not say exactly:
        # its centred sum of squares is at most about days * (days * eps * mean)^2. Only rows
        # that small relative to their sum of squares are compared with their extremes.
        constant = np.zeros(n, dtype=bool)
        with np.errstate(invalid="ignore"):
            tiny = np.flatnonzero(complete & (css <= 1e-20 * (css + days * (sums / days) ** 2)))
        if tiny.size:
            constant[tiny] = _constant_rows(x[tiny])
        varies = complete & ~constant & (days >= min_periods)
        with np.errstate(divide="ignore"):
            weight = np.where(varies, 1.0 / np.sqrt(css), 0.0)
        position = np.full(n, -1)
        position[gappy] = np.arange(gappy.size)
        gappy_corr = np.empty((0, n))
        if gappy.size:
            rows = _Rows.of(x[gappy])
            gappy_corr = _corr_with_complete(rows, dev, css, ~varies, min_periods)
            among = _corr(rows, rows, min_periods)
            np.fill_diagonal(among, np.nan)  # a row with itself is not a pair
            gappy_corr[:, gappy] = among
        return cls(dev, weight, complete, gappy, gappy_corr, position)

    def corr_rows(self, of: np.ndarray) -> np.ndarray:
        """Correlations of rows ``of`` with every row, NaN where undefined or with itself."""
        r = np.empty((of.size, self.dev.shape[0]))
        full = self.complete[of]
        if full.any():
            rows = of[full]
            z = self.dev[rows] * self.weight[rows, None]
            with np.errstate(invalid="ignore"):
                c = (z @ self.dev.T) * self.weight
            c[:, self.weight == 0] = np.nan
            c[self.weight[rows] == 0] = np.nan
            c[:, self.gappy] = self.gappy_corr[:, rows].T
            r[full] = c
        r[~full] = self.gappy_corr[self.gappy_position[of[~full]]]
        r[np.arange(of.size), of] = np.nan
        return np.clip(r, -1.0, 1.0, out=r)


@dataclass(frozen=True)
class Cluster:
    """Asset-events that share day 0, with their estimation residuals (rows x days).

    Days no row has (e.g. excluded for contamination) enter no pair. ``resid`` may be a view
    of the panel's residuals; it is not changed.
    """

    rows: np.ndarray
    resid: np.ndarray
    # Computed once, on first use. Not functools.cached_property: before Python 3.12 its lock
    # is shared by every instance, so clusters on different threads waited for each other.
    _memo: dict[str, object] = field(default_factory=dict, init=False, repr=False,
                                     compare=False)

    @property
    def _prepared(self) -> _Prepared:
        if "prepared" not in self._memo:
            self._memo["prepared"] = _Prepared.of(self.resid)
        return self._memo["prepared"]  # type: ignore[return-value]

    def _corr_rows(self, of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Correlations of rows ``of`` with every row (0 where not finite), and finiteness.

        A row with itself is not a pair: that entry is 0 and not finite.
        """
        r = self._prepared.corr_rows(of)
        finite = np.isfinite(r)
        return np.where(finite, r, 0.0), finite

    @property
    def totals(self) -> tuple[float, int]:
        r"""Sum and count of the finite correlations :math:`r_{ij}`, :math:`i\ne j`.

        The same numbers as pandas' pairwise-complete ``corr`` summed off its diagonal, in
        O(n L) for rows without missing days: with those rows :math:`z_i` scaled to mean 0
        and norm 1 (all pairs share all days), :math:`\sum_{i\ne j} r_{ij} =
        \lVert\sum_i z_i\rVert^2 - n` (one matrix-vector product). Only the pairs involving
        a row with missing days need their own correlations.
        """
        rows = self._prepared
        n_varies = int(np.count_nonzero(rows.weight))
        zsum = rows.weight @ rows.dev
        total, count = float(zsum @ zsum) - n_varies, n_varies * (n_varies - 1)
        if rows.gappy.size:
            finite = np.isfinite(rows.gappy_corr)
            by_row = np.where(finite, rows.gappy_corr, 0.0).sum(axis=0)
            n_by_row = finite.sum(axis=0)
            # Each pair of a gappy and a complete row is two ordered pairs.
            pairs = np.where(rows.complete, 2, 1)
            total += float(pairs @ by_row)
            count += int(pairs @ n_by_row)
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
    # threads, each cluster's work arrays exist only while its task runs.
    groups = [rows for rows in day0_clusters(panel) if rows.size > 1]

    # Rows of one event are contiguous: a view of the panel's residuals, not a copy.
    sums = thread_map(lambda rows: Cluster(rows, panel.est_resid[as_slice(rows)])
                      .pair_sums(used[:, rows]), groups,
                      elements=sum(rows.size for rows in groups) * panel.est_resid.shape[1])
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
