"""The default asset universe: the 11 SPDR Select Sector ETFs and the market proxy."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["DEFAULT_MARKET", "SECTOR_ETFS", "SECTOR_NAMES", "asset_label", "resolve_assets"]

DEFAULT_MARKET = "SPY"

#: SPDR Select Sector ETF -> GICS sector it tracks.
SECTOR_NAMES: dict[str, str] = {
    "XLB": "Materials",
    "XLC": "Communication Services",
    "XLE": "Energy",
    "XLF": "Financials",
    "XLI": "Industrials",
    "XLK": "Information Technology",
    "XLP": "Consumer Staples",
    "XLRE": "Real Estate",
    "XLU": "Utilities",
    "XLV": "Health Care",
    "XLY": "Consumer Discretionary",
}
SECTOR_ETFS: tuple[str, ...] = tuple(SECTOR_NAMES)

_OTHER_NAMES = {"SPY": "S&P 500 (SPY)", "^GSPC": "S&P 500 index", "ACWI": "MSCI ACWI"}


def asset_label(ticker: str) -> str:
    """Human-readable name of ``ticker`` (GICS sector for sector ETFs), else the ticker."""
    return SECTOR_NAMES.get(ticker) or _OTHER_NAMES.get(ticker) or ticker


def resolve_assets(assets: str | Sequence[str], market: str | None) -> list[str]:
    """Expand the ``assets=`` argument into a list of tickers.

    Parameters
    ----------
    assets : "sectors", "market+sectors", a ticker, or a sequence of tickers
        ``"sectors"`` is the 11 SPDR sector ETFs plus the market ticker first, so the market's
        own reaction is always reported beside the sectors.
    market : str or None
        Market ticker.

    Returns
    -------
    list of str
        Unique tickers, order kept.
    """
    if isinstance(assets, str):
        if assets.lower() in ("sectors", "market+sectors"):
            tickers = ([market] if market else []) + list(SECTOR_ETFS)
        else:
            tickers = [t.strip() for t in assets.split(",") if t.strip()]
    else:
        tickers = [str(t).strip() for t in assets]
    return list(dict.fromkeys(tickers))
