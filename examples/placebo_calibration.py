"""Placebo calibration: how often tests across sectors reject on 50 random dates with no event."""

# Usage: ``python examples/placebo_calibration.py [OUT_DIR] [--dates N] [--seed S]``.
# Each pseudo-event date is studied for all eleven sector ETFs at once (same-date
# cross-correlation, as on a real political event day); a well-specified test rejects at about
# its nominal level. With 50 dates the Monte Carlo standard error of a 5% rate is about
# 3 percentage points, so this is a smoke test, not a calibration: use 1000 dates for that.
# Writes ``rates.csv`` (all levels and windows) and ``tests.csv`` (every test of every date).
# Prices come from ``EVENTSTUDY_DATA``, else ``../shared/data/prices`` beside the checkout.

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _data import prices_dir

import eventstudy as es

TESTS = ["t_csect", "bmp", "kp", "grank", "sign"]
WINDOWS = ((0, 0), (-1, 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", nargs="?", help="output folder (default: a new temporary one)")
    parser.add_argument("--dates", type=int, default=50, help="pseudo-event dates (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the date draw")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="placebo-"))
    out.mkdir(parents=True, exist_ok=True)

    placebo = es.placebo_study(args.dates, "sectors", windows=WINDOWS, tests=TESTS,
                               data=prices_dir(), end="2024-12-31", random_state=args.seed)
    placebo.rates.to_csv(out / "rates.csv", index=False)
    placebo.tests.to_csv(out / "tests.csv", index=False)

    five = placebo.rates.query("level == 0.05")
    mc_se = five[five.set_index(["start", "end"]).index.isin(WINDOWS)]["mc_se"].max()
    print(f"{len(placebo.dates)} pseudo-event dates, {placebo.dates[0]:%Y-%m-%d} to "
          f"{placebo.dates[-1]:%Y-%m-%d} (seed {args.seed}); rejection rate (%) at 5%:")
    print(placebo.table(0.05).to_string())
    print(f"largest Monte Carlo standard error of these rates: {100 * mc_se:.1f} points")
    print(f"\nwrote {out / 'rates.csv'} and {out / 'tests.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
