"""Shared fixtures: the read-only offline snapshot beside the checkout."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PRICES = SHARED / "prices"
FACTORS = SHARED / "factors"
REFERENCE = SHARED / "reference"


@pytest.fixture(scope="session")
def prices_dir() -> Path:
    if not PRICES.is_dir():
        pytest.skip(f"offline snapshot not found at {PRICES}")
    return PRICES


@pytest.fixture(scope="session")
def factors_dir() -> Path:
    if not FACTORS.is_dir():
        pytest.skip(f"factor snapshot not found at {FACTORS}")
    return FACTORS


@pytest.fixture(scope="session")
def snapshot_closes(prices_dir: Path):
    """Read a ticker's adjusted closes straight from its CSV (independent of the provider)."""

    def read(ticker: str) -> pd.Series:
        raw = pd.read_csv(prices_dir / f"{ticker.lstrip('^')}.csv", parse_dates=["date"])
        return raw.set_index("date")["adj_close"].rename(ticker)

    return read


@pytest.fixture(autouse=True)
def _no_env_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests state their data source explicitly; caches go to a temp dir."""
    monkeypatch.delenv("EVENTSTUDY_DATA", raising=False)
    monkeypatch.setenv("EVENTSTUDY_CACHE_DIR", str(tmp_path / "cache"))
