"""Every script in examples/ runs offline in a subprocess and writes only to its output folder."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import eventstudy as es

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: script -> (extra arguments, files it must write into the output folder)
CASES = {
    "june5_figures.py": ([], ["sector_bars_day0.png", "sector_bars_day0_holm.png",
                              "car_grid.png", "ar_heatmap.png", "price_path.png",
                              "tables/cars.csv", "tables/params.csv"]),
    "compare_events_csv.py": ([], ["events.csv", "comparison.csv", "car_heatmap.png"]),
    "custom_factor_model.py": ([], ["comparison.csv"]),
    "placebo_calibration.py": ([], ["rates.csv", "tests.csv"]),
}


def run(script: str, args: list[str], cwd: Path, env: dict[str, str]):
    return subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def env(prices_dir: Path, tmp_path: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("EVENTSTUDY_")}
    out.update(EVENTSTUDY_DATA=str(prices_dir), EVENTSTUDY_CACHE_DIR=str(tmp_path / "cache"),
               MPLBACKEND="Agg")
    return out


def test_every_example_is_run() -> None:
    # _data.py is the shared data lookup the scripts import, not an example.
    assert {p.name for p in EXAMPLES.glob("[!_]*.py")} == set(CASES)


@pytest.mark.parametrize("script", sorted(CASES))
def test_one_line_docstring(script: str) -> None:
    doc = ast.get_docstring(ast.parse((EXAMPLES / script).read_text(encoding="utf-8")))
    assert doc and "\n" not in doc.strip(), f"{script}: needs a one-line module docstring"


@pytest.mark.parametrize("script", sorted(CASES))
def test_example_runs(script: str, tmp_path: Path, env: dict[str, str], prices_dir: Path) -> None:
    args, files = CASES[script]
    out, cwd = tmp_path / "out", tmp_path / "cwd"
    cwd.mkdir()
    beside = (EXAMPLES.parents[1] / "shared" / "data" / "prices").resolve()
    if script == "custom_factor_model.py" and beside == prices_dir.resolve():
        # The fallback when EVENTSTUDY_DATA is unset: the snapshot beside the checkout.
        env = {k: v for k, v in env.items() if k != "EVENTSTUDY_DATA"}
    done = run(script, [str(out), *args], cwd, env)
    assert done.returncode == 0, done.stderr
    for name in files:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert not any(cwd.iterdir()), "an example wrote outside its output folder"
    assert "Traceback" not in done.stderr
    if script == "compare_events_csv.py":
        check_comparison(out, prices_dir)


def check_comparison(out: Path, prices_dir: Path) -> None:
    """comparison.csv holds the library's numbers for the events of the CSV it read."""
    events = es.EventSet.from_csv(out / "events.csv")
    table = pd.read_csv(out / "comparison.csv", index_col="event_id")
    assert list(table.index) == [e.id for e in events]
    res = es.run_event_study(events, data=prices_dir)
    spy = res.cars.query("asset == 'SPY' and start == -1 and end == 1").set_index("event_id")
    assert table["market_car"].to_numpy() == pytest.approx(
        spy.car.reindex(table.index).to_numpy(), rel=1e-12)
    assert table.loc["2025-04-02-liberation-day-tariffs", "rule"] == "after_close"


def test_missing_data_folder_is_a_clear_error(tmp_path: Path, env: dict[str, str]) -> None:
    env = {**env, "EVENTSTUDY_DATA": str(tmp_path / "nowhere")}
    done = run("june5_figures.py", [str(tmp_path / "out")], tmp_path, env)
    assert done.returncode != 0
    assert "no price folder" in done.stderr and "Traceback" not in done.stderr
