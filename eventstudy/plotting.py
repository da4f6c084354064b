r"""Report-quality figures of event-study results.

Every function draws on the ``ax=`` (or ``fig=`` for small multiples) it is given, or on a new
figure, and returns it. matplotlib is imported only when a function is called. Styling is
applied with :func:`matplotlib.rc_context` inside each call, so the user's ``rcParams`` are
never changed, and nothing is shown: display or save the returned figure
(:func:`save_figure`). Titles are left-aligned: read them with ``ax.get_title(loc="left")``.

Notes
-----
Confidence bands use the same reference distribution as the per-asset tests
(``results.conventions_preset.single_dist``). For asset-event :math:`i` and day :math:`\tau`
the band of the cumulative abnormal return from the window start :math:`\tau_1` is

.. math:: \widehat{CAR}_i(\tau_1,\tau) \pm q_{(1+\ell)/2}\,
          \sqrt{\widehat{Var}\big(\widehat{CAR}_i(\tau_1,\tau)\big)},

with :math:`\ell` the level, :math:`q` the Student-t quantile with :math:`L_1-k` degrees of
freedom (``single_dist="t"``) or the standard-normal quantile (``"normal"``), and the
variance of :meth:`ARPanel.car_path_var <eventstudy.abnormal.ARPanel.car_path_var>` (CLM 1997,
eq. 4.4.11). A band drawn at level 0.95 therefore excludes zero exactly when the two-sided
per-asset t test rejects at 5 %.

The CAAR band (:func:`plot_caar`) uses the cross-sectional standard error
:math:`s_{CAR}(\tau)/\sqrt{N}` and Student t with :math:`N-1` degrees of freedom (Brown &
Warner 1985). It allows for event-induced variance but assumes the :math:`N` asset-events are
independent; sectors reacting to the same event are not, so read a single-event CAAR band as
optimistic.

References
----------
Campbell, J. Y., Lo, A. W., & MacKinlay, A. C. (1997). *The Econometrics of Financial
Markets*, ch. 4. Princeton University Press.

Brown, S. J., & Warner, J. B. (1985). Using daily stock returns: the case of event studies.
*Journal of Financial Economics*, 14(1), 3–31.

Okabe, M., & Ito, K. (2008). *Color Universal Design*. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from eventstudy.exceptions import DependencyError, SpecificationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from eventstudy.results import EventStudyResults

__all__ = [
    "OKABE_ITO",
    "STYLE",
    "plot_ar_heatmap",
    "plot_caar",
    "plot_car",
    "plot_car_grid",
    "plot_car_heatmap",
    "plot_price_path",
    "plot_sector_bars",
    "save_figure",
]

#: Okabe–Ito palette, distinguishable with the common forms of colour blindness. Yellow is
#: left out: it is unreadable as a line on white.
OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "green": "#009E73",
    "orange": "#E69F00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "black": "#000000",
}
_GREY = "#777777"
_LIGHT = "#BBBBBB"
#: Diverging map for signed returns; ColorBrewer RdBu is colour-blind safe (red = negative).
_DIVERGING = "RdBu"

#: rcParams applied inside every plotting call (never globally).
STYLE: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.labelcolor": "#333333",
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.prop_cycle": f"cycler('color', {list(OKABE_ITO.values())!r})",
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.4,
    "figure.dpi": 100,
    "figure.titlesize": 11,
    "figure.titleweight": "bold",
    "figure.constrained_layout.use": True,
    "savefig.dpi": 200,
}

#: Largest number of heatmap cells that still get their value written in them.
_ANNOTATE_MAX_CELLS = 260


# --- helpers ----------------------------------------------------------------------------------
def _mpl(function: str) -> tuple[Any, Any]:
    """Import matplotlib and pyplot, or explain which function needed them."""
    try:
        import matplotlib
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise DependencyError(
            f"{function}() needs matplotlib; install it with `pip install matplotlib`."
        ) from exc
    return matplotlib, plt


def _new_axes(plt: Any, ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    # pyplot (not a bare Figure) so that notebooks display the returned figure inline.
    if ax is not None:
        return ax
    return plt.subplots(figsize=figsize)[1]


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise SpecificationError(f"level={level!r} must be a number between 0 and 1, e.g. 0.95.")
    return float(level)


def _event_row(results: EventStudyResults, event_id: str | None) -> pd.Series:
    """The ``results.events`` row of ``event_id`` (optional when there is one event)."""
    events = results.events
    ids = list(events["event_id"])
    if event_id is None:
        if len(ids) == 1:
            return events.iloc[0]
        raise SpecificationError(
            f"the results hold {len(ids)} events; pass event_id=, one of {ids}."
        )
    if event_id not in ids:
        raise SpecificationError(f"event_id={event_id!r} is not in the results; ids: {ids}.")
    return events.iloc[ids.index(event_id)]


def _event_title(row: pd.Series) -> str:
    return f"{row['name']}, day 0 = {pd.Timestamp(row['day0']):%Y-%m-%d}"


def _rows_of(results: EventStudyResults, event_id: str) -> np.ndarray:
    """Panel rows (asset-events) of one event, in the study's asset order."""
    rows = np.flatnonzero(results.panel.keys["event_id"].to_numpy() == event_id)
    if not len(rows):
        raise SpecificationError(
            f"no asset of event {event_id!r} could be estimated; see results.dropped."
        )
    return rows


def _asset_label(results: EventStudyResults, row: int) -> str:
    keys = results.panel.keys
    return _ticker_label(keys.at[row, "asset"], keys.at[row, "label"])


def _ticker_label(ticker: str, label: str | None = None) -> str:
    """``"Utilities (XLU)"``: the readable name with the ticker, each shown once."""
    from eventstudy.universe import asset_label

    label = label or asset_label(ticker)
    return label if ticker in label else f"{label} ({ticker})"


def _minus(value: object) -> str:
    """``str(value)`` with typographic minus signs, as matplotlib writes tick labels."""
    return str(value).replace("-", "\N{MINUS SIGN}")


def _window_name(start: int, end: int) -> str:
    return _minus(f"CAR({start}, {end})")


def _critical(results: EventStudyResults, rows: np.ndarray, level: float) -> np.ndarray:
    """Two-sided critical values of the per-asset tests for ``rows`` at ``level``."""
    q = (1.0 + level) / 2.0
    if results.conventions_preset.single_dist == "t":
        return stats.t.ppf(q, results.panel.df[rows].astype(float))
    return np.full(len(rows), stats.norm.ppf(q))


def _dist_text(results: EventStudyResults, rows: np.ndarray) -> str:
    if results.conventions_preset.single_dist != "t":
        return "normal"
    df = np.unique(results.panel.df[rows])
    return f"t, {df[0]} df" if len(df) == 1 else f"t, {df.min()}–{df.max()} df"


def _window(results: EventStudyResults, window: Sequence[int] | None) -> tuple[int, int]:
    from eventstudy._typing import check_window

    taus = results.panel.taus
    start, end = check_window("window", window) if window is not None else (taus[0], taus[-1])
    results.panel.window_slice(start, end)  # raises a WindowError naming the event window
    return int(start), int(end)


def _percent_axis(axis: Any) -> None:
    axis.set_major_formatter(_step_percent_formatter()(xmax=1.0))


@functools.cache
def _step_percent_formatter() -> type:
    from matplotlib.ticker import PercentFormatter

    class StepPercentFormatter(PercentFormatter):
        """Percent tick labels with as few decimals as the ticks need (``2%``, ``0.25%``).

        PercentFormatter's automatic decimals follow the axis range, not the tick step, and
        write ``20.0%`` on a 10 % grid.
        """

        def format_ticks(self, values: Any) -> list[str]:
            scaled = 100.0 * np.asarray(values, dtype=float) / self.xmax
            self.decimals = next(
                (d for d in range(4) if np.allclose(np.round(scaled, d), scaled, atol=1e-9)), 4
            )
            return super().format_ticks(values)

    return StepPercentFormatter


def _day0_line(ax: Axes, x: Any = 0) -> None:
    ax.axvline(x, color=_GREY, linewidth=0.9, linestyle="--", zorder=1, gid="day0")


def _zero_line(ax: Axes, vertical: bool = False) -> None:
    line = ax.axvline if vertical else ax.axhline
    line(0, color="#333333", linewidth=0.6, zorder=1, gid="zero")


def _day_axis(ax: Axes, start: int, end: int, nbins: int = 11) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_xlim(start - 0.5, end + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=nbins, integer=True))


# --- CAR paths --------------------------------------------------------------------------------
def _draw_car(
    ax: Axes,
    results: EventStudyResults,
    row: int,
    start: int,
    end: int,
    level: float,
    color: str,
    nbins: int = 11,
) -> None:
    """CAR path of one asset-event with its band, day 0 and zero lines."""
    panel = results.panel
    days = np.arange(start, end + 1)
    path = panel.car_path(start, end)[row]
    half = _critical(results, np.array([row]), level)[0] * np.sqrt(
        panel.car_path_var(start, end)[row]
    )
    ax.fill_between(days, path - half, path + half, color=color, alpha=0.18, linewidth=0,
                    label=f"{level:.0%} band ({_dist_text(results, np.array([row]))})",
                    gid="band")
    ax.plot(days, path, color=color, marker="o", markersize=2.5, label="CAR", gid="car")
    _zero_line(ax)
    _day0_line(ax)
    _day_axis(ax, start, end, nbins)
    _percent_axis(ax.yaxis)


def plot_car(
    results: EventStudyResults,
    asset: str,
    event_id: str | None = None,
    level: float = 0.95,
    window: Sequence[int] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Cumulative abnormal return of one asset over the event window, with a confidence band.

    Parameters
    ----------
    results : EventStudyResults
    asset : str
        Ticker, e.g. ``"XLY"``.
    event_id : str, optional
        Needed when the results hold several events.
    level : float, default 0.95
        Confidence level of the band (see the module Notes for the quantile used).
    window : (int, int), optional
        Days to cumulate over; default the whole event window. The CAR starts at
        ``window[0]``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = res.plot_car("XLY")  # doctest: +SKIP
    >>> es.plotting.save_figure(ax.figure, "xly.png")  # doctest: +SKIP
    """
    matplotlib, plt = _mpl("plot_car")
    level = _check_level(level)
    event = _event_row(results, event_id)
    rows = _rows_of(results, event["event_id"])
    match = rows[results.panel.keys["asset"].to_numpy()[rows] == asset]
    if not len(match):
        assets = list(results.panel.keys["asset"].to_numpy()[rows])
        raise SpecificationError(
            f"asset={asset!r} has no estimate for event {event['event_id']!r}; assets: "
            f"{assets} (dropped ones are listed in results.dropped)."
        )
    start, end = _window(results, window)
    with matplotlib.rc_context(STYLE):
        ax = _new_axes(plt, ax, (6.4, 3.6))
        _draw_car(ax, results, int(match[0]), start, end, level, OKABE_ITO["blue"])
        ax.set_title(f"{_asset_label(results, int(match[0]))}\n{_event_title(event)}")
        ax.set_xlabel("Trading days relative to day 0")
        ax.set_ylabel(_minus(f"CAR from day {start}"))
        ax.legend(loc="best")
    return ax


def plot_car_grid(
    results: EventStudyResults,
    event_id: str | None = None,
    level: float = 0.95,
    window: Sequence[int] | None = None,
    fig: Figure | None = None,
    ncols: int = 4,
) -> Figure:
    """CAR paths of every asset of one event as small multiples with a shared y-axis.

    Parameters
    ----------
    results : EventStudyResults
    event_id : str, optional
        Needed when the results hold several events.
    level : float, default 0.95
        Confidence level of the bands.
    window : (int, int), optional
        Days to cumulate over; default the whole event window.
    fig : matplotlib.figure.Figure, optional
        An empty figure to fill; default a new one sized to the grid.
    ncols : int, default 4
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    matplotlib, plt = _mpl("plot_car_grid")
    level = _check_level(level)
    event = _event_row(results, event_id)
    rows = _rows_of(results, event["event_id"])
    start, end = _window(results, window)
    ncols = max(1, min(ncols, len(rows)))
    nrows = math.ceil(len(rows) / ncols)
    with matplotlib.rc_context(STYLE):
        if fig is None:
            fig = plt.figure(figsize=(2.6 * ncols, 1.9 * nrows + 0.9))
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True)).ravel()
        for ax, row in zip(axes, rows, strict=False):
            _draw_car(ax, results, int(row), start, end, level, OKABE_ITO["blue"], nbins=5)
            ax.set_title(_asset_label(results, int(row)), fontsize=8.5)
        for ax in axes[len(rows):]:
            ax.set_visible(False)
        # The band is described in the title: a figure legend collides with the suptitle or
        # the shared x label under constrained layout.
        fig.suptitle(
            f"Cumulative abnormal returns with {level:.0%} confidence bands "
            f"({_dist_text(results, rows)})\n{_event_title(event)}"
        )
        fig.supxlabel("Trading days relative to day 0", fontsize=9)
        fig.supylabel(_minus(f"CAR from day {start}"), fontsize=9)
    return fig


# --- cross-section of one event ---------------------------------------------------------------
def plot_sector_bars(
    results: EventStudyResults,
    window: Sequence[int] = (-1, 1),
    event_id: str | None = None,
    level: float = 0.95,
    alpha: float = 0.05,
    adjusted: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """CAR of every asset of one event over ``window``: sorted bars with confidence intervals.

    Parameters
    ----------
    results : EventStudyResults
    window : (int, int), default (-1, 1)
        CAR window (inside the event window).
    event_id : str, optional
        Needed when the results hold several events.
    level : float, default 0.95
        Confidence level of the interval on each bar.
    alpha : float, default 0.05
        Significance level of the per-asset test that marks a bar.
    adjusted : {None, "holm", "bh"}, default None
        Mark bars by the raw p-value, the Holm-adjusted or the Benjamini–Hochberg-adjusted
        one (adjusted across the assets of the event; see :attr:`EventStudyResults.cars`).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One bar per asset; significant bars are dark and hatched.
    """
    from eventstudy._typing import check_option

    matplotlib, plt = _mpl("plot_sector_bars")
    level = _check_level(level)
    alpha = _check_level(alpha)
    column = {None: "pvalue", "holm": "pvalue_holm", "bh": "pvalue_bh"}
    if adjusted is not None:
        check_option("adjusted", adjusted, ("holm", "bh"))
    event = _event_row(results, event_id)
    rows = _rows_of(results, event["event_id"])
    start, end = _window(results, window)
    table = results.car_table([(start, end)])
    table = table[table["event_id"] == event["event_id"]].reset_index(drop=True)
    by_asset = pd.DataFrame(
        {"label": [_asset_label(results, int(r)) for r in rows],
         "critical": _critical(results, rows, level)},
        index=results.panel.keys["asset"].to_numpy()[rows],
    )
    table = table.join(by_asset, on="asset")
    table["half"] = table["critical"] * table["std_error"]
    # Ascending, so the largest CAR is drawn at the top of a horizontal bar chart.
    table = table.sort_values("car", na_position="first").reset_index(drop=True)
    significant = (table[column[adjusted]] < alpha).to_numpy()
    how = {None: "", "holm": ", Holm-adjusted", "bh": ", BH-adjusted"}[adjusted]

    with matplotlib.rc_context(STYLE):
        ax = _new_axes(plt, ax, (6.4, 0.32 * len(table) + 1.3))
        y = np.arange(len(table))
        bars = ax.barh(
            y,
            table["car"],
            color=np.where(significant, OKABE_ITO["blue"], "#A6CEE3"),
            height=0.65,
            gid="bars",
        )
        for bar, sig in zip(bars, significant, strict=True):
            if sig:
                bar.set_hatch("////")
                bar.set_edgecolor("white")
        ax.errorbar(table["car"], y, xerr=table["half"], fmt="none", ecolor="#333333",
                    elinewidth=0.9, capsize=2.5, gid="ci")
        for i in np.flatnonzero(table["car"].isna().to_numpy()):
            ax.text(0, i, " no data", va="center", fontsize=7.5, color=_GREY)
        _zero_line(ax, vertical=True)
        ax.set_yticks(y, table["label"])
        ax.set_ylim(-0.6, len(table) - 0.4)
        ax.grid(axis="y", visible=False)
        _percent_axis(ax.xaxis)
        ax.set_xlabel(_window_name(start, end))
        ax.set_title(f"{_window_name(start, end)} by asset\n{_event_title(event)}")

        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        handles = [
            Patch(facecolor=OKABE_ITO["blue"], hatch="////", edgecolor="white",
                  label=f"p < {alpha:g}{how}"),
            Patch(facecolor="#A6CEE3", label="not significant"),
            Line2D([], [], color="#333333", linewidth=0.9, marker="|", markersize=6,
                   label=f"{level:.0%} CI ({_dist_text(results, rows)})"),
        ]
        # Below the x label (an offset in points, whatever the axes height): inside the
        # axes it would cover the bars of whichever asset sits there.
        from matplotlib.transforms import offset_copy

        below = offset_copy(ax.transAxes, fig=ax.figure, y=-34, units="points")
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0),
                  bbox_transform=below, ncols=3)
    return ax


# --- heatmaps ---------------------------------------------------------------------------------
def _heatmap(
    ax: Axes,
    values: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    colorbar_label: str,
    annotate: bool | None,
    rotation: float = 0,
) -> Any:
    """Diverging heatmap centred at zero; cells written with their value (in %) if small."""
    import matplotlib as mpl
    from matplotlib.colors import TwoSlopeNorm

    finite = np.abs(values[np.isfinite(values)])
    # Symmetric limits, so equal colour intensity means equal size of a gain or a loss.
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 0.01
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)
    cmap = mpl.colormaps[_DIVERGING].with_extremes(bad="#EEEEEE")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto",
                      interpolation="nearest", gid="heatmap")
    ax.set_xticks(np.arange(len(col_labels)), col_labels, rotation=rotation,
                  ha="right" if rotation else "center", rotation_mode="anchor")
    ax.set_yticks(np.arange(len(row_labels)), row_labels)
    ax.grid(visible=False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)
    colorbar = ax.figure.colorbar(image, ax=ax, shrink=0.9, pad=0.015, aspect=30)
    _percent_axis(colorbar.ax.yaxis)
    colorbar.outline.set_linewidth(0.4)
    colorbar.set_label(colorbar_label)
    if annotate is None:
        annotate = values.size <= _ANNOTATE_MAX_CELLS
    if annotate:
        for (i, j), v in np.ndenumerate(values):
            # White text where the cell is dark enough that black would not read.
            dark = np.isfinite(v) and abs(v) > 0.6 * limit
            # Adding 0.0 turns a rounded -0.0 into 0.0.
            cell = _minus(f"{round(100 * v, 1) + 0.0:.1f}") if np.isfinite(v) else "n/a"
            ax.text(j, i, cell, ha="center",
                    va="center", fontsize=6.5, color="white" if dark else "#222222",
                    gid="cell")
    return image


def plot_ar_heatmap(
    results: EventStudyResults,
    event_id: str | None = None,
    annotate: bool | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Daily abnormal returns of one event as an asset × event-day heatmap.

    Parameters
    ----------
    results : EventStudyResults
    event_id : str, optional
        Needed when the results hold several events.
    annotate : bool, optional
        Write each cell's AR (in %) into it; default only when the grid is small.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The colour scale is symmetric around zero (red negative, blue positive); missing
        days are grey.
    """
    matplotlib, plt = _mpl("plot_ar_heatmap")
    event = _event_row(results, event_id)
    rows = _rows_of(results, event["event_id"])
    taus = results.panel.taus
    with matplotlib.rc_context(STYLE):
        ax = _new_axes(plt, ax, (max(6.4, 0.42 * len(taus) + 2.8), 0.3 * len(rows) + 1.4))
        _heatmap(
            ax,
            results.panel.ar[rows],
            [_asset_label(results, int(r)) for r in rows],
            [_minus(t) for t in taus],
            "Abnormal return",
            annotate,
        )
        zero = int(np.flatnonzero(taus == 0)[0])
        # Outline the day-0 column rather than cover it with a line.
        ax.add_patch(matplotlib.patches.Rectangle(
            (zero - 0.5, -0.5), 1, len(rows), fill=False, edgecolor="#222222", linewidth=1.2,
            gid="day0"))
        ax.set_xlabel("Trading days relative to day 0")
        ax.set_title(f"Daily abnormal returns (%)\n{_event_title(event)}")
    return ax


def plot_car_heatmap(
    results: EventStudyResults,
    window: Sequence[int] = (-1, 1),
    annotate: bool | None = None,
    ax: Axes | None = None,
) -> Axes:
    """CARs over ``window`` of every event (rows) and asset (columns).

    Parameters
    ----------
    results : EventStudyResults
    window : (int, int), default (-1, 1)
    annotate : bool, optional
        Write each cell's CAR (in %) into it; default only when the grid is small.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Events in date order; asset-events that were not estimated are grey.
    """
    matplotlib, plt = _mpl("plot_car_heatmap")
    start, end = _window(results, window)
    cars = results.car_table([(start, end)], sample_quantile=False)
    events = results.events.sort_values("day0")
    assets = list(dict.fromkeys(results.panel.keys["asset"]))
    grid = (
        cars.pivot(index="event_id", columns="asset", values="car")
        .reindex(index=events["event_id"], columns=assets)
    )
    row_labels = [f"{pd.Timestamp(d):%Y-%m-%d}  {n}" for d, n in zip(
        events["day0"], events["name"], strict=True)]
    with matplotlib.rc_context(STYLE):
        ax = _new_axes(plt, ax, (max(6.4, 0.6 * len(assets) + 3.5), 0.34 * len(events) + 2.4))
        _heatmap(ax, grid.to_numpy(dtype=float), row_labels,
                 [_ticker_label(a) for a in assets], _window_name(start, end), annotate,
                 rotation=35)
        ax.set_title(f"{_window_name(start, end)} by event and asset (%)")
    return ax


# --- prices around an event -------------------------------------------------------------------
def _default_price_assets(results: EventStudyResults, event_id: str, market: str) -> list[str]:
    """The assets with the lowest and highest day-0 abnormal return (the market excluded)."""
    cars = results.car_table([(0, 0)], sample_quantile=False)
    cars = cars[(cars["event_id"] == event_id) & (cars["asset"] != market)].dropna(
        subset=["car"])
    if cars.empty:
        return []
    ordered = cars.sort_values("car")["asset"]
    return list(dict.fromkeys([ordered.iloc[0], ordered.iloc[-1]]))


def plot_price_path(
    results: EventStudyResults | pd.DataFrame,
    event_id: str | None = None,
    assets: Sequence[str] | None = None,
    window: Sequence[int] = (-10, 10),
    data: object = None,
    annotate_catalog: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Prices around an event, rebased to 100 on day -1, with other catalog events marked.

    Parameters
    ----------
    results : EventStudyResults or pandas.DataFrame
        Results of a study (prices are read again from its source), or a wide frame of prices
        (dates × tickers) to plot directly.
    event_id : str, optional
        With results: one of ``results.events`` (optional for a single event). With a frame:
        a catalog id or a date (aligned to the next session), required.
    assets : sequence of str, optional
        Tickers to draw besides the market. Default with results: the assets with the lowest
        and the highest day-0 abnormal return; with a frame: every column.
    window : (int, int), default (-10, 10)
        Trading days around day 0. Prices are rebased on day -1, or on the first day when
        the window starts after day -1.
    data : provider, DataFrame, path or None
        Where to read prices for results, as in :func:`~eventstudy.run_event_study`; None
        uses the study's own price source (``results.data_source``). Ignored when
        ``results`` is a frame.
    annotate_catalog : bool, default True
        Mark the built-in catalog events that fall inside the window (possible confounders).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from eventstudy._typing import check_window
    from eventstudy.calendar import get_calendar
    from eventstudy.events import load_catalog, to_event_set
    matplotlib, plt = _mpl("plot_price_path")
    lo, hi = check_window("window", window)
    calendar = get_calendar()
    if isinstance(results, pd.DataFrame):
        if event_id is None:
            raise SpecificationError("plotting a price frame needs event_id= (catalog id or date).")
        event = to_event_set(event_id)[0]
        eid, name = event.id, event.name
        day0 = calendar.align(event.when, "next").session
        policy = "next"
        tickers = [str(c) for c in (assets if assets is not None else results.columns)]
        market = None
    else:
        row = _event_row(results, event_id)
        eid, name, day0 = row["event_id"], row["name"], pd.Timestamp(row["day0"])
        policy = str(results.settings.get("alignment", "next"))
        market = str(results.settings["market"])
        extra = assets if assets is not None else _default_price_assets(results, eid, market)
        tickers = list(dict.fromkeys([market, *extra]))
    first, last = calendar.offset(day0, lo), calendar.offset(day0, hi)
    if isinstance(results, pd.DataFrame):
        from eventstudy.data.base import check_price_frame

        prices = check_price_frame(results, "prices").loc[first:last, tickers]
    else:
        from eventstudy.data.base import resolve_provider

        source = data if data is not None else results.data_source
        if getattr(source, "kind", "prices") == "returns":
            raise SpecificationError(
                "the price path needs prices, but the study was run on returns; pass data= a "
                "price source (a provider, a price DataFrame or a folder of CSV files)."
            )
        prices = resolve_provider(source).get_prices(tickers, first, last)
    base = calendar.offset(day0, -1) if lo <= -1 <= hi else first
    if base not in prices.index or prices.loc[base].isna().any():
        raise SpecificationError(
            f"no price for {tickers} on the rebasing day {base.date()}; check the data's coverage."
        )
    rebased = 100.0 * prices / prices.loc[base]

    with matplotlib.rc_context(STYLE):
        ax = _new_axes(plt, ax, (7.2, 4.4))
        colours = iter(_cycle())
        for ticker in rebased.columns:
            is_market = ticker == market
            ax.plot(rebased.index, rebased[ticker], marker="o", markersize=2,
                    color=OKABE_ITO["black"] if is_market else next(colours),
                    linewidth=1.8 if is_market else 1.3, label=_ticker_label(ticker), gid=ticker)
        ax.axhline(100, color=_LIGHT, linewidth=0.6, zorder=1)
        _day0_line(ax, day0)
        ax.lines[-1].set_label(f"day 0 ({day0:%m-%d}): {name}")
        # Other events are tagged A, B, ... above the axes and named in the legend: names
        # written along the lines would cross the price paths.
        tag = {"y": 1.005, "ha": "center", "va": "bottom", "fontsize": 7.5,
               "transform": ax.get_xaxis_transform(), "clip_on": False}
        ax.text(day0, s="0", color="#333333", **tag)
        if annotate_catalog:
            others = [
                (calendar.align(e.when, policy).session, e)  # type: ignore[arg-type]
                for e in load_catalog() if e.id != eid
            ]
            inside = [(d, e) for d, e in others if first <= d <= last]
            for letter, (session, other) in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", inside,
                                                 strict=False):
                ax.axvline(session, color=OKABE_ITO["orange"], linewidth=1.0, linestyle=":",
                           zorder=1, gid="confounder",
                           label=f"{letter} ({session:%m-%d}): {other.name}")
                ax.text(session, s=letter, color="#8A5A00", gid="confounder-label", **tag)
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator(maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.set_xlim(first - pd.Timedelta(days=1), last + pd.Timedelta(days=1))
        ax.set_ylabel(f"Price ({base:%Y-%m-%d} = 100)")
        ax.set_title(f"Adjusted closes around the event\n{name}, day 0 = {day0:%Y-%m-%d}",
                     pad=14)
        from matplotlib.transforms import offset_copy

        # Below the date labels, whatever the axes height.
        below = offset_copy(ax.transAxes, fig=ax.figure, y=-34, units="points")
        ax.legend(loc="upper left", bbox_to_anchor=(0, 0), bbox_transform=below, ncols=2)
    return ax


# --- across asset-events ----------------------------------------------------------------------
def plot_caar(
    results: EventStudyResults,
    window: Sequence[int] | None = None,
    level: float = 0.95,
    group_by: str | None = None,
    assets: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    r"""Cumulative average abnormal return across asset-events, with its confidence band.

    Parameters
    ----------
    results : EventStudyResults
    window : (int, int), optional
        Days to cumulate over; default the whole event window.
    level : float, default 0.95
        Confidence level of the band (cross-sectional, see the module Notes).
    group_by : str, optional
        A column of ``results.panel.keys`` (``"direction"``, ``"event_id"``, ``"asset"``)
        drawing one CAAR per group. Per event (``"event_id"``) it is the average over
        that event's assets; per asset, the average over events.
    assets : sequence of str, optional
        Restrict to these tickers (e.g. the sectors without the market).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        No band is drawn on days with fewer than two asset-events.

    Notes
    -----
    Values come from :func:`eventstudy.inference.aggregate`: on each day the CAAR is the
    mean CAR of the asset-events with a complete window, ``n`` of them, and the band
    :math:`\pm t_{n-1,(1+\ell)/2}\, s/\sqrt n`.
    """
    from eventstudy.inference import aggregate

    matplotlib, plt = _mpl("plot_caar")
    level = _check_level(level)
    start, end = _window(results, window)
    panel = results.panel
    if assets is not None:
        keep = panel.keys["asset"].isin(list(assets)).to_numpy()
        if not keep.any():
            raise SpecificationError(f"assets={list(assets)} match no asset of the results.")
        panel = panel.subset(keep)
    days = np.arange(start, end + 1)
    # aggregate() is the library's one definition of the CAAR and its standard error; the
    # path is its CAAR over (start, t) for every day t.
    table = aggregate(panel, [(start, int(t)) for t in days], group_by=group_by)
    table = table[table["start"] == start].sort_values("end", kind="stable")
    groups = (
        [("all", table)] if group_by is None
        else [(str(k) or "(none)", g) for k, g in table.groupby(group_by, sort=False)]
    )
    with matplotlib.rc_context(STYLE):
        ax = _new_axes(plt, ax, (6.4, 3.6))
        for (label, part), colour in zip(groups, _cycle(), strict=False):
            caar, n = part["estimate"].to_numpy(), part["n"].to_numpy()
            # NaN (no band) on days with fewer than two asset-events.
            with np.errstate(invalid="ignore"):
                half = stats.t.ppf((1.0 + level) / 2.0, n - 1) * part["std_error"].to_numpy()
            ax.fill_between(days, caar - half, caar + half, color=colour, alpha=0.16,
                            linewidth=0, gid="band")
            ax.plot(days, caar, color=colour, marker="o", markersize=2.5,
                    label=f"{label} (N={n.max()})", gid="caar")
        _zero_line(ax)
        _day0_line(ax)
        _day_axis(ax, start, end)
        _percent_axis(ax.yaxis)
        ax.set_xlabel("Trading days relative to day 0")
        ax.set_ylabel(_minus(f"CAAR from day {start}"))
        n_events = panel.keys["event_id"].nunique()
        ax.set_title(
            f"Cumulative average abnormal return, {n_events} event{'s' * (n_events != 1)}\n"
            f"{level:.0%} band: cross-sectional standard error, t with N\N{MINUS SIGN}1 df"
        )
        ax.legend(loc="best", title="asset-events" if group_by is None else group_by)
    return ax


def _cycle() -> list[str]:
    return [c for k, c in OKABE_ITO.items() if k != "black"] + [OKABE_ITO["black"]]


# --- output -----------------------------------------------------------------------------------
_FORMATS = ("png", "svg", "pdf")


def save_figure(fig: Figure | Axes, path: str | Path, dpi: int = 200) -> Path:
    """Save a figure as PNG, SVG or PDF (chosen by the file suffix).

    Parameters
    ----------
    fig : matplotlib.figure.Figure or matplotlib.axes.Axes
        The figure, or an Axes on it (what the ``plot_*`` functions return).
    path : str or Path
        Target file; the folder is created if needed.
    dpi : int, default 200
        Resolution of PNG output.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in _FORMATS:
        raise SpecificationError(
            f"cannot save {str(path)!r}: use a .png, .svg or .pdf file name."
        )
    figure = getattr(fig, "figure", fig) if not hasattr(fig, "savefig") else fig
    path.parent.mkdir(parents=True, exist_ok=True)
    # No creation date in SVG/PDF metadata, so the same figure gives the same bytes.
    metadata = {"Date": None} if fmt == "svg" else {"CreationDate": None} if fmt == "pdf" else {}
    figure.savefig(path, dpi=dpi, format=fmt, bbox_inches="tight", facecolor="white",
                   metadata=metadata)
    return path
