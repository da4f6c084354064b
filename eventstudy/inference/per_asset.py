r"""Inference for each asset-event on its own: what a single political event needs.

* Parametric t (Campbell, Lo & MacKinlay 1997, eqs. 4.4.9–4.4.13):
  :math:`t = \widehat{CAR}/\sqrt{\widehat{Var}(\widehat{CAR})}` against Student t with
  :math:`L_1-k` degrees of freedom (``single_dist="t"``) or the standard normal.
* Sample-quantile (SQ) test (Gelbach, Helland & Klick 2013): the event CAR over :math:`L`
  days is compared with the empirical distribution of all :math:`L`-day sums of consecutive
  estimation-window residuals. It does not assume normal returns, so it stays valid with
  fat tails. The one-sided p-value counts the event CAR itself among the :math:`S+1` values,
  :math:`(1 + \#\{s \ge CAR\})/(S+1)` (Davison & Hinkley 1997, eq. 4.11), so it is never 0:
  its smallest value is :math:`1/(S+1)` (two-sided :math:`2/(S+1)`).
* Multiple-testing adjustment across the assets of one event and window: Holm (1979)
  step-down and Benjamini–Hochberg (1995) false-discovery rate, via statsmodels.

References
----------
Campbell, J. Y., Lo, A. W., & MacKinlay, A. C. (1997). *The Econometrics of Financial
Markets*, ch. 4.

Gelbach, J. B., Helland, E., & Klick, J. (2013). Valid inference in single-firm, single-event
studies. *American Law and Economics Review*, 15(2), 495–541.

Davison, A. C., & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*, ch. 4.
Cambridge University Press.

Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
Journal of Statistics*, 6(2), 65–70.

Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate. *Journal of the
Royal Statistical Society B*, 57(1), 289–300.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special

from eventstudy._parallel import row_slices, thread_map, thread_shares
from eventstudy._typing import ALTERNATIVES, check_option
from eventstudy.abnormal import ARPanel

__all__ = ["adjust_pvalues", "ar_table", "car_table", "pvalue", "sq_pvalue"]


#: Asset-events per block of the sample-quantile test. Large enough that each numpy operation
#: outweighs its Python overhead, so blocks on two threads run in parallel (on this
#: benchmark's 2-core machine at 100,000 asset-events: 0.49 s on one thread with 256 or 4096
#: rows; 0.54 s on two threads with 256, 0.34 s with 4096).
SQ_BLOCK_ROWS = 4096

#: Sums compared with the CARs at a time: a chunk of consecutive sums of a block (64k values,
#: 512 KB) stays in the core's cache between its subtraction and its two comparisons (at 1,000
#: asset-events about a fifth faster than a whole block's sums at once).
SQ_CHUNK_ELEMENTS = 1 << 16


def pvalue(
    stat: np.ndarray, alternative: str = "two-sided", df: np.ndarray | float | None = None
) -> np.ndarray:
    """P-value of ``stat`` under Student t with ``df`` degrees of freedom, or N(0,1) if None.

    The same numbers as ``scipy.stats.t(df).sf`` / ``scipy.stats.norm.sf``, from the
    ``scipy.special`` functions they wrap (without the distribution objects' overhead).

    Parameters
    ----------
    stat : ndarray
        Test statistics.
    alternative : {"two-sided", "greater", "less"}
    df : ndarray or float, optional
        Degrees of freedom (broadcast against ``stat``); NaN p-values where ``df <= 0``.

    Returns
    -------
    ndarray
    """
    check_option("alternative", alternative, ALTERNATIVES)
    stat = np.asarray(stat, dtype=float)

    def cdf(x: np.ndarray) -> np.ndarray:
        if df is None:
            return special.ndtr(x)
        # Student t's CDF is costly (about 0.15 µs a value): large arrays use the threads.
        dfs, x = np.broadcast_arrays(df, x)
        if x.ndim == 0:
            return special.stdtr(dfs, x)
        out = np.empty(x.shape)
        thread_map(lambda rows: special.stdtr(dfs[rows], x[rows], out=out[rows]),
                   row_slices(len(x)), uses_blas=False)
        return out

    if alternative == "greater":
        return cdf(-stat)
    if alternative == "less":
        return cdf(stat)
    return 2.0 * cdf(-np.abs(stat))


def _running_sum(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Cumulative sums down the rows of ``x`` (L, c) into ``out`` (L + 1, c), ``out[0] = 0``.

    Row by row, so each column is summed in the same order as ``np.cumsum(axis=0)`` (equal
    results) while every step is one vectorized addition across the columns.
    """
    out[0] = 0
    for i in range(x.shape[0]):
        np.add(out[i], x[i], out=out[i + 1])
    return out


def _sq_counts(
    resid: np.ndarray, cars: np.ndarray, lengths: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compare each CAR with the same-length sums of consecutive estimation residuals.

    Parameters
    ----------
    resid : ndarray, shape (N, L1)
        Estimation residuals, NaN on unused days.
    cars : ndarray, shape (N, W)
        CAR of each asset-event over each of ``W`` windows.
    lengths : sequence of int
        Length of each window, each at most ``L1``.

    Returns
    -------
    upper, lower, n_sums : ndarray of int, shape (N, W)
        Number of sums ``>= CAR``, ``<= CAR``, and of sums without a missing day.

    Notes
    -----
    The residuals are handled in blocks of :data:`SQ_BLOCK_ROWS` asset-events (spread over
    :data:`eventstudy._parallel.THREADS` threads), transposed so that the running sums and
    the comparisons are vectorized across asset-events; the sums are the differences of
    running sums, as in a direct computation, formed and compared with the CARs in chunks of
    about :data:`SQ_CHUNK_ELEMENTS`. Asset-events without missing days come first, so only
    the rows with a missing day (the last of a block, usually few) get the masking of sums
    that span one.
    """
    resid = np.ascontiguousarray(resid)  # (a no-op for a fitted panel) so take() copies rows
    N, L1 = resid.shape
    shape = (N, len(lengths))
    upper, lower, n_sums = (np.empty(shape, dtype=np.intp) for _ in range(3))
    # Asset-events with a missing day (a row sum is NaN exactly then) need masks; the others,
    # usually most, are taken first and in blocks of their own.
    gappy = np.isnan(resid.sum(axis=1))
    order = np.concatenate([np.flatnonzero(~gappy), np.flatnonzero(gappy)])
    width = min(SQ_BLOCK_ROWS, N)
    chunk = max(8, SQ_CHUNK_ELEMENTS // max(width, 1))
    # Counts of at most L1 fit 16 bits for any real window: summing the flags as bytes into
    # 16-bit counters is the fastest reduction.
    count_type = np.uint16 if L1 < 2**16 else np.intp

    def count(flags: np.ndarray) -> np.ndarray:
        return np.add.reduce(flags.view(np.uint8), axis=0, dtype=count_type)

    def count_blocks(starts: Sequence[int]) -> None:
        # Work arrays reused by every block of this thread.
        rows_buf = np.empty((width, L1))
        csum_buf = np.empty((L1 + 1, width))
        cmiss_buf = np.empty((L1 + 1, width), dtype=np.int32)
        sums_buf = np.empty((min(chunk, L1), width))
        flag_buf = np.empty((min(chunk, L1), width), dtype=bool)
        bad_buf = np.empty((min(chunk, L1), width), dtype=bool)
        for lo in starts:
            rows = order[lo:lo + width]
            c = len(rows)
            block = np.take(resid, rows, axis=0, out=rows_buf[:c], mode="clip").T  # (L1, c)
            # Rows with a missing day come last in ``order``: columns g0: of the block.
            g0 = int(np.count_nonzero(~gappy[rows]))
            cmiss = None
            if g0 < c:
                missing = np.isnan(block[:, g0:])
                np.copyto(block[:, g0:], 0.0, where=missing)
                cmiss = _running_sum(missing, cmiss_buf[:, :c - g0])  # running count of missing
            csum = _running_sum(block, csum_buf[:, :c])
            for j, length in enumerate(lengths):
                size = L1 - length + 1
                car = cars[rows, j]
                n_bad, n_up, n_low = (np.zeros(c, dtype=count_type) for _ in range(3))
                for s0 in range(0, size, chunk):  # sums s0 .. s1 - 1
                    s1 = min(s0 + chunk, size)
                    sums = np.subtract(csum[length + s0:length + s1], csum[s0:s1],
                                       out=sums_buf[:s1 - s0, :c])
                    if cmiss is not None:
                        # Sums spanning a missing day: excluded, counted as +inf, taken off.
                        bad = np.not_equal(cmiss[length + s0:length + s1], cmiss[s0:s1],
                                           out=bad_buf[:s1 - s0, :c - g0])
                        n_bad[g0:] += count(bad)
                        np.copyto(sums[:, g0:], np.inf, where=bad)
                    flag = flag_buf[:s1 - s0, :c]
                    n_up += count(np.greater_equal(sums, car, out=flag))
                    n_low += count(np.less_equal(sums, car, out=flag))
                n_sums[rows, j] = size - n_bad
                upper[rows, j] = n_up - n_bad
                lower[rows, j] = n_low

    # Blocks are independent (each writes its own rows): shared among the threads.
    thread_shares(count_blocks, range(0, N, width), uses_blas=False)
    return upper, lower, n_sums


def _sq_pvalues(
    panel: ARPanel, cars: np.ndarray, lengths: Sequence[int], alternative: str
) -> tuple[np.ndarray, np.ndarray]:
    """SQ p-values and reference-distribution sizes of ``cars`` (N, W); see :func:`sq_pvalue`."""
    lengths = np.asarray(lengths)
    L1 = panel.est_resid.shape[1]
    fits = lengths <= L1
    p = np.full(cars.shape, np.nan)
    n_sums = np.zeros(cars.shape, dtype=np.intp)
    if not fits.any():
        return p, n_sums
    upper, lower, n = _sq_counts(panel.est_resid, cars[:, fits], lengths[fits])
    with np.errstate(invalid="ignore", divide="ignore"):
        # The event CAR counts as one of the S + 1 draws: never a p-value of exactly 0.
        p_upper, p_lower = (upper + 1) / (n + 1), (lower + 1) / (n + 1)
    if alternative == "greater":
        pf = p_upper
    elif alternative == "less":
        pf = p_lower
    else:
        pf = np.minimum(1.0, 2.0 * np.minimum(p_upper, p_lower))
    p[:, fits] = np.where(np.isfinite(cars[:, fits]) & (n > 0), pf, np.nan)
    n_sums[:, fits] = n
    return p, n_sums


def sq_pvalue(
    panel: ARPanel, start: int, end: int, alternative: str = "two-sided"
) -> tuple[np.ndarray, np.ndarray]:
    """Gelbach–Helland–Klick sample-quantile p-value of each CAR over ``start..end``.

    Returns
    -------
    pvalue : ndarray, shape (N,)
        ``(1 + #{S >= CAR}) / (n + 1)`` (greater), ``(1 + #{S <= CAR}) / (n + 1)`` (less) or
        twice the smaller (two-sided, capped at 1), with ``S`` the ``n`` same-length sums of
        consecutive estimation residuals; sums that span a missing day are left out.
    n_sums : ndarray of int, shape (N,)
        Number of sums in each reference distribution.
    """
    check_option("alternative", alternative, ALTERNATIVES)
    car = panel.car(start, end)
    p, n_sums = _sq_pvalues(panel, car[:, None], [end - start + 1], alternative)
    return p[:, 0], n_sums[:, 0]


def _dist_df(panel: ARPanel, single_dist: str) -> np.ndarray | None:
    return panel.df.astype(float) if single_dist == "t" else None


def _repeat_rows(column: pd.Series, positions: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``column`` at integer ``positions``, keeping its dtype (no round trip through objects)."""
    return column.array.take(positions)


def ar_table(
    panel: ARPanel,
    event_dates: dict[str, pd.DatetimeIndex],
    alternative: str = "two-sided",
    single_dist: str = "t",
) -> pd.DataFrame:
    """Daily abnormal returns with standard errors, t statistics and p-values.

    Returns
    -------
    pandas.DataFrame
        Columns ``event_id, asset, tau, date, ar, std_error, tstat, pvalue``.
    """
    n, L2 = panel.ar.shape
    se = np.sqrt(panel.ar_var())
    tstat = panel.ar / se
    df = _dist_df(panel, single_dist)
    p = pvalue(tstat, alternative, None if df is None else df[:, None])
    codes, events = pd.factorize(panel.keys["event_id"])
    by_event = np.stack([event_dates[e].to_numpy() for e in events]) if n else np.empty((0, L2))
    rows = np.repeat(np.arange(n), L2)
    return pd.DataFrame(
        {
            "event_id": _repeat_rows(panel.keys["event_id"], rows),
            "asset": _repeat_rows(panel.keys["asset"], rows),
            "tau": np.tile(panel.taus, n),
            "date": by_event[codes].reshape(-1),
            "ar": panel.ar.reshape(-1),
            "std_error": se.reshape(-1),
            "tstat": tstat.reshape(-1),
            "pvalue": p.reshape(-1),
        }
    )


def car_table(
    panel: ARPanel,
    windows: Sequence[tuple[int, int]],
    alternative: str = "two-sided",
    single_dist: str = "t",
    sample_quantile: bool = True,
) -> pd.DataFrame:
    """CAR, BHAR and per-asset tests for each asset-event and window.

    All windows are computed together: one pass over the estimation residuals serves the
    sample-quantile test of every window.

    Parameters
    ----------
    panel : ARPanel
    windows : sequence of (int, int)
    alternative : {"two-sided", "greater", "less"}
    single_dist : {"t", "normal"}
        Reference distribution of the parametric t statistic.
    sample_quantile : bool, default True
        Whether to run the sample-quantile test (``pvalue_sq``, ``n_sq``). It compares each
        CAR with every same-length sum of estimation residuals, which makes it the costliest
        column; without it the table has the other columns only.

    Returns
    -------
    pandas.DataFrame
        Columns ``event_id, asset, start, end, car, std_error, tstat, pvalue, bhar,
        pvalue_sq, n_sq, pvalue_holm, pvalue_bh`` (``pvalue_sq`` and ``n_sq`` only with
        ``sample_quantile``), window by window. The adjusted p-values adjust ``pvalue`` across
        the assets of the same event and window.
    """
    check_option("alternative", alternative, ALTERNATIVES)
    windows = [(int(a), int(b)) for a, b in windows]
    n, n_win = len(panel), len(windows)
    car = np.column_stack([panel.car(a, b) for a, b in windows]).reshape(n, n_win)
    se = np.sqrt(np.column_stack([panel.car_var(a, b) for a, b in windows]).reshape(n, n_win))
    tstat = car / se
    df = _dist_df(panel, single_dist)
    p = pvalue(tstat, alternative, None if df is None else df[:, None])
    bhar = np.column_stack([panel.bhar(a, b) for a, b in windows]).reshape(n, n_win)
    # Families for the multiple-testing adjustment: one event and one window.
    codes, _ = pd.factorize(panel.keys["event_id"])
    same = {w: i for i, w in enumerate(dict.fromkeys(windows))}  # a repeated window: one family
    win = np.array([same[w] for w in windows])
    family = (win[:, None] * (codes.max(initial=-1) + 1) + codes).reshape(-1)
    p_flat = p.T.reshape(-1)
    holm, bh = _adjust(p_flat, family)
    rows = np.tile(np.arange(n), n_win)
    columns = {
        "event_id": _repeat_rows(panel.keys["event_id"], rows),
        "asset": _repeat_rows(panel.keys["asset"], rows),
        "start": np.repeat([a for a, _ in windows], n),
        "end": np.repeat([b for _, b in windows], n),
        "car": car.T.reshape(-1),
        "std_error": se.T.reshape(-1),
        "tstat": tstat.T.reshape(-1),
        "pvalue": p_flat,
        "bhar": bhar.T.reshape(-1),
    }
    if sample_quantile:
        p_sq, n_sq = _sq_pvalues(panel, car, [b - a + 1 for a, b in windows], alternative)
        columns.update(pvalue_sq=p_sq.T.reshape(-1), n_sq=n_sq.T.reshape(-1))
    return pd.DataFrame({**columns, "pvalue_holm": holm, "pvalue_bh": bh})


def _adjust(p: np.ndarray, family: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Holm and Benjamini–Hochberg adjustment of ``p`` within each ``family`` code.

    NaN p-values stay NaN and are not counted; see :func:`adjust_pvalues` for the formulas.
    """
    holm = np.full(len(p), np.nan)
    bh = np.full(len(p), np.nan)
    ok = ~np.isnan(p)
    if not ok.any():
        return holm, bh
    rows = np.flatnonzero(ok)
    # Sort by family, then p: by p first, then a stable sort of the family codes in the
    # smallest integer type (a radix sort). Ties in p may come in any order: tied p-values
    # get the same adjusted value.
    rows = rows[np.argsort(p[rows])]
    codes = family[rows].astype(np.min_scalar_type(family[rows].max()))
    rows = rows[np.argsort(codes, kind="stable")]
    ps = p[rows]
    first = np.r_[0, np.flatnonzero(np.diff(family[rows])) + 1]
    sizes = np.diff(np.r_[first, len(ps)])
    m = np.repeat(sizes, sizes)
    rank = np.arange(len(ps)) - np.repeat(first, sizes) + 1
    holm_sorted = np.minimum(1.0, (m - rank + 1) * ps)
    bh_sorted = np.minimum(1.0, m * ps / rank)
    # Running max (Holm) and running min from the end (BH) within each family: one
    # accumulate per family (an event and a window), in place.
    for lo, hi in zip(first.tolist(), (first + sizes).tolist(), strict=True):
        np.maximum.accumulate(holm_sorted[lo:hi], out=holm_sorted[lo:hi])
        backwards = bh_sorted[lo:hi][::-1]
        np.minimum.accumulate(backwards, out=backwards)
    holm[rows], bh[rows] = holm_sorted, bh_sorted
    return holm, bh


def adjust_pvalues(table: pd.DataFrame, by: list[str], column: str = "pvalue") -> pd.DataFrame:
    r"""Add Holm and Benjamini–Hochberg adjusted p-values within groups of ``table``.

    Within a family of :math:`m` finite p-values sorted ascending,
    :math:`p^{Holm}_{(i)} = \max_{j\le i}\min(1, (m-j+1)\,p_{(j)})` and
    :math:`p^{BH}_{(i)} = \min_{j\ge i}\min(1, m\,p_{(j)}/j)` (the same values as
    ``statsmodels.stats.multitest.multipletests`` with ``"holm"`` and ``"fdr_bh"``, computed
    for all families at once).

    Parameters
    ----------
    table : pandas.DataFrame
        Must hold ``column`` and the ``by`` columns.
    by : list of str
        Families of hypotheses (default use: one event and one window, across assets).
    column : str, default "pvalue"

    Returns
    -------
    pandas.DataFrame
        ``table`` with ``pvalue_holm`` and ``pvalue_bh`` added; NaN p-values stay NaN and are
        not counted in :math:`m`.
    """
    out = table.copy()
    ok = out[column].notna().to_numpy()
    family = np.full(len(out), -1)
    family[ok] = out.loc[ok, by].groupby(by, sort=False).ngroup().to_numpy()
    out["pvalue_holm"], out["pvalue_bh"] = _adjust(out[column].to_numpy(dtype=float), family)
    return out
