"""Shared pieces of the reliability tests: synthetic prices and a yfinance.download stand-in.

The stand-in builds frames the way yfinance 1.x ``download`` assembles them (copied, reduced,
from ``tests/test_yahoo.py``): a ``(Price, Ticker)`` column MultiIndex, a tz-naive ``Date``
index, all-NaN columns for failed tickers, and the failure reasons written to the
``yfinance`` logger, which is where :class:`~eventstudy.data.YahooProvider` reads them.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from eventstudy.calendar import get_calendar

yf_log = logging.getLogger("yfinance")


def ohlcv(close, dates) -> pd.DataFrame:
    """One ticker as ``Ticker.history(auto_adjust=True)`` gives it, index tz-naive."""
    c = np.asarray(close, dtype=float)
    return pd.DataFrame(
        {
            "Open": c * 0.99,
            "High": c * 1.01,
            "Low": c * 0.98,
            "Close": c,
            "Volume": np.arange(1, len(c) + 1, dtype=np.int64) * 1000,
        },
        index=pd.DatetimeIndex(dates).rename("Date"),
    )


def yf_frame(per_ticker: dict[str, pd.DataFrame | None]) -> pd.DataFrame:
    """Assemble per-ticker frames as yfinance 1.x ``download`` does (None: failed ticker)."""
    dfs = {}
    for sym, df in per_ticker.items():
        if df is None:
            df = pd.DataFrame(
                index=pd.DatetimeIndex([], name="Date"),
                data={k: np.nan for k in ["Open", "High", "Low", "Close", "Volume"]},
            )
        dfs[sym.upper()] = df
    idx = None
    for df in dfs.values():
        if not df.empty:
            idx = df.index if idx is None else idx.union(df.index)
    idx = pd.DatetimeIndex([], name="Date") if idx is None else idx
    dfs = {k: v.reindex(idx) for k, v in dfs.items()}
    data = pd.concat(dfs.values(), axis=1, sort=True, keys=dfs.keys(), names=["Ticker", "Price"])
    data.columns = data.columns.swaplevel(0, 1)
    return data.sort_index(level=0, axis=1)


def synthetic_close(ticker: str, dates: pd.DatetimeIndex) -> np.ndarray:
    """A smooth, ticker-specific adjusted close (exactly reproducible)."""
    base = {"SPY": 500.0, "XLK": 200.0, "XLE": 90.0}.get(ticker, 50.0)
    days = (pd.DatetimeIndex(dates) - pd.Timestamp("2025-01-02")).days.to_numpy()
    return base * np.exp(0.0005 * days)


class FakeDownload:
    """Stand-in for ``yfinance.download``: scripted answers, logged failures, recorded calls.

    Each answer is a DataFrame, ``(DataFrame, {symbol: logged reason})``, an exception to raise,
    or a callable ``f(tickers, kwargs)`` returning one of those.
    """

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls: list[tuple[list[str], dict]] = []

    def __call__(self, tickers, **kwargs):
        self.calls.append((list(tickers), kwargs))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if callable(answer) and not isinstance(answer, pd.DataFrame):
            answer = answer(list(tickers), kwargs)
        if isinstance(answer, BaseException):
            raise answer
        frame, errors = answer if isinstance(answer, tuple) else (answer, {})
        if errors:  # yfinance logs failures and returns all-NaN columns
            yf_log.error("\n%.f Failed download%s:", len(errors), "s" if len(errors) > 1 else "")
            for sym, err in errors.items():
                yf_log.error(f"{[sym]}: " + err)
        return frame


def full_answer(tickers, kwargs) -> pd.DataFrame:
    """A complete yfinance answer for the requested tickers and range (end exclusive)."""
    dates = get_calendar().sessions_in_range(
        kwargs["start"], pd.Timestamp(kwargs["end"]) - pd.Timedelta(days=1)
    )
    return yf_frame({t: ohlcv(synthetic_close(t, dates), dates) for t in tickers})


@pytest.fixture
def yfake() -> SimpleNamespace:
    """The stand-in builders, as one namespace."""
    return SimpleNamespace(
        ohlcv=ohlcv,
        yf_frame=yf_frame,
        FakeDownload=FakeDownload,
        full_answer=full_answer,
        close=synthetic_close,
    )
