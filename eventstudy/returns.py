r"""Returns from adjusted closes, on the trading calendar, with gaps reported.

Simple returns :math:`R_t = P_t/P_{t-1} - 1` (default) or log returns
:math:`r_t = \ln(P_t/P_{t-1})`. Prices are first placed on the calendar's sessions between
each ticker's first and last observation; a session with no price (a gap) gives a missing
return on that day *and* the next, because the next price change spans two sessions and
would otherwise be booked to one day. Nothing is filled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventstudy._typing import RETURN_TYPES, check_option
from eventstudy.calendar import TradingCalendar

__all__ = ["ReturnPanel", "prices_to_returns", "to_sessions"]


@dataclass(frozen=True)
class ReturnPanel:
    """Returns on calendar sessions plus what was excluded on the way.

    Attributes
    ----------
    returns : pandas.DataFrame
        Sessions x tickers; NaN where no return is available.
    gaps : pandas.DataFrame
        One row per (ticker, date) excluded: columns ``asset, date, reason``.
    """

    returns: pd.DataFrame
    gaps: pd.DataFrame


def to_sessions(frame: pd.DataFrame, calendar: TradingCalendar) -> tuple[pd.DataFrame, list]:
    """Reindex ``frame`` onto the calendar's sessions between its first and last date.

    Returns
    -------
    frame : pandas.DataFrame
        On sessions only.
    gaps : list of tuple
        ``(asset, date, reason)`` for rows that were not sessions (dropped) and sessions with
        no value inside a ticker's history.
    """
    records: list[tuple[str, pd.Timestamp, str]] = []
    extra = frame.index.difference(calendar.sessions)
    for date in extra:
        for asset in frame.columns[frame.loc[date].notna().to_numpy()]:
            records.append((asset, date, f"not a {calendar.name} session; row ignored"))
    sessions = calendar.sessions_in_range(frame.index[0], frame.index[-1])
    on_sessions = frame.reindex(sessions)
    values = on_sessions.to_numpy()
    valid = ~np.isnan(values)
    # A gap is a missing value between a ticker's first and last observation.
    seen_before = np.maximum.accumulate(valid, axis=0)
    seen_after = np.maximum.accumulate(valid[::-1], axis=0)[::-1]
    gap = ~valid & seen_before & seen_after
    for r, c in np.argwhere(gap):
        records.append((on_sessions.columns[c], sessions[r], "no price on this session"))
    return on_sessions, records


def prices_to_returns(
    prices: pd.DataFrame, calendar: TradingCalendar, return_type: str = "simple"
) -> ReturnPanel:
    """Compute returns from adjusted closes on the calendar's sessions.

    Parameters
    ----------
    prices : pandas.DataFrame
        Validated adjusted closes (dates x tickers).
    calendar : TradingCalendar
        Sessions to place prices on.
    return_type : {"simple", "log"}, default "simple"

    Returns
    -------
    ReturnPanel
    """
    check_option("return_type", return_type, RETURN_TYPES)
    on_sessions, records = to_sessions(prices, calendar)
    values = on_sessions.to_numpy()
    ratio = np.full_like(values, np.nan)
    ratio[1:] = values[1:] / values[:-1]
    out = np.log(ratio) if return_type == "log" else ratio - 1.0
    returns = pd.DataFrame(out, index=on_sessions.index, columns=on_sessions.columns)
    gaps = pd.DataFrame(records, columns=["asset", "date", "reason"])
    return ReturnPanel(returns=returns, gaps=gaps)
