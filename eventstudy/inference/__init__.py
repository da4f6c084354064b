"""Significance tests of abnormal returns.

* :mod:`~eventstudy.inference.per_asset`: each asset-event on its own (t, sample-quantile,
  multiple-testing adjustments).
* Across asset-events (the assets of one event, many events, or both): the parametric tests
  in :mod:`~eventstudy.inference.parametric`, the sign and rank tests in
  :mod:`~eventstudy.inference.nonparametric`, run together by :func:`run_tests` from the
  registry :data:`TESTS`; :func:`aggregate` gives AARs and CAARs, :func:`difference_test`
  compares two groups of events, :func:`placebo_study` measures rejection rates on random
  pseudo-event dates. Every test returns a frozen :class:`TestResult`.

See ``docs/inference.md`` for the table of tests, formulas, references and assumptions.
"""

from eventstudy.inference._core import TestResult
from eventstudy.inference.battery import (
    TESTS,
    DifferenceResult,
    aggregate,
    difference_test,
    run_tests,
)
from eventstudy.inference.calibration import rejection_rates
from eventstudy.inference.nonparametric import cz_sign, grank, gsign, mrank, rank, sign, wilcoxon
from eventstudy.inference.parametric import (
    bmp,
    bootstrap,
    kp,
    lamb,
    patell,
    patell_adj,
    skew_t,
    t_cda,
    t_csect,
    t_pooled,
)
from eventstudy.inference.placebo import PlaceboResults, placebo_study

__all__ = [
    "TESTS",
    "DifferenceResult",
    "PlaceboResults",
    "TestResult",
    "aggregate",
    "bmp",
    "bootstrap",
    "cz_sign",
    "difference_test",
    "grank",
    "gsign",
    "kp",
    "lamb",
    "mrank",
    "patell",
    "patell_adj",
    "placebo_study",
    "rank",
    "rejection_rates",
    "run_tests",
    "sign",
    "skew_t",
    "t_cda",
    "t_csect",
    "t_pooled",
    "wilcoxon",
]
