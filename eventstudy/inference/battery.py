r"""The test registry, the runner over windows and groups, aggregates and group differences."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import partial

import numpy as np
import pandas as pd

from eventstudy._typing import ALTERNATIVES, check_option, check_window
from eventstudy.abnormal import ARPanel
from eventstudy.conventions import Conventions, get_conventions
from eventstudy.exceptions import SpecificationError
from eventstudy.inference import nonparametric as _np
from eventstudy.inference import parametric as _p
from eventstudy.inference._core import TestResult, t_dist, window_cars
from eventstudy.inference.per_asset import pvalue

__all__ = ["TESTS", "DifferenceResult", "aggregate", "difference_test", "run_tests"]

#: Every test across asset-events, by name, in the order :func:`run_tests` runs them.
TESTS: dict[str, Callable[..., list[TestResult]]] = {
    "t_csect": _p.t_csect,
    "t_pooled": _p.t_pooled,
    "t_cda": _p.t_cda,
    "patell": _p.patell,
    "bmp": _p.bmp,
    "kp": _p.kp,
    "patell_adj": _p.patell_adj,
    "lamb": _p.lamb,
    "skew_t": _p.skew_t,
    "bootstrap": _p.bootstrap,
    "sign": _np.sign,
    "gsign": _np.gsign,
    "rank": _np.rank,
    "cz_sign": _np.cz_sign,
    "mrank": _np.mrank,
    "grank": _np.grank,
    "grank_z": partial(_np.grank, variant="z"),
    "wilcoxon": _np.wilcoxon,
}

RESULT_COLUMNS = [
    "test", "start", "end", "statistic", "pvalue", "n",
    "distribution", "null", "alternative", "note", "conventions",
]


def _all_windows(panel: ARPanel, windows: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Every event day as ``(tau, tau)``, then the CAR windows not already listed."""
    out = [(int(t), int(t)) for t in panel.taus]
    for w in windows:
        start, end = check_window("windows", w)
        panel.window_slice(start, end)
        if (start, end) not in out:
            out.append((start, end))
    return out


def _group_columns(panel: ARPanel, group_by: str | Sequence[str] | None) -> list[str]:
    """``group_by`` as a list of columns of ``panel.keys``, checked."""
    if group_by is None:
        return []
    cols = [group_by] if isinstance(group_by, str) else list(group_by)
    for c in cols:
        check_option("group_by", c, [str(k) for k in panel.keys.columns])
    return cols


def _groups(panel: ARPanel, cols: list[str]) -> list[tuple[dict[str, object], ARPanel]]:
    """``(group labels, sub-panel)`` for each group of ``cols`` (one group if none)."""
    if not cols:
        return [({}, panel)]
    out = []
    for key, frame in panel.keys.groupby(cols, sort=True, dropna=False):
        values = key if isinstance(key, tuple) else (key,)
        out.append((dict(zip(cols, values, strict=True)), panel.subset(frame.index.to_numpy())))
    return out


def run_tests(
    panel: ARPanel,
    windows: Sequence[tuple[int, int]] = (),
    tests: Sequence[str] | None = None,
    alternative: str = "two-sided",
    group_by: str | Sequence[str] | None = None,
    random_state: int | None = 0,
    conventions: str | Conventions = "clm",
    options: Mapping[str, Mapping[str, object]] | None = None,
) -> pd.DataFrame:
    """Run tests across asset-events for every event day and CAR window.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int), default ()
        CAR windows. Every day ``tau`` of the event window is tested too, as
        ``start == end == tau``.
    tests : sequence of str, optional
        Names from :data:`TESTS` (default: all, in registry order).
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis of every test.
    group_by : str or sequence of str, optional
        Columns of ``panel.keys``; the tests are run within each group.
    random_state : int or None, default 0
        Seed passed to tests that draw random numbers (``bootstrap``).
    conventions : str or Conventions, default "clm"
        Formula choices; the preset's name is recorded in the ``conventions`` column and its
        settings in ``DataFrame.attrs["conventions"]``.
    options : mapping, optional
        Extra keyword arguments per test, e.g. ``{"bootstrap": {"n_boot": 4999}}``.

    Returns
    -------
    pandas.DataFrame
        The group columns (if any), then ``test, start, end, statistic, pvalue, n,
        distribution, null, alternative, note, conventions``; one row per group, test and
        window.

    Raises
    ------
    SpecificationError
        If a test name, option, group column, ``alternative`` or ``conventions`` is unknown.
    WindowError
        If a window is malformed or outside the event window.
    """
    names = list(TESTS) if tests is None else [check_option("tests", t, TESTS) for t in tests]
    options = dict(options or {})
    for name in options:
        if name not in names:
            check_option("options key", name, names)
    check_option("alternative", alternative, ALTERNATIVES)
    conv = get_conventions(conventions)
    cols = _group_columns(panel, group_by)
    all_windows = _all_windows(panel, windows)

    rows = []
    for labels, sub in _groups(panel, cols):
        for name in names:
            func = TESTS[name]
            kwargs = dict(options.get(name, {}))
            if "random_state" in inspect.signature(func).parameters:
                kwargs.setdefault("random_state", random_state)
            for res in func(sub, all_windows, alternative, conventions=conv, **kwargs):
                rows.append({**labels, **vars(res)})  # its fields (asdict deep-copies)
    table = pd.DataFrame(rows, columns=[*cols, *RESULT_COLUMNS])
    table.attrs["conventions"] = asdict(conv)
    return table


def aggregate(
    panel: ARPanel,
    windows: Sequence[tuple[int, int]] = (),
    group_by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""Average abnormal return per event day and CAAR per window across asset-events.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int), default ()
        CAR windows; every event day is reported as well.
    group_by : str or sequence of str, optional
        Columns of ``panel.keys`` to aggregate within.

    Returns
    -------
    pandas.DataFrame
        The group columns (if any), then ``quantity`` (``"aar"`` for single days,
        ``"caar"`` for windows), ``start, end, estimate, std_error, n``.

    Notes
    -----
    ``estimate`` is the mean of the CARs over the asset-events with a complete window,
    :math:`n` of them, and ``std_error`` the cross-sectional :math:`s/\sqrt n` (ddof 1; NaN
    for :math:`n<2`), the standard error behind :func:`~eventstudy.inference.t_csect`.
    """
    cols = _group_columns(panel, group_by)
    all_windows = _all_windows(panel, windows)
    rows = []
    for labels, sub in _groups(panel, cols):
        for start, end in all_windows:
            car, ok = window_cars(sub, start, end)
            x = car[ok]
            n = x.size
            rows.append({
                **labels,
                "quantity": "aar" if start == end else "caar",
                "start": start,
                "end": end,
                "estimate": x.mean() if n else np.nan,
                "std_error": np.std(x, ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                "n": n,
            })
    return pd.DataFrame(rows, columns=[*cols, "quantity", "start", "end", "estimate",
                                       "std_error", "n"])


@dataclass(frozen=True)
class DifferenceResult:
    """Test of the difference in mean CAR between two groups of events.

    Attributes
    ----------
    test : {"welch", "paired", "none"}
        Welch t on independent event dates, paired t on shared event dates, or ``"none"``
        when the groups share some but not all dates.
    start, end : int
        The CAR window.
    difference : float
        Mean event-level CAAR of group A minus that of group B.
    std_error : float
        Standard error of ``difference``.
    statistic, pvalue : float
        t statistic and p-value (NaN when the test does not apply).
    df : float
        Degrees of freedom (Welch–Satterthwaite for ``"welch"``).
    n_a, n_b : int
        Event dates (day-0 clusters) in each group.
    distribution, null, alternative, note : str
        As in :class:`~eventstudy.inference.TestResult`.
    """

    test: str
    start: int
    end: int
    difference: float
    std_error: float
    statistic: float
    pvalue: float
    df: float
    n_a: int
    n_b: int
    distribution: str
    null: str
    alternative: str
    note: str = ""


def _cluster_caars(panel: ARPanel, mask: np.ndarray, start: int, end: int) -> pd.Series:
    """Mean CAR of the selected asset-events of each event date, indexed by day 0."""
    car, ok = window_cars(panel, start, end)
    use = mask & ok
    return pd.Series(car[use]).groupby(panel.keys["day0"].to_numpy()[use]).mean()


def difference_test(
    panel: ARPanel,
    mask_a: np.ndarray,
    mask_b: np.ndarray,
    window: tuple[int, int],
    alternative: str = "two-sided",
) -> DifferenceResult:
    r"""Test whether two groups of asset-events have the same mean CAR.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    mask_a, mask_b : ndarray of bool, shape (N,)
        Asset-events of group A and group B (disjoint).
    window : (int, int)
        CAR window.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: group A's mean CAR exceeds group B's.

    Returns
    -------
    DifferenceResult

    Raises
    ------
    SpecificationError
        If the masks have the wrong shape or type, or overlap.

    Notes
    -----
    The unit of observation is the event date (day-0 cluster): asset-events on the same
    date share calendar days and their CARs are cross-correlated, so each group's CARs are
    first averaged within each event date into an event-level CAAR :math:`\bar C_{ge}`.
    Event-level CAARs of different dates are independent (for non-overlapping windows), and
    their cross-event spread already contains the within-date correlation, so no
    Kolari–Pynnönen correction is needed or applied.

    * Groups on disjoint sets of dates: Welch's t on the two samples of event-level CAARs,
      :math:`t = (\bar C_A - \bar C_B)/\sqrt{s_A^2/m_A + s_B^2/m_B}` with
      Welch–Satterthwaite degrees of freedom.
    * Groups on the same dates (e.g. two sectors reacting to the same events): the two
      CAARs of a date share its market-wide shock, so the paired t on the per-date
      differences :math:`d_e = \bar C_{Ae}-\bar C_{Be}` is used, :math:`t = \bar d/(s_d/\sqrt
      m)\sim t(m-1)`.
    * Partly shared dates: not applicable (restrict the masks to shared or to disjoint
      dates).

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. *Biometrika*, 34(1–2), 28–35.

    Kolari, J. W., & Pynnönen, S. (2010). Event study testing with cross-sectional
    correlation of abnormal returns. *Review of Financial Studies*, 23(11), 3996–4025.
    """
    start, end = check_window("window", window)
    panel.window_slice(start, end)
    check_option("alternative", alternative, ALTERNATIVES)
    masks = []
    for name, m in (("mask_a", mask_a), ("mask_b", mask_b)):
        m = np.asarray(m)
        if m.dtype != bool or m.shape != (len(panel),):
            raise SpecificationError(
                f"{name} must be a boolean array of length {len(panel)} (one per asset-event)."
            )
        masks.append(m)
    if (masks[0] & masks[1]).any():
        raise SpecificationError("mask_a and mask_b overlap; each asset-event belongs to one "
                                 "group at most.")
    a, b = (_cluster_caars(panel, m, start, end) for m in masks)
    shared = a.index.intersection(b.index)
    null = "E[CAR_A] = E[CAR_B]"

    def result(test: str, diff: float, se: float, df: float, note: str = "") -> DifferenceResult:
        stat = diff / se if se > 0 else np.nan
        p = float(pvalue(np.asarray(stat), alternative, df)) if np.isfinite(stat) else np.nan
        if not np.isfinite(stat) and not note:
            note = "zero variance of the event-level CAARs"
        dist = t_dist(df) if np.isfinite(df) else "t"
        return DifferenceResult(test, start, end, float(diff), float(se), float(stat), p,
                                float(df), a.size, b.size, dist, null, alternative, note)

    if shared.size == 0:
        if a.size < 2 or b.size < 2:
            return result("welch", a.mean() - b.mean(), np.nan, np.nan,
                          "Welch's t needs at least 2 event dates in each group")
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1)) if va + vb > 0 \
            else np.nan
        return result("welch", a.mean() - b.mean(), np.sqrt(va + vb), df)
    if shared.size == a.size == b.size:
        d = a - b.reindex(a.index)
        if d.size < 2:
            return result("paired", d.mean(), np.nan, np.nan,
                          "the paired t needs at least 2 shared event dates")
        return result("paired", d.mean(), d.std(ddof=1) / np.sqrt(d.size), d.size - 1)
    return result("none", a.mean() - b.mean(), np.nan, np.nan,
                  f"the groups share {shared.size} of their event dates but not all; "
                  "restrict the masks to shared or to disjoint dates")

