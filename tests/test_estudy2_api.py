"""run_event_study(conventions="estudy2") reproduces estudy2 0.10.0's printed statistics.

The study is estudy2's vignette example run through the public API on estudy2's own data
(shared/data/reference/estudy2: log returns of 7 stocks and ^GSPC), with the estimation
window 2019-04-01..2020-03-13 and event days 2020-03-16..20 expressed in trading days.
Expected values: tests/reference/estudy2_expected.csv, produced by estudy2's R code
(tests/reference/make_estudy2_expected.R), matching its published vignette.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventstudy as es

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "reference" / "estudy2"
EXPECTED = ROOT / "tests" / "reference"
OURS = {
    "brown_warner_1980": "t_pooled", "brown_warner_1985": "t_cda", "t_test": "t_csect",
    "patell": "patell", "boehmer": "bmp", "lamb": "lamb", "sign_test": "sign",
    "generalized_sign_test": "gsign", "corrado_sign_test": "cz_sign", "rank_test": "rank",
    "modified_rank_test": "mrank", "wilcoxon_test": "wilcoxon",
}


@pytest.fixture(scope="module")
def study():
    if not DATA.is_dir():
        pytest.skip(f"estudy2 reference data not found at {DATA}")
    rates = pd.read_csv(DATA / "rates.csv", parse_dates=["date"], index_col="date")
    index = pd.read_csv(DATA / "rates_indx.csv", parse_dates=["date"], index_col="date")
    returns = rates.join(index)
    n_est = int(((returns.index >= "2019-04-01") & (returns.index <= "2020-03-13")).sum())
    res = es.run_event_study(
        "2020-03-16", assets=list(rates.columns), market="^GSPC", data=returns,
        data_kind="returns", estimation_window=(-n_est, -1), event_window=(0, 4),
        car_windows=[(0, 0)], conventions="estudy2", return_type="log",
    )
    return res, list(rates.columns)


def test_fit_matches_estudy2(study):
    res, names = study
    mm = pd.read_csv(EXPECTED / "estudy2_expected_market_model.csv", index_col="security")
    p = res.params.set_index("asset").loc[names]
    np.testing.assert_allclose(p["alpha"], mm.loc[names, "alpha"], rtol=1e-9)
    np.testing.assert_allclose(p["beta"], mm.loc[names, "beta"], rtol=1e-9)
    np.testing.assert_array_equal(p["nobs"], mm.loc[names, "estimation_length"])
    np.testing.assert_allclose(p["sigma"], mm.loc[names, "sd_estimation_abnormal"], rtol=1e-9)
    assert res.params["est_start"].iloc[0] == pd.Timestamp("2019-04-02")
    assert res.params["est_end"].iloc[0] == pd.Timestamp("2020-03-13")


def test_statistics_match_estudy2(study):
    res, _ = study
    table = res.tests(list(OURS.values()), windows=[(0, 0)])
    expected = pd.read_csv(EXPECTED / "estudy2_expected.csv", keep_default_na=False)
    days = pd.bdate_range("2020-03-16", "2020-03-20")
    assert len(expected) == 60
    for row in expected.itertuples():
        tau = days.get_loc(pd.Timestamp(row.date))
        got = table[(table["test"] == OURS[row.test]) & (table["start"] == tau)
                    & (table["end"] == tau)]
        assert got["statistic"].item() == pytest.approx(float(row.statistic), rel=1e-9,
                                                        abs=1e-12), (row.test, row.date)
