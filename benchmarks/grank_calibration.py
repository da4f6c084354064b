"""Size of GRANK (Kolari & Pynnönen 2011) on synthetic same-date clusters of n assets.

Why does GRANK over-reject at 5-10 % in the sector-ETF placebo (``docs/placebo.md``; results in
``docs/grank_calibration.md``)? This
script simulates events of ``n`` assets sharing one date (market model on a simulated market
return, fitted by OLS on 240 estimation days; event days -1..1, with the 9 days -10..-2 in
between as in the placebo), builds each event's ``ARPanel`` directly and runs the library's
``grank`` (GRANK-T), ``grank`` with ``variant="z"`` (GRANK-Z) and, as controls, ``rank``,
``mrank``, ``bmp`` and ``t_csect`` on the windows (0, 0) and (-1, 1). Residual scenarios
(each scaled to unit variance, times an asset's own standard deviation):

* ``a``: i.i.d. normal, independent assets;
* ``b``: i.i.d. Student t(4) (heavy tails);
* ``c``: normal innovations times a common stochastic volatility (log volatility AR(1),
  persistence 0.98, standard deviation 0.5), so the event days' volatility differs from the
  estimation window's and the estimation residuals are a scale mixture (heavy-tailed);
* ``d``: normal, equicorrelated across the assets (correlation 0.3 through a common factor);

with n = 11 for all four and n = 50 for ``a`` and ``b``.

GRANK-T is recomputed from the published formulas with ``scipy.stats.rankdata`` (ranks of
the estimation SARs and SCAR* together) on every replication; the script stops if it differs
from the library's statistic by more than 1e-9 (relative). One diagnostic row,
``grank_noresc``, is that reference GRANK-T with the SCAR *not* re-standardized by its
cross-sectional standard deviation (SCAR_i ranked instead of SCAR*_i = SCAR_i / S_SCAR), to
isolate what the re-standardization does; it is not a proposed test (the re-standardization
is there for event-induced volatility, which is not simulated here).

A second table gives, per scenario and window, the standard deviation of the GRANK-Z
statistic over the replications (null value 1: the ratio of the actual to the assumed
standard deviation of the mean day-0 rank), split into its two sources: the variance of a
single day-0 rank U_i0 over its null value (T-1)/(12(T+1)), and the average correlation of
two assets' day-0 ranks within an event, (n Var(mean U_0) / Var(U_i0) - 1) / (n - 1), so that
sd(GRANK-Z)^2 = var ratio * (1 + (n-1) corr). The same correlation on the last estimation
day shows what GRANK-T's time-series variance S_U can see. Then the excess kurtosis of the
pooled estimation SARs (first 200 replications) and of the pooled SCAR*, and where the day-0
ranks fall: the share in the extremes (|U| > 0.45) and in the shoulders
(0.25 < |U| <= 0.45), next to the shares of the discrete uniform null. Last, the rejection
rates of a Student t(n-1) statistic referred to N(0, 1) critical values (exact, from
scipy): were the SCARs i.i.d. normal, the mean of SCAR*_i = SCAR_i / S_SCAR would be exactly
t(n-1)/sqrt(n).

Seeds are fixed (one stream per scenario). Prints Markdown tables; about 1.5 minutes with the
default 3,000 replications per scenario on one core.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/grank_calibration.py [--reps 3000]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import signal, stats

from eventstudy.abnormal import ARPanel
from eventstudy.inference import bmp, grank, mrank, rank, rejection_rates, t_csect

SEED = 20250607
L1 = 240  # estimation days (-250..-11)
GAP = 9  # days -10..-2, simulated (for the volatility path) but not used
TAUS = np.arange(-1, 2)
EST_TAUS = np.arange(-250, -10)
WINDOWS = [(0, 0), (-1, 1)]
LEVELS = (0.01, 0.05, 0.10)
RHO = 0.3  # scenario d: equicorrelation
SV_PHI, SV_SD = 0.98, 0.5  # scenario c: AR(1) log volatility, persistence and stationary sd
SCENARIOS = {  # label: (residuals, n)
    "a  normal, n=11": ("normal", 11),
    "b  t(4), n=11": ("t4", 11),
    "c  common SV, n=11": ("sv", 11),
    "d  equicorr 0.3, n=11": ("equicorr", 11),
    "a  normal, n=50": ("normal", 50),
    "b  t(4), n=50": ("t4", 50),
}
TESTS = {
    "grank": lambda p: grank(p, WINDOWS),
    "grank_z": lambda p: grank(p, WINDOWS, variant="z"),
    "rank": lambda p: rank(p, WINDOWS),
    "mrank": lambda p: mrank(p, WINDOWS),
    "bmp": lambda p: bmp(p, WINDOWS),
    "t_csect": lambda p: t_csect(p, WINDOWS),
}
ROWS = [*TESTS, "grank_noresc"]


def noise(kind: str, rng: np.random.Generator, n: int, days: int) -> np.ndarray:
    """Unit-variance residual noise of ``n`` assets over ``days`` consecutive days."""
    if kind == "normal":
        return rng.standard_normal((n, days))
    if kind == "t4":
        return rng.standard_t(4, (n, days)) / np.sqrt(2.0)
    if kind == "sv":
        shocks = rng.standard_normal(days) * SV_SD * np.sqrt(1 - SV_PHI**2)
        shocks[0] = rng.normal(0.0, SV_SD)  # start in the stationary distribution
        log_vol = signal.lfilter([1.0], [1.0, -SV_PHI], shocks)
        return np.exp(log_vol - SV_SD**2) * rng.standard_normal((n, days))  # E[vol^2] = 1
    if kind == "equicorr":
        factor = rng.standard_normal(days)
        return np.sqrt(RHO) * factor + np.sqrt(1 - RHO) * rng.standard_normal((n, days))
    raise ValueError(kind)


def simulate(kind: str, rng: np.random.Generator, n: int, keys: pd.DataFrame) -> ARPanel:
    """One event of ``n`` assets on one date: market model fitted by OLS, as an ARPanel."""
    days = L1 + GAP + TAUS.size
    used = np.r_[0:L1, L1 + GAP:days]
    market = rng.normal(0.0, 0.01, days)[used]
    beta = rng.uniform(0.5, 1.5, (n, 1))
    sd = rng.uniform(0.005, 0.02, (n, 1))
    y = 2e-4 + beta * market + sd * noise(kind, rng, n, days)[:, used]
    x = np.column_stack([np.ones(used.size), market])
    xe = x[:L1]
    xtx_inv = np.linalg.inv(xe.T @ xe)
    theta = y[:, :L1] @ xe @ xtx_inv  # (n, 2): OLS of each asset
    resid = y - theta @ x.T
    sigma = np.sqrt((resid[:, :L1] ** 2).sum(axis=1) / (L1 - 2))
    ar = resid[:, L1:]
    return ARPanel(
        keys=keys, taus=TAUS, est_taus=EST_TAUS, ar=ar, est_resid=resid[:, :L1],
        sigma=sigma, nobs=np.full(n, L1), k=np.full(n, 2),
        x_event=np.broadcast_to(x[L1:], (n, TAUS.size, 2)).copy(),
        xtx_inv=np.broadcast_to(xtx_inv, (n, 2, 2)).copy(),
        returns=y[:, L1:], normal=y[:, L1:] - ar,
    )


def grank_t(sar: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """GRANK-T from the formulas (``x_i`` ranked among asset i's SARs) and the U_it."""
    t_pts = sar.shape[1] + 1
    u = stats.rankdata(np.column_stack([sar, x]), axis=1) / (t_pts + 1) - 0.5
    ubar = u.mean(axis=0)  # no missing days: n_t = n
    z = ubar[-1] / np.sqrt(np.mean(ubar**2))
    return z * np.sqrt((t_pts - 2) / (t_pts - 1 - z**2)), u


def run(reps: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rejection rates and diagnostics of every scenario."""
    rows, diag = [], []
    t_pts = L1 + 1
    for index, (label, (kind, n)) in enumerate(SCENARIOS.items()):
        rng = np.random.default_rng([SEED, index])
        keys = pd.DataFrame({"event_id": "e0", "asset": [f"A{i}" for i in range(n)],
                             "model": "market", "day0": pd.Timestamp("2024-06-03")})
        u0 = {w: [] for w in WINDOWS}
        u_est = {w: [] for w in WINDOWS}
        zstats = {w: [] for w in WINDOWS}
        stars = {w: [] for w in WINDOWS}
        sars = []
        worst = 0.0
        for _ in range(reps):
            panel = simulate(kind, rng, n, keys)
            by_test = {name: test(panel) for name, test in TESTS.items()}
            for name, results in by_test.items():
                rows += [(label, name, r.start, r.end, r.statistic, r.pvalue) for r in results]
            sar = panel.est_resid / panel.sigma[:, None]
            if len(sars) < 200:
                sars.append(sar.ravel())
            for w, lib_t, lib_z in zip(WINDOWS, by_test["grank"], by_test["grank_z"],
                                       strict=True):
                s = panel.scar(*w)
                star = s / np.std(s, ddof=1)
                t_ref, u = grank_t(sar, star)
                worst = max(worst, abs(t_ref - lib_t.statistic) / max(1.0, abs(t_ref)))
                t_raw, _ = grank_t(sar, s)
                rows.append((label, "grank_noresc", *w, t_raw, np.nan))
                u0[w].append(u[:, -1])
                u_est[w].append(u[:, L1 - 1])
                zstats[w].append(lib_z.statistic)
                stars[w].append(star)
        if worst > 1e-9:
            raise AssertionError(f"{label}: library GRANK-T differs from the formulas ({worst})")
        pooled_sar = np.concatenate(sars)
        null_var = (t_pts - 1) / (12 * (t_pts + 1))
        for w in WINDOWS:
            day0, est = np.array(u0[w]), np.array(u_est[w])  # (reps, n)
            u = np.abs(day0)
            diag.append({
                "scenario": label, "window": str(w),
                "sd(GRANK-Z)": np.std(zstats[w]),
                "Var(U0)/null": np.var(day0) / null_var,
                "corr day 0": rank_corr(day0),
                "corr est. day": rank_corr(est),
                "kurt SAR": stats.kurtosis(pooled_sar),
                "kurt re-std. SCAR": stats.kurtosis(np.concatenate(stars[w])),
                "extremes %": 100 * np.mean(u > 0.45),
                "shoulders %": 100 * np.mean((u > 0.25) & (u <= 0.45)),
            })
        print(f"  {label}: done ({reps} reps, max relative |lib - ref| GRANK-T {worst:.1e})",
              flush=True)
    table = pd.DataFrame(rows, columns=["scenario", "test", "start", "end", "statistic",
                                        "pvalue"])
    ref = table["test"] == "grank_noresc"
    table.loc[ref, "pvalue"] = 2 * stats.t.sf(np.abs(table.loc[ref, "statistic"]), t_pts - 2)
    rates = rejection_rates(table, levels=LEVELS, by=("scenario", "test", "start", "end"))
    return rates, pd.DataFrame(diag)


def rank_corr(u: np.ndarray) -> float:
    """Average correlation of two assets' ranks, from ``u`` of shape (reps, n)."""
    n = u.shape[1]
    return (n * np.var(u.mean(axis=1)) / np.var(u) - 1) / (n - 1)


def uniform_shares() -> tuple[float, float]:
    """Shares of |U| > 0.45 and 0.25 < |U| <= 0.45 on the discrete uniform null grid."""
    t_pts = L1 + 1
    u = np.abs(np.arange(1, t_pts + 1) / (t_pts + 1) - 0.5)
    return 100 * np.mean(u > 0.45), 100 * np.mean((u > 0.25) & (u <= 0.45))


def markdown(rates: pd.DataFrame, diag: pd.DataFrame, reps: int) -> str:
    """The two tables as Markdown."""
    head = ["scenario", "test"] + [f"{w} {a:.0%}" for w in WINDOWS for a in LEVELS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label in SCENARIOS:
        for name in ROWS:
            cells = []
            for start, end in WINDOWS:
                for level in LEVELS:
                    hit = rates[(rates["scenario"] == label) & (rates["test"] == name)
                                & (rates["start"] == start) & (rates["end"] == end)
                                & np.isclose(rates["level"], level)]
                    cells.append(f"{100 * hit['rate'].iloc[0]:.1f}")
            lines.append(f"| {label} | {name} | " + " | ".join(cells) + " |")
    se = [100 * np.sqrt(a * (1 - a) / reps) for a in LEVELS]
    lines += ["", f"Rejection rates in %, {reps} replications per scenario; Monte Carlo s.e. "
              f"{se[0]:.2f} / {se[1]:.2f} / {se[2]:.2f} points at 1 / 5 / 10 %.", ""]
    ext, sho = uniform_shares()
    cols = list(diag.columns)
    lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for rec in diag.itertuples(index=False):
        lines.append("| " + " | ".join(
            (f"{v:.3f}" if col.startswith("corr") else f"{v:.2f}")
            if isinstance(v, float) else str(v) for col, v in zip(cols, rec, strict=True))
            + " |")
    lines += ["", f"Uniform null: sd(GRANK-Z) 1, Var(U0)/null 1, correlations 0, extremes "
              f"(abs(U0) > 0.45) {ext:.1f} %, shoulders (0.25 < abs(U0) <= 0.45) {sho:.1f} %; "
              "kurtosis is excess kurtosis (normal: 0).", ""]
    for n in sorted({n for _, n in SCENARIOS.values()}):
        t_rates = [100 * 2 * stats.t.sf(stats.norm.isf(a / 2), n - 1) for a in LEVELS]
        lines.append(f"A t({n - 1}) statistic against N(0, 1) critical values rejects "
                     + " / ".join(f"{r:.1f}" for r in t_rates) + " % at 1 / 5 / 10 %.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3000,
                        help="replications (events) per scenario (default 3000)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    rates, diag = run(args.reps)
    print()
    print(markdown(rates, diag, args.reps))
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
