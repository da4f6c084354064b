"""Synthetic ARPanels for the inference tests: hand-made arrays and a market-model simulator."""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventstudy.abnormal import ARPanel


def make_panel(
    ar: np.ndarray,
    est_resid: np.ndarray,
    sigma: np.ndarray | None = None,
    *,
    k: int = 0,
    x_event: np.ndarray | None = None,
    xtx_inv: np.ndarray | None = None,
    day0: list | None = None,
    taus: np.ndarray | None = None,
    extra_keys: dict | None = None,
) -> ARPanel:
    """An ARPanel straight from arrays (no estimation)."""
    ar = np.asarray(ar, dtype=float)
    est_resid = np.asarray(est_resid, dtype=float)
    n, l2 = ar.shape
    l1 = est_resid.shape[1]
    nobs = np.isfinite(est_resid).sum(axis=1)
    if sigma is None:
        sigma = np.sqrt(np.nansum(est_resid**2, axis=1) / (nobs - k))
    if taus is None:
        taus = np.arange(l2) - l2 // 2
    kk = max(k, 1)
    if x_event is None:
        x_event = np.zeros((n, l2, kk))
    if xtx_inv is None:
        xtx_inv = np.zeros((n, kk, kk))
    if day0 is None:
        day0 = list(pd.bdate_range("2001-01-01", periods=n, freq="7B"))
    keys = pd.DataFrame({
        "event_id": [f"e{i}" for i in range(n)],
        "asset": [f"A{i}" for i in range(n)],
        "model": "test",
        "day0": pd.to_datetime(day0),
        **(extra_keys or {}),
    })
    return ARPanel(
        keys=keys,
        taus=np.asarray(taus),
        est_taus=np.arange(-l1 - 10, -10),
        ar=ar,
        est_resid=est_resid,
        sigma=np.asarray(sigma, dtype=float),
        nobs=nobs,
        k=np.full(n, k),
        x_event=x_event,
        xtx_inv=xtx_inv,
        returns=ar.copy(),
        normal=np.zeros_like(ar),
    )


def simulate_panel(
    rng: np.random.Generator,
    n: int = 200,
    l1: int = 100,
    l2: int = 3,
    rho: float = 0.0,
    same_day: bool = False,
    abnormal: float = 0.0,
) -> ARPanel:
    """Market-model asset-events fitted by OLS on simulated returns.

    Residuals are ``sqrt(rho) f_t + sqrt(1 - rho) u_it`` with a factor ``f`` common to all
    asset-events (one calendar) when ``same_day``; otherwise each asset-event has its own
    day 0, market and factor (independent). ``abnormal`` is added to every event-window day.
    """
    total = l1 + l2
    shape = (1, total) if same_day else (n, total)
    market = np.broadcast_to(rng.normal(0, 0.01, shape), (n, total))
    factor = np.broadcast_to(rng.normal(size=shape), (n, total))
    sd = rng.uniform(0.01, 0.03, size=(n, 1))
    resid = sd * (np.sqrt(rho) * factor + np.sqrt(1 - rho) * rng.normal(size=(n, total)))
    beta = rng.uniform(0.5, 1.5, size=(n, 1))
    y = 2e-4 + beta * market + resid
    y[:, l1:] += abnormal
    x = np.stack([np.ones((n, total)), market], axis=2)
    xe, ye = x[:, :l1], y[:, :l1]
    xtx_inv = np.linalg.inv(np.einsum("ntk,ntl->nkl", xe, xe))
    theta = np.einsum("nkl,ntl,nt->nk", xtx_inv, xe, ye)
    fitted = np.einsum("ntk,nk->nt", x, theta)
    e = y - fitted
    sigma = np.sqrt((e[:, :l1] ** 2).sum(axis=1) / (l1 - 2))
    day0 = [pd.Timestamp("2020-06-01")] * n if same_day else None
    panel = make_panel(e[:, l1:], e[:, :l1], sigma, k=2, x_event=x[:, l1:].copy(),
                       xtx_inv=xtx_inv, day0=day0)
    return panel


def tiny_panel(with_gaps: bool = True) -> ARPanel:
    """Five market-model asset-events, 8 estimation days, event days -1, 0, 1.

    Rows 0-2 share day 0 (and the market series), rows 3-4 share another day 0. With
    ``with_gaps``, row 1 misses estimation day 7 and row 4 misses estimation day 2 (so the
    rows of a day-0 cluster no longer share an estimation sample).
    """
    rng = np.random.default_rng(20240611)
    n, l1, l2 = 5, 8, 3
    est = rng.normal(0.0, 0.01, (n, l1))
    ar = rng.normal(0.002, 0.012, (n, l2))
    if with_gaps:
        est[1, 7] = np.nan
        est[4, 2] = np.nan
    market = {0: rng.normal(0.0, 0.01, l1 + l2), 1: rng.normal(0.0, 0.01, l1 + l2)}
    cluster = [0, 0, 0, 1, 1]
    x_event = np.zeros((n, l2, 2))
    xtx_inv = np.zeros((n, 2, 2))
    for i in range(n):
        m = market[cluster[i]]
        keep = np.isfinite(est[i])
        x = np.column_stack([np.ones(l1), m[:l1]])[keep]
        xtx_inv[i] = np.linalg.inv(x.T @ x)
        x_event[i] = np.column_stack([np.ones(l2), m[l1:]])
    day0 = [pd.Timestamp("2024-03-01")] * 3 + [pd.Timestamp("2024-05-01")] * 2
    return make_panel(ar, est, k=2, x_event=x_event, xtx_inv=xtx_inv, day0=day0,
                      extra_keys={"direction": ["up", "up", "down", "down", "up"]})
