r"""Inference for each asset-event on its own: what a single political event needs.

* Parametric t (Campbell, Lo & MacKinlay 1997, eqs. 4.4.9–4.4.13):
  :math:`t = \widehat{CAR}/\sqrt{\widehat{Var}(\widehat{CAR})}` against Student t with
  :math:`L_1-k` degrees of freedom (``single_dist="t"``) or the standard normal.
* Sample-quantile (SQ) test (Gelbach, Helland & Klick 2013): the event CAR over :math:`L`
  days is compared with the empirical distribution of all :math:`L`-day sums of consecutive
  estimation-window residuals. It does not assume normal returns, so it stays valid with
  fat tails; its smallest attainable p-value is :math:`1/S` (two-sided :math:`2/S`) with
  :math:`S` the number of such sums.
* Multiple-testing adjustment across the assets of one event and window: Holm (1979)
  step-down and Benjamini–Hochberg (1995) false-discovery rate, via statsmodels.

References
----------
Campbell, J. Y., Lo, A. W., & MacKinlay, A. C. (1997). *The Econometrics of Financial
Markets*, ch. 4.

Gelbach, J. B., Helland, E., & Klick, J. (2013). Valid inference in single-firm, single-event
studies. *American Law and Economics Review*, 15(2), 495–541.

Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
Journal of Statistics*, 6(2), 65–70.

Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate. *Journal of the
Royal Statistical Society B*, 57(1), 289–300.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from eventstudy._typing import ALTERNATIVES, check_option
from eventstudy.abnormal import ARPanel

__all__ = ["adjust_pvalues", "ar_table", "car_table", "pvalue", "sq_pvalue"]


def pvalue(
    stat: np.ndarray, alternative: str = "two-sided", df: np.ndarray | float | None = None
) -> np.ndarray:
    """P-value of ``stat`` under Student t with ``df`` degrees of freedom, or N(0,1) if None.

    Parameters
    ----------
    stat : ndarray
        Test statistics.
    alternative : {"two-sided", "greater", "less"}
    df : ndarray or float, optional
        Degrees of freedom (broadcast against ``stat``).

    Returns
    -------
    ndarray
    """
    check_option("alternative", alternative, ALTERNATIVES)
    dist = stats.norm if df is None else stats.t(df)
    if alternative == "greater":
        return dist.sf(stat)
    if alternative == "less":
        return dist.cdf(stat)
    return 2.0 * dist.sf(np.abs(stat))


def sq_pvalue(
    panel: ARPanel, start: int, end: int, alternative: str = "two-sided"
) -> tuple[np.ndarray, np.ndarray]:
    """Gelbach–Helland–Klick sample-quantile p-value of each CAR over ``start..end``.

    Returns
    -------
    pvalue : ndarray, shape (N,)
        ``P(S >= CAR)`` (greater), ``P(S <= CAR)`` (less) or twice the smaller (two-sided,
        capped at 1), with ``S`` the empirical distribution of same-length sums of
        consecutive estimation residuals; sums that span a missing day are left out.
    n_sums : ndarray of int, shape (N,)
        Number of sums in each reference distribution.
    """
    check_option("alternative", alternative, ALTERNATIVES)
    length = end - start + 1
    car = panel.car(start, end)
    resid = panel.est_resid
    L1 = resid.shape[1]
    if length > L1:
        nan = np.full(len(panel), np.nan)
        return nan, np.zeros(len(panel), dtype=int)
    filled = np.nan_to_num(resid)
    csum = np.concatenate([np.zeros((len(panel), 1)), np.cumsum(filled, axis=1)], axis=1)
    cmiss = np.concatenate(
        [np.zeros((len(panel), 1)), np.cumsum(np.isnan(resid), axis=1)], axis=1
    )
    sums = csum[:, length:] - csum[:, :-length]  # (N, L1 - length + 1)
    ok = (cmiss[:, length:] - cmiss[:, :-length]) == 0
    n_sums = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_upper = ((sums >= car[:, None]) & ok).sum(axis=1) / n_sums
        p_lower = ((sums <= car[:, None]) & ok).sum(axis=1) / n_sums
    if alternative == "greater":
        p = p_upper
    elif alternative == "less":
        p = p_lower
    else:
        p = np.minimum(1.0, 2.0 * np.minimum(p_upper, p_lower))
    p = np.where(np.isfinite(car) & (n_sums > 0), p, np.nan)
    return p, n_sums


def _dist_df(panel: ARPanel, single_dist: str) -> np.ndarray | None:
    return panel.df.astype(float) if single_dist == "t" else None


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
    ids = panel.keys["event_id"].to_numpy()
    dates = np.stack([event_dates[e].to_numpy() for e in ids]) if n else np.empty((0, L2))
    return pd.DataFrame(
        {
            "event_id": np.repeat(ids, L2),
            "asset": np.repeat(panel.keys["asset"].to_numpy(), L2),
            "tau": np.tile(panel.taus, n),
            "date": dates.reshape(-1),
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
) -> pd.DataFrame:
    """CAR, BHAR and per-asset tests for each asset-event and window.

    Returns
    -------
    pandas.DataFrame
        Columns ``event_id, asset, start, end, car, std_error, tstat, pvalue, bhar,
        pvalue_sq, n_sq, pvalue_holm, pvalue_bh``. The adjusted p-values adjust ``pvalue``
        across the assets of the same event and window.
    """
    df = _dist_df(panel, single_dist)
    parts = []
    for start, end in windows:
        car = panel.car(start, end)
        se = np.sqrt(panel.car_var(start, end))
        tstat = car / se
        p_sq, n_sq = sq_pvalue(panel, start, end, alternative)
        parts.append(
            pd.DataFrame(
                {
                    "event_id": panel.keys["event_id"].to_numpy(),
                    "asset": panel.keys["asset"].to_numpy(),
                    "start": start,
                    "end": end,
                    "car": car,
                    "std_error": se,
                    "tstat": tstat,
                    "pvalue": pvalue(tstat, alternative, df),
                    "bhar": panel.bhar(start, end),
                    "pvalue_sq": p_sq,
                    "n_sq": n_sq,
                }
            )
        )
    table = pd.concat(parts, ignore_index=True)
    return adjust_pvalues(table, ["event_id", "start", "end"])


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
    out["pvalue_holm"] = np.nan
    out["pvalue_bh"] = np.nan
    ok = out[column].notna().to_numpy()
    if not ok.any():
        return out
    family = out.loc[ok, by].groupby(by, sort=False).ngroup().to_numpy()
    p = out.loc[ok, column].to_numpy(dtype=float)
    order = np.lexsort((p, family))
    fam, ps = family[order], p[order]
    m = np.bincount(fam)[fam]
    first = np.r_[0, np.flatnonzero(np.diff(fam)) + 1]
    rank = np.arange(len(ps)) - np.repeat(first, np.diff(np.r_[first, len(ps)])) + 1
    holm = pd.Series(np.minimum(1.0, (m - rank + 1) * ps)).groupby(fam).cummax().to_numpy()
    bh_raw = pd.Series(np.minimum(1.0, m * ps / rank))
    bh = bh_raw[::-1].groupby(fam[::-1]).cummin()[::-1].to_numpy()
    rows = np.flatnonzero(ok)[order]
    out.iloc[rows, out.columns.get_loc("pvalue_holm")] = holm
    out.iloc[rows, out.columns.get_loc("pvalue_bh")] = bh
    return out
