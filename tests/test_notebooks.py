"""Every notebook runs offline in a temporary copy, and its computed summary matches the library.

The notebooks are stored without outputs (notebooks/README.md); this test executes each one
with nbclient on a kernel of the running interpreter, checks that no cell failed or wrote to
stderr, that figures were drawn, and that the numbers of the summary paragraph (rendered by the
first code cell) equal the same quantities computed here.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import warnings
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

import eventstudy as es  # noqa: E402
from eventstudy.inference import difference_test  # noqa: E402

pytestmark = pytest.mark.slow

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
SUMMARY_MARK = "**Summary (computed).**"


def pct(x: float) -> str:
    return f"{100 * x:+.2f}%"


def car(cars, asset: str, window=(0, 0), event: str | None = None):
    """One row of a ``res.cars`` table."""
    rows = cars[(cars.asset == asset) & (cars.start == window[0]) & (cars.end == window[1])]
    if event is not None:
        rows = rows[rows.event_id == event]
    return rows.iloc[0]


# --- expected numbers, computed independently of the notebooks ---------------------------------
def expected_01(prices: Path) -> list[str]:
    event = "2025-06-05-trump-xi-call"
    res = es.run_event_study(event, data=prices)
    acwi = es.run_event_study(event, data=prices, market_benchmark="ACWI")
    xly, spy, spy_acwi = car(res.cars, "XLY"), car(res.cars, "SPY"), car(acwi.cars, "SPY")
    kp0 = res.tests(["kp"]).query("start == 0 and end == 0").iloc[0]
    params = res.params.set_index("asset")
    return [
        "Thursday 2025-06-05",
        pct(xly.car), f"t = {xly.tstat:.2f}", f"p = {xly.pvalue:.4f}",
        f"{xly.pvalue_holm:.3f} (Holm)", f"{xly.pvalue_bh:.3f} (Benjamini–Hochberg)",
        f"p = {kp0.pvalue:.2f}", pct(spy.car), pct(spy_acwi.car),
        f"{params.est_start['XLY']:%Y-%m-%d} to {params.est_end['XLY']:%Y-%m-%d}",
        f"from {100 * params.sigma['SPY']:.2f}%", f"from {params.beta['XLE']:.2f}",
    ]


def expected_02(prices: Path) -> list[str]:
    catalog = es.load_catalog()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = es.run_event_study(catalog, data=prices)
    keys = res.panel.keys
    spy = (keys.asset == "SPY").to_numpy()
    esc = (keys.direction == "escalation").to_numpy()
    de = (keys.direction == "de-escalation").to_numpy()
    diff = difference_test(res.panel, spy & esc, spy & de, (-1, 1))
    cars = res.cars.query("asset == 'SPY' and start == -1 and end == 1")
    kp = res.tests(["kp"], group_by="direction").query("start == -1 and end == 1")
    kp = kp.set_index("direction")
    return [
        f"{len(catalog)} events",
        pct(cars.car.min()), pct(cars.car.max()),
        f"{100 * diff.difference:+.2f} percentage points", f"Welch p = {diff.pvalue:.3f}",
        f"({diff.n_a} vs {diff.n_b} event dates)",
        f"p = {kp.pvalue['escalation']:.2f}", f"p = {kp.pvalue['de-escalation']:.2f}",
        f"{int((res.dropped.scope == 'asset-event').sum())} early asset-events",
    ]


def expected_03(prices: Path) -> list[str]:
    import pandas as pd

    events = ["2018-12-01-g20-buenos-aires-truce", "2019-08-01-trump-tweets-10pct-tariff-300bn",
              "2025-04-02-liberation-day-tariffs", "2025-06-05-trump-xi-call"]
    tickers = ["FXI", "MCHI", "KWEB", "SOXX"]
    closes = es.CSVDirectoryProvider(prices).get_prices(["SPY", "EEM"])
    rets = closes.pct_change()
    model = es.FactorModel(pd.DataFrame({"mkt": rets["SPY"],
                                         "em_spread": rets["EEM"] - rets["SPY"]}).dropna(),
                           excess=False)
    market = es.run_event_study(events, assets=tickers, data=prices)
    factor = es.run_event_study(events, assets=tickers, model=model, data=prices)
    lib = "2025-04-02-liberation-day-tariffs"
    return [
        "day 0 2018-12-03 (`non_session_next`)", "day 0 2025-04-03 (`after_close`)",
        f"from {market.params.groupby('asset').r2.mean().mean():.2f}",
        f"to {factor.params.groupby('asset').r2.mean().mean():.2f}",
        pct(car(market.cars, "KWEB", event=lib).car),
        pct(car(factor.cars, "KWEB", event=lib).car),
    ]


EXPECTED = {
    "01_june5_call.ipynb": (expected_01, 7),
    "02_trade_war_events.ipynb": (expected_02, 4),
    "03_bring_your_own.ipynb": (expected_03, 1),
}


# --- helpers ------------------------------------------------------------------------------------
@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prices_dir: Path) -> str:
    """A ``python3`` kernel spec of this interpreter, first on JUPYTER_PATH (fresh clones too)."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (eventstudy tests)",
        "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    # Connection files and IPython's profile go to the temp folder, not the home directory.
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("EVENTSTUDY_DATA", str(prices_dir))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own inline backend
    return "python3"


def outputs(nb, kind: str) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == kind]


# --- tests --------------------------------------------------------------------------------------
def test_every_notebook_is_checked() -> None:
    assert NAMES and set(NAMES) == set(EXPECTED)


@pytest.mark.parametrize("name", NAMES)
def test_stored_without_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{name}: strip outputs before committing (see notebooks/README.md)")


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_and_summary_is_computed(
    name: str, kernel: str, tmp_path: Path, prices_dir: Path
) -> None:
    work = tmp_path / "run"
    work.mkdir()
    shutil.copy(NOTEBOOKS / name, work / name)
    nb = nbformat.read(work / name, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=kernel, timeout=600,
                                     resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError on the first failing cell

    assert not outputs(nb, "error")
    stderr = [o.text for o in outputs(nb, "stream") if o.name == "stderr"]
    assert not stderr, f"{name} wrote to stderr:\n" + "\n".join(stderr)
    images = [o for o in outputs(nb, "display_data") if "image/png" in o.get("data", {})]
    expect, n_figures = EXPECTED[name]
    assert len(images) >= n_figures

    first_code = next(c for c in nb.cells if c.cell_type == "code")
    texts = [o.data["text/markdown"] for o in first_code.outputs
             if "text/markdown" in o.get("data", {})]
    assert len(texts) == 1 and texts[0].startswith(SUMMARY_MARK), "summary must come first"
    summary = texts[0]
    missing = [s for s in expect(prices_dir) if s not in summary]
    assert not missing, f"{name}: summary lacks {missing}:\n{summary}"
    # No number outside the run: the stored markdown cells hold no percentages or p-values.
    for cell in nbformat.read(NOTEBOOKS / name, as_version=4).cells:
        if cell.cell_type == "markdown":
            assert "p = 0." not in cell.source and not _has_result_pct(cell.source), cell.source
    # Nothing was written into the repository's notebooks folder.
    assert sorted(p.name for p in NOTEBOOKS.iterdir() if p.suffix == ".ipynb") == NAMES


def _has_result_pct(text: str) -> bool:
    """A signed percentage with decimals, the form results take (e.g. '-2.00%')."""
    return bool(re.search(r"[+\-−]\d+\.\d+%", text))
