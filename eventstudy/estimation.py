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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from eventstudy._typing import ALIGNMENT_POLICIES, DATA_KINDS, RETURN_TYPES, check_option
from eventstudy.abnormal import ARPanel
from eventstudy.calendar import TradingCalendar, get_calendar
from eventstudy.conventions import Conventions, get_conventions
from eventstudy.data.base import check_price_frame, resolve_provider, validate_dates_index
from eventstudy.events import EventSet, load_catalog, to_event_set
from eventstudy.exceptions import DataCoverageError, DataWarning, SpecificationError
from eventstudy.models import (
    ConstantMean,
    Design,
    DesignInputs,
    NormalReturnModel,
    get_model,
)
from eventstudy.returns import prices_to_returns, to_sessions
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
    k = design.X.shape[1]
    pos_est = day0[:, None] + est_taus[None, :]  # (E, L1)
    pos_evt = day0[:, None] + taus[None, :]  # (E, L2)
    y_all = returns - design.offset[:, None]
    x_ok = np.isfinite(design.X).all(axis=1) & np.isfinite(design.offset)
    if exclude is not None:
        x_ok_est = x_ok & ~exclude
    else:
        x_ok_est = x_ok
    X0 = np.where(x_ok[:, None], design.X, 0.0)

    y_est = np.swapaxes(y_all[pos_est], 1, 2)  # (E, A, L1)
    X_est = X0[pos_est]  # (E, L1, k)
    valid = np.isfinite(y_est) & x_ok_est[pos_est][:, None, :]
    y0 = np.where(valid, y_est, 0.0)
    w = valid.astype(float)
    nobs = valid.sum(axis=2)
    E, A, L1 = y_est.shape

    if k:
        outer = (X_est[:, :, :, None] * X_est[:, :, None, :]).reshape(E, L1, k * k)
        xtx = (w @ outer).reshape(E, A, k, k)
        xty = y0 @ X_est  # (E, A, k)
        det_ok = np.linalg.cond(xtx) < 1e12
        safe = np.where(det_ok[..., None, None], xtx, np.eye(k))
        xtx_inv = np.linalg.inv(safe)
        params = np.einsum("eakl,eal->eak", xtx_inv, xty)
        fitted = params @ np.swapaxes(X_est, 1, 2)  # (E, A, L1)
    else:
        det_ok = np.ones((E, A), dtype=bool)
        xtx_inv = np.zeros((E, A, 0, 0))
        params = np.zeros((E, A, 0))
        fitted = np.zeros_like(y0)
    resid = np.where(valid, y_est - fitted, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        if sigma_ddof == "1":
            centred = resid - np.nanmean(resid, axis=2, keepdims=True)
            ssr = np.nansum(centred**2, axis=2)
            sigma = np.sqrt(ssr / (nobs - 1))
        else:
            ssr = np.nansum(resid**2, axis=2)
            sigma = np.sqrt(ssr / (nobs - k))
        ybar = np.nansum(np.where(valid, y_est, 0.0), axis=2) / nobs
        sst = np.nansum(np.where(valid, (y_est - ybar[..., None]) ** 2, 0.0), axis=2)
        r2 = 1.0 - np.nansum(resid**2, axis=2) / sst if k else np.full((E, A), np.nan)

    status = np.full((E, A), STATUS_OK)
    status[~det_ok] = STATUS_SINGULAR
    status[~(sigma > 0) & det_ok] = STATUS_ZERO_VAR
    status[nobs < max(min_obs, k + 1)] = STATUS_FEW

    y_evt = np.swapaxes(y_all[pos_evt], 1, 2)  # (E, A, L2)
    X_evt = np.where(x_ok[pos_evt][..., None], design.X[pos_evt], np.nan)  # (E, L2, k)
    offset_evt = np.where(x_ok[pos_evt], design.offset[pos_evt], np.nan)  # (E, L2)
    normal_part = params @ np.swapaxes(X_evt, 1, 2) if k else np.zeros_like(y_evt)
    normal = normal_part + offset_evt[:, None, :]
    raw = y_evt + design.offset[pos_evt][:, None, :]
    return BatchFit(
        params=params,
        xtx_inv=xtx_inv,
        sigma=sigma,
        nobs=nobs,
        r2=r2,
        est_resid=resid,
        ar=raw - normal,
        returns=raw,
        normal=normal,
        x_event=X_evt,
        status=status,
    )


@dataclass
class _Context:
    """Data prepared once per fit: sessions, returns, market and factor inputs."""

    returns: pd.DataFrame
    gaps: pd.DataFrame
    inputs: dict[str, DesignInputs] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


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
        2025 tariff crash. ``"catalog"`` removes all built-in catalog events other than the
        ones studied. Removed days are listed in ``results.dropped``.
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

        Returns
        -------
        pandas.DataFrame
            One row per event: ``event_id, name, original, day0, rule, assumed_timezone,
            shifted, tags, direction, source``.
        """
        rows = []
        for ev in self.events:
            a = self.calendar.align(ev.when, self.alignment)
            rows.append(
                {
                    "event_id": ev.id,
                    "name": ev.name,
                    "original": str(a.original),
                    "day0": a.session,
                    "rule": a.rule,
                    "assumed_timezone": a.assumed_timezone,
                    "shifted": a.shifted,
                    "tags": ";".join(ev.tags),
                    "direction": ev.direction,
                    "source": ev.source,
                }
            )
        return pd.DataFrame(rows)

    def _model_for(self, asset: str) -> tuple[NormalReturnModel, str | None]:
        """Model and market ticker used for ``asset``."""
        if self.model.needs_market and asset == self.market:
            if self.market_benchmark:
                return self.model, self.market_benchmark
            return ConstantMean(), None
        return self.model, self.market if self.model.needs_market else None

    def _load(self, aligned: pd.DataFrame) -> _Context:
        span = self.windows.span
        first = min(self.calendar.offset(d, span[0] - 1) for d in aligned["day0"])
        last = max(self.calendar.offset(d, span[1]) for d in aligned["day0"])
        tickers = list(
            dict.fromkeys(
                self.assets
                + [m for a in self.assets if (m := self._model_for(a)[1]) is not None]
            )
        )
        provider = resolve_provider(self.data, self.data_kind)
        raw = provider.get_prices(tickers, first, last)
        if getattr(provider, "kind", "prices") == "returns":
            frame = raw.copy()
            frame.index = validate_dates_index(frame.index, "returns")
            on_sessions, records = to_sessions(frame, self.calendar)
            rets = on_sessions.reindex(self.calendar.sessions_in_range(first, last))
            gaps = pd.DataFrame(records, columns=["asset", "date", "reason"])
        else:
            if raw.dropna(how="all").empty:
                raise DataCoverageError(
                    f"no prices for {tickers} between {first.date()} and {last.date()}; the "
                    "events lie outside the data. Check the event dates or the data source."
                )
            prices = check_price_frame(raw.dropna(how="all"), "prices")
            panel = prices_to_returns(prices, self.calendar, self.return_type)
            rets = panel.returns.reindex(self.calendar.sessions_in_range(first, last))
            gaps = panel.gaps
        ctx = _Context(returns=rets, gaps=gaps)
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
            studied = set(aligned["event_id"])
            items = [
                (e.when, f"catalog event {e.id}") for e in load_catalog() if e.id not in studied
            ]
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
        for when, label in items:
            day = self.calendar.align(when, "next").session
            for j in range(lo, hi + 1):
                i = index.searchsorted(day) + j
                if 0 <= i < len(index) and (j != 0 or index[i] == day):
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
        ctx = self._load(aligned)
        index = ctx.returns.index
        day0 = index.get_indexer(pd.DatetimeIndex(aligned["day0"]))
        if (day0 < 0).any():  # pragma: no cover - the loaded range covers every window
            raise DataCoverageError("an event's day 0 is outside the loaded sessions.")
        exclude, exclude_reasons = self._exclusion_mask(aligned, index)
        w = self.windows
        est_taus, taus = w.est_taus, w.taus
        E, A = len(aligned), len(self.assets)

        groups: dict[str, list[int]] = {}
        for j, asset in enumerate(self.assets):
            model, market = self._model_for(asset)
            groups.setdefault(self._group_key(model, market), []).append(j)
        K = max(
            (self._model_for(self.assets[cols[0]])[0].design(ctx.inputs[key]).X.shape[1]
             for key, cols in groups.items()),
            default=0,
        )
        L1, L2 = len(est_taus), len(taus)
        out = {
            "ar": np.full((E, A, L2), np.nan),
            "returns": np.full((E, A, L2), np.nan),
            "normal": np.full((E, A, L2), np.nan),
            "est_resid": np.full((E, A, L1), np.nan),
            "sigma": np.full((E, A), np.nan),
            "nobs": np.zeros((E, A), dtype=int),
            "k": np.zeros((E, A), dtype=int),
            "r2": np.full((E, A), np.nan),
            "status": np.zeros((E, A), dtype=int),
            "x_event": np.zeros((E, A, L2, K)),
            "xtx_inv": np.zeros((E, A, K, K)),
            "params": np.full((E, A, K), np.nan),
        }
        labels = np.empty((E, A), dtype=object)
        param_names: dict[int, tuple[str, ...]] = {}
        for key, cols in groups.items():
            model, market = self._model_for(self.assets[cols[0]])
            design = model.design(ctx.inputs[key])
            k = design.X.shape[1]
            fit = fit_batch(
                ctx.returns[[self.assets[j] for j in cols]].to_numpy(dtype=float),
                design,
                day0,
                est_taus,
                taus,
                min_obs=w.min_estimation_obs,
                exclude=exclude,
                sigma_ddof=self.conventions.sigma_ddof,
            )
            cols_arr = np.array(cols)
            for name in ("ar", "returns", "normal", "est_resid", "sigma", "nobs", "r2", "status"):
                out[name][:, cols_arr] = getattr(fit, name)
            out["k"][:, cols_arr] = k
            out["params"][:, cols_arr, :k] = fit.params
            out["xtx_inv"][:, cols_arr, :k, :k] = fit.xtx_inv
            out["x_event"][:, cols_arr, :, :k] = np.nan_to_num(fit.x_event)[:, None]
            label = model.label if market in (None, self.market) else f"{model.label}({market})"
            labels[:, cols_arr] = label
            for j in cols:
                param_names[j] = design.param_names

        dropped = self._dropped_rows(aligned, ctx, out, index, day0, exclude_reasons)
        keep = (out["status"] == STATUS_OK) & np.isfinite(out["ar"]).any(axis=2)
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
        ev_idx, as_idx = np.nonzero(keep)
        keys = pd.DataFrame(
            {
                "event_id": aligned["event_id"].to_numpy()[ev_idx],
                "asset": np.array(self.assets, dtype=object)[as_idx],
                "label": [asset_label(self.assets[j]) for j in as_idx],
                "model": labels[ev_idx, as_idx],
                "day0": aligned["day0"].to_numpy()[ev_idx],
                "direction": aligned["direction"].to_numpy()[ev_idx],
                "tags": aligned["tags"].to_numpy()[ev_idx],
            }
        )
        panel = ARPanel(
            keys=keys,
            taus=taus,
            est_taus=est_taus,
            ar=out["ar"][ev_idx, as_idx],
            est_resid=out["est_resid"][ev_idx, as_idx],
            sigma=out["sigma"][ev_idx, as_idx],
            nobs=out["nobs"][ev_idx, as_idx],
            k=out["k"][ev_idx, as_idx],
            x_event=out["x_event"][ev_idx, as_idx],
            xtx_inv=out["xtx_inv"][ev_idx, as_idx],
            returns=out["returns"][ev_idx, as_idx],
            normal=out["normal"][ev_idx, as_idx],
            log_returns=self.return_type == "log",
            prediction_error=self.conventions.prediction_error,
        )
        params = self._params_table(keys, out, ev_idx, as_idx, param_names, index, day0)
        event_dates = {
            eid: index[day0[e] + taus] for e, eid in enumerate(aligned["event_id"])
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
        )

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

    def _params_table(self, keys, out, ev_idx, as_idx, param_names, index, day0) -> pd.DataFrame:
        w = self.windows
        table = keys[["event_id", "asset", "model"]].copy()
        names = list(dict.fromkeys(n for j in sorted(param_names) for n in param_names[j]))
        # Column position of each named parameter for each asset (-1: not in its model).
        where = np.full((len(self.assets), len(names)), -1)
        for j, pn in param_names.items():
            for c, name in enumerate(names):
                if name in pn:
                    where[j, c] = pn.index(name)
        params = out["params"][ev_idx, as_idx]  # (N, K)
        for c, name in enumerate(names):
            pos = where[as_idx, c]
            picked = np.take_along_axis(params, np.maximum(pos, 0)[:, None], axis=1)[:, 0]
            table[name] = np.where(pos >= 0, picked, np.nan)
        table["sigma"] = out["sigma"][ev_idx, as_idx]
        table["nobs"] = out["nobs"][ev_idx, as_idx]
        table["r2"] = out["r2"][ev_idx, as_idx]
        table["est_start"] = index[day0[ev_idx] + w.estimation[0]]
        table["est_end"] = index[day0[ev_idx] + w.estimation[1]]
        return table

    def _dropped_rows(self, aligned, ctx, out, index, day0, exclude_reasons) -> pd.DataFrame:
        w = self.windows
        rows: list[tuple] = []
        messages = {
            STATUS_FEW: "too few estimation returns: {n} usable of {L} (need {m})",
            STATUS_SINGULAR: "regressors are collinear in the estimation window",
            STATUS_ZERO_VAR: "zero residual variance in the estimation window (constant price?)",
        }
        first_valid = ctx.returns.apply(lambda s: s.first_valid_index())
        last_valid = ctx.returns.apply(lambda s: s.last_valid_index())
        event_ids = aligned["event_id"].to_numpy()
        no_ar = ~np.isfinite(out["ar"]).any(axis=2)
        for e, a in zip(*np.nonzero((out["status"] != STATUS_OK) | no_ar), strict=True):
            asset = self.assets[a]
            status = out["status"][e, a]
            reason = messages.get(status, "no returns in the event window").format(
                n=out["nobs"][e, a], L=len(w.est_taus), m=w.min_estimation_obs
            )
            fv, lv = first_valid[asset], last_valid[asset]
            est_start, evt_end = index[day0[e] + w.estimation[0]], index[day0[e] + w.event[1]]
            if fv is None or pd.isna(fv):
                reason += (f"; no {asset} data between {index[0].date()} and "
                           f"{index[-1].date()}")
            elif fv > est_start:
                reason += (f"; {asset} data start {fv.date()}, after the estimation window "
                           f"starts ({est_start.date()})")
            elif lv < evt_end:
                reason += (f"; {asset} data end {lv.date()}, before the event window ends "
                           f"({evt_end.date()})")
            rows.append((event_ids[e], asset, pd.NaT, "asset-event", reason))
        partial = ~np.isfinite(out["ar"]) & ~no_ar[..., None] & (out["status"] == STATUS_OK)[
            ..., None]
        for e, a, t in zip(*np.nonzero(partial), strict=True):
            rows.append((event_ids[e], self.assets[a], index[day0[e] + w.taus[t]], "event-day",
                         "return missing on this event-window day; CARs spanning it are NaN"))
        for e, eid in enumerate(event_ids):
            for day in index[day0[e] + w.est_taus]:
                if day in exclude_reasons:
                    rows.append((eid, None, day, "estimation-day", exclude_reasons[day]))
        for rec in ctx.gaps.itertuples(index=False):
            rows.append((None, rec.asset, rec.date, "data", rec.reason))
        return pd.DataFrame(rows, columns=DROP_COLUMNS)
