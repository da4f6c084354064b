"""Named sets of formula choices ("conventions"), recorded in every results object.

The default ``"clm"`` preset follows Campbell, Lo & MacKinlay (1997, ch. 4) and the papers
that define each test: residual variance :math:`SSR/(L_1-k)`, prediction-error-corrected
variances, Student-t reference with :math:`L_1-k` degrees of freedom for single
asset-events. ``"estudy2"`` reproduces the R package estudy2 0.10.0 (see
``docs/estudy2_conventions.md``); :data:`FORMULAS` says in words what each setting does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from eventstudy._typing import CONVENTIONS, check_option
from eventstudy.exceptions import SpecificationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMULAS", "Conventions", "get_conventions"]

#: For each setting, the formula each value stands for (used to document results).
FORMULAS: dict[str, dict[object, str]] = {
    "sigma_ddof": {
        "k": "sigma^2 = SSR / (L1 - k) (CLM 1997 eq. 4.4.4)",
        "1": "sigma^2 = sum((e - mean e)^2) / (L1 - 1) (R sd(); estudy2)",
    },
    "prediction_error": {
        True: "Var(CAR) = sigma^2 (L + s'(X'X)^-1 s), cross-day covariances included "
        "(CLM eq. 4.4.11); also in the standardized tests (Patell, BMP, KP, ranks)",
        False: "Var(CAR) = L sigma^2 (estimation error ignored)",
    },
    "pe_moments": {
        "fit": "prediction error from each fit's own (X'X)^-1 (the days it was fitted on)",
        "all_days": "market model prediction error 1/L_i + (R_m - mean R_m)^2 / S_mm with the "
        "index mean and S_mm over every estimation-window day, also days the asset lacks "
        "(estudy2)",
    },
    "single_dist": {
        "t": "per-asset t against Student t with L1 - k df",
        "normal": "per-asset t against N(0, 1)",
    },
    "pooled_pe": {
        True: "t_pooled: Var(CAAR) = sum_i Var(CAR_i) / n^2 with the prediction error "
        "(MacKinlay 1997 eq. 20)",
        False: "t_pooled: Var(CAAR) = sum_i L sigma_i^2 / n^2 (Brown & Warner 1980; estudy2)",
    },
    "bw_df": {
        "standard": "t_pooled against N(0,1); t_cda against t(T - 1), T estimation days",
        "mean_nobs": "t_pooled and t_cda against t(mean(L1_i) - 1) (estudy2)",
    },
    "lamb_pe": {
        "mean": "Lamb portfolio prediction error = mean over its asset-events of "
        "s'(X_i'X_i)^-1 s (exact when they share regressors and estimation days)",
        "estudy2": "Lamb portfolio prediction error = L^2/mean(L1_i) + mean centered term "
        "(estudy2; assumes an intercept in the normal-return model)",
    },
    "sign_pvalue": {
        "exact": "sign test p-value from Binomial(n, 1/2)",
        "normal": "sign test p-value from the normal approximation (estudy2)",
    },
    "gsign_phat": {
        "mean": "generalized sign p_hat = mean over asset-events of their share of positive "
        "estimation residuals (Cowan 1992)",
        "pooled": "generalized sign p_hat = positive / all estimation residuals, pooled "
        "(estudy2)",
    },
    "rank_scores": {
        "uniform": "rank test scores K/(M_i + 1) - 1/2 (Corrado & Zivney 1992 scaling)",
        "raw": "rank test scores K - (M_i + 1)/2 (Corrado 1989; estudy2)",
    },
    "mrank_returns": {
        "standardized": "modified rank test on standardized returns, event days re-standardized "
        "by their cross-sectional sd (Corrado & Zivney 1992)",
        "raw": "modified rank test on raw abnormal returns (estudy2)",
    },
    "score_scaling": {
        "standard": "rank/sign daily scores summed over the asset-events present; variance "
        "averaged over the days with data",
        "estudy2": "daily score sums rescaled by N/n_t (R rowMeans x ncol) and variance divided "
        "by the mean series length (estudy2)",
    },
    "wilcoxon_statistic": {
        "z": "Wilcoxon statistic reported as (W+ - n(n+1)/4) / sd",
        "w_plus": "Wilcoxon statistic reported as W+ (estudy2)",
    },
}


@dataclass(frozen=True)
class Conventions:
    """Formula choices used by estimation and inference.

    Attributes
    ----------
    name : str
        Preset name.
    sigma_ddof : {"k", "1"}
        Residual variance divisor: ``"k"`` gives :math:`SSR/(L_1-k)`, ``"1"`` gives
        :math:`SSR/(L_1-1)` (R's ``sd()`` of the residuals). Also the divisor of the
        portfolio residual variance in the Lamb test.
    prediction_error : bool
        Whether AR and CAR variances include the estimation-error term, in estimation and in
        the standardized tests (Patell, BMP, KP, modified and generalized rank).
    pe_moments : {"fit", "all_days"}
        Where the market model's prediction-error term takes the index moments from.
    single_dist : {"t", "normal"}
        Reference distribution of the single asset-event t statistic.
    pooled_pe : bool
        Whether the ``t_pooled`` variance includes the estimation-error term.
    bw_df : {"standard", "mean_nobs"}
        Reference distribution of ``t_pooled`` and ``t_cda`` (see :data:`FORMULAS`).
    lamb_pe : {"mean", "estudy2"}
        Prediction-error term of the Lamb portfolio variance.
    sign_pvalue : {"exact", "normal"}
        P-value of the sign test.
    gsign_phat : {"mean", "pooled"}
        Estimate of the share of positive returns in the generalized sign test.
    rank_scores : {"uniform", "raw"}
        Scores of the rank test.
    mrank_returns : {"standardized", "raw"}
        Returns ranked by the modified rank test.
    score_scaling : {"standard", "estudy2"}
        Daily sums and variance divisor of the rank and Corrado–Zivney tests.
    wilcoxon_statistic : {"z", "w_plus"}
        Statistic reported by the Wilcoxon test (its p-value does not change).
    """

    name: str = "clm"
    sigma_ddof: str = "k"
    prediction_error: bool = True
    pe_moments: str = "fit"
    single_dist: str = "t"
    pooled_pe: bool = True
    bw_df: str = "standard"
    lamb_pe: str = "mean"
    sign_pvalue: str = "exact"
    gsign_phat: str = "mean"
    rank_scores: str = "uniform"
    mrank_returns: str = "standardized"
    score_scaling: str = "standard"
    wilcoxon_statistic: str = "z"

    def __post_init__(self) -> None:
        for setting, choices in FORMULAS.items():
            value = getattr(self, setting)
            if isinstance(value, bool) or isinstance(next(iter(choices)), bool):
                if not isinstance(value, bool):
                    raise SpecificationError(f"{setting}={value!r} must be True or False.")
            else:
                check_option(setting, value, [str(c) for c in choices])

    def to_frame(self) -> pd.DataFrame:
        """The settings as a two-column DataFrame (setting, value)."""
        import pandas as pd

        return pd.DataFrame(list(asdict(self).items()), columns=["setting", "value"])


_PRESETS = {
    "clm": Conventions(),
    # docs/estudy2_conventions.md: R sd() residual variance; prediction error in Patell,
    # Boehmer and Lamb but not in Brown-Warner 1980; per-test choices of sections 3-4.
    "estudy2": Conventions(
        name="estudy2",
        sigma_ddof="1",
        prediction_error=True,
        pe_moments="all_days",
        single_dist="normal",
        pooled_pe=False,
        bw_df="mean_nobs",
        lamb_pe="estudy2",
        sign_pvalue="normal",
        gsign_phat="pooled",
        rank_scores="raw",
        mrank_returns="raw",
        score_scaling="estudy2",
        wilcoxon_statistic="w_plus",
    ),
}


def get_conventions(conventions: str | Conventions = "clm") -> Conventions:
    """Return a :class:`Conventions` preset by name, or ``conventions`` itself."""
    if isinstance(conventions, Conventions):
        return conventions
    return _PRESETS[check_option("conventions", conventions, CONVENTIONS)]
