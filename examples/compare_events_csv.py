"""Compare the market's and the sectors' reactions to events listed in a CSV file."""

# Usage: ``python examples/compare_events_csv.py [--events FILE] [OUT_DIR]``. The CSV needs a
# ``date`` column; ``time``, ``timezone``, ``name``, ``id``, ``tags`` and ``source`` are optional
# (see ``EventSet.from_frame``). Without ``--events`` a demo file with the catalog's 2025 events
# is written to the output folder first. Writes ``comparison.csv`` and ``car_heatmap.png``.
# Prices come from ``EVENTSTUDY_DATA``, else ``../shared/data/prices`` beside the checkout.

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window

import matplotlib.pyplot as plt
import pandas as pd
from _data import prices_dir

import eventstudy as es
from eventstudy.plotting import save_figure

WINDOW = (-1, 1)


def demo_csv(path: Path) -> Path:
    """Write the catalog's 2025 events (sourced rows) as a user-style events CSV."""
    rows = es.load_catalog().to_frame()
    rows = rows[rows["id"].str.startswith("2025")]
    rows[["id", "when", "name", "tags", "source"]].rename(columns={"when": "date"}).to_csv(
        path, index=False)
    return path


def compare(res: es.EventStudyResults) -> pd.DataFrame:
    """One row per event: the market's CAR, the sectors' average CAR and its KP test."""
    start, end = WINDOW
    cars = res.cars.query(f"start == {start} and end == {end}")
    market = cars[cars.asset == res.settings["market"]].set_index("event_id")
    sectors = cars[cars.asset != res.settings["market"]]
    kp = res.tests(["kp"], windows=[WINDOW], group_by="event_id").query(
        f"start == {start} and end == {end}").set_index("event_id")
    table = res.events.set_index("event_id")[["day0", "rule", "direction"]].copy()
    table["market_car"] = market["car"]
    table["market_p"] = market["pvalue"]
    table["sector_caar"] = sectors.groupby("event_id")["car"].mean()
    table["sector_kp_p"] = kp["pvalue"]
    table["sectors_holm_sig"] = sectors.assign(sig=sectors.pvalue_holm < 0.05).groupby(
        "event_id")["sig"].sum()
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", nargs="?", help="output folder (default: a new temporary one)")
    parser.add_argument("--events", help="events CSV (default: a demo file of 2025 events)")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="compare-events-"))
    out.mkdir(parents=True, exist_ok=True)
    events_csv = Path(args.events) if args.events else demo_csv(out / "events.csv")

    events = es.EventSet.from_csv(events_csv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", es.EventStudyWarning)
        res = es.run_event_study(events, data=prices_dir())
    for w in caught:
        print(f"warning: {w.message}")

    table = compare(res)
    table.to_csv(out / "comparison.csv")
    ax = res.plot_car_heatmap(window=WINDOW, annotate=True)
    save_figure(ax, out / "car_heatmap.png")
    plt.close(ax.figure)

    shown = table.assign(market_car=100 * table.market_car, sector_caar=100 * table.sector_caar)
    numeric = shown.select_dtypes("number").columns
    shown[numeric] = shown[numeric].round(3)
    print(f"{len(events)} events from {events_csv}; CAR{WINDOW} in %, market = "
          f"{res.settings['market']} (constant mean), sectors = market model")
    print(shown.to_string())
    print(f"\nwrote {out / 'comparison.csv'} and {out / 'car_heatmap.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
