"""Results of a fitted event study: tidy tables, tests, summary, export and plots.

Everything here is computed from the :class:`~eventstudy.abnormal.ARPanel` the estimator
built; results are read-only and derived tables are cached.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.abnormal import ARPanel
from eventstudy.conventions import FORMULAS, Conventions
from eventstudy.inference.per_asset import ar_table, car_table

__all__ = ["EventStudyResults", "Summary", "markdown_table"]

@dataclass(frozen=True)
class Summary:
    """A rendered overview: header lines and titled tables; text, HTML, LaTeX, Markdown."""

    title: str
    header: dict[str, str]
    tables: dict[str, pd.DataFrame]
    footnotes: tuple[str, ...] = ()

    def as_text(self) -> str:
        """Plain-text rendering."""
        lines = [self.title, "=" * len(self.title)]
        width = max((len(k) for k in self.header), default=0)
        lines += [f"{k:<{width}}  {v}" for k, v in self.header.items()]
        for name, table in self.tables.items():
            lines += ["", name, "-" * len(name), table.to_string()]
        lines += ["", *self.footnotes]
        return "\n".join(lines).rstrip() + "\n"

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def as_html(self) -> str:
        """HTML rendering (what Jupyter shows)."""
        import html

        head = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self.header.items()
        )
        parts = [f"<h4>{html.escape(self.title)}</h4><table>{head}</table>"]
        for name, table in self.tables.items():
            parts.append(f"<h5>{html.escape(name)}</h5>{table.to_html(na_rep='')}")
        parts += [f"<p><small>{html.escape(f)}</small></p>" for f in self.footnotes]
        return "\n".join(parts)

    _repr_html_ = as_html

    def as_latex(self) -> str:
        """LaTeX rendering (booktabs tables)."""
        parts = []
        for name, table in self.tables.items():
            parts.append(f"% {name}\n" + table.to_latex(na_rep=""))
        return "\n".join(parts)

    def as_markdown(self) -> str:
        """Markdown rendering."""
        lines = [f"### {self.title}", ""]
        lines += [f"- **{k}**: {v}" for k, v in self.header.items()]
        for name, table in self.tables.items():
            lines += ["", f"#### {name}", "", markdown_table(table)]
        lines += ["", *[f"_{f}_" for f in self.footnotes]]
        return "\n".join(lines) + "\n"


def markdown_table(table: pd.DataFrame) -> str:
    """Markdown pipe table without the optional ``tabulate`` dependency."""
    frame = table.reset_index() if table.index.name or table.index.names[0] else table
    cols = [str(c) for c in frame.columns]
    rows = [["" if pd.isna(v) else str(v) for v in r] for r in frame.itertuples(index=False)]
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def _stars(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


class EventStudyResults:
    """Read-only results of :meth:`EventStudy.fit <eventstudy.EventStudy.fit>`.

    Attributes
    ----------
    panel : ARPanel
        Stacked abnormal returns of the asset-events that were estimated.
    events : pandas.DataFrame
        Each event with its alignment: ``event_id, name, original, day0, rule, ...``.
    params : pandas.DataFrame
        ``event_id, asset, model, alpha, beta`` (or factor loadings), ``sigma, nobs, r2,
        est_start, est_end``.
    dropped : pandas.DataFrame
        What was excluded and why: ``event_id, asset, date, scope, reason`` with scope
        ``asset-event``, ``event-day``, ``estimation-day`` or ``data``.
    settings : dict
        The specification that produced the results.
    data_source : PriceProvider or None
        Where the prices came from; figures that need prices again (the price path) use it.
    """

    def __init__(
        self,
        panel: ARPanel,
        events: pd.DataFrame,
        params: pd.DataFrame,
        dropped: pd.DataFrame,
        event_dates: dict[str, pd.DatetimeIndex],
        car_windows: Sequence[tuple[int, int]],
        conventions: Conventions,
        settings: dict[str, Any],
        data_source: object = None,
    ) -> None:
        self.panel = panel
        self.events = events
        self.params = params
        self.dropped = dropped
        self.event_dates = event_dates
        self.car_windows = tuple(car_windows)
        self.conventions_preset = conventions
        self.settings = dict(settings)
        self.data_source = data_source

    def __repr__(self) -> str:
        return (
            f"EventStudyResults({len(self.events)} events, {self.panel.keys['asset'].nunique()} "
            f"assets, {len(self.panel)} asset-events, model={self.settings.get('model')!r}, "
            f"conventions={self.conventions_preset.name!r})"
        )

    # --- tables -------------------------------------------------------------------------------
    @functools.cached_property
    def ars(self) -> pd.DataFrame:
        """Daily abnormal returns: ``event_id, asset, tau, date, ar, std_error, tstat, pvalue``."""
        return ar_table(self.panel, self.event_dates, "two-sided",
                        self.conventions_preset.single_dist)

    @functools.cached_property
    def cars(self) -> pd.DataFrame:
        """CARs per window: ``event_id, asset, start, end, car, std_error, tstat, pvalue, bhar``.

        Also ``pvalue_sq`` (Gelbach–Helland–Klick sample-quantile test), ``n_sq`` (size of its
        reference distribution), and ``pvalue_holm`` / ``pvalue_bh`` (adjusted across the
        assets of each event and window).
        """
        return self.car_table()

    def car_table(
        self,
        windows: Sequence[tuple[int, int]] | None = None,
        alternative: str = "two-sided",
        sample_quantile: bool = True,
    ) -> pd.DataFrame:
        """CARs for chosen ``windows`` with a chosen ``alternative`` (see :attr:`cars`).

        ``sample_quantile=False`` leaves out the sample-quantile test (``pvalue_sq``,
        ``n_sq``), the costliest column (it compares each CAR with every same-length sum of
        estimation residuals).
        """
        return car_table(self.panel, windows or self.car_windows, alternative,
                         self.conventions_preset.single_dist, sample_quantile)

    @property
    def conventions(self) -> pd.DataFrame:
        """Which formula each number used: ``setting, value, formula``."""
        table = self.conventions_preset.to_frame()
        table["formula"] = [
            FORMULAS.get(s, {}).get(v, "") for s, v in zip(
                table["setting"], table["value"], strict=True)
        ]
        return table

    def _cross_section(self, include_market: bool) -> ARPanel:
        """The panel for cross-sectional statistics, without the market asset by default.

        The market asset is modelled by the constant-mean model (or against a benchmark), so
        its abnormal return is not comparable with the other assets' market-model ARs; it is
        reported on its own in :attr:`cars`. If the study has only the market, it is kept.
        """
        if include_market:
            return self.panel
        keep = (self.panel.keys["asset"] != self.settings.get("market")).to_numpy()
        return self.panel.subset(keep) if keep.any() and not keep.all() else self.panel

    def tests(
        self,
        names: Sequence[str] | str | None = None,
        windows: Sequence[tuple[int, int]] | None = None,
        alternative: str = "two-sided",
        group_by: str | Sequence[str] | None = None,
        random_state: int = 0,
        include_market: bool = False,
    ) -> pd.DataFrame:
        """Tests across asset-events (and events) for every event day and CAR window.

        Parameters
        ----------
        names : str or sequence of str, optional
            Tests to run (default: all); see :data:`eventstudy.inference.TESTS`.
        windows : sequence of (int, int), optional
            CAR windows (default: the study's). Every single event day is tested too.
        alternative : {"two-sided", "greater", "less"}
        group_by : str or sequence of str, optional
            Columns of ``panel.keys`` to test separately (e.g. ``"direction"``, ``"event_id"``).
        random_state : int, default 0
            Seed of the bootstrap.
        include_market : bool, default False
            Whether the market asset enters the cross-section (see :meth:`_cross_section`).

        Returns
        -------
        pandas.DataFrame
            ``test, start, end, statistic, pvalue, n`` plus ``distribution, null,
            alternative, note, conventions`` and the group columns.
        """
        from eventstudy.inference import run_tests

        if isinstance(names, str):
            names = [names]
        return run_tests(
            self._cross_section(include_market),
            list(windows or self.car_windows),
            tests=names,
            alternative=alternative,
            group_by=group_by,
            random_state=random_state,
            conventions=self.conventions_preset,
        )

    def aggregate(
        self, group_by: str | Sequence[str] | None = None, include_market: bool = False
    ) -> pd.DataFrame:
        """AAR per event day and CAAR per window across asset-events (optionally grouped).

        The market asset is left out unless ``include_market`` (see :meth:`tests`).
        """
        from eventstudy.inference import aggregate

        return aggregate(self._cross_section(include_market), list(self.car_windows),
                         group_by=group_by)

    # --- presentation -------------------------------------------------------------------------
    def summary(self, windows: Sequence[tuple[int, int]] | None = None) -> Summary:
        """Overview: settings, alignment, and a CAR table per event.

        Parameters
        ----------
        windows : sequence of (int, int), optional
            CAR windows to show (default: (0, 0) and (-1, 1) where available, else the first
            two of the study's windows).
        """
        wanted = windows or [w for w in ((0, 0), (-1, 1)) if w in self.car_windows] or list(
            self.car_windows[:2]
        )
        cars = self.car_table(wanted)
        tables: dict[str, pd.DataFrame] = {}
        labels = dict(zip(self.panel.keys["asset"], self.panel.keys["label"], strict=False))
        models = self.params.set_index(["event_id", "asset"])["model"]
        for ev in self.events.itertuples():
            sub = cars[cars["event_id"] == ev.event_id]
            if sub.empty:
                continue
            wide = []
            for (start, end), part in sub.groupby(["start", "end"], sort=False):
                tag = f"CAR({start},{end})"
                part = part.set_index("asset")
                wide.append(
                    pd.DataFrame(
                        {
                            f"{tag} %": (100 * part["car"]).map("{:.2f}".format)
                            + part["pvalue"].map(_stars),
                            f"{tag} t": part["tstat"].round(2),
                            f"{tag} p": part["pvalue"].round(3),
                            f"{tag} p(SQ)": part["pvalue_sq"].round(3),
                        }
                    )
                )
            table = pd.concat(wide, axis=1)
            table.insert(0, "name", [labels.get(a, a) for a in table.index])
            table.insert(1, "model", [models.get((ev.event_id, a), "") for a in table.index])
            table.index.name = "asset"
            day0 = pd.Timestamp(ev.day0).date()
            tables[f"{ev.event_id} (day 0 = {day0}, rule {ev.rule})"] = table
        n_dropped = int((self.dropped["scope"] == "asset-event").sum())
        header = {
            "Model": str(self.settings.get("model")),
            "Market": f"{self.settings.get('market')} (market asset: "
            f"{self.settings.get('market_benchmark')})",
            "Estimation window": str(self.settings.get("estimation_window")),
            "Event window": str(self.settings.get("event_window")),
            "Returns": str(self.settings.get("return_type")),
            "Conventions": self.conventions_preset.name,
            "Asset-events": f"{len(self.panel)} estimated, {n_dropped} dropped",
        }
        foot = (
            "p: parametric t (two-sided); p(SQ): Gelbach-Helland-Klick sample-quantile test.",
            "* p<0.10, ** p<0.05, *** p<0.01 on the parametric p-value.",
        )
        return Summary("Event study results", header, tables, foot)

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def to_csv(self, directory: str | Path) -> list[Path]:
        """Write ``ars``, ``cars``, ``params``, ``events``, ``dropped`` and ``tests`` as CSV.

        Returns
        -------
        list of Path
            Files written.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name in ("ars", "cars", "params", "events", "dropped"):
            path = out / f"{name}.csv"
            getattr(self, name).to_csv(path, index=False)
            written.append(path)
        return written

    def to_markdown(self) -> str:
        """The summary as Markdown."""
        return self.summary().as_markdown()

    def to_latex(self) -> str:
        """The summary tables as LaTeX."""
        return self.summary().as_latex()

    # --- plots (thin wrappers over eventstudy.plotting) -----------------------------------------
    def plot_car(self, asset: str, event_id: str | None = None, level: float = 0.95,
                 **kwargs: Any) -> Any:
        """CAR path of one asset with its confidence band; see :func:`.plotting.plot_car`."""
        from eventstudy.plotting import plot_car

        return plot_car(self, asset, event_id=event_id, level=level, **kwargs)

    def plot_car_grid(self, event_id: str | None = None, level: float = 0.95,
                      **kwargs: Any) -> Any:
        """CAR paths of all assets of one event; see :func:`.plotting.plot_car_grid`."""
        from eventstudy.plotting import plot_car_grid

        return plot_car_grid(self, event_id=event_id, level=level, **kwargs)

    def plot_sector_bars(self, window: tuple[int, int] = (-1, 1), event_id: str | None = None,
                         **kwargs: Any) -> Any:
        """Sorted CAR bars with intervals; see :func:`.plotting.plot_sector_bars`."""
        from eventstudy.plotting import plot_sector_bars

        return plot_sector_bars(self, window=window, event_id=event_id, **kwargs)

    def plot_ar_heatmap(self, event_id: str | None = None, **kwargs: Any) -> Any:
        """Asset × event-day AR heatmap; see :func:`.plotting.plot_ar_heatmap`."""
        from eventstudy.plotting import plot_ar_heatmap

        return plot_ar_heatmap(self, event_id=event_id, **kwargs)

    def plot_car_heatmap(self, window: tuple[int, int] = (-1, 1), **kwargs: Any) -> Any:
        """Event × asset CAR heatmap; see :func:`.plotting.plot_car_heatmap`."""
        from eventstudy.plotting import plot_car_heatmap

        return plot_car_heatmap(self, window=window, **kwargs)

    def plot_price_path(self, event_id: str | None = None, **kwargs: Any) -> Any:
        """Rebased prices around an event; see :func:`.plotting.plot_price_path`."""
        from eventstudy.plotting import plot_price_path

        return plot_price_path(self, event_id=event_id, **kwargs)

    def plot_caar(self, window: tuple[int, int] | None = None, level: float = 0.95,
                  **kwargs: Any) -> Any:
        """CAAR across asset-events with its band; see :func:`.plotting.plot_caar`."""
        from eventstudy.plotting import plot_caar

        return plot_caar(self, window=window, level=level, **kwargs)
