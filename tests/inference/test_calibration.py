"""Size of every test under a simulated null, and the Kolari-Pynnönen correction at work.

Market-model asset-events are simulated and fitted by OLS (inference_panels.simulate_panel):
200 asset-events, 100 estimation days, event days -1..1, 500 replications, fixed seeds. At
the 5 % level the rejection rate of a well-sized test follows Binomial(500, 0.05)/500; each
rate is checked against its central interval with a Bonferroni correction over all the
rates checked here (family-wise level 1 %): [1.8 %, 9.0 %].
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from inference_panels import simulate_panel
from scipy import stats

from eventstudy.inference import TESTS, rejection_rates

REPS = 500
WINDOWS = [(0, 0), (-1, 1)]
N_CHECKS = (len(TESTS) + 2) * len(WINDOWS)
_TAIL = 0.01 / N_CHECKS / 2
LO, HI = (stats.binom.ppf(q, REPS, 0.05) / REPS for q in (_TAIL, 1 - _TAIL))


def _rates(seed: int, names: list[str], **sim: object) -> pd.Series:
    rng = np.random.default_rng(seed)
    rows = []
    for rep in range(REPS):
        panel = simulate_panel(rng, n=200, l1=100, l2=3, **sim)
        for name in names:
            opts = {"n_boot": 199, "random_state": rep} if name == "bootstrap" else {}
            rows += [asdict(r) for r in TESTS[name](panel, WINDOWS, **opts)]
    table = rejection_rates(pd.DataFrame(rows), levels=(0.05,))
    assert (table["n_na"] == 0).all() and (table["reps"] == REPS).all()
    return table.set_index(["test", "start", "end"])["rate"]


@pytest.fixture(scope="module")
def independent() -> pd.Series:
    return _rates(101, list(TESTS))


@pytest.fixture(scope="module")
def correlated() -> pd.Series:
    return _rates(202, ["bmp", "kp", "patell", "patell_adj"], rho=0.3, same_day=True)


@pytest.mark.parametrize("name", list(TESTS))
def test_size_under_independent_null(independent, name):
    rates = independent[name]
    assert ((rates >= LO) & (rates <= HI)).all(), rates.to_dict()


def test_cross_correlation_breaks_bmp_and_patell_but_not_their_kp_versions(correlated):
    # one event date, residual correlation 0.3: Var(mean SCAR) is ~1 + 199 * 0.3 times what
    # BMP and Patell assume, so they reject far too often; KP's r-bar adjustment restores size
    for name in ("bmp", "patell"):
        assert (correlated[name] > 0.5).all(), correlated[name].to_dict()
    for name in ("kp", "patell_adj"):
        assert ((correlated[name] >= LO) & (correlated[name] <= HI)).all(), \
            correlated[name].to_dict()
