"""Factor providers: percent-to-decimal reading, DTB3 conversion, French zip parsing."""

from __future__ import annotations

import csv
import io
import math
import urllib.error
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.calendar import get_calendar
from eventstudy.data.factors import (
    CSVFactorProvider,
    DataFrameFactorProvider,
    FrenchFactorProvider,
    dtb3_to_daily,
    parse_french_daily_csv,
    resolve_factor_provider,
)
from eventstudy.exceptions import (
    DataError,
    DataWarning,
    DownloadError,
    EmptyDataError,
    SpecificationError,
)

FACTORS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "factors"


@pytest.fixture
def factors_dir() -> Path:
    if not (FACTORS / "FF3_daily.csv").is_file():
        pytest.skip(f"offline factors not found at {FACTORS}")
    return FACTORS


def raw_rows(file: Path, first: str, last: str) -> list[dict[str, str]]:
    with file.open(newline="") as fh:
        return [r for r in csv.DictReader(fh) if first <= r["date"] <= last]


# --- the offline CSV folder --------------------------------------------------------------------
def test_csv_factors_are_the_published_percent_divided_by_100(factors_dir):
    got = CSVFactorProvider(factors_dir).get_factors("2025-04-01", "2025-04-30")
    rows = raw_rows(factors_dir / "FF3_daily.csv", "2025-04-01", "2025-04-30")
    assert [d.strftime("%Y-%m-%d") for d in got.index] == [r["date"] for r in rows]
    assert list(got.columns) == ["mkt_rf", "smb", "hml", "rf"]
    for (_, row), raw in zip(got.iterrows(), rows, strict=True):
        for col in got.columns:
            assert row[col] == pytest.approx(float(raw[col]) / 100, rel=1e-15, abs=1e-18)
    # 2025-04-09, the tariff-pause rally: French's Mkt-RF was 9.65 %.
    assert got.loc["2025-04-09", "mkt_rf"] == pytest.approx(0.0965, rel=1e-12)


def test_csv_factor_frame_covers_the_whole_file(factors_dir):
    full = CSVFactorProvider(factors_dir).get_factors()
    assert len(full) == 26233
    assert full.index[0] == pd.Timestamp("1926-07-01")
    assert full.index[-1] == pd.Timestamp("2026-04-30")
    assert full.index.name == "date" and full.index.tz is None
    # Daily decimals: no day moves the market by 100 %.
    assert full["mkt_rf"].abs().max() < 0.2


def test_range_outside_the_data_names_the_coverage(factors_dir):
    with pytest.raises(EmptyDataError, match=r"1926-07-01\.\.2026-04-30"):
        CSVFactorProvider(factors_dir).get_factors("2026-06-01", "2026-06-30")


def test_ff_risk_free_is_rf_column_in_decimals(factors_dir):
    rf = CSVFactorProvider(factors_dir).risk_free("2024-01-02", "2024-01-05")
    rows = raw_rows(factors_dir / "FF3_daily.csv", "2024-01-02", "2024-01-05")
    assert rf.name == "rf"
    np.testing.assert_allclose(rf.to_numpy(), [float(r["rf"]) / 100 for r in rows], rtol=1e-15)


# --- DTB3 --------------------------------------------------------------------------------------
def test_dtb3_conversion_matches_hand_formula():
    # d = 5 %: price 1 - 0.05 * 91 / 360 = 0.987361; investment rate 365 * 0.05 / 355.45 =
    # 0.0513434; per session exp(ln(1.0513434) / 252) - 1 = exp(0.0500688 / 252) - 1 = 1.98705e-4.
    assert dtb3_to_daily(pd.Series([5.0])).iloc[0] == pytest.approx(1.98705e-4, rel=1e-5)
    d = 0.0518
    investment = 365 * d / (360 - 91 * d)
    by_hand = math.exp(math.log1p(investment) / 252) - 1
    assert dtb3_to_daily(pd.Series([5.18])).iloc[0] == pytest.approx(by_hand, rel=1e-12)
    assert dtb3_to_daily(pd.Series([0.0])).iloc[0] == 0.0


def test_dtb3_on_sessions_fills_bond_market_holidays_only(factors_dir):
    provider = CSVFactorProvider(factors_dir)
    with pytest.warns(DataWarning, match=r"2 NYSE session.*2024-10-14, 2024-11-11"):
        rf = provider.risk_free("2024-10-01", "2024-11-29", source="dtb3")
    assert list(rf.index) == list(get_calendar().sessions_in_range("2024-10-01", "2024-11-29"))
    raw = {
        r["date"]: float(r["dtb3"])
        for r in raw_rows(factors_dir / "DTB3.csv", "2024-10-01", "2024-11-29")
    }
    assert "2024-10-14" not in raw and "2024-11-11" not in raw
    # Columbus Day and Veterans Day take the previous quote (Friday 10-11, Friday 11-08).
    assert rf["2024-10-14"] == dtb3_to_daily(pd.Series([raw["2024-10-11"]])).iloc[0]
    assert rf["2024-11-11"] == dtb3_to_daily(pd.Series([raw["2024-11-08"]])).iloc[0]
    assert rf["2024-10-15"] == dtb3_to_daily(pd.Series([raw["2024-10-15"]])).iloc[0]
    assert rf.attrs["filled"] == [pd.Timestamp("2024-10-14"), pd.Timestamp("2024-11-11")]
    assert rf.notna().all()


def test_dtb3_quote_on_an_nyse_holiday_is_dropped(factors_dir):
    raw = {r["date"] for r in raw_rows(factors_dir / "DTB3.csv", "2025-01-06", "2025-01-10")}
    assert "2025-01-09" in raw  # national day of mourning: NYSE closed, bills traded
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # no session lacks a quote here
        rf = CSVFactorProvider(factors_dir).risk_free("2025-01-06", "2025-01-10", source="dtb3")
    assert [d.strftime("%Y-%m-%d") for d in rf.index] == [
        "2025-01-06",
        "2025-01-07",
        "2025-01-08",
        "2025-01-10",
    ]


def test_longer_dtb3_gap_is_left_missing(tmp_path):
    (tmp_path / "FF3_daily.csv").write_text("date,mkt_rf,smb,hml,rf\n2024-03-04,0.1,0.1,0.1,0.02\n")
    (tmp_path / "DTB3.csv").write_text(
        "date,dtb3\n2024-03-04,5.00\n2024-03-05,5.10\n2024-03-08,5.20\n"
    )
    with pytest.warns(DataWarning, match="2 NYSE session.*1 take.*1 in longer gaps"):
        rf = CSVFactorProvider(tmp_path).risk_free(source="dtb3")
    assert rf["2024-03-06"] == dtb3_to_daily(pd.Series([5.10])).iloc[0]
    assert np.isnan(rf["2024-03-07"])
    assert rf.attrs["filled"] == [pd.Timestamp("2024-03-06")]


def test_dtb3_missing_file_is_explained(tmp_path):
    (tmp_path / "FF3_daily.csv").write_text("date,mkt_rf,smb,hml,rf\n2024-03-04,0.1,0.1,0.1,0.02\n")
    with pytest.raises(DataError, match=r"DTB3\.csv not found.*source='ff'"):
        CSVFactorProvider(tmp_path).risk_free(source="dtb3")
    with pytest.raises(SpecificationError, match="'ff', 'dtb3'"):
        CSVFactorProvider(tmp_path).risk_free(source="libor")


# --- French's zip ------------------------------------------------------------------------------
FRENCH_ROWS = [
    ("20250401", "0.40", "-0.37", "0.03", "0.017"),
    ("20250402", "0.81", "0.82", "-0.12", "0.017"),
    ("20250403", "-5.13", "-1.63", "-0.48", "0.017"),
]


def french_zip(rows=FRENCH_ROWS, name="F-F_Research_Data_Factors_daily.CSV") -> bytes:
    """A zip laid out like French's: preamble, header, padded rows, copyright; CRLF."""
    lines = [
        "This file was created by CMPT_ME_BEME_RETS_DAILY using the 202504 CRSP database.",
        "The Tbill return is the simple daily rate that, over the number of trading days",
        "in the month, compounds to 1-month TBill rate from Ibbotson and Associates Inc.",
        "",
        ",Mkt-RF,SMB,HML,RF",
        *[f"{d},{m:>8},{s:>8},{h:>8},{r:>8}" for d, m, s, h, r in rows],
        "",
        "Copyright 2025 Eugene F. Fama and Kenneth R. French",
        "",
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, "\r\n".join(lines))
    return buf.getvalue()


class Fetch:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls: list[tuple[str, float]] = []

    def __call__(self, url, timeout):
        self.calls.append((url, timeout))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def test_french_zip_is_parsed_into_decimals_once():
    fetch = Fetch(french_zip())
    provider = FrenchFactorProvider(fetch=fetch)
    got = provider.get_factors()
    assert list(got.columns) == ["mkt_rf", "smb", "hml", "rf"]
    assert list(got.index) == list(pd.to_datetime(["2025-04-01", "2025-04-02", "2025-04-03"]))
    want = np.array([[float(v) / 100 for v in row[1:]] for row in FRENCH_ROWS])
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-15)
    assert provider.risk_free("2025-04-02", "2025-04-03").tolist() == pytest.approx(
        [0.00017, 0.00017], rel=1e-12
    )
    assert len(fetch.calls) == 1
    assert fetch.calls[0][0].endswith("/F-F_Research_Data_Factors_daily_CSV.zip")


def test_french_missing_value_code_becomes_nan():
    rows = [*FRENCH_ROWS[:2], ("20250403", "-99.99", "-1.63", "-0.48", "0.017")]
    with pytest.warns(DataWarning, match="1 value"):
        got = FrenchFactorProvider(fetch=Fetch(french_zip(rows))).get_factors()
    assert np.isnan(got.loc["2025-04-03", "mkt_rf"])
    assert got.loc["2025-04-03", "smb"] == pytest.approx(-0.0163)


def test_french_parser_rejects_other_files():
    with pytest.raises(DataError, match="Mkt-RF"):
        parse_french_daily_csv("some,other\n1,2\n")
    with pytest.raises(DataError, match="not return a zip"):
        FrenchFactorProvider(fetch=Fetch(b"<html>moved</html>")).get_factors()


def test_french_download_retries_then_gives_up_with_remedy():
    sleeps: list[float] = []
    fetch = Fetch(urllib.error.URLError("dns"), TimeoutError("slow"), french_zip())
    got = FrenchFactorProvider(fetch=fetch, sleep=sleeps.append).get_factors()
    assert len(got) == 3 and sleeps == [1.0, 2.0]

    sleeps.clear()
    fetch = Fetch(*[urllib.error.URLError("offline")] * 3)
    with pytest.raises(DownloadError, match=r"3 attempt.*EVENTSTUDY_FACTORS"):
        FrenchFactorProvider(fetch=fetch, sleep=sleeps.append).get_factors()
    assert len(fetch.calls) == 3 and sleeps == [1.0, 2.0]

    not_found = urllib.error.HTTPError(
        "https://example.invalid/x.zip", 404, "Not Found", None, None
    )
    fetch = Fetch(not_found)
    with pytest.raises(DownloadError, match="HTTP 404"):
        FrenchFactorProvider(fetch=fetch, sleep=sleeps.append).get_factors()
    assert len(fetch.calls) == 1


def test_french_has_no_dtb3():
    with pytest.raises(SpecificationError, match="no DTB3"):
        FrenchFactorProvider(fetch=Fetch(french_zip())).risk_free(source="dtb3")


# --- DataFrames and resolution -----------------------------------------------------------------
def decimal_frame() -> pd.DataFrame:
    idx = pd.to_datetime(["2025-04-01", "2025-04-02"])
    return pd.DataFrame(
        {"mkt_rf": [0.004, -0.01], "smb": [0.001, 0.0], "hml": [0.0, 0.002], "rf": [1.7e-4] * 2},
        index=idx,
    )


def test_dataframe_provider_accepts_decimals_rejects_percent():
    got = DataFrameFactorProvider(decimal_frame()).get_factors("2025-04-02")
    assert got["mkt_rf"].tolist() == [-0.01]
    with pytest.raises(DataError, match=r"percent.*divide the frame by 100"):
        DataFrameFactorProvider(decimal_frame() * 100)
    with pytest.raises(DataError, match=r"lacks column\(s\) \['rf'\]"):
        DataFrameFactorProvider(decimal_frame().drop(columns="rf"))


def test_resolution_order(tmp_path, monkeypatch):
    monkeypatch.delenv("EVENTSTUDY_FACTORS", raising=False)
    (tmp_path / "FF3_daily.csv").write_text("date,mkt_rf,smb,hml,rf\n2024-03-04,0.1,0.1,0.1,0.02\n")
    explicit = DataFrameFactorProvider(decimal_frame())
    assert resolve_factor_provider(explicit) is explicit
    assert isinstance(resolve_factor_provider(decimal_frame()), DataFrameFactorProvider)
    from_path = resolve_factor_provider(str(tmp_path))
    assert isinstance(from_path, CSVFactorProvider) and from_path.path == tmp_path
    assert isinstance(resolve_factor_provider(), FrenchFactorProvider)  # nothing fetched yet
    monkeypatch.setenv("EVENTSTUDY_FACTORS", str(tmp_path))
    from_env = resolve_factor_provider()
    assert isinstance(from_env, CSVFactorProvider)
    assert from_env.get_factors()["rf"].tolist() == [0.0002]
    with pytest.raises(SpecificationError, match="factors=int"):
        resolve_factor_provider(3)
    with pytest.raises(DataError, match=r"FF3_daily\.csv not found"):
        resolve_factor_provider(tmp_path / "nowhere")
