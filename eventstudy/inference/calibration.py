"""Rejection rates of tests over many replications (for placebo and simulation studies)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from eventstudy.exceptions import SpecificationError

__all__ = ["rejection_rates"]


def rejection_rates(
    table: pd.DataFrame,
    levels: Sequence[float] = (0.01, 0.05, 0.10),
    by: Sequence[str] = ("test", "start", "end"),
) -> pd.DataFrame:
    r"""Share of replications in which each test rejects at each level.

    Parameters
    ----------
    table : pandas.DataFrame
        Test tables of many replications stacked (e.g. :func:`run_tests` outputs
        concatenated); needs a ``pvalue`` column and the ``by`` columns.
    levels : sequence of float, default (0.01, 0.05, 0.10)
        Significance levels, each in (0, 1).
    by : sequence of str, default ("test", "start", "end")
        Columns identifying one test of one window (add group or alternative columns when
        the table has several).

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, then ``level``, ``rate`` (share of replications with
        ``pvalue <= level`` among those with a p-value), ``mc_se`` (its binomial Monte Carlo
        standard error :math:`\sqrt{r(1-r)/R}`), ``reps`` (:math:`R`, replications with a
        p-value) and ``n_na`` (replications where the test did not apply).

    Raises
    ------
    SpecificationError
        If a column is missing or a level is outside (0, 1).
    """
    by = list(by)
    missing = [c for c in [*by, "pvalue"] if c not in table.columns]
    if missing:
        raise SpecificationError(f"table lacks column(s) {missing}; it has {list(table.columns)}.")
    levels = [float(a) for a in levels]
    if not levels or not all(0 < a < 1 for a in levels):
        raise SpecificationError(f"levels={levels!r} must be one or more numbers in (0, 1).")
    p = table["pvalue"].to_numpy(dtype=float)
    valid = np.isfinite(p)
    parts = []
    for a in levels:
        frame = table[by].assign(level=a, _reject=np.where(valid, p <= a, np.nan),
                                 _na=~valid)
        grouped = frame.groupby([*by, "level"], sort=False)
        part = grouped.agg(rate=("_reject", "mean"), reps=("_reject", "count"),
                           n_na=("_na", "sum")).reset_index()
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["mc_se"] = np.sqrt(out["rate"] * (1 - out["rate"]) / out["reps"])
    out["n_na"] = out["n_na"].astype(int)
    return out[[*by, "level", "rate", "mc_se", "reps", "n_na"]].sort_values(
        [*by, "level"], kind="stable").reset_index(drop=True)
