r"""Normal-return models as linear designs :math:`R_t - o_t = X_t\theta + \epsilon_t`.

Every model is an offset :math:`o_t` subtracted from the asset's return and a regressor matrix
:math:`X_t` (possibly empty). The estimator fits :math:`\theta` by OLS over the estimation
window for all asset-events at once; the abnormal return is
:math:`AR_t = R_t - o_t - X_t\hat\theta`.

==================  ================================  ===================  ===
model               offset :math:`o_t`                regressors            k
==================  ================================  ===================  ===
``constant_mean``   0                                 1                     1
``market_adjusted`` :math:`R_{m,t}`                   (none)                0
``market``          0                                 1, :math:`R_{m,t}`    2
``capm``            :math:`R_{f,t}`                   :math:`R_{m,t}-R_{f,t}` 1
``ff3``             :math:`R_{f,t}`                   1, MKT-RF, SMB, HML   4
``FactorModel``     :math:`R_{f,t}` if given          1, user factors       1+p
==================  ================================  ===================  ===

References
----------
MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic
Literature*, 35(1), 13–39 (section 4).

Fama, E. F., & French, K. R. (1993). Common risk factors in the returns on stocks and bonds.
*Journal of Financial Economics*, 33(1), 3–56.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from eventstudy._typing import check_option
from eventstudy.exceptions import SpecificationError

__all__ = [
    "CAPM",
    "MODEL_NAMES",
    "ConstantMean",
    "Design",
    "DesignInputs",
    "FactorModel",
    "FamaFrench3",
    "MarketAdjusted",
    "MarketModel",
    "NormalReturnModel",
    "get_model",
]


@dataclass(frozen=True)
class DesignInputs:
    """Series a model may draw on, all on the same session index as the asset returns.

    Attributes
    ----------
    index : pandas.DatetimeIndex
        Sessions.
    market : pandas.Series or None
        Market (or benchmark) returns.
    factors : pandas.DataFrame or None
        Factor returns in decimals (e.g. ``mkt_rf, smb, hml``).
    risk_free : pandas.Series or None
        Daily risk-free rate in decimals.
    """

    index: pd.DatetimeIndex
    market: pd.Series | None = None
    factors: pd.DataFrame | None = None
    risk_free: pd.Series | None = None


@dataclass(frozen=True)
class Design:
    """A model's offset and regressors over the sessions of :class:`DesignInputs`.

    Attributes
    ----------
    offset : ndarray, shape (T,)
        Subtracted from the asset's return before fitting (zeros if none).
    X : ndarray, shape (T, k)
        Regressors (NaN where an input is missing).
    param_names : tuple of str
        Names of the ``k`` parameters.
    """

    offset: np.ndarray
    X: np.ndarray
    param_names: tuple[str, ...]


class NormalReturnModel(ABC):
    """Base class of normal-return models."""

    name: ClassVar[str]
    needs_market: ClassVar[bool] = False
    needs_factors: ClassVar[bool] = False
    needs_risk_free: ClassVar[bool] = False

    @abstractmethod
    def design(self, inputs: DesignInputs) -> Design:
        """Build the offset and regressors from ``inputs``."""

    @property
    def label(self) -> str:
        """Short label used in result tables."""
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted((k, repr(v)) for k, v in self.__dict__.items()))))

    @staticmethod
    def _require(series: object, what: str, model: str) -> pd.Series | pd.DataFrame:
        if series is None:
            raise SpecificationError(f"model {model!r} needs {what}, but none was given.")
        return series  # type: ignore[return-value]


def _ones(inputs: DesignInputs) -> np.ndarray:
    return np.ones((len(inputs.index), 1))


class ConstantMean(NormalReturnModel):
    r"""Constant-mean-return model :math:`R_t = \mu + \epsilon_t` (k = 1)."""

    name = "constant_mean"

    def design(self, inputs: DesignInputs) -> Design:  # noqa: D102
        return Design(np.zeros(len(inputs.index)), _ones(inputs), ("alpha",))


class MarketAdjusted(NormalReturnModel):
    r"""Market-adjusted model :math:`AR_t = R_t - R_{m,t}` (:math:`\alpha=0, \beta=1`, k = 0).

    The residual variance is :math:`\sum AR_t^2 / L_1` over the estimation window.
    """

    name = "market_adjusted"
    needs_market = True

    def design(self, inputs: DesignInputs) -> Design:  # noqa: D102
        market = self._require(inputs.market, "market returns", self.name)
        return Design(market.to_numpy(dtype=float), np.empty((len(inputs.index), 0)), ())


class MarketModel(NormalReturnModel):
    r"""Market model :math:`R_t = \alpha + \beta R_{m,t} + \epsilon_t` by OLS (k = 2)."""

    name = "market"
    needs_market = True

    def design(self, inputs: DesignInputs) -> Design:  # noqa: D102
        market = self._require(inputs.market, "market returns", self.name)
        X = np.column_stack([_ones(inputs), market.to_numpy(dtype=float)])
        return Design(np.zeros(len(inputs.index)), X, ("alpha", "beta"))


class CAPM(NormalReturnModel):
    r"""CAPM on excess returns, :math:`R_t - R_{f,t} = \beta (R_{m,t} - R_{f,t}) + \epsilon_t`.

    Parameters
    ----------
    intercept : bool, default False
        The CAPM restricts :math:`\alpha = 0` (MacKinlay 1997, section 4.3); ``True`` fits
        the excess-return market model with an intercept instead.
    """

    name = "capm"
    needs_market = True
    needs_risk_free = True

    def __init__(self, intercept: bool = False) -> None:
        self.intercept = bool(intercept)

    @property
    def label(self) -> str:  # noqa: D102
        return "capm+alpha" if self.intercept else "capm"

    def __repr__(self) -> str:
        return f"CAPM(intercept={self.intercept})"

    def design(self, inputs: DesignInputs) -> Design:  # noqa: D102
        market = self._require(inputs.market, "market returns", self.name).to_numpy(dtype=float)
        rf = self._require(inputs.risk_free, "a risk-free rate", self.name).to_numpy(dtype=float)
        excess = (market - rf)[:, None]
        if self.intercept:
            return Design(rf, np.column_stack([_ones(inputs), excess]), ("alpha", "beta"))
        return Design(rf, excess, ("beta",))


class FactorModel(NormalReturnModel):
    r"""Linear factor model :math:`R_t - R_{f,t} = \alpha + b' F_t + \epsilon_t`.

    Parameters
    ----------
    factors : pandas.DataFrame, optional
        Factor returns in decimals, indexed by date. If None, the factors come from the
        study's factor provider (``factors=`` argument or ``EVENTSTUDY_FACTORS``).
    columns : sequence of str, optional
        Factor columns to use (default: all but ``rf``).
    excess : bool, default True
        Subtract the risk-free rate (column ``rf`` of the factor data) from the asset return.
    """

    name = "factor"
    needs_factors = True

    def __init__(
        self,
        factors: pd.DataFrame | None = None,
        columns: tuple[str, ...] | list[str] | None = None,
        excess: bool = True,
    ) -> None:
        self.factors = factors
        self.columns = tuple(columns) if columns is not None else None
        self.excess = bool(excess)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(columns={self.columns}, excess={self.excess})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and repr(self) == repr(other) and (
            self.factors is other.factors  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((type(self), repr(self), id(self.factors)))

    @property
    def label(self) -> str:  # noqa: D102
        cols = self.columns
        if cols is None and self.factors is not None:
            cols = tuple(str(c) for c in self.factors.columns if c != "rf")
        return f"{self.name}({','.join(cols)})" if cols else self.name

    def design(self, inputs: DesignInputs) -> Design:  # noqa: D102
        factors = self._require(inputs.factors, "factor data", self.label)
        columns = self.columns or tuple(c for c in factors.columns if c != "rf")
        missing = [c for c in columns if c not in factors.columns]
        if missing:
            raise SpecificationError(
                f"factor column(s) {missing} not in the factor data; it has "
                f"{list(factors.columns)}."
            )
        if self.excess and "rf" not in factors.columns:
            raise SpecificationError(
                "excess=True needs a risk-free column 'rf' in the factor data; add it or pass "
                "excess=False."
            )
        offset = (
            factors["rf"].to_numpy(dtype=float) if self.excess else np.zeros(len(inputs.index))
        )
        X = np.column_stack([_ones(inputs), factors.loc[:, list(columns)].to_numpy(dtype=float)])
        return Design(offset, X, ("alpha", *columns))


class FamaFrench3(FactorModel):
    """Fama–French (1993) three-factor model on excess returns (k = 4)."""

    name = "ff3"

    def __init__(self) -> None:
        super().__init__(factors=None, columns=("mkt_rf", "smb", "hml"), excess=True)

    @property
    def label(self) -> str:  # noqa: D102
        return self.name


_MODELS: dict[str, type[NormalReturnModel]] = {
    "constant_mean": ConstantMean,
    "market_adjusted": MarketAdjusted,
    "market": MarketModel,
    "capm": CAPM,
    "ff3": FamaFrench3,
}
MODEL_NAMES: tuple[str, ...] = tuple(_MODELS)


def get_model(model: str | NormalReturnModel) -> NormalReturnModel:
    """Return a model instance from a name or an instance.

    Raises
    ------
    SpecificationError
        For an unknown name; the message lists the valid ones.
    """
    if isinstance(model, NormalReturnModel):
        return model
    return _MODELS[check_option("model", model, MODEL_NAMES)]()
