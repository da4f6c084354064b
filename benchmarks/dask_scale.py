"""Scale-out benchmark: 1,000,000 asset-events on a local Dask cluster, 1 and 2 workers.

Generates a synthetic returns panel (3,000 assets + a market, 25 years of NYSE sessions) as a
year-partitioned Parquet dataset in a temporary folder (never in the repository), then runs
the same market-model study (334 events x 3,000 assets) with ``run_dask`` on a
``LocalCluster`` of 1 and then 2 single-threaded worker processes. Reports wall time, peak
resident memory of each worker (its ``VmHWM`` high-water mark, so it counts everything the
process ever held), peak driver memory during the run (sampled every 50 ms), CPU time of
the workers and of the driver process (which also hosts the scheduler), the speed-up, and
the largest difference from ``EventStudy.fit()`` in-process on a sample of the results.

Usage::

    .venv/bin/python benchmarks/dask_scale.py                       # the full run
    .venv/bin/python benchmarks/dask_scale.py --assets 300 --events 40 --workers 1 2  # quick

Not run by the tests.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

import eventstudy as es
from eventstudy.backends.dask import run_dask
from eventstudy.data.parquet import ParquetReturnsProvider, write_partitioned
from eventstudy.exceptions import DataWarning

GIB = 1024**3


def make_panel(n_assets: int, years: int, seed: int = 0) -> pd.DataFrame:
    """Market-model returns on NYSE sessions; 5% of the assets list late (IPO-like)."""
    sessions = es.get_calendar().sessions_in_range(f"{2026 - years}-01-01", "2025-12-31")
    rng = np.random.default_rng(seed)
    mkt = rng.normal(3e-4, 0.011, len(sessions))
    beta = rng.uniform(0.4, 1.6, n_assets)
    values = 1e-4 + mkt[:, None] * beta[None, :]
    values += rng.normal(0.0, 0.015, (len(sessions), n_assets))
    late = rng.choice(n_assets, size=n_assets // 20, replace=False)
    for j, start in zip(late, rng.integers(0, len(sessions) - 300, size=len(late)), strict=True):
        values[:start, j] = np.nan
    frame = pd.DataFrame(values, index=sessions, columns=[f"A{j:04d}" for j in range(n_assets)])
    frame.insert(0, "MKT", mkt)
    return frame


def event_dates(sessions: pd.DatetimeIndex, n_events: int) -> list[pd.Timestamp]:
    """Evenly spaced sessions, leaving room for the estimation and event windows."""
    usable = sessions[260:-15]
    return list(usable[np.linspace(0, len(usable) - 1, n_events).astype(int)])


class PeakRSS:
    """Peak resident memory of this process, sampled every 50 ms while active."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        proc = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, proc.memory_info().rss)
            time.sleep(0.05)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def worker_peak_rss() -> int:
    """Peak RSS of the calling process in bytes.

    ``VmHWM`` (Linux) is the high-water mark of this process image; ``ru_maxrss`` would also
    count the parent's peak, which a spawned worker inherits across ``exec``.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    """CPU time (user + system) the calling process has used, in seconds."""
    t = psutil.Process().cpu_times()
    return t.user + t.system


def run_once(study: es.EventStudy, n_workers: int, events_pp: int, assets_pp: int) -> dict:
    from distributed import Client, LocalCluster, get_task_stream

    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        cpu0 = client.run(cpu_seconds)
        with PeakRSS() as driver, warnings.catch_warnings(), get_task_stream(client) as stream:
            warnings.simplefilter("ignore", DataWarning)  # late listers are dropped, by design
            t0, driver_cpu = time.perf_counter(), cpu_seconds()
            res = run_dask(study, client, events_per_partition=events_pp,
                           assets_per_partition=assets_pp)
            wall, driver_cpu = time.perf_counter() - t0, cpu_seconds() - driver_cpu
        peaks = client.run(worker_peak_rss)
        cpu = sum(t - cpu0[w] for w, t in client.run(cpu_seconds).items())
    fits = [ss for task in stream.data if str(task["key"]).startswith("eventstudy-fit")
            for ss in task["startstops"] if ss["action"] == "compute"]
    return {
        "workers": n_workers,
        "load": os.getloadavg()[0],
        "wall_s": wall,
        "task_s": sum(ss["stop"] - ss["start"] for ss in fits),
        "span_s": max(ss["stop"] for ss in fits) - min(ss["start"] for ss in fits),
        "cpu_s": cpu,
        "driver_cpu_s": driver_cpu,
        "asset_events": len(res.panel),
        "dropped": int((res.dropped["scope"] == "asset-event").sum()),
        "worker_peak_gib": max(peaks.values()) / GIB,
        "driver_peak_gib": driver.peak / GIB,
        "results": res,
    }


def check_against_in_process(study: es.EventStudy, res: es.EventStudyResults,
                             n_events: int = 3, n_assets: int = 200) -> float:
    """Largest |difference| of ARs and params on a sub-study fitted in-process."""
    assets = study.assets[:n_assets]
    sub = es.EventStudy(list(study.events)[-n_events:], assets=assets, market=study.market,
                        data=study.data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        ref = sub.fit()
    mine = res.panel.keys.reset_index().merge(ref.panel.keys[["event_id", "asset"]],
                                              on=["event_id", "asset"])
    ar_diff = np.nanmax(np.abs(res.panel.ar[mine["index"].to_numpy()] - ref.panel.ar))
    keyed = res.params.set_index(["event_id", "asset"]).loc[
        pd.MultiIndex.from_frame(ref.params[["event_id", "asset"]])]
    par_diff = np.nanmax(np.abs(keyed[["alpha", "beta", "sigma"]].to_numpy()
                                - ref.params[["alpha", "beta", "sigma"]].to_numpy()))
    return float(max(ar_diff, par_diff))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=3000)
    parser.add_argument("--years", type=int, default=25)
    parser.add_argument("--events", type=int, default=334)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--events-per-partition", type=int, default=25)
    parser.add_argument("--assets-per-partition", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the generated dataset")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="eventstudy-dask-scale-"))
    try:
        t0 = time.perf_counter()
        frame = make_panel(args.assets, args.years)
        write_partitioned(frame, tmp / "panel")
        size = sum(p.stat().st_size for p in (tmp / "panel").rglob("*.parquet"))
        print(f"panel: {frame.shape[1] - 1} assets + MKT x {len(frame)} sessions "
              f"({frame.index[0].date()}..{frame.index[-1].date()}), {size / 2**20:.0f} MiB "
              f"Parquet, written in {time.perf_counter() - t0:.1f} s to {tmp / 'panel'}")
        dates = event_dates(frame.index, args.events)
        tickers = [c for c in frame.columns if c != "MKT"]
        del frame
        study = es.EventStudy(dates, assets=tickers, market="MKT",
                              data=ParquetReturnsProvider(tmp / "panel"))
        n_tasks = -(-args.events // args.events_per_partition) * -(
            -len(tickers) // args.assets_per_partition)
        print(f"study: {args.events} events x {len(tickers)} assets = "
              f"{args.events * len(tickers):,} asset-events; {n_tasks} tasks of "
              f"{args.events_per_partition} events x {args.assets_per_partition} assets")

        rows = []
        for n in args.workers:
            out = run_once(study, n, args.events_per_partition, args.assets_per_partition)
            out["max_diff"] = check_against_in_process(study, out.pop("results"))
            print(f"{n} worker(s): {out['wall_s']:.1f} s (tasks: {out['task_s']:.1f} s of "
                  f"compute within {out['span_s']:.1f} s; CPU: workers {out['cpu_s']:.1f} s, "
                  f"driver and scheduler {out['driver_cpu_s']:.1f} s), worker peak "
                  f"{out['worker_peak_gib']:.2f} GiB, driver peak "
                  f"{out['driver_peak_gib']:.2f} GiB, {out['asset_events']:,} estimated, "
                  f"{out['dropped']:,} dropped, max |diff| vs in-process (3 events x 200 "
                  f"assets) {out['max_diff']:.1e}", flush=True)
            rows.append(out)
        base = rows[0]["wall_s"]
        print(f"\nmachine: {os.cpu_count()} cores, "
              f"{psutil.virtual_memory().total / GIB:.0f} GiB; load average (1 min) after each "
              "run in the last column")
        print("| workers | wall time (s) | speed-up | task compute, summed (s) "
              "| first task start to last task end (s) | worker CPU (s) "
              "| driver + scheduler CPU (s) "
              "| peak memory per worker (GiB) "
              "| peak driver memory (GiB) | asset-events estimated | dropped | load |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['workers']} | {r['wall_s']:.1f} | {base / r['wall_s']:.2f} | "
                  f"{r['task_s']:.1f} | {r['span_s']:.1f} | {r['cpu_s']:.1f} | "
                  f"{r['driver_cpu_s']:.1f} | "
                  f"{r['worker_peak_gib']:.2f} | {r['driver_peak_gib']:.2f} | "
                  f"{r['asset_events']:,} | {r['dropped']:,} | {r['load']:.1f} |")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
