"""The battery with conventions="estudy2" reproduces estudy2 0.10.0 on its vignette study.

The panel is built here from estudy2's bundled data (shared/data/reference/estudy2) the way
docs/estudy2_conventions.md (section 1.3) describes estudy2's market model: OLS on complete
cases of 2019-04-01..2020-03-13, residual sd with divisor L_i - 1, prediction error
1/L_i + (R_m - mean R_m)^2 / S_mm with the index moments over every estimation-window day.
The expected numbers come from running estudy2's own R code
(tests/reference/make_estudy2_expected.R).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from inference_panels import make_panel

from eventstudy import inference as inf

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "reference" / "estudy2"
EXPECTED = ROOT / "tests" / "reference"

# estudy2 test -> (our test, whether estudy2's stars are two-sided tests at 10/5/1 %)
MAPPING = {
    "brown_warner_1980": ("t_pooled", True),
    "brown_warner_1985": ("t_cda", True),
    "t_test": ("t_csect", True),
    "patell": ("patell", True),
    "boehmer": ("bmp", True),
    "lamb": ("lamb", True),
    "sign_test": ("sign", True),
    "generalized_sign_test": ("gsign", True),
    "corrado_sign_test": ("cz_sign", True),
    "rank_test": ("rank", True),
    "modified_rank_test": ("mrank", True),
    # estudy2's Wilcoxon stars test the upper tail at alpha and the lower at alpha/2
    # (docs/estudy2_conventions.md 4.6); our p-value is the symmetric two-sided one.
    "wilcoxon_test": ("wilcoxon", False),
}


@pytest.fixture(scope="module")
def estudy2():
    if not DATA.is_dir():
        pytest.skip(f"estudy2 reference data not found at {DATA}")
    rates = pd.read_csv(DATA / "rates.csv", parse_dates=["date"], index_col="date")
    index = pd.read_csv(DATA / "rates_indx.csv", parse_dates=["date"], index_col="date")
    market = index["^GSPC"]
    est_days = rates.index[(rates.index >= "2019-04-01") & (rates.index <= "2020-03-13")]
    ev_days = rates.index[(rates.index >= "2020-03-16") & (rates.index <= "2020-03-20")]
    m_est, m_ev = market[est_days].to_numpy(), market[ev_days].to_numpy()
    m_bar = m_est.mean()
    s_mm = np.sum((m_est - m_bar) ** 2)

    est_resid, ar, sigma, fits = [], [], [], []
    xtx_inv = []
    for name in rates.columns:
        y = rates.loc[est_days, name].to_numpy()
        keep = np.isfinite(y)
        x = np.column_stack([np.ones(keep.sum()), m_est[keep]])
        (alpha, beta), *_ = np.linalg.lstsq(x, y[keep], rcond=None)
        e = y - alpha - beta * m_est
        est_resid.append(e)
        ar.append(rates.loc[ev_days, name].to_numpy() - alpha - beta * m_ev)
        sigma.append(np.nanstd(e, ddof=1))
        fits.append((name, alpha, beta, int(keep.sum())))
        # 1/L_i + (x - m_bar)^2 / S_mm written as x' A x for x = (1, R_m)
        length = keep.sum()
        xtx_inv.append([[1 / length + m_bar**2 / s_mm, -m_bar / s_mm],
                        [-m_bar / s_mm, 1 / s_mm]])
    n = len(rates.columns)
    x_event = np.broadcast_to(np.column_stack([np.ones(len(ev_days)), m_ev]),
                              (n, len(ev_days), 2)).copy()
    panel = make_panel(np.array(ar), np.array(est_resid), np.array(sigma), k=2,
                       x_event=x_event, xtx_inv=np.array(xtx_inv),
                       day0=[ev_days[0]] * n, taus=np.arange(len(ev_days)))
    return panel, fits, ev_days


def test_panel_matches_estudy2_market_model(estudy2):
    panel, fits, _ = estudy2
    mm = pd.read_csv(EXPECTED / "estudy2_expected_market_model.csv", index_col="security")
    for (name, alpha, beta, length), sd in zip(fits, panel.sigma, strict=True):
        assert alpha == pytest.approx(mm.loc[name, "alpha"], rel=1e-9)
        assert beta == pytest.approx(mm.loc[name, "beta"], rel=1e-9)
        assert length == mm.loc[name, "estimation_length"]
        assert sd == pytest.approx(mm.loc[name, "sd_estimation_abnormal"], rel=1e-9)
    ars = pd.read_csv(EXPECTED / "estudy2_expected_abnormal_returns.csv", index_col="date")
    expected = ars.loc["2020-03-16":"2020-03-20"].to_numpy().T
    np.testing.assert_allclose(panel.ar, expected, rtol=1e-9)


def _stars(p: float) -> str:
    return "***" if p <= 0.01 else "**" if p <= 0.05 else "*" if p <= 0.10 else ""


def test_battery_reproduces_estudy2(estudy2):
    panel, _, ev_days = estudy2
    table = inf.run_tests(panel, conventions="estudy2",
                          tests=[ours for ours, _ in MAPPING.values()])
    assert (table["conventions"] == "estudy2").all()
    expected = pd.read_csv(EXPECTED / "estudy2_expected.csv", keep_default_na=False)
    checked = 0
    for _, row in expected.iterrows():
        ours, stars_comparable = MAPPING[row["test"]]
        tau = ev_days.get_loc(pd.Timestamp(row["date"]))
        got = table[(table["test"] == ours) & (table["start"] == tau) & (table["end"] == tau)]
        assert len(got) == 1
        got = got.iloc[0]
        assert got["statistic"] == pytest.approx(float(row["statistic"]), rel=1e-9, abs=1e-12), (
            row["test"], row["date"])
        if stars_comparable:
            assert _stars(got["pvalue"]) == row["significance"], (row["test"], row["date"])
        checked += 1
    assert checked == 60


def test_estudy2_reference_distributions(estudy2):
    panel, _, _ = estudy2
    table = inf.run_tests(panel, conventions="estudy2", tests=["t_pooled", "t_cda", "bmp",
                                                               "sign"])
    dist = table.groupby("test")["distribution"].first()
    mean_l = np.mean([240, 227, 212, 240, 240, 240, 240])
    assert dist["t_pooled"] == dist["t_cda"] == f"t({mean_l - 1:.2f})"
    assert dist["bmp"] == "t(6)"
    assert dist["sign"] == "N(0,1)"
