"""Speed and memory of the vectorized pipeline, and of the one-OLS-per-asset-event way.

Synthetic panels of 1,000 / 10,000 / 100,000 asset-events: 25 years of NYSE sessions, a
market and up to 1,000 assets (market model with betas in [0.5, 1.5], Student-t(5) noise,
0.1% of asset-days missing at random), events spread evenly over the history; estimation
window (-250, -11), event window (-10, 10), the five default CAR windows. The 100,000 panel
runs again without missing days: scattered missing days make about a fifth of the asset-events
"gappy", and the Kolari-Pynnönen average correlation needs their pairwise-complete
correlations (for complete rows it is O(n L)). Each panel runs in a fresh subprocess and times
what a user does:

* ``fit``: ``EventStudy(events, assets, market="MKT", data=returns, data_kind="returns").fit()``
  (alignment, loading, the batched market-model fit, ARs, variances, the results object);
* ``kernel``: :func:`eventstudy.estimation.fit_batch` alone on the same arrays;
* ``caars``: ``res.aggregate()`` (each asset-event's CAR over the 5 windows and every event
  day, averaged across asset-events with the cross-sectional standard error);
* ``parametric``: ``res.tests(["t_csect", "patell", "bmp", "kp"])`` (CAR variances and
  standardized CARs of every window and day, the Kolari–Pynnönen average correlation);
* ``rank``: ``res.tests(["rank", "grank", "mrank"])``;
* ``again``: fit + caars + parametric once more in the same process (after the kernel run),
  as the next study in a notebook runs: without the first-call costs (lazy imports, first
  calls into pandas and Arrow, threadpoolctl's scan of the loaded libraries);
* ``cars``, in processes of its own: ``res.cars`` right after the fit, the per-asset table (5
  windows: CAR, exact variance, t, p, BHAR, sample-quantile test, Holm and BH);
* ``cars_t``, in processes of its own: ``res.car_table(sample_quantile=False)`` right after
  the fit, the same table without the sample-quantile test.

fit + caars + parametric is the scope of the issue's 1-second target (market model, ARs, CARs
for 5 windows, parametric tests). Peak memory is the process's maximum resident set size
(``getrusage``), the input panel included. Every number is the best of ``--repeats`` fresh
processes (the machine may be shared; noise only adds time); the CPU time of the process is
given beside the wall time of fit + caars + parametric tests, to show how much of it other
load took.

The baseline does the same work the way peer packages do: for each asset-event, one
statsmodels OLS on the estimation window, then ARs, the five CARs, their t statistics and
p-values in Python (variance ``L * sigma^2``, without the estimation-error term, which
makes the baseline's work lighter). It runs on the 1,000 asset-event panel. It is compared
with a fit plus ``car_table(sample_quantile=False)`` (the same outputs, plus the exact
variance, BHAR and the Holm and BH adjustments), and with a fit plus the full ``.cars``,
whose sample-quantile test the baseline does not do at all.

Run ``make bench`` (or ``.venv/bin/python benchmarks/run_all.py``); the table is printed and
written to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from eventstudy.results import EventStudyResults

SIZES = (1_000, 10_000, 100_000)
MISSING = 0.001  # share of asset-days missing at random
COMPLETE_SIZE = 100_000  # also run without missing days (the Kolari-Pynnönen r-bar fast path)
BASELINE_SIZE = 1_000
WINDOWS = [(0, 0), (-1, 1), (0, 1), (-5, 5), (-10, 10)]
EST, EVT = (-250, -11), (-10, 10)
PARAMETRIC = ["t_csect", "patell", "bmp", "kp"]
RANK = ["rank", "grank", "mrank"]
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def layout(size: int) -> tuple[int, int]:
    """Assets and events for ``size`` asset-events: up to 1,000 assets, 10+ events."""
    n_assets = min(1_000, size // 10)
    return n_assets, size // n_assets


def make_panel(
    size: int, seed: int = 0, missing: float = MISSING
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Daily returns of the assets and the market, and the event dates.

    ``missing`` is the share of asset-days set to NaN at random.
    """
    from eventstudy.calendar import get_calendar

    n_assets, n_events = layout(size)
    sessions = get_calendar().sessions_in_range("2000-01-03", "2024-12-31")
    rng = np.random.default_rng(seed)
    T = len(sessions)
    market = rng.normal(3e-4, 0.01, T)
    betas = rng.uniform(0.5, 1.5, n_assets)
    values = 1e-4 + market[:, None] * betas + 0.012 * rng.standard_t(5, (T, n_assets))
    values[rng.random(values.shape) < missing] = np.nan
    assets = [f"A{j:04d}" for j in range(n_assets)]
    frame = pd.DataFrame(values, index=sessions, columns=assets)
    frame["MKT"] = market
    days = sessions[np.linspace(300, T - 30, n_events).astype(int)]
    return frame, assets, [str(d.date()) for d in days]


def peak_mb() -> float:
    """Maximum resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fit_study(frame: pd.DataFrame, assets: list[str], events: list[str]) -> EventStudyResults:
    """The study every measurement times: market model on the panel's returns.

    (The package is already imported by :func:`make_panel`, outside the timings.)
    """
    import eventstudy as es

    return es.EventStudy(events, assets=assets, market="MKT", data=frame, data_kind="returns",
                         estimation_window=EST, event_window=EVT, car_windows=WINDOWS).fit()


def run_pipeline(size: int, missing: float = MISSING) -> dict[str, float]:
    """Time the user-facing steps and the kernel on one panel (in this process)."""
    from eventstudy.estimation import fit_batch
    from eventstudy.models import DesignInputs, MarketModel

    frame, assets, events = make_panel(size, missing=missing)
    data_mb = peak_mb()
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the odd asset-event may lack data: not timed apart
        c0, t0 = time.process_time(), time.perf_counter()
        res = fit_study(frame, assets, events)
        t1 = time.perf_counter()
        fit_mb = peak_mb()
        res.aggregate()
        t2 = time.perf_counter()
        res.tests(PARAMETRIC)
        t3, c3 = time.perf_counter(), time.process_time()
        core_mb = peak_mb()
        res.tests(RANK)
        t4 = time.perf_counter()
    out.update(n=len(res.panel), fit=t1 - t0, caars=t2 - t1, parametric=t3 - t2, rank=t4 - t3,
               core_cpu=c3 - c0,
               data_mb=data_mb, fit_mb=fit_mb, core_mb=core_mb, peak_mb=peak_mb())
    del res

    index = frame.index
    design = MarketModel().design(DesignInputs(index=index, market=frame["MKT"]))
    returns = frame[assets].to_numpy()
    day0 = index.get_indexer(pd.DatetimeIndex(events))
    t0 = time.perf_counter()
    fit_batch(returns, design, day0, np.arange(EST[0], EST[1] + 1),
              np.arange(EVT[0], EVT[1] + 1), min_obs=100)
    out["kernel"] = time.perf_counter() - t0

    # The same study again in this process, as a notebook's next study would run: numpy,
    # pandas and the kernel are warm, and freed memory is reused.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        res = fit_study(frame, assets, events)
        res.aggregate()
        res.tests(PARAMETRIC)
        out["core_again"] = time.perf_counter() - t0
    return out


def run_cars(size: int, missing: float = MISSING, sample_quantile: bool = True
             ) -> dict[str, float]:
    """Time a fit and then the per-asset CAR table (in this process).

    The table is ``res.cars`` or, without ``sample_quantile``,
    ``res.car_table(sample_quantile=False)``.
    """
    frame, assets, events = make_panel(size, missing=missing)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        res = fit_study(frame, assets, events)
        t1 = time.perf_counter()
        if sample_quantile:
            res.cars  # noqa: B018 - the cached table is what is timed
        else:
            res.car_table(sample_quantile=False)
        t2 = time.perf_counter()
    return {"n": len(res.panel), "fit": t1 - t0, "cars": t2 - t1, "peak_mb": peak_mb()}


def run_baseline(size: int) -> dict[str, float]:
    """One statsmodels OLS per asset-event, ARs and CARs in Python (the peers' way)."""
    import statsmodels.api as sm
    from scipy import stats

    frame, assets, events = make_panel(size)
    t0 = time.perf_counter()
    rows = []
    for event in events:
        p0 = frame.index.get_loc(pd.Timestamp(event))
        est = frame.iloc[p0 + EST[0]:p0 + EST[1] + 1]
        evt = frame.iloc[p0 + EVT[0]:p0 + EVT[1] + 1]
        for asset in assets:
            sample = est[[asset, "MKT"]].dropna()
            if len(sample) < 100:
                continue
            fit = sm.OLS(sample[asset], sm.add_constant(sample["MKT"])).fit()
            normal = fit.predict(sm.add_constant(evt["MKT"], has_constant="add"))
            ar = evt[asset] - normal
            for start, end in WINDOWS:
                car = ar.iloc[start - EVT[0]:end - EVT[0] + 1].sum(skipna=False)
                tstat = car / np.sqrt((end - start + 1) * fit.scale)
                rows.append({"event": event, "asset": asset, "start": start, "end": end,
                             "car": car, "tstat": tstat,
                             "pvalue": 2 * stats.t.sf(abs(tstat), fit.df_resid)})
    pd.DataFrame(rows)
    return {"n": len(rows) // len(WINDOWS), "baseline": time.perf_counter() - t0,
            "peak_mb": peak_mb()}


def in_subprocess(kind: str, size: int, missing: float = MISSING) -> dict[str, float]:
    """Run one measurement in a fresh interpreter and return its numbers."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--size", str(size), "--missing",
         str(missing)],
        capture_output=True, text=True, check=True, env=env,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def best_of(kind: str, size: int, repeats: int, missing: float = MISSING) -> dict[str, float]:
    """Smallest time of each step over ``repeats`` fresh processes; largest memory."""
    runs = [in_subprocess(kind, size, missing) for _ in range(repeats)]
    out = {k: min(r[k] for r in runs) for k in runs[0]}
    for k in ("data_mb", "fit_mb", "core_mb", "peak_mb"):
        if k in out:
            out[k] = max(r[k] for r in runs)
    return out


def table(results: dict[tuple[int, float], dict[str, float]], baseline: dict[str, float]) -> str:
    """The Markdown report."""
    def ms(seconds: float) -> str:
        return f"{seconds * 1e3:,.0f} ms"

    def us(seconds: float) -> str:
        return f"{seconds * 1e6:,.1f} µs"

    lines = [
        "| asset-events | assets x events | missing days | fit | kernel alone "
        "| CAARs (5 windows) | parametric tests | **fit + CAARs + parametric** (CPU time) "
        "| per asset-event | the same, again in the process | rank tests "
        "| peak RSS: input panel / + fit / + parametric / + rank tests "
        "| `.cars` table after a fit (peak RSS) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (size, missing), r in results.items():
        a, e = layout(size)
        core = r["fit"] + r["caars"] + r["parametric"]
        lines.append(
            f"| {r['n']:,.0f} | {a:,} x {e:,} | {missing:.1%} | {ms(r['fit'])} "
            f"| {ms(r['kernel'])} | {ms(r['caars'])} | {ms(r['parametric'])} "
            f"| **{ms(core)}** ({ms(r['core_cpu'])}) | {us(core / r['n'])} "
            f"| {ms(r['core_again'])} | {ms(r['rank'])} "
            f"| {r['data_mb']:,.0f} / {r['fit_mb']:,.0f} / {r['core_mb']:,.0f} / "
            f"{r['peak_mb']:,.0f} MB "
            f"| {ms(r['cars'])} ({r['cars_mb']:,.0f} MB) |"
        )
    per_base = baseline["baseline"] / baseline["n"]
    lines += [
        "",
        "| one statsmodels OLS per asset-event | asset-events | time | per asset-event "
        "| ours: fit + CAR t-tests (the same work) | speed-up "
        "| ours: fit + `.cars` (adds the SQ test) | speed-up |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (_, missing), r in results.items():
        same = (r["cars_t_fit"] + r["cars_t"]) / r["n"]
        full = (r["cars_fit"] + r["cars"]) / r["n"]
        lines.append(
            f"| vs {r['n']:,.0f} asset-events ({missing:.1%} missing) | {baseline['n']:,.0f} "
            f"| {ms(baseline['baseline'])} | {us(per_base)} | {us(same)} "
            f"| {per_base / same:,.0f}x | {us(full)} | {per_base / full:,.0f}x |"
        )
    return "\n".join(lines)


def environment() -> str:
    """Machine and library versions, and the load while the benchmark ran."""
    import scipy
    import statsmodels

    import eventstudy

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if "model name" in line)
    except (OSError, StopIteration):
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, numpy "
        f"{np.__version__}, pandas {pd.__version__}, scipy {scipy.__version__}, statsmodels "
        f"{statsmodels.__version__}, eventstudy {eventstudy.__version__}; {hugepages()}"
    )


def hugepages() -> str:
    """The kernel's transparent-hugepage policy and numpy's hugepage hint.

    With ``enabled`` set to ``madvise`` (Ubuntu's default), numpy asks for huge pages for
    arrays of 4 MB or more (``NUMPY_MADVISE_HUGEPAGE=0`` turns its hint off). On the machine
    of ``RESULTS.md`` first touches of fresh huge pages are sometimes slow: filling a new
    192 MB array took 0.49 s the first time in a process and 0.04 s the second, and 0.10 s
    each time without the hint. The 100,000 asset-event fits vary with it.
    """
    policy = []
    for name in ("enabled", "defrag"):
        try:
            text = Path(f"/sys/kernel/mm/transparent_hugepage/{name}").read_text()
            policy.append(f"{name} {text.split('[')[1].split(']')[0]}")
        except (OSError, IndexError):
            policy.append(f"{name} unknown")
    hint = os.environ.get("NUMPY_MADVISE_HUGEPAGE", "numpy's default")
    return f"transparent hugepages: {', '.join(policy)}; NUMPY_MADVISE_HUGEPAGE={hint}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=["pipeline", "cars", "cars_t", "baseline"])
    parser.add_argument("--size", type=int)
    parser.add_argument("--missing", type=float, default=MISSING)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.worker:
        work = {"pipeline": lambda: run_pipeline(args.size, args.missing),
                "cars": lambda: run_cars(args.size, args.missing),
                "cars_t": lambda: run_cars(args.size, args.missing, sample_quantile=False),
                "baseline": lambda: run_baseline(args.size)}[args.worker]
        print(json.dumps(work()))
        return

    load_before = os.getloadavg()
    results = {}
    runs = [(size, MISSING) for size in args.sizes]
    if COMPLETE_SIZE in args.sizes:
        runs.append((COMPLETE_SIZE, 0.0))
    for size, missing in runs:
        cars = best_of("cars", size, args.repeats, missing)
        cars_t = best_of("cars_t", size, args.repeats, missing)
        results[size, missing] = {**best_of("pipeline", size, args.repeats, missing),
                                  "cars": cars["cars"], "cars_fit": cars["fit"],
                                  "cars_mb": cars["peak_mb"],
                                  "cars_t": cars_t["cars"], "cars_t_fit": cars_t["fit"]}
        print(f"{size:>7,} asset-events, {missing:.1%} missing: {results[size, missing]}",
              file=sys.stderr)
    baseline = best_of("baseline", BASELINE_SIZE, args.repeats)
    print(f"baseline: {baseline}", file=sys.stderr)
    load_after = os.getloadavg()
    report = "\n".join([
        "# Benchmarks",
        "",
        "Made by `make bench` (`benchmarks/run_all.py`; see its docstring for the set-up).",
        f"Best of {args.repeats} fresh processes per number; "
        f"{time.strftime('%Y-%m-%d %H:%M')}, {environment()}. "
        f"Load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after.",
        "",
        table(results, baseline),
        "",
    ])
    print(report)
    if not args.no_write:
        RESULTS.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
