r"""Parametric tests of the mean abnormal return across asset-events.

Each function takes an :class:`~eventstudy.abnormal.ARPanel`, a list of ``(start, end)``
windows and an ``alternative``, and returns one :class:`~eventstudy.inference.TestResult` per
window (a single day when ``start == end``). Notation: :math:`i=1..n` asset-events with a
complete window; :math:`CAR_i` over a window of :math:`L` days; :math:`\hat\sigma_i` the
estimation residual standard deviation; :math:`\widehat{Var}(CAR_i)=\hat\sigma_i^2(L +
s_i'(X_i'X_i)^{-1}s_i)` (CLM eq. 4.4.11, the second term only when the conventions include
the prediction error); :math:`SCAR_i = CAR_i/\widehat{Var}(CAR_i)^{1/2}`; :math:`df_i =
L_{1,i}-k_i` the residual degrees of freedom.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from eventstudy.abnormal import ARPanel
from eventstudy.conventions import Conventions
from eventstudy.exceptions import SpecificationError
from eventstudy.inference._core import (
    NORMAL,
    Outcome,
    TestResult,
    cross_sectional_t,
    mean_cross_correlation,
    mean_t,
    not_applicable,
    prepare,
    run_windows,
    scar,
    t_dist,
    t_outcome,
    window_cars,
    with_pe,
    z_outcome,
)

__all__ = [
    "bmp",
    "bootstrap",
    "kp",
    "lamb",
    "patell",
    "patell_adj",
    "skew_t",
    "t_cda",
    "t_csect",
    "t_pooled",
]

Windows = Sequence[tuple[int, int]]
_NO_DATA = "no asset-event has a complete window"


def t_csect(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Cross-sectional t test of the mean CAR.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test; ``(tau, tau)`` tests the AAR of day ``tau``.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis about the mean CAR.
    conventions : str or Conventions, default "clm"
        Formula choices (recorded in the result; this test has none to choose).

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    The variance is estimated from the cross-section of CARs, so the test is robust to
    event-induced variance but assumes independent asset-events:

    .. math:: t = \frac{\overline{CAR}}{s_{CAR}/\sqrt n} \sim t(n-1),\quad
              s_{CAR}^2 = \frac{1}{n-1}\sum_i (CAR_i-\overline{CAR})^2 .

    References
    ----------
    Brown, S. J., & Warner, J. B. (1985). Using daily stock returns: The case of event
    studies. *Journal of Financial Economics*, 14(1), 3–31.

    Boehmer, E., Musumeci, J., & Poulsen, A. B. (1991). Event-study methodology under
    conditions of event-induced variance. *Journal of Financial Economics*, 30(2), 253–272.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)

    def compute(start: int, end: int) -> Outcome:
        car, ok = window_cars(panel, start, end)
        return cross_sectional_t(car[ok], alternative, "asset-events")

    return run_windows("t_csect", "E[CAR] = 0", windows, alternative, conv, compute)


def t_pooled(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Test of the mean CAR with the variance pooled from each asset-event's own variance.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis about the mean CAR.
    conventions : str or Conventions, default "clm"
        ``pooled_pe`` decides whether :math:`\widehat{Var}(CAR_i)` includes the
        estimation-error term; ``bw_df="mean_nobs"`` refers the statistic to
        :math:`t(\bar L_1 - 1)` (estudy2) instead of :math:`N(0,1)`.

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    MacKinlay (1997, eqs. 18–21; CLM eq. 4.4.22), the "J1" statistic; Brown & Warner (1980)
    for monthly data. It assumes independent asset-events and no event-induced variance:

    .. math:: J_1 = \frac{\overline{CAR}}{\sqrt{\sum_i \widehat{Var}(CAR_i)}/n}
              \;\overset{a}{\sim}\; N(0,1).

    References
    ----------
    Brown, S. J., & Warner, J. B. (1980). Measuring security price performance. *Journal of
    Financial Economics*, 8(3), 205–258.

    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic
    Literature*, 35(1), 13–39.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)
    p = with_pe(panel, conv.pooled_pe)

    def compute(start: int, end: int) -> Outcome:
        car, ok = window_cars(p, start, end)
        n = int(ok.sum())
        if n == 0:
            return not_applicable(0, NORMAL, _NO_DATA)
        var = p.car_var(start, end)[ok]
        stat = car[ok].mean() / (np.sqrt(var.sum()) / n)
        if conv.bw_df == "mean_nobs":
            return t_outcome(stat, p.nobs[ok].mean() - 1, n, alternative)
        return z_outcome(stat, n, alternative)

    return run_windows("t_pooled", "E[CAR] = 0", windows, alternative, conv, compute)


def t_cda(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Brown–Warner (1985) crude dependence adjustment test.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis about the mean CAR.
    conventions : str or Conventions, default "clm"
        ``bw_df="mean_nobs"`` refers the statistic to :math:`t(\bar L_1 - 1)`, the mean
        estimation length less one (estudy2), instead of :math:`t(T-1)`.

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    The variance of the average abnormal return is estimated from the time series of the
    average estimation residual :math:`\bar e_t = n_t^{-1}\sum_i e_{it}` (over the asset-events
    used for the window, in event time), so cross-correlation between asset-events is
    absorbed as long as it is the same in the estimation and event windows:

    .. math:: t = \frac{\overline{CAR}}{\sqrt{L}\,S(\bar e)} \sim t(T-1),\quad
              S^2(\bar e) = \frac{1}{T-1}\sum_{t}(\bar e_t - \bar{\bar e})^2,

    with :math:`T` the number of estimation days with at least one residual. The
    :math:`\sqrt L` scaling of a multi-day window assumes no autocorrelation.

    References
    ----------
    Brown, S. J., & Warner, J. B. (1985). Using daily stock returns: The case of event
    studies. *Journal of Financial Economics*, 14(1), 3–31.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)

    def compute(start: int, end: int) -> Outcome:
        car, ok = window_cars(panel, start, end)
        n = int(ok.sum())
        est = panel.est_resid[ok]
        days = np.isfinite(est).any(axis=0)
        n_days = int(days.sum())
        if n_days < 2:
            return not_applicable(n, t_dist(max(n_days - 1, 0)),
                                  "needs at least 2 estimation days with residuals")
        s = float(np.std(np.nanmean(est[:, days], axis=0), ddof=1))
        if not s > 0:
            return not_applicable(n, t_dist(n_days - 1),
                                  "the average estimation residual has zero variance")
        stat = car[ok].mean() / (s * np.sqrt(end - start + 1))
        df = panel.nobs[ok].mean() - 1 if conv.bw_df == "mean_nobs" else n_days - 1
        return t_outcome(stat, df, n, alternative)

    return run_windows("t_cda", "E[CAR] = 0", windows, alternative, conv, compute)


def _patell_z(panel: ARPanel, start: int, end: int) -> tuple[float, np.ndarray, str]:
    """Patell's Z, the mask of asset-events used, and the reason Z is NaN (or "")."""
    z, ok = scar(panel, start, end)
    if not ok.any():
        return np.nan, ok, _NO_DATA
    df = panel.df[ok].astype(float)
    if (df <= 2).any():
        return np.nan, ok, "Patell's variance df/(df-2) needs nobs - k > 2 for every asset-event"
    return float(z[ok].sum() / np.sqrt(np.sum(df / (df - 2.0)))), ok, ""


def patell(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Patell (1976) standardized abnormal return test; CAR version via the SCAR.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis about the mean SCAR.
    conventions : str or Conventions, default "clm"
        ``prediction_error`` decides whether the standardization includes the
        estimation-error term.

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    Under normality :math:`SCAR_i` is Student t with :math:`df_i=L_{1,i}-k_i` degrees of
    freedom, hence variance :math:`df_i/(df_i-2)` (Patell's :math:`(T_i-2)/(T_i-4)` for the
    market model, :math:`k_i = 2`). Independent asset-events, no event-induced variance:

    .. math:: Z = \frac{\sum_i SCAR_i}{\sqrt{\sum_i df_i/(df_i-2)}} \;\overset{a}{\sim}\; N(0,1).

    References
    ----------
    Patell, J. M. (1976). Corporate forecasts of earnings per share and stock price behavior:
    Empirical tests. *Journal of Accounting Research*, 14(2), 246–276.

    Mikkelson, W. H., & Partch, M. M. (1988). Withdrawn security offerings. *Journal of
    Financial and Quantitative Analysis*, 23(2), 119–133 (the multi-day SCAR).
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)
    p = with_pe(panel, conv.prediction_error)

    def compute(start: int, end: int) -> Outcome:
        stat, ok, reason = _patell_z(p, start, end)
        if reason:
            return not_applicable(int(ok.sum()), NORMAL, reason)
        return z_outcome(stat, int(ok.sum()), alternative)

    return run_windows("patell", "E[SCAR] = 0", windows, alternative, conv, compute)


def bmp(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Boehmer, Musumeci & Poulsen (1991) standardized cross-sectional test.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis about the mean SCAR.
    conventions : str or Conventions, default "clm"
        ``prediction_error`` decides whether the standardization includes the
        estimation-error term.

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    The cross-sectional t of the standardized CARs; robust to event-induced variance,
    assumes independent asset-events:

    .. math:: t_{BMP} = \frac{\overline{SCAR}}{s_{SCAR}/\sqrt n} \sim t(n-1).

    References
    ----------
    Boehmer, E., Musumeci, J., & Poulsen, A. B. (1991). Event-study methodology under
    conditions of event-induced variance. *Journal of Financial Economics*, 30(2), 253–272.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)
    p = with_pe(panel, conv.prediction_error)

    def compute(start: int, end: int) -> Outcome:
        z, ok = scar(p, start, end)
        return cross_sectional_t(z[ok], alternative, "standardized CARs")

    return run_windows("bmp", "E[SCAR] = 0", windows, alternative, conv, compute)


def _rbars(panel: ARPanel, windows: Windows) -> dict[tuple[int, int], tuple[float, str]]:
    """Average cross-correlation and note for the usable asset-events of each window.

    Computed once per panel and windows, for both :func:`kp` and :func:`patell_adj`: it
    depends on neither the standardization nor the test.
    """
    windows = tuple(windows)

    def compute() -> dict[tuple[int, int], tuple[float, str]]:
        if not windows:
            return {}
        used = np.stack([window_cars(panel, *w)[1] for w in windows])
        return dict(zip(windows, mean_cross_correlation(panel, used), strict=True))

    return panel.cached(("rbar", windows), compute)


def kp(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Kolari & Pynnönen (2010) cross-correlation-adjusted BMP test.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis about the mean SCAR.
    conventions : str or Conventions, default "clm"
        ``prediction_error`` decides whether the standardization includes the
        estimation-error term.

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    With average cross-correlation :math:`\bar r` of the standardized returns, the
    cross-sectional variance underestimates the variance of :math:`\overline{SCAR}` by the
    factor :math:`(1-\bar r)/(1+(n-1)\bar r)` (KP 2010, eq. 12):

    .. math:: t_{KP} = t_{BMP}\sqrt{\frac{1-\bar r}{1+(n-1)\bar r}} \sim t(n-1).

    :math:`\bar r` is the average over all :math:`n(n-1)` ordered pairs of used asset-events.
    Asset-events with the same day 0 share calendar days: their correlation is the
    pairwise-complete Pearson correlation of their estimation residuals, averaged within the
    cluster (:math:`\bar r_g`). Asset-events with different day 0 have event windows on
    different calendar days and are taken as uncorrelated (KP 2010 on partially
    clustered event dates: their variance of the sum is
    :math:`\sum_i\sum_j \rho_{ij}`, and pairs on different dates contribute zero), so

    .. math:: \bar r = \frac{\sum_g n_g(n_g-1)\,\bar r_g}{n(n-1)} .

    Then :math:`\sum_{i\ne j}\rho_{ij} = n(n-1)\bar r` exactly, which is what both factors of
    the adjustment need. For CAR windows the daily :math:`\bar r` is used, as KP (2010)
    recommend for cumulative returns without autocorrelation. Event windows of different
    event dates that overlap in calendar time are not adjusted for.

    References
    ----------
    Kolari, J. W., & Pynnönen, S. (2010). Event study testing with cross-sectional
    correlation of abnormal returns. *Review of Financial Studies*, 23(11), 3996–4025.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)
    p = with_pe(panel, conv.prediction_error)
    rbars = _rbars(panel, windows)

    def compute(start: int, end: int) -> Outcome:
        z, ok = scar(p, start, end)
        base = cross_sectional_t(z[ok], alternative, "standardized CARs")
        if not np.isfinite(base.statistic):
            return base
        n = base.n
        rbar, reason = rbars[start, end]
        dist = t_dist(n - 1)
        if reason:
            return not_applicable(n, dist, reason)
        if not (1 + (n - 1) * rbar > 0 and rbar < 1):
            return not_applicable(n, dist, f"adjustment undefined for r̄ = {rbar:.4f}")
        factor = np.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
        return t_outcome(base.statistic * factor, n - 1, n, alternative,
                         f"r̄ = {rbar:.4f}")

    return run_windows("kp", "E[SCAR] = 0", windows, alternative, conv, compute)


def patell_adj(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Kolari & Pynnönen (2010) cross-correlation-adjusted Patell test.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis about the mean SCAR.
    conventions : str or Conventions, default "clm"
        ``prediction_error`` decides whether the standardization includes the
        estimation-error term.

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    .. math:: Z_{adj} = \frac{Z_{Patell}}{\sqrt{1+(n-1)\bar r}} \;\overset{a}{\sim}\; N(0,1),

    with :math:`\bar r` computed as in :func:`kp` (pairwise-complete within day-0 clusters,
    zero across clusters).

    References
    ----------
    Kolari, J. W., & Pynnönen, S. (2010). Event study testing with cross-sectional
    correlation of abnormal returns. *Review of Financial Studies*, 23(11), 3996–4025.

    Patell, J. M. (1976). Corporate forecasts of earnings per share and stock price behavior:
    Empirical tests. *Journal of Accounting Research*, 14(2), 246–276.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)
    p = with_pe(panel, conv.prediction_error)
    rbars = _rbars(panel, windows)

    def compute(start: int, end: int) -> Outcome:
        stat, ok, reason = _patell_z(p, start, end)
        n = int(ok.sum())
        if not reason:
            rbar, reason = rbars[start, end]
        if reason:
            return not_applicable(n, NORMAL, reason)
        if not 1 + (n - 1) * rbar > 0:
            return not_applicable(n, NORMAL, f"adjustment undefined for r̄ = {rbar:.4f}")
        return z_outcome(stat / np.sqrt(1 + (n - 1) * rbar), n, alternative, f"r̄ = {rbar:.4f}")

    return run_windows("patell_adj", "E[SCAR] = 0", windows, alternative, conv, compute)


def lamb(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Lamb (1995) portfolio test with the portfolio's prediction-error variance.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis about the mean CAR.
    conventions : str or Conventions, default "clm"
        ``sigma_ddof`` is the divisor of the portfolio residual variance; ``prediction_error``
        decides whether the estimation-error term is included and ``lamb_pe`` how.

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    The asset-events of one event date :math:`g` (same day 0, :math:`n_g` of them) form an
    equally weighted portfolio. Its estimation residual on day :math:`t` is the average
    :math:`\bar e_{gt}` of the residuals present that day; its variance
    :math:`\hat\sigma_g^2 = \sum_t \bar e_{gt}^2/(T_g-k)` (``sigma_ddof="k"``) or the
    sample variance :math:`\sum_t(\bar e_{gt}-\bar{\bar e}_g)^2/(T_g-1)` (``"1"``) already
    contains every cross-covariance. The portfolio CAR over :math:`L` days has variance
    :math:`\hat\sigma_g^2 (L + q_g)` with the prediction-error term

    .. math:: q_g = \frac{1}{n_g}\sum_{i\in g} s_i'(X_i'X_i)^{-1}s_i \quad
              (\texttt{lamb\_pe="mean"}),\qquad
              q_g = \frac{L^2}{\bar L_{1,g}} + \frac{1}{n_g}\sum_{i\in g}\Big(
              s_i'(X_i'X_i)^{-1}s_i - \frac{L^2}{L_{1,i}}\Big) \quad
              (\texttt{"estudy2"}).

    When all asset-events of the date share regressors and estimation days, the average
    residual is the residual of the portfolio regression and ``"mean"`` is exactly its
    prediction error; ``"estudy2"`` replaces the estimation length by the mean length
    (this needs an intercept in the normal-return model). Event dates are independent:

    .. math:: Z = \frac{\overline{CAR}}{\sqrt{\sum_g (n_g/n)^2\,\hat\sigma_g^2
              (L + q_g)}} \;\overset{a}{\sim}\; N(0,1).

    Robust to cross-correlation within an event date; assumes no event-induced variance.

    References
    ----------
    Lamb, R. P. (1995). An exposure-based analysis of property-liability insurer stock values
    around Hurricane Andrew. *Journal of Risk and Insurance*, 62(1), 111–123.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)
    codes = panel.keys["day0"].factorize()[0]
    portfolios: dict[bytes, tuple[np.ndarray, np.ndarray, str]] = {}  # by the rows used

    def compute(start: int, end: int) -> Outcome:
        car, ok = window_cars(panel, start, end)
        n = int(ok.sum())
        if n == 0:
            return not_applicable(0, NORMAL, _NO_DATA)
        key = ok.tobytes()
        if key not in portfolios:
            portfolios[key] = _portfolio_sigma2(panel, codes, ok, conv.sigma_ddof)
        labels, s2, reason = portfolios[key]
        if reason:
            return not_applicable(n, NORMAL, reason)
        length = end - start + 1
        n_g = np.bincount(labels)
        pe = np.zeros(n_g.size)
        if conv.prediction_error:
            pe = np.bincount(labels, panel.window_pe(start, end)[ok]) / n_g
            if conv.lamb_pe == "estudy2":
                nobs = panel.nobs[ok].astype(float)
                pe += length**2 * (n_g / np.bincount(labels, nobs)
                                   - np.bincount(labels, 1 / nobs) / n_g)
        var = np.sum((n_g / n) ** 2 * s2 * (length + pe))
        return z_outcome(car[ok].mean() / np.sqrt(var), n, alternative)

    return run_windows("lamb", "E[CAR] = 0", windows, alternative, conv, compute)


def _portfolio_sigma2(
    panel: ARPanel, codes: np.ndarray, ok: np.ndarray, ddof: str
) -> tuple[np.ndarray, np.ndarray, str]:
    """Residual variance of the equally weighted portfolio of each event date.

    ``codes`` labels the event date (day 0) of every asset-event. Returns the portfolio
    label of each used asset-event (in row order), the variance of each portfolio, and the
    reason the variances are unusable (or "").
    """
    used = np.flatnonzero(ok)
    _, labels = np.unique(codes[used], return_inverse=True)
    counts = np.bincount(labels)
    alone = counts[labels] == 1
    e = np.empty((counts.size, panel.est_resid.shape[1]))
    e[labels[alone]] = panel.est_resid[used[alone]]
    for g in np.flatnonzero(counts > 1):  # one loop per shared event date
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # days nobody has: NaN
            e[g] = np.nanmean(panel.est_resid[used[labels == g]], axis=0)
    days = np.isfinite(e).sum(axis=1)
    if ddof == "k":
        k = np.zeros(counts.size, dtype=int)
        np.maximum.at(k, labels, panel.k[used])
        dof, ss = days - k, np.nansum(e**2, axis=1)
    else:
        dof = days - 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ss = np.nansum((e - np.nanmean(e, axis=1, keepdims=True)) ** 2, axis=1)
    if (dof < 1).any():
        return labels, ss, "too few estimation days for the portfolio residual variance"
    if not (ss > 0).all():
        return labels, ss, "a portfolio residual has zero variance"
    return labels, ss / dof, ""


def skew_t(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Skewness-adjusted t test of the mean CAR (Johnson 1978; Hall 1992; LBT 1999).

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis about the mean CAR.
    conventions : str or Conventions, default "clm"
        Recorded in the result; this test has no formula choice.

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    With :math:`S=\overline{CAR}/s_{CAR}` and the sample skewness
    :math:`\hat\gamma = \sum_i (CAR_i-\overline{CAR})^3/(n s_{CAR}^3)` (``s`` with ddof 1),
    Lyon, Barber & Tsai (1999, eq. 5):

    .. math:: t_{sa} = \sqrt n\left(S + \tfrac13\hat\gamma S^2 + \frac{\hat\gamma}{6n}\right)
              \sim t(n-1),

    the Edgeworth correction of the t statistic for skewed CARs. Independent asset-events.

    References
    ----------
    Johnson, N. J. (1978). Modified t tests and confidence intervals for asymmetrical
    populations. *Journal of the American Statistical Association*, 73(363), 536–544.

    Hall, P. (1992). On the removal of skewness by transformation. *Journal of the Royal
    Statistical Society B*, 54(1), 221–228.

    Lyon, J. D., Barber, B. M., & Tsai, C.-L. (1999). Improved methods for tests of long-run
    abnormal stock returns. *Journal of Finance*, 54(1), 165–201.
    """
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)

    def compute(start: int, end: int) -> Outcome:
        car, ok = window_cars(panel, start, end)
        x = car[ok]
        n = x.size
        if n < 3:
            return not_applicable(n, t_dist(max(n - 1, 0)), f"needs at least 3 asset-events; "
                                  f"got {n}")
        s = float(np.std(x, ddof=1))
        if not s > 0:
            return not_applicable(n, t_dist(n - 1), "the CARs have zero cross-sectional variance")
        ratio = x.mean() / s
        gamma = np.sum((x - x.mean()) ** 3) / (n * s**3)
        stat = np.sqrt(n) * (ratio + gamma * ratio**2 / 3 + gamma / (6 * n))
        return t_outcome(stat, n - 1, n, alternative)

    return run_windows("skew_t", "E[CAR] = 0", windows, alternative, conv, compute)


def _canonical_order(panel: ARPanel) -> np.ndarray:
    """Positions of the asset-events sorted by ``(event_id, asset)`` (input order if absent)."""
    keys = panel.keys
    if not {"event_id", "asset"} <= set(keys.columns):
        return np.arange(len(panel))
    return np.lexsort((keys["asset"].astype(str).to_numpy(),
                       keys["event_id"].astype(str).to_numpy()))


def bootstrap(
    panel: ARPanel,
    windows: Windows,
    alternative: str = "two-sided",
    *,
    n_boot: int = 999,
    random_state: int | None = 0,
    conventions: str | Conventions = "clm",
) -> list[TestResult]:
    r"""Wild bootstrap (Rademacher, null imposed) of the cross-sectional t statistic.

    Parameters
    ----------
    panel : ARPanel
        Abnormal returns of the asset-events.
    windows : sequence of (int, int)
        Windows to test.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis about the mean CAR.
    n_boot : int, default 999
        Bootstrap replications :math:`B`.
    random_state : int or None, default 0
        Seed of :func:`numpy.random.default_rng`. The same weights are used for every window
        (so results do not depend on the order of windows).
    conventions : str or Conventions, default "clm"
        Recorded in the result; this test has no formula choice.

    Returns
    -------
    list of TestResult
        One per window.

    Notes
    -----
    With the null :math:`E[CAR]=0` imposed, the restricted residuals are the CARs
    themselves; each replication flips their signs with independent Rademacher weights
    :math:`v_{bi}=\pm1` (probability 1/2 each) and recomputes the studentized statistic:

    .. math:: CAR^*_{bi} = v_{bi}\,CAR_i,\qquad
              t^*_b = \frac{\overline{CAR^*_b}}{s(CAR^*_b)/\sqrt n},

    .. math:: p = \frac{1 + \#\{b: |t^*_b| \ge |t|\}}{B+1}

    (``greater``: :math:`t^*_b \ge t`; ``less``: :math:`t^*_b \le t`). A draw equal to
    :math:`t` up to rounding (relative 1e-12), e.g. all weights +1, counts as a tie. Under
    independence and symmetry of each :math:`CAR_i` about zero this is a randomization test,
    exact for any :math:`n`; without symmetry it is valid asymptotically and robust to
    heteroskedasticity (event-induced variance differing across asset-events). Independent
    asset-events.

    References
    ----------
    Davidson, R., & Flachaire, E. (2008). The wild bootstrap, tamed at last. *Journal of
    Econometrics*, 146(1), 162–169.

    Mammen, E. (1993). Bootstrap and wild bootstrap for high dimensional linear models.
    *Annals of Statistics*, 21(1), 255–285.
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise SpecificationError(f"n_boot={n_boot!r} must be a positive integer, e.g. 999.")
    windows, alternative, conv = prepare(panel, windows, alternative, conventions)
    rng = np.random.default_rng(random_state)
    drawn = rng.choice(np.array([-1.0, 1.0]), size=(int(n_boot), len(panel)))
    # Column r of the draws goes to the r-th asset-event in (event_id, asset) order, so the
    # same seed gives the same weights whatever order the assets or events were listed in.
    weights = np.empty_like(drawn)
    weights[:, _canonical_order(panel)] = drawn
    dist = f"wild bootstrap (Rademacher, B={int(n_boot)})"

    def compute(start: int, end: int) -> Outcome:
        car, ok = window_cars(panel, start, end)
        x = car[ok]
        n = x.size
        if n < 2:
            return not_applicable(n, dist, f"needs at least 2 asset-events; got {n}")
        t, s = mean_t(x)
        if not s > 0:
            return not_applicable(n, dist, "the CARs have zero cross-sectional variance")
        xs = weights[:, ok] * x
        with np.errstate(invalid="ignore", divide="ignore"):
            tb = xs.mean(axis=1) / (xs.std(axis=1, ddof=1) / np.sqrt(n))
        # Flips that give back the CARs or their negatives (all +1, all -1) reproduce |t|
        # exactly in theory: a tie, which counts; rounding must not decide it.
        tol = 1e-12 * abs(t)
        if alternative == "greater":
            hits = tb >= t - tol
        elif alternative == "less":
            hits = tb <= t + tol
        else:
            hits = np.abs(tb) >= abs(t) - tol
        return Outcome(t, (1.0 + hits.sum()) / (n_boot + 1.0), n, dist)

    return run_windows("bootstrap", "E[CAR] = 0", windows, alternative, conv, compute)
