"""The 2025-06-05 Trump–Xi call study, saved as PNG figures and CSV tables in an output folder."""

# Usage: ``python examples/june5_figures.py [OUT_DIR]`` (default: a new temporary folder).
# Prices come from ``EVENTSTUDY_DATA``, else ``../shared/data/prices`` beside the checkout.

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window

import matplotlib.pyplot as plt
from _data import prices_dir

import eventstudy as es
from eventstudy.plotting import save_figure

EVENT = "2025-06-05-trump-xi-call"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", nargs="?", help="output folder (default: a new temporary one)")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="june5-"))
    data = prices_dir()

    res = es.run_event_study(EVENT, data=data)
    figures = {
        "sector_bars_day0": lambda: res.plot_sector_bars(window=(0, 0)),
        "sector_bars_day0_holm": lambda: res.plot_sector_bars(window=(0, 0), adjusted="holm"),
        "car_grid": lambda: res.plot_car_grid(window=(-5, 5)),
        "ar_heatmap": lambda: res.plot_ar_heatmap(),
        "price_path": lambda: res.plot_price_path(assets=["XLY", "XLP"], data=data),
    }
    for name, draw in figures.items():
        drawn = draw()
        print(save_figure(drawn, out / f"{name}.png"))
        plt.close(getattr(drawn, "figure", drawn))
    for path in res.to_csv(out / "tables"):
        print(path)

    day0 = res.cars.query("start == 0 and end == 0").set_index("asset")
    print(f"\n{EVENT}: day 0 = {res.events['day0'].iloc[0]:%Y-%m-%d}, abnormal returns (%)")
    print((100 * day0["car"]).round(2).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
