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

GAP_COLUMNS = ["asset", "date", "reason"]


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


def _on_sessions(
    frame: pd.DataFrame, calendar: TradingCalendar
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """``frame`` on the calendar's sessions, and its gaps as columns ``asset, date, reason``.

    The gaps are arrays (object, ``datetime64[ns]``, object), one entry per row that is not
    a session (ignored) and per session without a value inside a ticker's history.
    """
    columns = frame.columns.to_numpy(dtype=object)
    all_sessions = calendar.sessions
    at = np.minimum(all_sessions.searchsorted(frame.index), len(all_sessions) - 1)
    extra = frame.index[all_sessions[at] != frame.index]
    none = np.empty(0, dtype=np.intp)
    r, c = np.nonzero(frame.loc[extra].notna().to_numpy()) if len(extra) else (none, none)
    parts = [(columns[c], extra[r], f"not a {calendar.name} session; row ignored")]
    sessions = calendar.sessions_in_range(frame.index[0], frame.index[-1])
    on_sessions = frame.reindex(sessions)
    missing = np.isnan(on_sessions).to_numpy()  # block by block: no copy of the values
    # A gap is a missing value between a ticker's first and last observation. Only tickers
    # missing on the first (last) session need a search for their first (last) value.
    first = np.zeros(missing.shape[1], dtype=np.intp)
    last = np.full(missing.shape[1], len(missing) - 1)
    if len(missing):
        late, early = np.flatnonzero(missing[0]), np.flatnonzero(missing[-1])
        first[late] = missing[:, late].argmin(axis=0)
        last[early] -= missing[::-1, early].argmin(axis=0)
    observed = ~missing[first, np.arange(missing.shape[1])]  # the ticker has any value
    # Session by session, then ticker (flat positions are faster to find than 2-D ones).
    r, c = np.divmod(np.flatnonzero(missing), missing.shape[1])
    inside = observed[c] & (r > first[c]) & (r < last[c])
    r, c = r[inside], c[inside]
    parts.append((columns[c], sessions[r], "no price on this session"))
    return on_sessions, {
        "asset": np.concatenate([assets for assets, _, _ in parts]),
        "date": np.concatenate([dates.as_unit("ns").to_numpy() for _, dates, _ in parts]),
        "reason": np.concatenate(
            [np.full(len(assets), reason, dtype=object) for assets, _, reason in parts]
        ),
    }


def _gap_frame(gaps: dict[str, np.ndarray]) -> pd.DataFrame:
    """The gaps of :func:`_on_sessions` as a DataFrame (``asset, date, reason``)."""
    if not len(gaps["reason"]):
        return pd.DataFrame([], columns=GAP_COLUMNS)
    return pd.DataFrame(gaps)


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
    on_sessions, gaps = _on_sessions(frame, calendar)
    return on_sessions, list(_gap_frame(gaps).itertuples(index=False, name=None))


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
    returns, gaps = _returns_on_sessions(prices, calendar, return_type)
    return ReturnPanel(returns=returns, gaps=_gap_frame(gaps))


def _returns_on_sessions(
    prices: pd.DataFrame, calendar: TradingCalendar, return_type: str
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """:func:`prices_to_returns` with the gaps as arrays (see :func:`_on_sessions`)."""
    check_option("return_type", return_type, RETURN_TYPES)
    on_sessions, gaps = _on_sessions(prices, calendar)
    values = on_sessions.to_numpy()
    ratio = np.full_like(values, np.nan)
    ratio[1:] = values[1:] / values[:-1]
    out = np.log(ratio) if return_type == "log" else ratio - 1.0
    return pd.DataFrame(out, index=on_sessions.index, columns=on_sessions.columns), gaps
