"""Where the examples find prices: ``$EVENTSTUDY_DATA``, else the snapshot beside the checkout."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def prices_dir() -> Path:
    """``$EVENTSTUDY_DATA``, else the offline snapshot beside the checkout."""
    env = os.environ.get("EVENTSTUDY_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "data" / "prices"
    if not path.is_dir():
        sys.exit(f"no price folder at {path}; set EVENTSTUDY_DATA to a folder of <TICKER>.csv")
    return path
