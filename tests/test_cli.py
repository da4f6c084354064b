"""The ``eventstudy`` command, called through ``main([...])`` and once as ``python -m``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import eventstudy as es
from eventstudy.cli import main

EVENT = "2025-06-05-trump-xi-call"
REPO = Path(__file__).resolve().parents[1]


def test_run_writes_report_tables_and_figures(prices_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", EVENT, "--data", str(prices_dir), "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0
    assert "Consumer Discretionary" in stdout and "CAR(-1,1) %" in stdout  # the sector table
    assert str(out.resolve()) in stdout and f"report: {out.resolve() / 'report.html'}" in stdout
    for name in ("report.html", "ars.csv", "cars.csv", "params.csv", "events.csv", "dropped.csv",
                 f"car_grid_{EVENT}.png", f"sector_bars_{EVENT}_0_0.png",
                 f"sector_bars_{EVENT}_-1_1.png", f"ar_heatmap_{EVENT}.png",
                 f"price_path_{EVENT}.png"):
        assert (out / name).stat().st_size > 0, name
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "CSVDirectoryProvider" in html and "price_path_" in html


def test_run_options_reach_the_study(prices_dir, tmp_path, monkeypatch, capsys):
    # The data folder from the environment, recorded in the settings like --data.
    monkeypatch.setenv("EVENTSTUDY_DATA", str(prices_dir))
    out = tmp_path / "csv"
    code = main(["run", EVENT, "--assets", "XLK,XLE", "--model", "market_adjusted",
                 "--estimation", "-120", "-11", "--window", "-5", "5", "--car", "0", "0",
                 "--car", "0", "2", "--exclude", "catalog", "--format", "csv", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    cars = pd.read_csv(out / "cars.csv")
    assert set(zip(cars["start"], cars["end"], strict=True)) == {(0, 0), (0, 2)}
    assert set(cars["asset"]) == {"XLK", "XLE"}
    assert set(pd.read_csv(out / "params.csv")["model"]) == {"market_adjusted"}
    dropped = pd.read_csv(out / "dropped.csv")
    assert (dropped["scope"] == "estimation-day").any()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["ars.csv", "cars.csv", "params.csv", "events.csv", "dropped.csv"])
    expected = es.run_event_study(EVENT, assets="XLK,XLE", model="market_adjusted",
                                  estimation_window=(-120, -11), event_window=(-5, 5),
                                  car_windows=[(0, 0), (0, 2)], exclude="catalog",
                                  data=prices_dir)
    pd.testing.assert_frame_equal(cars, pd.read_csv(_csv(expected.cars, tmp_path)))


def _csv(frame, tmp_path):
    path = tmp_path / "expected.csv"
    frame.to_csv(path, index=False)
    return path


def test_run_excluded_dates_and_markdown(prices_dir, tmp_path, capsys):
    out = tmp_path / "md"
    code = main(["run", EVENT, "--assets", "XLK", "--data", str(prices_dir), "--exclude",
                 "2025-04-09,2025-05-12", "--format", "md", "--out", str(out)])
    assert code == 0
    assert f"report: {out.resolve() / 'report.md'}" in capsys.readouterr().out
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "excluded date 2025-04-09" in text
    assert (out / f"ar_heatmap_{EVENT}.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window", "5", "-5"], "reversed"),
        (["--assets", "XLK,NOPE"], "NOPE"),
        (["--model", "garch"], "choose one of"),
        (["--car", "-20", "0"], "inside"),
        (["--alignment", "raise", "--exclude", "not-a-date"], "error: "),
    ],
)
def test_run_errors_exit_2_with_message(prices_dir, capsys, args, message):
    code = main(["run", EVENT, "--data", str(prices_dir), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["run"],
        ["run", EVENT, "--window", "5"],
        ["run", EVENT, "--format", "html,docx"],
        ["run", EVENT, "--alignment", "sideways"],
        ["frobnicate"],
    ],
)
def test_bad_usage_exits_2(argv, capsys):
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_unknown_event_and_missing_data_folder(tmp_path, capsys):
    assert main(["run", "2025-01-01-no-such-event", "--data", str(tmp_path)]) == 2
    assert "no event with id" in capsys.readouterr().err
    assert main(["data", "--data", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_events_lists_the_catalog_and_filters_by_tag(capsys):
    assert main(["events"]) == 0
    out = capsys.readouterr().out
    catalog = es.load_catalog()
    assert all(e.id in out for e in catalog)
    assert main(["events", "--tag", "escalation"]) == 0
    out = capsys.readouterr().out
    for e in catalog:
        assert (e.id in out) == ("escalation" in e.tags)
    assert "2025-04-02 16:00 EDT" in out  # timed events keep their time
    assert main(["events", "--tag", "no-such-tag"]) == 2
    assert "tags: " in capsys.readouterr().err


def test_data_shows_coverage(prices_dir, capsys):
    assert main(["data", "--data", str(prices_dir)]) == 0
    out = capsys.readouterr().out
    spy = out.splitlines()[[line.split()[0] if line.split() else "" for line in
                            out.splitlines()].index("SPY")]
    assert spy.split()[1:3] == ["1993-01-29", "2026-07-31"]
    assert "GSPC" in out and "tickers" in out


def test_data_without_source_describes_the_empty_cache(capsys):
    # conftest points the cache at an empty temporary folder and unsets EVENTSTUDY_DATA.
    assert main(["data"]) == 0
    assert "cache is empty" in capsys.readouterr().out


def test_python_dash_m_help_and_exit_status(prices_dir):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("EVENTSTUDY_DATA", None)
    done = subprocess.run([sys.executable, "-m", "eventstudy", "--help"], capture_output=True,
                          text=True, cwd=REPO, env=env, check=False)
    assert done.returncode == 0
    assert "examples:" in done.stdout and "eventstudy run" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "eventstudy", "run", EVENT, "--window", "5", "-5", "--data",
         str(prices_dir)], capture_output=True, text=True, cwd=REPO, env=env, check=False)
    assert done.returncode == 2 and done.stderr.startswith("error: ")
