"""Normal-return models: what an asset would have returned without the event."""

from eventstudy.models.base import (
    CAPM,
    MODEL_NAMES,
    ConstantMean,
    Design,
    DesignInputs,
    FactorModel,
    FamaFrench3,
    MarketAdjusted,
    MarketModel,
    NormalReturnModel,
    get_model,
)

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
