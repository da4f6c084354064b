r"""Abnormal returns of many asset-events, stacked, with their exact variances.

:class:`ARPanel` is the hand-off between estimation and inference: every statistic in
:mod:`eventstudy.inference` and every table of :class:`~eventstudy.results.EventStudyResults`
is computed from it. Rows are asset-events (one asset around one event); columns are
event-window days :math:`\tau` (``taus``) or estimation-window days (``est_taus``).

Notes
-----
For asset-event :math:`i` with estimation design :math:`X_i` (:math:`L_1\times k`), residual
variance :math:`\hat\sigma_i^2` and event-window design :math:`X_i^*` (:math:`L_2\times k`),
the abnormal returns :math:`\hat\epsilon^*_i = R^*_i - X^*_i\hat\theta_i` have covariance
(Campbell, Lo & MacKinlay 1997, eq. 4.4.8)

.. math:: V_i = \hat\sigma_i^2\left(I + X_i^*(X_i'X_i)^{-1}X_i^{*\prime}\right).

For a window :math:`[\tau_1,\tau_2]` with indicator vector :math:`\gamma`, the cumulative
abnormal return is :math:`\widehat{CAR}_i = \gamma'\hat\epsilon^*_i` with variance
:math:`\gamma' V_i \gamma = \hat\sigma_i^2\,(L + s_i'(X_i'X_i)^{-1}s_i)`, where
:math:`L=\tau_2-\tau_1+1` and :math:`s_i = X_i^{*\prime}\gamma` is the column sum of the
window's regressors (eq. 4.4.11). The cross-day covariances are included through
:math:`s_i`. With ``prediction_error=False`` the second term is dropped (the large-:math:`L_1`
approximation, which Brown & Warner's 1980 pooled test uses).

References
----------
Campbell, J. Y., Lo, A. W., & MacKinlay, A. C. (1997). *The Econometrics of Financial
Markets*, ch. 4. Princeton University Press.

MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic
Literature*, 35(1), 13–39.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from eventstudy.exceptions import WindowError

__all__ = ["ARPanel"]

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class ARPanel:
    """Stacked abnormal returns of ``N`` asset-events.

    Attributes
    ----------
    keys : pandas.DataFrame
        ``N`` rows describing each asset-event: ``event_id``, ``asset``, ``model``, ``day0``
        (the aligned session) and any grouping columns (e.g. ``direction``).
    taus : ndarray of int, shape (L2,)
        Event-window day offsets relative to day 0.
    est_taus : ndarray of int, shape (L1,)
        Estimation-window day offsets.
    ar : ndarray, shape (N, L2)
        Event-window abnormal returns; NaN where the return is missing.
    est_resid : ndarray, shape (N, L1)
        Estimation-window residuals; NaN where the day was excluded (missing or contaminated).
    sigma : ndarray, shape (N,)
        Residual standard deviation of each fit.
    nobs : ndarray of int, shape (N,)
        Estimation observations used.
    k : ndarray of int, shape (N,)
        Number of estimated parameters (0 for the market-adjusted model).
    x_event : ndarray, shape (D, L2, K)
        Event-window regressors, zero-padded to the largest ``k`` (``K``), one block per
        design: asset-events of the same event and model share theirs (see ``x_rows``).
    xtx_inv : ndarray, shape (N, K, K)
        :math:`(X'X)^{-1}` of the estimation window, zero-padded.
    returns : ndarray, shape (N, L2)
        Event-window actual returns (for buy-and-hold abnormal returns).
    normal : ndarray, shape (N, L2)
        Event-window normal (expected) returns; ``returns - normal == ar``.
    log_returns : bool
        Whether returns are continuously compounded.
    prediction_error : bool
        Whether variances include the estimation-error term.
    x_rows : ndarray of int, shape (N,), optional
        Block of ``x_event`` of each asset-event. Default: one block per asset-event, in
        order (``D = N``).
    """

    keys: pd.DataFrame
    taus: np.ndarray
    est_taus: np.ndarray
    ar: np.ndarray
    est_resid: np.ndarray
    sigma: np.ndarray
    nobs: np.ndarray
    k: np.ndarray
    x_event: np.ndarray
    xtx_inv: np.ndarray
    returns: np.ndarray
    normal: np.ndarray
    log_returns: bool = False
    prediction_error: bool = True
    x_rows: np.ndarray = None  # type: ignore[assignment]  # set in __post_init__
    # Quantities derived from the panel that several tests of a battery ask for (CARs and
    # their variances by window, the average cross-correlation): see :meth:`cached`.
    _memo: dict[tuple, object] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.x_rows is None:
            if len(self.x_event) != len(self):
                raise ValueError(
                    f"x_event has {len(self.x_event)} blocks for {len(self)} asset-events; "
                    "pass x_rows, the block of each asset-event."
                )
            object.__setattr__(self, "x_rows", np.arange(len(self)))

    def __len__(self) -> int:
        return self.ar.shape[0]

    @property
    def df(self) -> np.ndarray:
        """Residual degrees of freedom ``nobs - k`` of each fit."""
        return self.nobs - self.k

    def subset(self, rows: np.ndarray | slice) -> ARPanel:
        """The asset-events selected by ``rows`` (boolean mask or integer positions).

        A contiguous run of rows shares memory with this panel (views, no copy).
        """
        positions = np.arange(len(self))[rows]
        take = as_slice(positions)
        fields = {
            name: getattr(self, name)[take]
            for name in ("ar", "est_resid", "sigma", "nobs", "k", "x_rows", "xtx_inv",
                         "returns", "normal")
        }
        return ARPanel(
            keys=self.keys.iloc[positions].reset_index(drop=True),
            taus=self.taus,
            est_taus=self.est_taus,
            x_event=self.x_event,
            log_returns=self.log_returns,
            prediction_error=self.prediction_error,
            **fields,
        )

    def event_regressors(self) -> np.ndarray:
        """Event-window regressors of each asset-event, shape (N, L2, K) (a copy)."""
        return self.x_event[self.x_rows]

    # --- windows ------------------------------------------------------------------------------
    def window_slice(self, start: int, end: int) -> slice:
        """Columns of the event window covering days ``start..end``.

        Raises
        ------
        WindowError
            If the window is reversed or not inside the event window.
        """
        lo, hi = int(self.taus[0]), int(self.taus[-1])
        if start > end or start < lo or end > hi:
            raise WindowError(
                f"CAR window ({start}, {end}) must lie inside the event window ({lo}, {hi}) "
                "with start <= end; widen event_window or change car_windows."
            )
        return slice(start - lo, end - lo + 1)

    # --- abnormal returns and variances -------------------------------------------------------
    def pe_quadratic(self, s: np.ndarray) -> np.ndarray:
        """:math:`s'(X'X)^{-1}s` for each asset-event, shape (N,) or (N, M).

        ``s`` has shape (D, K) or (D, M, K): one per block of ``x_event``; asset-event ``i``
        takes ``s[x_rows[i]]``.
        """
        inv = self.xtx_inv if s.ndim == 2 else self.xtx_inv[:, None]
        # Summed over the K x K terms, in place: element-wise products of (N, ...) arrays are
        # several times faster than one three-operand einsum. The products of s's entries
        # are formed once per block, then gathered for the asset-events.
        shape = (len(self), *s.shape[1:-1])
        out, term = np.zeros(shape), np.empty(shape)
        for k in range(s.shape[-1]):
            for j in range(k, s.shape[-1]):
                np.take(s[..., k] * s[..., j], self.x_rows, axis=0, out=term)
                term *= inv[..., k, k] if j == k else inv[..., k, j] + inv[..., j, k]
                out += term
        return out

    def ar_var(self) -> np.ndarray:
        r"""Variance of each event-window AR, shape (N, L2).

        :math:`\hat\sigma_i^2(1 + x_{i\tau}'(X_i'X_i)^{-1}x_{i\tau})` (CLM eq. 4.4.9).
        """
        def compute() -> np.ndarray:
            extra = (self.pe_quadratic(self.x_event) if self.prediction_error
                     else np.zeros(self.ar.shape))
            return self.sigma[:, None] ** 2 * (1.0 + extra)

        return self.cached(("ar_var",), compute)

    def cached(self, key: tuple, compute: Callable[[], T]) -> T:
        """``compute()``, computed once per panel and ``key``; arrays are returned read-only.

        For quantities that depend only on the panel (its arrays are never changed).
        """
        if key not in self._memo:
            value = compute()
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            self._memo[key] = value
        return self._memo[key]  # type: ignore[return-value]

    def car(self, start: int, end: int) -> np.ndarray:
        """Cumulative abnormal return over days ``start..end``; NaN if a day is missing."""
        sl = self.window_slice(start, end)
        # A single day's CAR is that day's AR (a read-only view of the column).
        return self.cached(("car", start, end), lambda: self.ar[:, sl.start] if start == end
                           else self.ar[:, sl].sum(axis=1))

    def car_var(self, start: int, end: int) -> np.ndarray:
        r"""Exact variance of the CAR over ``start..end`` (cross-day covariances included).

        :math:`\hat\sigma_i^2\,(L + s_i'(X_i'X_i)^{-1}s_i)` with :math:`s_i` the sum of the
        window's regressor rows (CLM eq. 4.4.11).
        """
        sl = self.window_slice(start, end)

        def compute() -> np.ndarray:
            length = sl.stop - sl.start
            if not self.prediction_error:
                return self.sigma**2 * length
            return self.sigma**2 * (length + self.window_pe(start, end))

        return self.cached(("car_var", start, end), compute)

    def window_pe(self, start: int, end: int) -> np.ndarray:
        r"""Estimation-error term :math:`s_i'(X_i'X_i)^{-1}s_i` of the window ``start..end``.

        :math:`s_i` is the sum of the window's regressor rows (CLM eq. 4.4.11); computed once
        per window, whatever :attr:`prediction_error` says.
        """
        sl = self.window_slice(start, end)
        return self.cached(("window_pe", start, end),
                           lambda: self.pe_quadratic(_sum_columns(self.x_event, sl)))

    def car_path(self, start: int, end: int) -> np.ndarray:
        """CAR from ``start`` through each day up to ``end``, shape (N, end-start+1)."""
        return np.cumsum(self.ar[:, self.window_slice(start, end)], axis=1)

    def car_path_var(self, start: int, end: int) -> np.ndarray:
        """Variance of each cumulative sum in :meth:`car_path`, shape (N, end-start+1)."""
        sl = self.window_slice(start, end)
        lengths = np.arange(1, sl.stop - sl.start + 1)
        if not self.prediction_error:
            return self.sigma[:, None] ** 2 * lengths
        s = np.cumsum(self.x_event[:, sl], axis=1)
        return self.sigma[:, None] ** 2 * (lengths + self.pe_quadratic(s))

    def event_cov(self) -> np.ndarray:
        """Full event-window covariance :math:`V_i`, shape (N, L2, L2)."""
        eye = np.eye(len(self.taus))
        if not self.prediction_error:
            return self.sigma[:, None, None] ** 2 * eye
        x = self.event_regressors()
        c = np.einsum("ntk,nkl,nsl->nts", x, self.xtx_inv, x)
        return self.sigma[:, None, None] ** 2 * (eye + c)

    def bhar(self, start: int, end: int) -> np.ndarray:
        r"""Buy-and-hold abnormal return over ``start..end``.

        :math:`\prod_\tau(1+R_{i\tau}) - \prod_\tau(1+\hat E[R_{i\tau}])` for simple returns;
        :math:`e^{\sum R} - e^{\sum \hat E[R]}` for log returns (Barber & Lyon 1997).
        """
        sl = self.window_slice(start, end)
        r, n = self.returns[:, sl], self.normal[:, sl]
        if self.log_returns:
            return np.exp(r.sum(axis=1)) - np.exp(n.sum(axis=1))
        return np.prod(1.0 + r, axis=1) - np.prod(1.0 + n, axis=1)

    def sar(self) -> np.ndarray:
        """Standardized event-window ARs: AR over its standard deviation, shape (N, L2)."""
        return self.ar / np.sqrt(self.ar_var())

    def scar(self, start: int, end: int) -> np.ndarray:
        """Standardized CAR: CAR over its standard deviation, shape (N,)."""
        def compute() -> np.ndarray:
            with np.errstate(invalid="ignore", divide="ignore"):
                return self.car(start, end) / np.sqrt(self.car_var(start, end))

        return self.cached(("scar", start, end), compute)


def as_slice(positions: np.ndarray) -> np.ndarray | slice:
    """``positions`` as a slice when consecutive and increasing, else unchanged.

    Indexing with the slice gives a view, not a copy.
    """
    if positions.size and np.array_equal(
            positions, np.arange(positions[0], positions[0] + positions.size)):
        return slice(int(positions[0]), int(positions[0]) + positions.size)
    return positions


def _sum_columns(values: np.ndarray, columns: slice) -> np.ndarray:
    """``values[:, columns].sum(axis=1)`` for a (D, L, K) array: the same sums, faster.

    Added column by column, in the order numpy's reduction over the middle axis uses (equal
    results), each step one vectorized addition.
    """
    out = values[:, columns.start].copy()
    for j in range(columns.start + 1, columns.stop):
        out += values[:, j]
    return out
