r"""Nonparametric tests across asset-events: signs and ranks.

Notation as in :mod:`eventstudy.inference.parametric`. The rank and Corrado–Zivney tests use
each asset-event's combined series of :math:`L_1` estimation residuals and :math:`L_2`
event-window abnormal returns (missing days left out), and score each day; the window
statistic sums the daily cross-sectional average score over the window (Cowan 1992), scaled
by the time-series standard deviation of that average over all days:

.. math:: T = \frac{\sum_{t\in W}\bar U_t}{\sqrt{L}\;S(\bar U)},\qquad
          S(\bar U) = \sqrt{\frac{1}{T_d}\sum_{t}\bar U_t^2},

with :math:`T_d` the number of days with at least one score. The asset-events averaged are
those with a complete window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace

import numpy as np
from scipy import stats

from eventstudy._parallel import thread_map
from eventstudy.abnormal import ARPanel
from eventstudy.conventions import Conventions
from eventstudy.exceptions import SpecificationError
from eventstudy.inference._core import (
    NORMAL,
    Outcome,
    TestResult,
    not_applicable,
    prepare,
    run_windows,
    scar,
    t_dist,
    t_outcome,
    window_cars,
    with_pe,
    z_outcome,
)

__all__ = ["cz_sign", "grank", "gsign", "mrank", "rank", "sign", "wilcoxon"]

Windows = Sequence[tuple[int, int]]
_NO_DATA = "no asset-event has a complete window"


def _binomial_pvalue(k: int, n: int, p: float, alternative: str) -> float:
    """Exact binomial p-value of ``k`` successes in ``n`` trials (two-sided: doubled tail)."""
    upper = float(stats.binom.sf(k - 1, n, p))
    lower = float(stats.binom.cdf(k, n, p))
    if alternative == "greater":
        return upper
    if alternative == "less":
        return lower
    return min(1.0, 2.0 * min(upper, lower))


def sign(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Sign test of whether half of the CARs are positive.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: more positive CARs than one half.
    conventions : str or Conventions, default "clm"
        ``sign_pvalue``: exact binomial (``"exact"``) or normal approximation (``"normal"``,
        estudy2) p-value.

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    With :math:`w` positive CARs among the :math:`n` non-zero ones (zeros are left out),

    .. math:: Z = \frac{w - n/2}{\sqrt{n/4}},

    and the p-value is the exact binomial :math:`\mathrm{Bin}(n, 1/2)` tail of :math:`w`
    (two-sided: twice the smaller tail, capped at 1), or that of :math:`Z` under
    :math:`N(0,1)`. Independent asset-events; assumes a
    zero median abnormal return under the null, which fails for skewed returns (use
    :func:`gsign`).

    References
    ----------
    Cowan, A. R. (1992). Nonparametric event study tests. *Review of Quantitative Finance
    and Accounting*, 2(4), 343–358.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)

    def compute(start: int, end: int) -> Outcome:
        car, ok = window_cars(panel, start, end)
        x = car[ok]
        x = x[x != 0]
        n = x.size
        dist = f"binomial({n}, 0.5)"
        if n == 0:
            return not_applicable(0, dist, "no non-zero CAR")
        w = int((x > 0).sum())
        zeros = int(ok.sum()) - n
        note = f"{zeros} zero CARs left out" if zeros else ""
        z = (w - n / 2) / np.sqrt(n / 4)
        if conv.sign_pvalue == "normal":
            return z_outcome(z, n, alternative, note)
        return Outcome(z, _binomial_pvalue(w, n, 0.5, alternative), n, dist, note)

    return run_windows("sign", "P(CAR > 0) = 0.5", windows, alternative, conv, compute)


def gsign(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Cowan (1992) generalized sign test.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: more positive CARs than expected.
    conventions : str or Conventions, default "clm"
        ``gsign_phat``: :math:`\hat p` as the mean of the asset-events' shares (``"mean"``,
        Cowan 1992) or pooled over all their estimation days (``"pooled"``, estudy2).

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    The expected share of positive abnormal returns is estimated from the estimation window,
    as the average over asset-events of each one's share of positive residuals (Cowan 1992),
    or pooled, :math:`\sum_i\sum_t 1[e_{it}>0] / \sum_i T_i`:

    .. math:: \hat p = \frac1n\sum_i \frac{1}{T_i}\sum_{t} 1[e_{it} > 0],\qquad
              Z = \frac{w - n\hat p}{\sqrt{n\hat p(1-\hat p)}} \;\overset{a}{\sim}\; N(0,1),

    with :math:`w` the number of positive CARs. The same :math:`\hat p` is used for
    multi-day windows. Independent asset-events.

    References
    ----------
    Cowan, A. R. (1992). Nonparametric event study tests. *Review of Quantitative Finance
    and Accounting*, 2(4), 343–358.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)
    positive = (panel.est_resid > 0).sum(axis=1)
    days = np.isfinite(panel.est_resid).sum(axis=1)

    def compute(start: int, end: int) -> Outcome:
        car, ok = window_cars(panel, start, end)
        ok = ok & (days > 0)
        n = int(ok.sum())
        if n == 0:
            return not_applicable(0, NORMAL, _NO_DATA)
        if conv.gsign_phat == "pooled":
            p_hat = float(positive[ok].sum() / days[ok].sum())
        else:
            p_hat = float(np.mean(positive[ok] / days[ok]))
        if not 0 < p_hat < 1:
            return not_applicable(n, NORMAL, f"p̂ = {p_hat:g}: no variation in signs")
        w = int((car[ok] > 0).sum())
        return z_outcome((w - n * p_hat) / np.sqrt(n * p_hat * (1 - p_hat)), n, alternative,
                         f"p̂ = {p_hat:.4f}")

    return run_windows("gsign", "P(CAR > 0) = p̂", windows, alternative, conv, compute)


# --- daily-score tests (Corrado 1989, Corrado & Zivney 1992, Cowan 1992) ----------------------
# The (N, L1 + L2) series are scored a block of rows at a time, and each window's daily sums
# accumulated block by block (spans of blocks on threads): the temporaries stay small, and in
# the CPU cache, instead of a few N x (L1 + L2) arrays per test.
_BLOCK = 512
_SPAN = 16 * _BLOCK  # rows per thread task
_INT64_MAX = np.iinfo(np.int64).max


def _blocks(start: int, stop: int) -> Iterator[slice]:
    """Slices of at most ``_BLOCK`` consecutive rows covering ``range(start, stop)``."""
    return (slice(i, min(i + _BLOCK, stop)) for i in range(start, stop, _BLOCK))


def _sum_blocks(
    n: int,
    block_sums: Callable[[slice], Sequence[np.ndarray]],
    shapes: Sequence[tuple[int, ...]],
) -> list[np.ndarray]:
    """Sums of ``block_sums(rows)`` (arrays of ``shapes``) over blocks covering ``range(n)``.

    Spans of ``_SPAN`` rows run on threads (:func:`~eventstudy._parallel.thread_map`); the
    blocks are added up within each span and the spans in order, so the sums do not depend on
    the number of threads.
    """

    def add_up(parts: Iterable[Sequence[np.ndarray]]) -> list[np.ndarray]:
        total = [np.zeros(shape) for shape in shapes]
        for part in parts:
            for acc, x in zip(total, part, strict=True):
                acc += x
        return total

    def span(start: int) -> list[np.ndarray]:
        return add_up(block_sums(rows) for rows in _blocks(start, min(start + _SPAN, n)))

    return add_up(thread_map(span, range(0, n, _SPAN)))


def _combined(est: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Estimation and event-window series side by side, shape (n, L1 + L2)."""
    return np.concatenate([est, event], axis=1)


def _average_ties(sorted_rows: np.ndarray) -> np.ndarray:
    """1-based positions in rows sorted ascending, each run of equal values given its mean."""
    n, m = sorted_rows.shape
    position = np.arange(m)
    tied = sorted_rows[:, 1:] == sorted_rows[:, :-1]
    first = np.ones((n, m), dtype=bool)
    first[:, 1:] = ~tied
    last = np.ones((n, m), dtype=bool)
    last[:, :-1] = ~tied
    run_start = np.maximum.accumulate(np.where(first, position, 0), axis=1)
    run_end = np.minimum.accumulate(np.where(last, position, m)[:, ::-1], axis=1)[:, ::-1]
    return (run_start + run_end) / 2 + 1


def _row_ranks(x: np.ndarray) -> np.ndarray:
    """Rank of each value within its row, missing values left out (and left NaN).

    Ties get the average rank: the same numbers as
    ``scipy.stats.rankdata(x, axis=1, nan_policy="omit")``, several times faster. Meant for a
    block of rows (the temporaries are a few times the size of ``x``).
    """
    n, m = x.shape
    bits = max(1, (m - 1).bit_length())
    low = (1 << bits) - 1
    # An order-preserving int64 image of each value (``+ 0.0`` turns -0.0 into 0.0; NaN last)
    # with its lowest bits replaced by the column: one integer sort, much faster than an
    # argsort, orders each row by value and carries the columns along.
    keys = (x + 0.0).view(np.int64)
    keys ^= (keys >> 63) & _INT64_MAX
    missing = np.isnan(x)
    keys[missing] = _INT64_MAX
    keys &= ~low
    keys |= np.arange(m)
    keys.sort(axis=1)
    order = keys & low
    # Values whose keys agree except in the column bits may be equal (ties) or differ only in
    # those lowest bits (perhaps misordered): such rows are sorted again exactly.
    value = keys >> bits
    unsure = (value[:, 1:] == value[:, :-1]) & (value[:, 1:] != _INT64_MAX >> bits)
    redo = np.flatnonzero(unsure.any(axis=1))
    sorted_ranks = np.broadcast_to(np.arange(1.0, m + 1), (n, m))
    if redo.size:
        order[redo] = np.argsort(x[redo], axis=1)
        sorted_ranks = sorted_ranks.copy()
        sorted_ranks[redo] = _average_ties(np.sort(x[redo], axis=1))
    ranks = np.empty((n, m))
    np.put_along_axis(ranks, order, sorted_ranks, axis=1)
    ranks[missing] = np.nan
    return ranks


def _uniform_ranks(x: np.ndarray) -> np.ndarray:
    r"""Rank of each value within its row over the non-missing days, divided by count + 1.

    Ties get the average rank; missing values stay NaN. Under the null every finite entry of
    a row with :math:`M` values is uniform on :math:`\{1/(M+1), ..., M/(M+1)\}`.
    """
    return _row_ranks(x) / (np.isfinite(x).sum(axis=1, keepdims=True) + 1.0)


def _score_test(
    panel: ARPanel,
    block_scores: Callable[[slice], np.ndarray],
    windows: Windows,
    alternative: str,
    scale: str,
    conv: Conventions,
) -> dict[tuple[int, int], Outcome]:
    """Window statistics from daily scores of the combined series (zero mean under the null).

    ``block_scores(rows)`` gives the scores of the asset-events ``rows``, shape
    (rows, L1 + L2), NaN where a day is missing. ``scale="mean"`` averages the scores of each
    day (Corrado 1989); ``scale="sqrt"`` divides their sum by the square root of the day's
    count (Corrado & Zivney 1992). With ``conv.score_scaling == "estudy2"`` each day's sum is
    first multiplied by :math:`n/n_t` (R's ``rowMeans(x, na.rm=TRUE) * ncol(x)``) and the
    variance is divided by the mean number of scores per asset-event instead of the number
    of days.
    """
    l1 = panel.est_resid.shape[1]
    usable = np.array([window_cars(panel, start, end)[1] for start, end in windows],
                      dtype=float)

    def block_sums(rows: slice) -> tuple[np.ndarray, np.ndarray]:
        """Each window's daily sums and counts of the scores of its usable ``rows``."""
        scores = block_scores(rows)
        present = np.isfinite(scores)
        weights = usable[:, rows]
        return weights @ np.where(present, scores, 0.0), weights @ present

    shape = (len(windows), l1 + panel.ar.shape[1])
    totals, counts = _sum_blocks(len(panel), block_sums, [shape, shape])
    out = {}
    for (start, end), weights, total, count in zip(windows, usable, totals, counts, strict=True):
        n = int(weights.sum())
        if n == 0:
            out[start, end] = not_applicable(0, NORMAL, _NO_DATA)
            continue
        days = count > 0
        norm = count if scale == "mean" else np.sqrt(count)
        with np.errstate(invalid="ignore", divide="ignore"):
            ubar = np.where(days, total / norm, np.nan)
        if conv.score_scaling == "estudy2":
            with np.errstate(invalid="ignore", divide="ignore"):
                ubar = ubar * n / count
            length = count.sum() / n  # mean number of scores per asset-event
        else:
            length = days.sum()
        sd = np.sqrt(np.nansum(ubar**2) / length)
        if not sd > 0:
            out[start, end] = not_applicable(n, NORMAL, "the daily scores have zero variance")
            continue
        sl = panel.window_slice(start, end)
        window = ubar[l1 + sl.start:l1 + sl.stop]
        stat = window.sum() / (np.sqrt(window.size) * sd)
        out[start, end] = z_outcome(stat, n, alternative)
    return out


def rank(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Corrado (1989) rank test, with Cowan's (1992) multi-day window version.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: event-window ranks above their null mean.
    conventions : str or Conventions, default "clm"
        ``rank_scores``: ``"uniform"`` or ``"raw"`` (estudy2) scores; ``score_scaling``
        (see :func:`mrank`).

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    :math:`K_{it}` is the rank of day :math:`t` among the :math:`M_i` non-missing days of
    asset-event :math:`i`'s combined estimation and event series (raw abnormal returns);
    :math:`U_{it} = K_{it}/(M_i+1) - 1/2` (the Corrado & Zivney 1992 scaling; with
    ``rank_scores="raw"`` Corrado's :math:`K_{it} - (M_i+1)/2`, the same test up to a
    constant when no day is missing). With
    :math:`\bar U_t` the average over the asset-events present on day :math:`t`,

    .. math:: T = \frac{\sum_{t\in W}\bar U_t}{\sqrt{L}\,\sqrt{T_d^{-1}\sum_t \bar U_t^2}}
              \;\overset{a}{\sim}\; N(0,1).

    Independent asset-events; no distributional assumption on the returns.

    References
    ----------
    Corrado, C. J. (1989). A nonparametric test for abnormal security-price performance in
    event studies. *Journal of Financial Economics*, 23(2), 385–395.

    Cowan, A. R. (1992). Nonparametric event study tests. *Review of Quantitative Finance
    and Accounting*, 2(4), 343–358.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)

    def scores(rows: slice) -> np.ndarray:
        series = _combined(panel.est_resid[rows], panel.ar[rows])
        if conv.rank_scores == "raw":
            return _row_ranks(series) - (np.isfinite(series).sum(axis=1, keepdims=True) + 1) / 2
        return _uniform_ranks(series) - 0.5

    stats_by_window = _score_test(panel, scores, windows, alternative, "mean", conv)
    return run_windows("rank", "E[U] = 0 in the window (no abnormal ranks)", windows,
                       alternative, conv, lambda s, e: stats_by_window[s, e])


def _standardized_event(panel: ARPanel) -> np.ndarray:
    r"""Event ARs standardized, then re-standardized across asset-events day by day.

    Event ARs are divided by their standard deviation
    (:meth:`~eventstudy.abnormal.ARPanel.sar`); each event day's SARs are then divided by
    their cross-sectional standard deviation (Corrado & Zivney 1992; Kolari & Pynnönen 2011),
    which removes event-induced variance. (The estimation residuals they are ranked with are
    divided by :math:`\hat\sigma_i`.)
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        sar = panel.sar()
        sd = np.nanstd(sar, axis=0, ddof=1, keepdims=True)
        return sar / sd


#: Below this many asset-events, the tests that divide event-day standardized returns by their
#: cross-sectional standard deviation (``mrank``, ``grank``) reject too often: that divisor
#: is noisy, and their mean behaves like a t statistic with n - 1 degrees of freedom.
FEW_ASSET_EVENTS = 30


def _few_note(n: int) -> str:
    """A warning for :data:`FEW_ASSET_EVENTS`, or "" (see ``docs/grank_calibration.md``)."""
    if n >= FEW_ASSET_EVENTS:
        return ""
    return (f"n = {n} < {FEW_ASSET_EVENTS}: the cross-sectional re-standardization "
            "over-rejects with few asset-events (7.4 % at the 5 % level with n = 11 in a "
            "simulation; docs/grank_calibration.md)")


def mrank(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Corrado & Zivney (1992) modified rank test on standardized abnormal returns.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: event-window ranks above their null mean.
    conventions : str or Conventions, default "clm"
        ``prediction_error`` decides whether event ARs are standardized with the
        estimation-error term; ``mrank_returns="raw"`` ranks the raw abnormal returns
        (estudy2); ``score_scaling="estudy2"`` multiplies each day's sum by :math:`n/n_t`
        and divides the variance by the mean series length (estudy2's implementation).

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    Ranks are taken of standardized returns: estimation residuals over :math:`\hat\sigma_i`,
    event ARs over their standard deviation and then over the cross-sectional standard
    deviation of that event day's SARs (the correction for event-induced variance). With
    :math:`U_{it} = K_{it}/(M_i+1) - 1/2` and the day's scaled sum
    :math:`\bar U_t = n_t^{-1/2}\sum_i U_{it}`,

    .. math:: T = \frac{\sum_{t\in W}\bar U_t}{\sqrt{L}\,\sqrt{T_d^{-1}\sum_t \bar U_t^2}}
              \;\overset{a}{\sim}\; N(0,1).

    Independent asset-events. The cross-sectional re-standardization makes the test
    over-reject with few asset-events, as for :func:`grank`; below :data:`FEW_ASSET_EVENTS`
    the result's ``note`` says so.

    References
    ----------
    Corrado, C. J., & Zivney, T. L. (1992). The specification and power of the sign test in
    event study hypothesis tests using daily stock returns. *Journal of Financial and
    Quantitative Analysis*, 27(3), 465–478.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)
    standardized = conv.mrank_returns != "raw"
    event = (_standardized_event(with_pe(panel, conv.prediction_error)) if standardized
             else panel.ar)

    def scores(rows: slice) -> np.ndarray:
        est = panel.est_resid[rows]
        if standardized:
            with np.errstate(invalid="ignore", divide="ignore"):
                est = est / panel.sigma[rows, None]
        return _uniform_ranks(_combined(est, event[rows])) - 0.5

    stats_by_window = _score_test(panel, scores, windows, alternative, "sqrt", conv)
    if standardized:
        stats_by_window = {w: replace(o, note=o.note or _few_note(o.n))
                           for w, o in stats_by_window.items()}
    return run_windows("mrank", "E[U] = 0 in the window (no abnormal ranks)", windows,
                       alternative, conv, lambda s, e: stats_by_window[s, e])


def cz_sign(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Corrado & Zivney (1992) sign test (signs relative to each asset-event's median).

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: more event-window returns above the median than expected.
    conventions : str or Conventions, default "clm"
        ``score_scaling`` (see :func:`mrank`).

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    :math:`G_{it} = \operatorname{sign}(A_{it} - \operatorname{median}_t A_{it})` over the
    combined estimation and event series; with :math:`\bar G_t = n_t^{-1/2}\sum_i G_{it}`,

    .. math:: T = \frac{\sum_{t\in W}\bar G_t}{\sqrt{L}\,\sqrt{T_d^{-1}\sum_t \bar G_t^2}}
              \;\overset{a}{\sim}\; N(0,1).

    Robust to skewness (signs are taken about the median, not zero); independent
    asset-events.

    References
    ----------
    Corrado, C. J., & Zivney, T. L. (1992). The specification and power of the sign test in
    event study hypothesis tests using daily stock returns. *Journal of Financial and
    Quantitative Analysis*, 27(3), 465–478.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)

    def scores(rows: slice) -> np.ndarray:
        series = _combined(panel.est_resid[rows], panel.ar[rows])
        return np.sign(series - np.nanmedian(series, axis=1, keepdims=True))

    stats_by_window = _score_test(panel, scores, windows, alternative, "sqrt", conv)
    return run_windows("cz_sign", "P(AR > median) = 0.5 in the window", windows, alternative,
                       conv, lambda s, e: stats_by_window[s, e])


def _count_at_most(sorted_rows: np.ndarray, v: np.ndarray) -> np.ndarray:
    """How many values of row ``i`` are at most ``v[i, j]``, shape of ``v`` (rows, k).

    ``sorted_rows`` is sorted along each row, NaN last (never counted): a binary search of
    every row at once, by halving powers of two.
    """
    n, m = sorted_rows.shape
    flat = sorted_rows.ravel()
    first = (np.arange(n) * m)[:, None]
    last = first + m - 1
    count = np.zeros(v.shape, dtype=np.intp)
    step = 1 << (m.bit_length() - 1)
    while step:
        # A probe past the row's end reads its last value: the count then overshoots (and is
        # capped at m below) only when every value is at most v.
        probe = flat[np.minimum(first + count + (step - 1), last)]
        count += step * (probe <= v)
        step >>= 1
    return np.minimum(count, m)


def _grank_ranks(
    panel: ARPanel, scar_star: np.ndarray, with_days: bool
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    r"""Ranks of each window's :math:`SCAR_i^*` among asset-event :math:`i`'s residuals.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    scar_star : ndarray, shape (windows, N)
        :math:`SCAR_i^*` of each window; NaN where the asset-event is not usable.
    with_days : bool
        Also sum :math:`U_{it}` over each estimation day (GRANK-T).

    Returns
    -------
    t : ndarray of int, shape (N,)
        :math:`T_i`: the non-missing standardized residuals and the SCAR.
    k0 : ndarray, shape (windows, N)
        :math:`K_{i0}`, the average rank of :math:`SCAR_i^*` among those :math:`T_i` values.
    days : list of ndarray, shape (windows, L1)
        With ``with_days``, :math:`\sum_i U_{it}` and :math:`n_t` over each window's usable
        asset-events on the estimation days; else empty.

    Notes
    -----
    Instead of ranking each window's :math:`T_i` values afresh, the residuals are sorted and
    ranked once (a block of rows at a time), and :math:`SCAR_i^*` joins its row: its rank is
    :math:`1 + \#\{e < SCAR^*\} + \#\{e = SCAR^*\}/2`, and a residual's rank :math:`R_{it}`
    among the residuals alone goes up by 1 if it is above :math:`SCAR_i^*`, by 1/2 if equal.
    """
    n, l1 = panel.est_resid.shape
    usable = np.isfinite(scar_star).astype(float)
    t = np.empty(n, dtype=np.intp)
    k0 = np.empty(scar_star.shape)
    small = np.min_scalar_type(2 * l1)

    def block_sums(rows: slice) -> tuple[np.ndarray, ...]:
        """Fill ``t`` and ``k0`` of ``rows``; with ``with_days``, their day sums and counts."""
        with np.errstate(invalid="ignore", divide="ignore"):
            est = panel.est_resid[rows] / panel.sigma[rows, None]
        present = np.isfinite(est)
        t_block = present.sum(axis=1) + 1
        t[rows] = t_block
        sorted_est = np.sort(est, axis=1)
        v = scar_star[:, rows].T
        at_most = _count_at_most(sorted_est, v)
        # SCAR*_i ties with residuals only where the largest residual at most it equals it.
        largest = np.take_along_axis(sorted_est, np.maximum(at_most - 1, 0), axis=1)
        tie_row, tie_window = np.nonzero((at_most > 0) & (largest == v))
        below = at_most.copy()
        below[tie_row, tie_window] = np.sum(
            sorted_est[tie_row] < v[tie_row, tie_window, None], axis=1)
        k0[:, rows] = (1 + below + (at_most - below) / 2).T
        if not with_days:
            return ()
        # U_it = (K_it - (T_i + 1)/2) / (T_i + 1), K_it = R_it + the shift SCAR*_i brings.
        ranks = _row_ranks(est)
        weights = usable[:, rows] / (t_block + 1.0)
        sums = weights @ np.where(present, ranks - (t_block[:, None] + 1) / 2, 0.0)
        # Residual t is above SCAR*_i iff R_it > #{residuals <= SCAR*_i}: compared as small
        # integers (doubled ranks; ties have half ranks) for all windows at once (rows a
        # window does not use get a threshold no rank exceeds), and counted over the rows of
        # each T_i, which share the weight 1/(T_i + 1).
        by_t = np.argsort(t_block, kind="stable")
        doubled = np.where(present, 2 * ranks, 0).astype(small)[by_t]
        thresholds = np.where(usable[:, rows] > 0, 2 * at_most.T, 2 * l1).astype(small)
        above = (doubled > thresholds[:, by_t, None]).view(np.uint8)  # (windows, rows, L1)
        t_sorted = t_block[by_t]
        first = np.flatnonzero(np.diff(t_sorted, prepend=-1))
        for start, stop in zip(first, [*first[1:], len(t_sorted)], strict=True):
            count = np.add.reduce(above[:, start:stop], axis=1, dtype=np.uint16)  # <= _BLOCK
            sums += count / (t_sorted[start] + 1.0)
        # Residuals equal to SCAR*_i (rare) go up by 1/2.
        for i, window in zip(tie_row, tie_window, strict=True):
            sums[window] += 0.5 * weights[window, i] * (est[i] == v[i, window])
        return sums, usable[:, rows] @ present

    shape = (len(scar_star), l1)
    days = _sum_blocks(n, block_sums, [shape, shape] if with_days else [])
    return t, k0, days


def grank(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    variant: str = "t",
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Kolari & Pynnönen (2011) generalized rank test (GRANK-T or GRANK-Z).

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test; a multi-day window is collapsed into one observation.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: the window's ranks above their null mean.
    variant : {"t", "z"}, default "t"
        GRANK-T (robust to cross-correlation through the time-series variance of the mean
        rank) or GRANK-Z (the exact rank variance, assuming independent asset-events).
    conventions : str or Conventions, default "clm"
        ``prediction_error`` decides whether the SCAR includes the estimation-error term.

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    The generalized standardized abnormal returns of asset-event :math:`i` are its
    estimation-window standardized residuals :math:`e_{it}/\hat\sigma_i` and, as one more
    observation (:math:`t=0`), :math:`SCAR_i^* = SCAR_i/S_{SCAR}`, the SCAR re-standardized by
    its cross-sectional standard deviation. Ranks over these :math:`T_i` values give
    :math:`U_{it} = K_{it}/(T_i+1) - 1/2`; :math:`\bar U_t = n_t^{-1}\sum_i U_{it}` and, over
    the :math:`T` time points,

    .. math:: Z = \frac{\bar U_0}{S_{\bar U}},\quad
              S_{\bar U}^2 = \frac1T\sum_t \frac{n_t}{n}\bar U_t^2,\qquad
              t_{grank} = Z\sqrt{\frac{T-2}{T-1-Z^2}} \sim t(T-2).

    GRANK-Z uses the null variance of a uniform rank,
    :math:`\mathrm{Var}(U_{i0}) = (T_i-1)/(12(T_i+1))`:

    .. math:: Z_{grank} = \bar U_0 \Big/ \sqrt{n^{-2}\textstyle\sum_i (T_i-1)/(12(T_i+1))}
              \;\overset{a}{\sim}\; N(0,1).

    With few asset-events :math:`S_{SCAR}` is noisy and both variants over-reject (7.4 % at
    the 5 % level with 11 i.i.d. normal asset-events, 5.6 % with 50; see
    ``docs/grank_calibration.md``); below :data:`FEW_ASSET_EVENTS` the result's ``note`` says
    so.

    References
    ----------
    Kolari, J. W., & Pynnönen, S. (2011). Nonparametric rank tests for event studies.
    *Journal of Empirical Finance*, 18(5), 953–971.
    """
    if variant not in ("t", "z"):
        raise SpecificationError(f"variant={variant!r} is not valid; choose one of 't', 'z'.")
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)
    p = with_pe(panel, conv.prediction_error)

    def scar_star(start: int, end: int) -> np.ndarray | Outcome:
        """The window's SCAR*_i (NaN where not usable), or why GRANK does not apply."""
        z, ok = scar(p, start, end)
        n = int(ok.sum())
        if n < 2:
            return not_applicable(n, NORMAL, f"needs at least 2 asset-events; got {n}")
        s = float(np.std(z[ok], ddof=1))
        if not s > 0:
            return not_applicable(n, NORMAL, "the SCARs have zero cross-sectional variance")
        return np.where(ok, z / s, np.nan)

    stars = {w: scar_star(*w) for w in windows}
    tested = {w: i for i, w in enumerate(w for w, x in stars.items() if isinstance(x, np.ndarray))}
    t_i, k0, days = _grank_ranks(
        panel, np.array([stars[w] for w in tested]).reshape(len(tested), len(panel)),
        with_days=variant == "t")

    def compute(start: int, end: int) -> Outcome:
        if (start, end) not in tested:
            return stars[start, end]
        i = tested[start, end]
        ok = np.isfinite(stars[start, end])
        n = int(ok.sum())
        u0 = float(np.mean(k0[i, ok] / (t_i[ok] + 1.0) - 0.5))
        if variant == "z":
            t = t_i[ok]
            return z_outcome(u0 / np.sqrt(np.sum((t - 1) / (12 * (t + 1))) / n**2), n,
                             alternative, _few_note(n))
        sums, counts = days[0][i], days[1][i]
        used = counts > 0
        count = np.append(counts[used], n)
        ubar = np.append(sums[used] / counts[used], u0)
        n_t = count.size
        zstat = u0 / np.sqrt(np.mean(count / n * ubar**2))
        if not n_t - 1 - zstat**2 > 0:
            return not_applicable(n, t_dist(n_t - 2), "Z² ≥ T - 1: GRANK-T undefined")
        return t_outcome(zstat * np.sqrt((n_t - 2) / (n_t - 1 - zstat**2)), n_t - 2, n,
                         alternative, _few_note(n))

    name = "grank" if variant == "t" else "grank_z"
    return run_windows(name, "E[U_0] = 0 (window ranks uniform)", windows, alternative,
                       conv, compute)


def wilcoxon(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Wilcoxon signed-rank test of the CARs.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: CARs shifted above zero.
    conventions : str or Conventions, default "clm"
        ``wilcoxon_statistic``: report the standardized ``"z"`` or the raw ``"w_plus"``
        (estudy2); the p-value is the same.

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    Zero CARs are left out (Wilcoxon's convention). With :math:`W^+` the sum of the ranks of
    :math:`|CAR_i|` over positive CARs, the reported statistic is :math:`W^+` or the
    standardized

    .. math:: Z = \frac{W^+ - n(n+1)/4}{\sqrt{n(n+1)(2n+1)/24}} .

    The p-value is exact (the permutation distribution of :math:`W^+`,
    :func:`scipy.stats.wilcoxon` with ``method="exact"``) when :math:`n \le 50` and the
    :math:`|CAR_i|` have no ties; otherwise the normal approximation with tie correction.
    Assumes independent asset-events with CARs symmetric about their median.

    References
    ----------
    Wilcoxon, F. (1945). Individual comparisons by ranking methods. *Biometrics Bulletin*,
    1(6), 80–83.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)

    def compute(start: int, end: int) -> Outcome:
        car, ok = window_cars(panel, start, end)
        x = car[ok]
        x = x[x != 0]
        n = x.size
        if n == 0:
            return not_applicable(0, NORMAL, "no non-zero CAR")
        ranks = stats.rankdata(np.abs(x))
        exact = n <= 50 and np.unique(ranks).size == n
        w_plus = ranks[x > 0].sum()
        z = (w_plus - n * (n + 1) / 4) / np.sqrt(n * (n + 1) * (2 * n + 1) / 24)
        res = stats.wilcoxon(x, alternative=alternative, method="exact" if exact else "approx")
        dist = f"exact signed-rank (n={n})" if exact else NORMAL
        zeros = int(ok.sum()) - n
        stat = w_plus if conv.wilcoxon_statistic == "w_plus" else z
        return Outcome(float(stat), float(res.pvalue), n, dist,
                       f"{zeros} zero CARs left out" if zeros else "")

    return run_windows("wilcoxon", "CAR symmetric about 0", windows, alternative, conv,
                       compute)
