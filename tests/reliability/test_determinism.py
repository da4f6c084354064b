"""Same inputs, same numbers: across processes, with a seed, and whatever the input order.

The studies run on the read-only offline snapshot (``../shared/data/prices``); nothing is
written there (caches go to ``tmp_path``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.exceptions import DataWarning

EVENTS = [
    "2025-06-05-trump-xi-call",
    "2018-05-20-mnuchin-trade-war-on-hold",  # XLC has no data yet: one asset-event dropped
    "2025-04-02",
    "2019-05-05 18:00",  # a Sunday evening: next session, naive time recorded as assumed
]
ASSETS = ["SPY", "XLK", "XLF", "XLE", "XLC", "XLU"]
KEYS = {
    "cars": ["event_id", "asset", "start", "end"],
    "ars": ["event_id", "asset", "tau"],
    "params": ["event_id", "asset"],
    "dropped": ["scope", "event_id", "asset", "date", "reason"],
}

try:
    from eventstudy.inference import run_tests  # noqa: F401

    HAS_TESTS = True
except ImportError:
    HAS_TESTS = False
needs_tests = pytest.mark.xfail(not HAS_TESTS, strict=True,
                                reason="eventstudy.inference.run_tests is not there yet")

SCRIPT = textwrap.dedent(
    """
    import hashlib, json, sys, warnings
    import eventstudy as es

    warnings.simplefilter("ignore")
    prices, events, assets = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    res = es.run_event_study(events, assets=assets, data=prices)
    out = {name: hashlib.sha256(getattr(res, name).to_csv().encode()).hexdigest()
           for name in ("cars", "ars", "params", "dropped")}
    try:
        boot = res.tests(["bootstrap"], random_state=0)
    except (ImportError, AttributeError):
        boot = None
    out["bootstrap"] = None if boot is None else hashlib.sha256(
        boot.to_csv().encode()).hexdigest()
    try:
        placebo = es.placebo_study(
            6, assets=["XLK", "XLE", "XLF"], start="2020-01-01", end="2023-12-31", data=prices,
            tests=["t_csect", "bootstrap", "rank"], windows=[(0, 0), (-1, 1)], random_state=3)
    except AttributeError:
        out["placebo"] = None
    else:
        out["placebo"] = hashlib.sha256(
            (placebo.tests.to_csv() + str(list(placebo.dates))).encode()).hexdigest()
    print(json.dumps(out))
    """
)


def study(prices_dir, events=EVENTS, assets=ASSETS):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return es.run_event_study(events, assets=assets, data=prices_dir)


def digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv().encode()).hexdigest()


def canonical(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def test_bit_identical_across_processes(prices_dir, tmp_path):
    script = tmp_path / "study.py"
    script.write_text(SCRIPT)
    procs = []
    for seed in ("1", "2"):  # different hash seeds: no dependence on set or dict order
        env = {**os.environ, "PYTHONHASHSEED": seed,
               "EVENTSTUDY_CACHE_DIR": str(tmp_path / f"cache{seed}")}
        env.pop("EVENTSTUDY_DATA", None)
        procs.append(subprocess.Popen(
            [sys.executable, str(script), str(prices_dir), json.dumps(EVENTS),
             json.dumps(ASSETS)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        ))
    outputs = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        outputs.append(json.loads(stdout))
    assert outputs[0] == outputs[1]  # includes the seeded bootstrap and placebo_study
    # And the same as in this process.
    res = study(prices_dir)
    here = {name: digest(getattr(res, name)) for name in KEYS}
    assert {k: outputs[0][k] for k in KEYS} == here
    assert len(res.dropped.query("scope == 'asset-event'")) == 1  # the study is not trivial
    if HAS_TESTS:
        assert outputs[0]["bootstrap"] == digest(res.tests(["bootstrap"], random_state=0))
        assert outputs[0]["placebo"] is not None


@needs_tests
def test_bootstrap_is_reproducible_with_a_seed(prices_dir):
    res = study(prices_dir)
    first = res.tests(["bootstrap"], random_state=0)
    again = study(prices_dir).tests(["bootstrap"], random_state=0)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    other = res.tests(["bootstrap"], random_state=1)
    assert not np.array_equal(first["pvalue"].to_numpy(), other["pvalue"].to_numpy(),
                              equal_nan=True)  # the seed is used


def assert_same_tables(res, ref) -> None:
    for name, keys in KEYS.items():
        pd.testing.assert_frame_equal(
            canonical(getattr(res, name), keys), canonical(getattr(ref, name), keys),
            check_exact=True)
    pd.testing.assert_frame_equal(canonical(res.events, ["event_id"]),
                                  canonical(ref.events, ["event_id"]), check_exact=True)


def test_order_of_events_does_not_matter(prices_dir):
    ref = study(prices_dir)
    for events in (EVENTS[::-1], EVENTS[1:] + EVENTS[:1]):
        assert_same_tables(study(prices_dir, events), ref)


def test_order_of_assets_does_not_matter(prices_dir):
    """Each asset-event's sums do not depend on its position among the assets (fit_batch)."""
    ref = study(prices_dir)
    for events, assets in [(EVENTS, ASSETS[::-1]), (EVENTS, ASSETS[2:] + ASSETS[:2]),
                           (EVENTS[::-1], ASSETS[::-1])]:
        assert_same_tables(study(prices_dir, events, assets), ref)


@needs_tests
def test_order_does_not_matter_for_tests_across_asset_events(prices_dir):
    """Sums over asset-events in another order differ in the last bits only."""
    names = [n for n in es.inference.TESTS if n != "bootstrap"]
    keys = ["test", "start", "end"]
    ref = canonical(study(prices_dir).tests(names), keys)
    res = canonical(study(prices_dir, EVENTS[::-1], ASSETS[::-1]).tests(names), keys)
    pd.testing.assert_frame_equal(res, ref, check_exact=False, rtol=1e-12, atol=1e-12)


@needs_tests
def test_order_does_not_matter_for_the_seeded_bootstrap(prices_dir):
    keys = ["test", "start", "end"]
    ref = canonical(study(prices_dir).tests(["bootstrap"], random_state=0), keys)
    res = canonical(study(prices_dir, EVENTS[::-1], ASSETS[::-1]).tests(
        ["bootstrap"], random_state=0), keys)
    pd.testing.assert_frame_equal(res, ref, check_exact=False, rtol=1e-12, atol=1e-12)
