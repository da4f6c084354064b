"""A custom FactorModel (market + emerging-markets spread) against the market model, China ETFs."""

# Usage: ``python examples/custom_factor_model.py [OUT_DIR]`` (default: a new temporary folder).
# The factors are built from the price snapshot itself: ``mkt`` = SPY's return and
# ``em_spread`` = EEM's return minus SPY's, in decimals, indexed by date. ``excess=False``
# because they are plain returns with no risk-free column. EEM's index includes Chinese
# stocks, so the spread also absorbs part of a purely Chinese shock: the factor-model AR is a
# conservative measure of a China-specific reaction. Writes ``comparison.csv``.
# Prices come from ``EVENTSTUDY_DATA``, else ``../shared/data/prices`` beside the checkout.

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd
from _data import prices_dir

import eventstudy as es

EVENTS = ["2025-04-02-liberation-day-tariffs", "2025-05-12-geneva-joint-statement",
          "2025-06-05-trump-xi-call"]
ASSETS = ["FXI", "MCHI", "KWEB"]
WINDOWS = [(0, 0), (0, 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", nargs="?", help="output folder (default: a new temporary one)")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="factor-model-"))
    out.mkdir(parents=True, exist_ok=True)
    data = prices_dir()

    closes = es.CSVDirectoryProvider(data).get_prices(["SPY", "EEM"])
    returns = closes.pct_change().dropna()
    factors = pd.DataFrame({"mkt": returns["SPY"], "em_spread": returns["EEM"] - returns["SPY"]})
    model = es.FactorModel(factors, excess=False)

    fits = {
        "market": es.run_event_study(EVENTS, assets=ASSETS, car_windows=WINDOWS, data=data),
        "market+em": es.run_event_study(EVENTS, assets=ASSETS, model=model,
                                        car_windows=WINDOWS, data=data),
    }
    key = ["event_id", "asset", "start", "end"]
    table = pd.concat(
        {name: r.cars.set_index(key)[["car", "tstat", "pvalue"]] for name, r in fits.items()},
        axis=1)
    table.columns = [f"{model_name}_{col}" for model_name, col in table.columns]
    r2 = pd.concat({name: r.params.set_index(["event_id", "asset"])["r2"]
                    for name, r in fits.items()}, axis=1).add_suffix("_r2")
    table = table.join(r2, on=["event_id", "asset"])
    table.to_csv(out / "comparison.csv")

    print(fits["market+em"].params[["event_id", "asset", "model", "mkt", "em_spread", "r2"]]
          .round(3).to_string(index=False))
    shown = table.filter(like="_car") * 100
    print("\nCAR (%) by model")
    print(shown.round(2).to_string())
    print(f"\nwrote {out / 'comparison.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
