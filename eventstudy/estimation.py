r"""The estimator: align events, load data, fit normal-return models, build the ARPanel.

:class:`EventStudy` is the specification; :meth:`EventStudy.fit` returns a new, read-only
:class:`~eventstudy.results.EventStudyResults`. The numerical kernel :func:`fit_batch` fits one
design for every (event, asset) pair at once with batched normal equations: missing or
excluded estimation days get zero weight, which is the same least-squares problem as dropping
them.

Notes
-----
For asset-event :math:`i` with weights :math:`w_t\in\{0,1\}` over the estimation window,

.. math::

    \hat\theta_i = \Big(\sum_t w_t x_t x_t'\Big)^{-1}\sum_t w_t x_t y_{it},\qquad
    \hat\sigma_i^2 = \frac{\sum_t w_t \hat\epsilon_{it}^2}{n_i - k},

with :math:`n_i=\sum_t w_t` (MacKinlay 1997, eqs. 7–9). The ``estudy2`` convention replaces the
divisor by :math:`n_i-1` and centres the residuals, as R's ``sd()`` does.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from eventstudy._parallel import thread_shares
from eventstudy._typing import ALIGNMENT_POLICIES, DATA_KINDS, RETURN_TYPES, check_option
from eventstudy.abnormal import ARPanel, as_slice
from eventstudy.calendar import TradingCalendar, get_calendar, parse_when
from eventstudy.conventions import Conventions, get_conventions
from eventstudy.data.base import (
    check_price_frame,
    refuse_cells,
    resolve_provider,
    validate_dates_index,
)
from eventstudy.events import EventSet, load_catalog, to_event_set
from eventstudy.exceptions import DataCoverageError, DataWarning, SpecificationError
from eventstudy.models import (
    ConstantMean,
    Design,
    DesignInputs,
    MarketModel,
    NormalReturnModel,
    get_model,
)
from eventstudy.returns import _on_sessions, _returns_on_sessions
from eventstudy.universe import DEFAULT_MARKET, asset_label, resolve_assets
from eventstudy.windows import DEFAULT_CAR_WINDOWS, WindowSpec

if TYPE_CHECKING:
    from eventstudy.results import EventStudyResults

__all__ = ["BatchFit", "EventStudy", "fit_batch"]

DROP_COLUMNS = ["event_id", "asset", "date", "scope", "reason"]


@dataclass(frozen=True)
class BatchFit:
    """Output of :func:`fit_batch` for ``E`` events x ``A`` assets sharing one design.

    Arrays are shaped ``(E, A, ...)``.
    """

    params: np.ndarray  # (E, A, k)
    xtx_inv: np.ndarray  # (E, A, k, k)
    sigma: np.ndarray  # (E, A)
    nobs: np.ndarray  # (E, A)
    r2: np.ndarray  # (E, A)
    est_resid: np.ndarray  # (E, A, L1), NaN where not used
    ar: np.ndarray  # (E, A, L2)
    returns: np.ndarray  # (E, A, L2)
    normal: np.ndarray  # (E, A, L2)
    x_event: np.ndarray  # (E, L2, k)
    status: np.ndarray  # (E, A) int: 0 ok, 1 too few obs, 2 singular, 3 zero variance


STATUS_OK, STATUS_FEW, STATUS_SINGULAR, STATUS_ZERO_VAR = 0, 1, 2, 3


def _all_days_market_inverse(
    market: np.ndarray, day0: np.ndarray, est_taus: np.ndarray, nobs: np.ndarray
) -> np.ndarray:
    r"""Market-model :math:`(X'X)^{-1}` with the index moments over every estimation day.

    estudy2 writes the prediction error as :math:`1/L_i + (R_m-\bar R_m)^2/S_{mm}`, with
    :math:`L_i` the asset's own estimation length but :math:`\bar R_m` and :math:`S_{mm}`
    over every estimation-window day of the index, including days the asset has no return
    (``docs/estudy2_conventions.md``). That quadratic form is :math:`x'Ax` for
    :math:`x=(1, R_m)` and the matrix returned here; for an asset with no missing days it
    equals :math:`(X'X)^{-1}`.

    Returns
    -------
    ndarray, shape (E, A, 2, 2)
    """
    m = _windows(market, day0, est_taus)  # (E, L1)
    mbar = np.nanmean(m, axis=1)
    smm = np.nansum((m - mbar[:, None]) ** 2, axis=1)
    out = np.empty((*nobs.shape, 2, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        out[..., 0, 0] = 1.0 / nobs + (mbar**2 / smm)[:, None]
    out[..., 0, 1] = out[..., 1, 0] = (-mbar / smm)[:, None]
    out[..., 1, 1] = (1.0 / smm)[:, None]
    return out


#: Largest condition number of :math:`X'X` accepted as non-singular.
MAX_CONDITION = 1e12

#: Elements of one (events x assets x estimation days) block; the kernel's temporaries stay
#: a small multiple of this, whatever the number of asset-events.
BLOCK_ELEMENTS = 1 << 18



def _windows(
    values: np.ndarray, day0: np.ndarray, taus: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Gather ``values[day0[e] + taus]`` for each event ``e``.

    Parameters
    ----------
    values : ndarray, shape (T,) or (T, A)
    day0 : ndarray of int, shape (E,)
    taus : ndarray of int, shape (L,)
        Offsets; every ``day0 + taus`` must be a row of ``values``.
    out : ndarray, optional
        Where to write the result (a reused buffer).

    Returns
    -------
    ndarray, shape (E, L) or (E, A, L)
        A copy; for a 2-D ``values`` the window is the last axis, so each asset-event's
        window is contiguous.
    """
    if len(taus) and np.array_equal(taus, np.arange(taus[0], taus[0] + len(taus))):
        # Consecutive offsets: copy each window straight from a strided view.
        view = np.lib.stride_tricks.sliding_window_view(values, len(taus), axis=0)
        picked = view[day0 + taus[0]]
    else:
        picked = values[day0[:, None] + taus[None, :]]  # (E, L) or (E, L, A)
        if values.ndim == 2:
            picked = np.ascontiguousarray(np.moveaxis(picked, 1, -1))
    if out is None:
        return picked
    out[...] = picked
    return out


def _solve_normal_equations(xtx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Invert a stack of :math:`X'X` matrices and flag the (near-)singular ones.

    A matrix is singular when its 2-norm condition number, :math:`\lambda_{max}/\lambda_{min}`
    for a symmetric positive semi-definite matrix, is :data:`MAX_CONDITION` or more. The
    inverse is computed after scaling to unit diagonal (Jacobi equilibration), which keeps
    it accurate when regressors differ in scale (a constant and daily returns).

    Returns
    -------
    inverse : ndarray, shape (..., k, k)
        Zero where singular.
    ok : ndarray of bool, shape (...)
    """
    eig = np.linalg.eigvalsh(xtx)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (eig[..., 0] > 0) & (eig[..., -1] < MAX_CONDITION * eig[..., 0])
    k = xtx.shape[-1]
    scale = np.sqrt(np.where(ok[..., None], np.diagonal(xtx, axis1=-2, axis2=-1), 1.0))
    outer = scale[..., :, None] * scale[..., None, :]
    scaled = np.where(ok[..., None, None], xtx / outer, np.eye(k))
    inverse = np.linalg.inv(scaled) / outer
    inverse[~ok] = 0.0
    return inverse, ok


def _combine(
    coef: np.ndarray, rows: np.ndarray, out: np.ndarray, work: np.ndarray
) -> np.ndarray:
    """``out[e, a, l] = sum_k coef[e, a, k] * rows[e, k, l]`` over ``k < coef.shape[-1]``.

    The terms are added in order of ``k``, as ``np.einsum("eak,ekl->eal")`` adds them, but by
    broadcasting: einsum's loop over a handful of parameters is several times slower. One
    event at a time, so ``work`` is a scratch array of one event's shape (a, l), small
    enough to stay in cache. Where the first regressor is 1 on every day (the constant of
    the models with an intercept), its term is the coefficient itself and the first sum
    ``t0 + t1`` equals ``t1 + t0`` (floating-point addition commutes): the coefficient is
    added to the second term, one pass over the values fewer, the same bits.
    """
    k = coef.shape[-1]
    if not k:  # no parameters (market-adjusted): nothing to add
        out[...] = 0.0
        return out
    for e in range(out.shape[0]):
        if k >= 2 and (rows[e, 0] == 1.0).all():
            np.multiply(coef[e, :, 1:2], rows[e, None, 1, :], out=out[e])
            out[e] += coef[e, :, :1]
            first = 2
        else:
            np.multiply(coef[e, :, :1], rows[e, None, 0, :], out=out[e])
            first = 1
        for j in range(first, k):
            out[e] += np.multiply(coef[e, :, j:j + 1], rows[e, None, j, :], out=work)
    return out


def _fill_unused(
    values: np.ndarray, rows: tuple[np.ndarray, ...], unused: np.ndarray, fill: float
) -> None:
    """Set ``values[rows]`` (asset-events x days) to ``fill`` on their ``unused`` days."""
    values[rows] = np.where(unused, fill, values[rows])


def _centred_squares(
    values: np.ndarray,
    mean: np.ndarray,
    gappy: tuple[np.ndarray, np.ndarray],
    unused: np.ndarray,
    work: np.ndarray,
) -> np.ndarray:
    """``sum_l (values[e, a, l] - mean[e, a])**2`` over each asset-event's used days.

    One event at a time in ``work`` (a, l), so no block-sized array is touched. ``gappy`` and
    ``unused`` are the asset-events with unused days and those days, as in :func:`fit_batch`.
    """
    out = np.empty(values.shape[:2])
    for e in range(values.shape[0]):
        dev = np.subtract(values[e], mean[e, :, None], out=work)
        mine = gappy[0] == e
        _fill_unused(dev, (gappy[1][mine],), unused[mine], 0.0)
        out[e] = np.einsum("al,al->a", dev, dev)
    return out


def fit_batch(
    returns: np.ndarray,
    design: Design,
    day0: np.ndarray,
    est_taus: np.ndarray,
    taus: np.ndarray,
    *,
    min_obs: int,
    exclude: np.ndarray | None = None,
    sigma_ddof: str = "k",
) -> BatchFit:
    """Fit one normal-return design for all events and assets at once.

    The asset-events are processed in blocks of about :data:`BLOCK_ELEMENTS`
    estimation-window values: each block gathers its windows (no copy of the full history
    per event), forms the normal equations of every asset-event with one batched product,
    solves them all at once, and writes the residuals and the event-window actual, normal and
    abnormal returns into the outputs. The blocks are shared among
    :data:`eventstudy._parallel.THREADS` threads. Memory is the output, proportional to
    (events x assets x window length), plus a few one-event work arrays (assets x window
    length) per thread.

    Parameters
    ----------
    returns : ndarray, shape (T, A)
        Asset returns on consecutive sessions; NaN where missing.
    design : Design
        Offset (T,) and regressors (T, k) on the same sessions.
    day0 : ndarray of int, shape (E,)
        Row of each event's day 0 in ``returns``.
    est_taus, taus : ndarray of int
        Estimation and event window offsets.
    min_obs : int
        Fewest usable estimation days.
    exclude : ndarray of bool, shape (T,), optional
        Sessions never used for estimation (contamination control).
    sigma_ddof : {"k", "1"}
        Residual-variance divisor ``n - k`` or ``n - 1`` (centred residuals).

    Returns
    -------
    BatchFit
    """
    day0 = np.asarray(day0, dtype=np.intp)
    returns = np.asarray(returns, dtype=float)
    T, A = returns.shape
    E, L1, k = len(day0), len(est_taus), design.X.shape[1]
    offsets = np.concatenate([est_taus, taus])
    if E and ((day0.min() + offsets.min() < 0) or (day0.max() + offsets.max() >= T)):
        raise ValueError("fit_batch: a window reaches outside the rows of returns.")
    x_ok = np.isfinite(design.X).all(axis=1) & np.isfinite(design.offset)
    x_ok_est = x_ok & ~exclude if exclude is not None else x_ok
    X0 = np.where(x_ok[:, None], design.X, 0.0)
    has_offset = bool(np.any(design.offset[x_ok] != 0.0))

    params = np.zeros((E, A, k))
    xtx_inv = np.zeros((E, A, k, k))
    sigma = np.empty((E, A))
    nobs = np.empty((E, A), dtype=np.intp)
    r2 = np.full((E, A), np.nan)
    resid = np.empty((E, A, L1))
    det_ok = np.ones((E, A), dtype=bool)
    # Event window: regressors (NaN on sessions without a design) and offsets, per event; the
    # actual, normal and abnormal returns are filled block by block.
    x_ok_evt = _windows(x_ok, day0, taus)  # (E, L2)
    X_evt = np.where(x_ok_evt[..., None], np.swapaxes(_windows(design.X, day0, taus), 1, 2),
                     np.nan)  # (E, L2, k)
    offset_evt = _windows(design.offset, day0, taus)  # (E, L2)
    offset_ok = np.isfinite(offset_evt)
    normal_offset = np.where(x_ok_evt, offset_evt, np.nan)
    raw, normal, ar = (np.empty((E, A, len(taus))) for _ in range(3))

    # Blocks of about BLOCK_ELEMENTS values: whole events if they fit, else slices of assets.
    a_step = int(np.clip(BLOCK_ELEMENTS // max(L1, 1), 1, max(A, 1)))
    e_step = max(1, BLOCK_ELEMENTS // (a_step * max(L1, 1)))
    upper = np.triu_indices(k)

    def fit_blocks(blocks: list[tuple[slice, slice]]) -> None:
        """Fit the asset-events of ``blocks`` (events, assets), with work arrays of its own."""
        # One-event work arrays shared by the blocks (fresh ones would be page-faulted).
        work, fitted = np.empty((a_step, L1)), np.empty((a_step, L1))
        for ev, at in blocks:
            d0 = day0[ev]
            ne = len(d0)
            usable = _windows(x_ok_est, d0, est_taus)  # (e, L1)
            offset = _windows(design.offset, d0, est_taus)[:, None, :] if has_offset else None
            # Design augmented with a constant; its cross products x x' (upper triangle) and
            # 1 (whose sum is n), day by day.
            Xa = np.concatenate([_windows(X0, d0, est_taus), np.ones((ne, 1, L1))], axis=1)
            cross = np.concatenate([Xa[:, upper[0]] * Xa[:, upper[1]], Xa[:, k:]], axis=1)
            na = at.stop - at.start
            # The block's returns are gathered into its rows of the residual output, where
            # the residuals then replace them.
            out = resid[ev, at]
            y = _windows(returns[:, at], d0, est_taus, out=out)  # (e, a, L1)
            if offset is not None:
                y -= offset
            # Asset-events with an unused day (a missing return: the row sum is NaN; or a
            # session unusable for the whole event) are usually few: only they need masks.
            gappy = np.nonzero(~np.isfinite(y.sum(axis=2)) | ~usable.all(axis=1)[:, None])
            unused = ~(np.isfinite(y[gappy]) & usable[gappy[0]])  # (g, L1)
            _fill_unused(y, gappy, unused, 0.0)  # y is now zero on unused days
            # Sums of the cross products over the days used, (e, a, k(k+1)/2 + 1): over all
            # days for most asset-events, over their own days for the others; sum(x y) and
            # sum(y) from one product (einsum rather than matmul: no BLAS threads woken per
            # block, and each asset-event's sums depend on its own days only, not on its
            # position in the block or on the other asset-events).
            moments = np.repeat(cross.sum(axis=2)[:, None, :], na, axis=1)
            moments[gappy] = np.einsum("gl,gpl->gp", (~unused).astype(float), cross[gappy[0]])
            xy = np.einsum("eal,ekl->eak", y, Xa)  # (e, a, k + 1)
            n = np.rint(moments[..., -1]).astype(np.intp)
            with np.errstate(invalid="ignore", divide="ignore"):
                ybar = xy[..., k] / n
            # Total sum of squares about the mean, over the used days only.
            sst = _centred_squares(y, ybar, gappy, unused, work[:na])
            if k:
                xtx = np.empty((ne, na, k, k))
                xtx[..., upper[0], upper[1]] = xtx[..., upper[1], upper[0]] = moments[..., :-1]
                inv, ok = _solve_normal_equations(xtx)
                theta = np.einsum("eakl,eal->eak", inv, xy[..., :k])
                xtx_inv[ev, at], params[ev, at], det_ok[ev, at] = inv, theta, ok
                for e in range(ne):  # residuals y - fitted, in place (y is ``out``)
                    _combine(theta[e:e + 1], Xa[e:e + 1], fitted[None, :na], work=work[:na])
                    np.subtract(y[e], fitted[:na], out=out[e])
                _fill_unused(out, gappy, unused, 0.0)
            ss = np.einsum("eal,eal->ea", out, out)
            if sigma_ddof == "1":
                with np.errstate(invalid="ignore", divide="ignore"):
                    rbar = out.sum(axis=2) / n
                ssr, div = _centred_squares(out, rbar, gappy, unused, work[:na]), n - 1
            else:
                ssr, div = ss, n - k
            with np.errstate(invalid="ignore", divide="ignore"):
                sigma[ev, at] = np.sqrt(ssr / div)
                if k:
                    r2[ev, at] = 1.0 - ss / sst
            nobs[ev, at] = n
            _fill_unused(out, gappy, unused, np.nan)
            # Event window: actual returns (missing where the offset is), normal, abnormal.
            actual = _windows(returns[:, at], d0, taus, out=raw[ev, at])
            if not offset_ok[ev].all():
                actual[~np.broadcast_to(offset_ok[ev][:, None, :], actual.shape)] = np.nan
            expected = _combine(params[ev, at], np.swapaxes(X_evt[ev], 1, 2), normal[ev, at],
                                work=np.empty((na, len(taus))))
            expected += normal_offset[ev][:, None, :]
            np.subtract(actual, expected, out=ar[ev, at])

    blocks = [(slice(e0, min(e0 + e_step, E)), slice(a0, min(a0 + a_step, A)))
              for e0 in range(0, E, e_step) for a0 in range(0, A, a_step)]
    thread_shares(fit_blocks, blocks, uses_blas=False)  # einsum and 2 x 2 solves: no BLAS

    status = np.full((E, A), STATUS_OK)
    status[~det_ok] = STATUS_SINGULAR
    status[~(sigma > 0) & det_ok] = STATUS_ZERO_VAR
    status[nobs < max(min_obs, k + 1)] = STATUS_FEW

    return BatchFit(
        params=params,
        xtx_inv=xtx_inv,
        sigma=sigma,
        nobs=nobs,
        r2=r2,
        est_resid=resid,
        ar=ar,
        returns=raw,
        normal=normal,
        x_event=X_evt,
        status=status,
    )


@dataclass
class _Context:
    """Data prepared once per fit: sessions, returns, market and factor inputs."""

    returns: pd.DataFrame
    #: Rows ignored and sessions missing inside a ticker's history: arrays ``asset, date,
    #: reason`` (see :func:`eventstudy.returns._on_sessions`).
    gaps: dict[str, np.ndarray]
    inputs: dict[str, DesignInputs] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    provider: object = None
    #: Per asset: sessions where its model's factor or risk-free inputs are missing.
    factor_gaps: dict[int, np.ndarray] = field(default_factory=dict)


#: Fields of :class:`BatchFit` with one entry per (event, asset).
_PER_ASSET_EVENT = ("ar", "returns", "normal", "est_resid", "sigma", "nobs", "r2", "status")


@dataclass(frozen=True)
class _Stack:
    """The fits of every design group, as (E, A, ...) arrays over all events and assets.

    ``params`` and ``xtx_inv`` are padded to the largest ``k`` (``K``); the event-window
    regressors are kept once per event and group, ``x_event`` (E, G, L2, K), with ``group``
    giving each asset's group.
    """

    ar: np.ndarray
    returns: np.ndarray
    normal: np.ndarray
    est_resid: np.ndarray
    sigma: np.ndarray
    nobs: np.ndarray
    r2: np.ndarray
    status: np.ndarray
    params: np.ndarray
    xtx_inv: np.ndarray
    x_event: np.ndarray
    group: np.ndarray
    k: np.ndarray
    labels: np.ndarray
    models: list[tuple[str, tuple[str, ...]]]

    @classmethod
    def from_fits(
        cls,
        fits: list[tuple[np.ndarray, BatchFit]],
        models: list[tuple[str, tuple[str, ...]]],
        n_assets: int,
    ) -> _Stack:
        """Stack ``(columns, fit)`` pairs; a single group covering every asset is not copied."""
        E, _, L2 = fits[0][1].ar.shape
        K = max(fit.params.shape[2] for _, fit in fits)
        group = np.empty(n_assets, dtype=np.intp)
        k = np.empty(n_assets, dtype=np.intp)
        labels = np.empty(n_assets, dtype=object)
        x_event = np.zeros((E, len(fits), L2, K))
        for g, (cols, fit) in enumerate(fits):
            kg = fit.params.shape[2]
            group[cols], k[cols], labels[cols] = g, kg, models[g][0]
            x_event[:, g, :, :kg] = np.nan_to_num(fit.x_event)
        if len(fits) == 1:
            fit = fits[0][1]
            arrays = {name: getattr(fit, name) for name in (*_PER_ASSET_EVENT, "params",
                                                              "xtx_inv")}
        else:
            first = fits[0][1]
            arrays = {
                name: np.empty((E, n_assets, *getattr(first, name).shape[2:]),
                               dtype=getattr(first, name).dtype)
                for name in _PER_ASSET_EVENT
            }
            arrays["params"] = np.full((E, n_assets, K), np.nan)
            arrays["xtx_inv"] = np.zeros((E, n_assets, K, K))
            for cols, fit in fits:
                kg = fit.params.shape[2]
                for name in _PER_ASSET_EVENT:
                    arrays[name][:, cols] = getattr(fit, name)
                arrays["params"][:, cols, :kg] = fit.params
                arrays["xtx_inv"][:, cols, :kg, :kg] = fit.xtx_inv
        return cls(**arrays, x_event=x_event, group=group, k=k, labels=labels, models=models)


def _compact(values: np.ndarray, rows: np.ndarray, block: int = 4096) -> np.ndarray:
    """``values[rows]`` for increasing ``rows``, written over ``values`` itself.

    The estimation residuals are the largest array of a study; compacting them in place
    avoids a second copy. Block by block, row ``j`` takes row ``rows[j] >= j``, which no
    earlier block has overwritten.

    Returns
    -------
    ndarray
        A view of the first ``len(rows)`` rows of ``values``.
    """
    if len(rows) == len(values):
        return values
    for lo in range(0, len(rows), block):
        hi = min(lo + block, len(rows))
        values[lo:hi] = values[rows[lo:hi]]
    return values[:len(rows)]


def _columns(frame: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    """``frame[names]`` as a float array: a view when they are consecutive columns of one block."""
    at = as_slice(frame.columns.get_indexer(names))
    return frame.iloc[:, at if isinstance(at, slice) else list(at)].to_numpy(dtype=float)


def _check_simple_returns(frame: pd.DataFrame) -> None:
    """Simple returns of -100 % or less would need a price of zero or below: refuse them."""
    refuse_cells(frame, frame <= -1.0, "returns",
                 "simple return(s) of -100 % or less",
                 "a simple return is above -1. Pass return_type='log' if these are log "
                 "returns, or fix the data.")


def _drop_frame(event_id, asset, date, scope: str, reason) -> dict[str, np.ndarray]:
    """Columns of :data:`DROP_COLUMNS` for ``len(reason)`` rows.

    ``event_id``, ``asset`` and ``reason`` are arrays, a string or None (repeated); ``date``
    is a DatetimeIndex or None (NaT).
    """
    n = len(reason) if not isinstance(reason, str) else len(
        next(v for v in (event_id, asset, date) if v is not None))

    def column(value: object) -> np.ndarray:
        if value is None or isinstance(value, str):
            return np.full(n, value, dtype=object)
        return np.asarray(value, dtype=object)

    dates = (np.full(n, np.datetime64("NaT", "ns")) if date is None
             else pd.DatetimeIndex(date).as_unit("ns").to_numpy())
    return {"event_id": column(event_id), "asset": column(asset), "date": dates,
            "scope": column(scope), "reason": column(reason)}


class EventStudy:
    """Specification of an event study; :meth:`fit` runs it.

    Parameters
    ----------
    events : date, Event, catalog id, list, DataFrame or EventSet
        The events. Strings like ``"2025-06-05"`` are dates; ``"2025-06-05-trump-xi-call"``
        is an id in the built-in catalog.
    assets : "sectors", str or sequence of str, default "sectors"
        Tickers to study; ``"sectors"`` is the market ticker plus the 11 SPDR sector ETFs.
    market : str, default "SPY"
        Market proxy for the market, market-adjusted and CAPM models.
    model : str or NormalReturnModel, default "market"
        ``"market"``, ``"constant_mean"``, ``"market_adjusted"``, ``"capm"``, ``"ff3"``, or an
        instance such as ``FactorModel(my_factors)``.
    market_benchmark : str, optional
        How to model the market asset itself when the model uses the market (it cannot be
        explained by itself): None (default) uses the constant-mean model; a ticker (e.g.
        ``"ACWI"``) fits the chosen model against that benchmark instead.
    estimation_window, event_window : (int, int)
        Trading days relative to day 0, inclusive. Defaults (-250, -11) and (-10, 10).
    car_windows : sequence of (int, int)
        CAR/BHAR windows. Default (0,0), (-1,1), (0,1), (-5,5), (-10,10).
    min_estimation_obs : int, default 100
        Fewest usable estimation days per asset-event.
    return_type : {"simple", "log"}, default "simple"
    alignment : {"next", "previous", "raise"}, default "next"
        Policy for date-only events on non-trading days.
    exclude : "catalog", list of dates, EventSet or None
        Days removed from every estimation window (contamination control), e.g. the April
        2025 tariff crash. ``"catalog"`` removes all built-in catalog events (an event's own
        days are never in its own estimation window, but they can be in another event's).
        Removed days are listed in ``results.dropped``.
    exclude_window : (int, int), default (0, 0)
        Sessions around each excluded date that are removed too.
    conventions : {"clm", "estudy2"} or Conventions, default "clm"
    data : provider, DataFrame, path or None
        Price source (see :func:`eventstudy.data.resolve_provider`).
    data_kind : {"prices", "returns"}, default "prices"
        Whether a DataFrame passed as ``data`` holds prices or returns.
    factors : factor provider, DataFrame, path or None
        Factor data for ``"capm"``, ``"ff3"`` and ``FactorModel()`` without its own data.
    risk_free : {"dtb3", "ff"}, default "dtb3"
        Risk-free rate of the CAPM: the 3-month T-bill (FRED DTB3, converted to a daily
        rate) or the factor file's ``rf`` column. Sessions without a quote are listed in
        ``results.settings["risk_free"]``.
    calendar : TradingCalendar, optional
        Defaults to NYSE (XNYS).
    """

    def __init__(
        self,
        events: object,
        assets: str | Sequence[str] = "sectors",
        *,
        market: str = DEFAULT_MARKET,
        model: str | NormalReturnModel = "market",
        market_benchmark: str | None = None,
        estimation_window: tuple[int, int] = (-250, -11),
        event_window: tuple[int, int] = (-10, 10),
        car_windows: Sequence[tuple[int, int]] = DEFAULT_CAR_WINDOWS,
        min_estimation_obs: int = 100,
        return_type: str = "simple",
        alignment: str = "next",
        exclude: object = None,
        exclude_window: tuple[int, int] = (0, 0),
        conventions: str | Conventions = "clm",
        data: object = None,
        data_kind: str = "prices",
        factors: object = None,
        risk_free: str = "dtb3",
        calendar: TradingCalendar | None = None,
    ) -> None:
        self.events: EventSet = to_event_set(events)
        self.market = market
        self.assets = resolve_assets(assets, market)
        if not self.assets:
            raise SpecificationError("assets is empty; pass 'sectors' or a list of tickers.")
        self.model = get_model(model)
        self.market_benchmark = market_benchmark
        self.windows = WindowSpec(
            estimation=estimation_window,
            event=event_window,
            car_windows=tuple(car_windows),
            min_estimation_obs=min_estimation_obs,
        )
        self.return_type = check_option("return_type", return_type, RETURN_TYPES)
        self.alignment = check_option("alignment", alignment, ALIGNMENT_POLICIES)
        self.exclude = exclude
        from eventstudy._typing import check_window

        self.exclude_window = check_window("exclude_window", exclude_window)
        self.conventions = get_conventions(conventions)
        self.data_kind = check_option("data_kind", data_kind, DATA_KINDS)
        self.data = data
        self.factors = factors
        self.risk_free = check_option("risk_free", risk_free, ("dtb3", "ff"))
        self.calendar = calendar or get_calendar()

    def __repr__(self) -> str:
        return (
            f"EventStudy({len(self.events)} events, {len(self.assets)} assets, "
            f"model={self.model.label!r}, estimation={self.windows.estimation}, "
            f"event={self.windows.event})"
        )

    # --- steps --------------------------------------------------------------------------------
    def align(self) -> pd.DataFrame:
        """Align every event to its day-0 session.

        Date-only events are aligned together with one ``searchsorted`` on the calendar's
        sessions; timestamped events (and any date the vectorized rules do not cover, so that
        its error is raised by :meth:`TradingCalendar.align`) go through the calendar one by
        one.

        Returns
        -------
        pandas.DataFrame
            One row per event: ``event_id, name, original, day0, rule, assumed_timezone,
            shifted, tags, direction, source, same_day0_as`` (the other events aligned to the
            same session, ``;``-separated).
        """
        events = list(self.events)
        parsed = [parse_when(ev.when) for ev in events]
        sessions = self.calendar.sessions
        days = pd.DatetimeIndex(
            [p.timestamp.tz_localize(None).normalize() if p.has_time else p.timestamp
             for p in parsed]
        ).as_unit("ns")
        after = sessions.searchsorted(days, side="right")  # first session after the day
        on_session = (after > 0) & (sessions[np.maximum(after - 1, 0)] == days)
        step = {"next": 0, "previous": -1, "raise": 0}[self.alignment]
        pos = np.where(on_session, after - 1, after + step)
        dated = np.array([not p.has_time for p in parsed], dtype=bool)
        regular = dated & (days >= sessions[0]) & (days <= sessions[-1]) & (
            on_session | ((self.alignment != "raise") & (pos >= 0) & (pos < len(sessions)))
        )
        day0 = sessions[np.clip(pos, 0, len(sessions) - 1)].to_numpy().copy()
        rule = np.where(on_session, "session_date",
                        "non_session_prev" if self.alignment == "previous"
                        else "non_session_next").astype(object)
        assumed = np.zeros(len(events), dtype=bool)
        for i in np.flatnonzero(~regular):
            a = self.calendar.align(events[i].when, self.alignment)
            day0[i], rule[i], assumed[i] = a.session.to_datetime64(), a.rule, a.assumed_timezone
        # Events on the same session share every calendar day of their windows.
        ids = [ev.id for ev in events]
        _, session_of, per_session = np.unique(day0, return_inverse=True, return_counts=True)
        sharing: dict[int, list[int]] = {}
        for i in np.flatnonzero(per_session[session_of] > 1).tolist():
            sharing.setdefault(session_of[i], []).append(i)
        same_day0_as = np.full(len(events), "", dtype=object)
        for group in sharing.values():
            for i in group:
                same_day0_as[i] = ";".join(ids[j] for j in group if j != i)
        return pd.DataFrame(
            {
                "event_id": ids,
                "name": [ev.name for ev in events],
                "original": [str(p.timestamp) for p in parsed],
                "day0": day0,
                "rule": rule,
                "assumed_timezone": assumed,
                "shifted": day0 != days.to_numpy(),
                "tags": [";".join(ev.tags) for ev in events],
                "direction": [ev.direction for ev in events],
                "source": [ev.source for ev in events],
                "same_day0_as": same_day0_as,
            }
        )

    def _model_for(self, asset: str) -> tuple[NormalReturnModel, str | None]:
        """Model and market ticker used for ``asset``."""
        if self.model.needs_market and asset == self.market:
            if self.market_benchmark:
                return self.model, self.market_benchmark
            return ConstantMean(), None
        return self.model, self.market if self.model.needs_market else None

    def _load(self, aligned: pd.DataFrame) -> _Context:
        span = self.windows.span
        first = self.calendar.offset(aligned["day0"].min(), span[0] - 1)
        last = self.calendar.offset(aligned["day0"].max(), span[1])
        tickers = list(
            dict.fromkeys(
                self.assets
                + [m for a in self.assets if (m := self._model_for(a)[1]) is not None]
            )
        )
        provider = resolve_provider(self.data, self.data_kind)
        raw = provider.get_prices(tickers, first, last)
        if getattr(provider, "kind", "prices") == "returns":
            if raw.empty:
                raise DataCoverageError(
                    f"no returns for {tickers} between {first.date()} and {last.date()}; the "
                    "events lie outside the data. Check the event dates or the data source."
                )
            frame = raw.set_axis(validate_dates_index(raw.index, "returns"), axis=0)
            if self.return_type == "simple":
                _check_simple_returns(frame)
            on_sessions, gaps = _on_sessions(frame, self.calendar)
            rets = on_sessions.reindex(self.calendar.sessions_in_range(first, last))
        else:
            if raw.dropna(how="all").empty:
                raise DataCoverageError(
                    f"no prices for {tickers} between {first.date()} and {last.date()}; the "
                    "events lie outside the data. Check the event dates or the data source."
                )
            prices = check_price_frame(raw.dropna(how="all"), "prices")
            returns, gaps = _returns_on_sessions(prices, self.calendar, self.return_type)
            rets = returns.reindex(self.calendar.sessions_in_range(first, last))
        ctx = _Context(returns=rets, gaps=gaps, provider=provider)
        ctx.notes["data"] = repr(provider)
        factors = self._factor_frame(rets.index, ctx.notes) if self._needs_factors() else None
        for asset in self.assets:
            model, market = self._model_for(asset)
            key = self._group_key(model, market)
            if key in ctx.inputs:
                continue
            ctx.inputs[key] = DesignInputs(
                index=rets.index,
                market=rets[market] if market else None,
                factors=self._model_factors(model, rets.index, factors),
                risk_free=factors["rf"] if (factors is not None and model.needs_risk_free)
                else None,
            )
        return ctx

    def _needs_factors(self) -> bool:
        m = self.model
        return m.needs_risk_free or (m.needs_factors and getattr(m, "factors", None) is None)

    def _factor_frame(self, index: pd.DatetimeIndex, notes: dict[str, str]) -> pd.DataFrame:
        from eventstudy.data.factors import resolve_factor_provider

        provider = resolve_factor_provider(self.factors)
        frame = provider.get_factors(index[0], index[-1]).reindex(index)
        if self.model.needs_risk_free:
            # The CAPM's risk-free rate is a separate choice from the factor file's own rf.
            rf = provider.risk_free(index[0], index[-1], source=self.risk_free)
            filled = rf.attrs.get("filled", [])
            days = ", ".join(str(pd.Timestamp(d).date()) for d in filled)
            notes["risk_free"] = self.risk_free + (
                f"; carried forward on {len(filled)} session(s) without a quote: {days}"
                if filled else ""
            )
            frame = frame.assign(rf=rf.reindex(index))
        return frame

    @staticmethod
    def _model_factors(
        model: NormalReturnModel, index: pd.DatetimeIndex, study_factors: pd.DataFrame | None
    ) -> pd.DataFrame | None:
        own = getattr(model, "factors", None)
        if own is not None:
            frame = own.copy()
            frame.index = validate_dates_index(frame.index, "factors")
            return frame.reindex(index)
        return study_factors

    @staticmethod
    def _group_key(model: NormalReturnModel, market: str | None) -> str:
        return f"{model.label}|{market or ''}"

    def _exclusion_mask(self, aligned: pd.DataFrame, index: pd.DatetimeIndex) -> tuple:
        """Sessions removed from estimation, and the reason per session."""
        mask = np.zeros(len(index), dtype=bool)
        reasons: dict[pd.Timestamp, str] = {}
        if self.exclude is None:
            return mask, reasons
        if isinstance(self.exclude, str) and self.exclude == "catalog":
            # All catalog events, the studied ones included: an event's own days never fall in
            # its own estimation window, but they contaminate the windows of the others.
            items = [(e.when, f"catalog event {e.id}") for e in load_catalog()]
        elif isinstance(self.exclude, EventSet):
            items = [(e.when, f"event {e.id}") for e in self.exclude]
        elif isinstance(self.exclude, str):
            raise SpecificationError(
                f"exclude={self.exclude!r} is not understood; pass 'catalog', a list of dates "
                "or an EventSet."
            )
        else:
            items = [(d, f"excluded date {d}") for d in self.exclude]  # type: ignore[union-attr]
        lo, hi = self.exclude_window
        sessions = self.calendar.sessions
        for when, label in items:
            day = self.calendar.align(when, "next").session
            # Offsets are counted on the calendar, so dates outside the loaded range still
            # reach exactly the sessions they should (and no others).
            pos = sessions.searchsorted(day) + np.arange(lo, hi + 1)
            pos = pos[(pos >= 0) & (pos < len(sessions))]
            for i in index.get_indexer(sessions[pos]):
                if i >= 0:
                    mask[i] = True
                    reasons.setdefault(index[i], f"excluded from estimation: {label}")
        return mask, reasons

    # --- fit ----------------------------------------------------------------------------------
    def fit(self) -> EventStudyResults:
        """Run the study.

        Returns
        -------
        EventStudyResults

        Raises
        ------
        DataCoverageError
            If no asset-event can be estimated (the reasons are listed).
        """
        from eventstudy.results import EventStudyResults

        aligned = self.align()
        # (On an object array: the first Arrow string comparison in a process costs 1 ms.)
        sharing = aligned["same_day0_as"].to_numpy(dtype=object) != ""
        if sharing.any():
            groups = aligned[sharing].groupby("day0", sort=True)["event_id"].agg(", ".join)
            warnings.warn(
                "events on the same day 0: " + "; ".join(
                    f"{ids} ({pd.Timestamp(d).date()})" for d, ids in groups.items())
                + ". Their asset-events share every calendar day, so an asset enters the "
                "cross-sectional tests once per event with the same returns; keep one event "
                "per session, or test them apart (group_by='event_id').",
                DataWarning, stacklevel=2)
        ctx = self._load(aligned)
        index = ctx.returns.index
        day0 = index.get_indexer(pd.DatetimeIndex(aligned["day0"]))
        if (day0 < 0).any():  # pragma: no cover - the loaded range covers every window
            raise DataCoverageError("an event's day 0 is outside the loaded sessions.")
        exclude, exclude_reasons = self._exclusion_mask(aligned, index)
        w = self.windows
        stack = self._fit_groups(ctx, day0, exclude)

        dropped = self._dropped_rows(aligned, ctx, stack, day0, exclude, exclude_reasons)
        keep = (stack.status == STATUS_OK) & np.isfinite(stack.ar).any(axis=2)
        if not keep.any():
            lost = dropped[dropped["scope"] == "asset-event"].groupby("event_id", sort=False)
            lines = [f"{eid}: {part['reason'].iloc[0]}" for eid, part in lost][:5]
            raise DataCoverageError(
                "no asset-event could be estimated. " + " | ".join(lines)
                + ". Check the event dates against the data's coverage (eventstudy data), or "
                "shorten the estimation window / lower min_estimation_obs."
            )
        n_lost = int((~keep).sum())
        if n_lost:
            warnings.warn(
                f"{n_lost} of {keep.size} asset-events could not be estimated and are left out; "
                "see results.dropped for the reasons.",
                DataWarning,
                stacklevel=3,
            )
        rows = np.flatnonzero(keep)  # event-major, like np.nonzero(keep)
        n_events, n_groups = stack.x_event.shape[:2]
        ev_idx, as_idx = np.divmod(rows, keep.shape[1])

        def pick(values: np.ndarray) -> np.ndarray:
            """Rows of the kept asset-events from an (E, A, ...) array (a view if all kept)."""
            flat = values.reshape(keep.size, *values.shape[2:])
            return flat if n_lost == 0 else flat[rows]

        per_asset = pd.DataFrame({"asset": self.assets, "label": map(asset_label, self.assets),
                                  "model": stack.labels})
        # Rows taken from the per-event and per-asset tables (a take keeps their column
        # types, without a round trip of every string through Python objects).
        taken = {**{name: aligned[name].array.take(ev_idx)
                    for name in ("event_id", "day0", "direction", "tags")},
                 **{name: per_asset[name].array.take(as_idx)
                    for name in ("asset", "label", "model")}}
        keys = pd.DataFrame({name: taken[name] for name in
                             ("event_id", "asset", "label", "model", "day0", "direction", "tags")})
        panel = ARPanel(
            keys=keys,
            taus=w.taus,
            est_taus=w.est_taus,
            ar=pick(stack.ar),
            est_resid=_compact(stack.est_resid.reshape(keep.size, -1), rows),
            sigma=pick(stack.sigma),
            nobs=pick(stack.nobs),
            k=stack.k[as_idx],
            # One block of event-window regressors per event and design group.
            x_event=stack.x_event.reshape(n_events * n_groups, *stack.x_event.shape[2:]),
            x_rows=ev_idx * n_groups + stack.group[as_idx],
            xtx_inv=pick(stack.xtx_inv),
            returns=pick(stack.returns),
            normal=pick(stack.normal),
            log_returns=self.return_type == "log",
            prediction_error=self.conventions.prediction_error,
        )
        params = self._params_table(keys, stack, pick, as_idx, index, day0[ev_idx])
        event_dates = {
            eid: index[day0[e] + w.taus] for e, eid in enumerate(aligned["event_id"])
        }
        return EventStudyResults(
            panel=panel,
            events=aligned,
            params=params,
            dropped=dropped,
            event_dates=event_dates,
            car_windows=w.car_windows,
            conventions=self.conventions,
            settings=self._settings(ctx.notes),
            data_source=ctx.provider,
        )

    def _fit_groups(self, ctx: _Context, day0: np.ndarray, exclude: np.ndarray) -> _Stack:
        """Run :func:`fit_batch` once per design group and stack the fits as (E, A, ...)."""
        groups: dict[str, list[int]] = {}
        for j, asset in enumerate(self.assets):
            model, market = self._model_for(asset)
            groups.setdefault(self._group_key(model, market), []).append(j)
        w = self.windows
        values = _columns(ctx.returns, self.assets)
        fits, models = [], []
        for key, cols in groups.items():
            model, market = self._model_for(self.assets[cols[0]])
            design = model.design(ctx.inputs[key])
            if model.needs_factors or model.needs_risk_free:
                missing = ~(np.isfinite(design.X).all(axis=1) & np.isfinite(design.offset))
                if missing.any():
                    ctx.factor_gaps.update(dict.fromkeys(cols, missing))
            fit = fit_batch(
                values[:, cols] if len(groups) > 1 else values,
                design,
                day0,
                w.est_taus,
                w.taus,
                min_obs=w.min_estimation_obs,
                exclude=exclude,
                sigma_ddof=self.conventions.sigma_ddof,
            )
            if self.conventions.pe_moments == "all_days" and isinstance(model, MarketModel):
                fit = replace(fit, xtx_inv=_all_days_market_inverse(
                    design.X[:, 1], day0, w.est_taus, fit.nobs))
            label = model.label if market in (None, self.market) else f"{model.label}({market})"
            fits.append((np.array(cols), fit))
            models.append((label, design.param_names))
        return _Stack.from_fits(fits, models, len(self.assets))

    def _settings(self, notes: dict[str, str]) -> dict[str, object]:
        return {
            "model": self.model.label,
            "market": self.market,
            "market_benchmark": self.market_benchmark or "constant mean",
            "estimation_window": self.windows.estimation,
            "event_window": self.windows.event,
            "min_estimation_obs": self.windows.min_estimation_obs,
            "return_type": self.return_type,
            "alignment": self.alignment,
            "exclude": self.exclude if isinstance(self.exclude, str | type(None))
            else f"{len(self.exclude)} dates",  # type: ignore[arg-type]
            "exclude_window": self.exclude_window,
            **notes,
        }

    def _params_table(self, keys, stack, pick, as_idx, index, day0) -> pd.DataFrame:
        """``event_id, asset, model``, the named parameters, ``sigma, nobs, r2`` and dates."""
        w = self.windows
        columns: dict[str, object] = {name: keys[name] for name in ("event_id", "asset", "model")}
        names = list(dict.fromkeys(n for _, pn in stack.models for n in pn))
        params = pick(stack.params)  # (N, K)
        group = stack.group[as_idx]
        for name in names:
            # Column of ``name`` in each group's parameter vector (-1: not in its model).
            where = np.array([pn.index(name) if name in pn else -1 for _, pn in stack.models])
            pos = where[group]
            picked = np.take_along_axis(params, np.maximum(pos, 0)[:, None], axis=1)[:, 0]
            columns[name] = np.where(pos >= 0, picked, np.nan)
        columns["sigma"] = pick(stack.sigma)
        columns["nobs"] = pick(stack.nobs)
        columns["r2"] = pick(stack.r2)
        columns["est_start"] = index[day0 + w.estimation[0]]
        columns["est_end"] = index[day0 + w.estimation[1]]
        return pd.DataFrame(columns)

    def _dropped_rows(self, aligned, ctx, stack, day0, exclude, exclude_reasons) -> pd.DataFrame:
        """What was left out and why, one row per item (see ``results.dropped``)."""
        w = self.windows
        index = ctx.returns.index
        event_ids = aligned["event_id"].to_numpy()
        assets = np.array(self.assets, dtype=object)
        no_ar = ~np.isfinite(stack.ar).any(axis=2)
        parts = []

        # Asset-events that could not be estimated, with the data coverage that explains it.
        e, a = np.nonzero((stack.status != STATUS_OK) | no_ar)
        if len(e):
            status, nobs = stack.status[e, a], stack.nobs[e, a]
            reason = np.full(len(e), "no returns in the event window", dtype=object)
            few = status == STATUS_FEW
            reason[few] = ("too few estimation returns: " + nobs[few].astype(str).astype(object)
                           + f" usable of {len(w.est_taus)} (need {w.min_estimation_obs})")
            reason[status == STATUS_SINGULAR] = (
                "regressors are collinear in the estimation window")
            reason[status == STATUS_ZERO_VAR] = (
                "zero residual variance in the estimation window (constant price?)")
            seen = np.isfinite(_columns(ctx.returns, self.assets))
            has_data = seen.any(axis=0)[a]
            first = seen.argmax(axis=0)[a]
            last = len(index) - 1 - seen[::-1].argmax(axis=0)[a]
            est_start, evt_end = day0[e] + w.estimation[0], day0[e] + w.event[1]
            day = np.datetime_as_string(index.to_numpy(), unit="D").astype(object)
            suffix = np.full(len(e), "", dtype=object)
            none = ~has_data
            suffix[none] = ("; no " + assets[a[none]] + f" data between {day[0]} and {day[-1]}")
            late = has_data & (first > est_start)
            suffix[late] = ("; " + assets[a[late]] + " data start " + day[first[late]]
                            + ", after the estimation window starts (" + day[est_start[late]]
                            + ")")
            early = has_data & ~late & (last < evt_end)
            suffix[early] = ("; " + assets[a[early]] + " data end " + day[last[early]]
                             + ", before the event window ends (" + day[evt_end[early]] + ")")
            for j in ctx.factor_gaps:
                rows = a == j
                gaps = ctx.factor_gaps[j][day0[e[rows], None] + w.est_taus[None, :]].sum(axis=1)
                suffix[rows] += np.where(
                    gaps > 0, "; factor data missing on " + gaps.astype(str).astype(object)
                    + f" of {len(w.est_taus)} estimation days", "")
            parts.append(_drop_frame(event_ids[e], assets[a], None, "asset-event",
                                     reason + suffix))

        # Single missing event-window days of asset-events that were estimated.
        partial = ~np.isfinite(stack.ar) & (~no_ar & (stack.status == STATUS_OK))[..., None]
        e, a, t = np.nonzero(partial)
        if len(e):
            at = day0[e] + w.taus[t]
            why = np.full(len(e), "return missing on this event-window day; CARs spanning it "
                          "are NaN", dtype=object)
            for j, gaps in ctx.factor_gaps.items():
                why[(a == j) & gaps[at]] = ("factor data missing on this event-window day; "
                                            "CARs spanning it are NaN")
            parts.append(_drop_frame(event_ids[e], assets[a], index[at], "event-day", why))

        # Sessions inside some window without the factor data a model needs.
        if ctx.factor_gaps:
            used = np.zeros(len(index), dtype=bool)
            for offsets in (w.est_taus, w.taus):
                used[(day0[:, None] + offsets[None, :]).ravel()] = True
            labels = {}
            for j, gaps in ctx.factor_gaps.items():
                labels.setdefault(id(gaps), (gaps, self._model_for(self.assets[j])[0].label))
            for gaps, label in labels.values():
                at = np.flatnonzero(gaps & used)
                parts.append(_drop_frame(
                    None, None, index[at], "data",
                    f"no factor data on this session (model {label}); left out of estimation "
                    "and abnormal returns"))

        # Estimation-window days removed for contamination control.
        e, t = np.nonzero(exclude[day0[:, None] + w.est_taus[None, :]])
        if len(e):
            why = np.empty(len(index), dtype=object)
            why[index.get_indexer(list(exclude_reasons))] = list(exclude_reasons.values())
            at = day0[e] + w.est_taus[t]
            parts.append(_drop_frame(event_ids[e], None, index[at], "estimation-day", why[at]))

        if len(ctx.gaps["reason"]):
            parts.append(_drop_frame(None, ctx.gaps["asset"], ctx.gaps["date"], "data",
                                     ctx.gaps["reason"]))
        if not parts:
            return pd.DataFrame([], columns=DROP_COLUMNS)
        columns = {c: np.concatenate([p[c] for p in parts]) for c in DROP_COLUMNS}
        if np.isnat(columns["date"]).all():
            # The type pandas infers for a column of NaT only (the Dask backend relies on it).
            columns["date"] = columns["date"].astype("datetime64[s]")
        return pd.DataFrame(columns)
