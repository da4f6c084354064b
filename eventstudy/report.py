"""A report of a results object: one self-contained HTML file, or Markdown with PNG figures.

The report only formats what the results already hold (tables, settings, conventions, events,
dropped data) and draws the standard figures of :mod:`eventstudy.plotting`; it computes no
statistic of its own.

Examples
--------
>>> import eventstudy as es
>>> res = es.run_event_study("2025-06-05-trump-xi-call")  # doctest: +SKIP
>>> es.report.write_report(res, "out/report.html")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from eventstudy._typing import check_option
from eventstudy.exceptions import DataWarning, EventStudyError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from eventstudy.results import EventStudyResults

__all__ = ["REPORT_FORMATS", "ReportFigure", "report_figures", "write_report"]

REPORT_FORMATS: tuple[str, ...] = ("html", "md")

#: Windows of the sector-bar figures, when they fit inside the event window.
_BAR_WINDOWS: tuple[tuple[int, int], ...] = ((0, 0), (-1, 1))


@dataclass(frozen=True)
class ReportFigure:
    """One figure of the standard report.

    Attributes
    ----------
    name : str
        File stem, e.g. ``"car_grid_2025-06-05-trump-xi-call"``.
    caption : str
        One sentence saying what the figure shows.
    event_id : str or None
        The event it belongs to; None for figures across events.
    figure : matplotlib.figure.Figure or None
        None when the figure could not be drawn (see ``note``).
    note : str
        Why the figure is missing.
    """

    name: str
    caption: str
    event_id: str | None
    figure: Figure | None
    note: str = ""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-")


def _bar_windows(results: EventStudyResults) -> list[tuple[int, int]]:
    taus = results.panel.taus
    return [w for w in _BAR_WINDOWS if taus[0] <= w[0] and w[1] <= taus[-1]]


def _one(
    name: str,
    caption: str,
    event_id: str | None,
    draw: Callable[[], Any],
    optional: bool = False,
) -> Iterator[ReportFigure]:
    """Draw one figure, hand it out, and close it when the consumer moves on."""
    import matplotlib.pyplot as plt

    try:
        drawn = draw()
    except EventStudyError as exc:
        if not optional:
            raise
        note = f"not drawn: {exc}"
        warnings.warn(f"{name} {note}", DataWarning, stacklevel=3)
        yield ReportFigure(name, caption, event_id, None, note=note)
        return
    figure = getattr(drawn, "figure", drawn)
    try:
        yield ReportFigure(name, caption, event_id, figure)
    finally:
        plt.close(figure)


def report_figures(results: EventStudyResults, data: object = None) -> Iterator[ReportFigure]:
    """The standard figures of a study, drawn one at a time.

    Per event: the CAR grid, sector bars for CAR(0, 0) and CAR(-1, 1), the AR heatmap and
    the price path; across several events: the CAR(-1, 1) heatmap and the CAAR. Each figure
    is closed when the next one is requested, so iterate and save.

    Parameters
    ----------
    results : EventStudyResults
    data : provider, DataFrame, path or None
        Price source of the price paths (see :func:`eventstudy.plotting.plot_price_path`).
        A price path that cannot be drawn (e.g. no data source) is yielded with
        ``figure=None`` and the reason in ``note``, with a
        :class:`~eventstudy.exceptions.DataWarning`; the other figures need no data.

    Yields
    ------
    ReportFigure
    """
    from eventstudy import plotting

    estimated = set(results.panel.keys["event_id"])
    windows = _bar_windows(results)
    for ev in results.events.itertuples():
        eid = ev.event_id
        if eid not in estimated:
            continue
        slug = _slug(eid)
        yield from _one(
            f"car_grid_{slug}",
            "Cumulative abnormal return of each asset over the event window, with confidence "
            "bands.",
            eid,
            lambda eid=eid: plotting.plot_car_grid(results, eid),
        )
        for start, end in windows:
            yield from _one(
                f"sector_bars_{slug}_{start}_{end}",
                f"CAR({start}, {end}) of each asset, sorted, with confidence intervals; "
                "hatched bars are significant at 5 %.",
                eid,
                lambda eid=eid, w=(start, end): plotting.plot_sector_bars(results, w, eid),
            )
        yield from _one(
            f"ar_heatmap_{slug}",
            "Daily abnormal returns (%) of each asset; day 0 is outlined.",
            eid,
            lambda eid=eid: plotting.plot_ar_heatmap(results, eid),
        )
        yield from _one(
            f"price_path_{slug}",
            "Adjusted closes rebased to 100 on day -1: the market and the assets with the "
            "lowest and highest day-0 abnormal return; other catalog events in the window "
            "are marked.",
            eid,
            lambda eid=eid: plotting.plot_price_path(results, eid, data=data),
            optional=True,
        )
    if len(estimated) > 1:
        start, end = windows[-1] if windows else results.car_windows[0]
        yield from _one(
            f"car_heatmap_{start}_{end}",
            f"CAR({start}, {end}) of each event and asset (%).",
            None,
            lambda: plotting.plot_car_heatmap(results, (start, end)),
        )
        yield from _one(
            "caar",
            "Cumulative average abnormal return across all asset-events, with a "
            "cross-sectional confidence band.",
            None,
            lambda: plotting.plot_caar(results),
        )


# --- tables -----------------------------------------------------------------------------------
def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ``YYYY-MM-DD`` (no midnight times), other values unchanged."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d").fillna("")
    return out


def _cell(value: object) -> str:
    """A table cell's text: floats to 4 significant digits, missing values empty."""
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# Numbers, possibly with significance stars (the summary's "-2.0***").
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\**$")


def _is_numeric(cells: list[str]) -> bool:
    filled = [c for c in cells if c]
    return bool(filled) and all(_NUMBER.match(c) for c in filled)


def _html_table(frame: pd.DataFrame, header: bool = True) -> str:
    """A plain HTML table (no index), numeric columns right-aligned."""
    shown = _display(frame)
    columns = [[_cell(v) for v in shown[c]] for c in shown.columns]
    numeric = [_is_numeric(col) for col in columns]

    def td(tag: str, text: str, num: bool) -> str:
        return f'<{tag}{" class=num" if num else ""}>{html.escape(text)}</{tag}>'

    head = "".join(td("th", str(c), n) for c, n in zip(shown.columns, numeric, strict=True))
    body = "".join(
        "<tr>" + "".join(td("td", col[i], n) for col, n in zip(columns, numeric, strict=True))
        + "</tr>\n"
        for i in range(len(shown))
    )
    thead = f"<thead><tr>{head}</tr></thead>" if header else ""
    return f"<table>{thead}<tbody>\n{body}</tbody></table>"


def _md_table(frame: pd.DataFrame) -> str:
    shown = _display(frame)
    cols = [str(c) for c in shown.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in shown.itertuples(index=False):
        # A pipe would end the cell; catalog sources are " | "-separated.
        cells = [_cell(v).replace("|", "\\|").replace("\n", " ") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _settings_frame(results: EventStudyResults) -> pd.DataFrame:
    return pd.DataFrame(
        {"setting": list(results.settings), "value": [str(v) for v in results.settings.values()]}
    )


def _sources(text: str) -> list[str]:
    return [s.strip() for s in str(text).split("|") if s.strip()]


_EVENT_COLUMNS = ["event_id", "name", "original", "day0", "rule", "assumed_timezone",
                  "shifted", "tags"]


def _event_tables(results: EventStudyResults) -> dict[str, pd.DataFrame]:
    """The summary's CAR table of each event (asset as a column), keyed by event id."""
    tables = results.summary().tables
    out = {}
    for eid in results.events["event_id"]:
        match = [t for title, t in tables.items() if title.startswith(f"{eid} (")]
        if match:
            out[eid] = match[0].reset_index()
    return out


# --- HTML -------------------------------------------------------------------------------------
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       margin: 0; background: #fff; line-height: 1.45; }
main { max-width: 1120px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem;
     margin-top: 2.4rem; }
h3 { font-size: 1.05rem; margin-top: 1.8rem; }
.meta { color: #666; font-size: .9rem; margin-top: 0; }
nav ul { padding-left: 1.2rem; columns: 2; font-size: .92rem; }
table { border-collapse: collapse; font-size: .84rem; margin: .6rem 0 1rem; }
th, td { padding: .25rem .55rem; border-bottom: 1px solid #e6e6e6; vertical-align: top; }
thead th { border-bottom: 1.5px solid #888; background: #fafafa; }
th { text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #f8f9fb; }
.scroll { max-height: 26rem; overflow: auto; border: 1px solid #eee; }
figure { margin: 1.2rem 0 1.8rem; }
figure img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .88rem; margin-top: .3rem; }
.note { color: #8a5a00; background: #fff8e6; padding: .4rem .7rem; font-size: .9rem; }
.foot { color: #555; font-size: .85rem; }
details summary { cursor: pointer; color: #0072B2; margin: .4rem 0; }
a { color: #0072B2; }
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body>
<main>
<h1>{{ title }}</h1>
<p class="meta">eventstudy {{ version }} · generated {{ generated }}</p>
<nav><ul>
  <li><a href="#overview">Overview</a></li>
  <li><a href="#events">Events and alignment</a></li>
  {% for ev in events %}<li><a href="#{{ ev.anchor }}">{{ ev.name }}</a></li>{% endfor %}
  {% if across %}<li><a href="#across">Across events</a></li>{% endif %}
  <li><a href="#conventions">Settings and conventions</a></li>
  <li><a href="#data">Data and estimation</a></li>
  <li><a href="#dropped">Dropped data</a></li>
</ul></nav>

<section id="overview">
<h2>Overview</h2>
{{ overview }}
</section>

<section id="events">
<h2>Events and alignment</h2>
<p>Day 0 is the first NYSE session whose prices can reflect the news; <em>rule</em> names
the alignment rule applied to each event's date or time.</p>
<table>
<thead><tr>{% for c in event_columns %}<th>{{ c }}</th>{% endfor %}<th>source</th></tr></thead>
<tbody>
{% for row in event_rows %}<tr>{% for v in row.cells %}<td>{{ v }}</td>{% endfor %}
<td>{% for url in row.sources %}<a href="{{ url }}">[{{ loop.index }}]</a> {% endfor %}</td>
</tr>{% endfor %}
</tbody>
</table>
</section>

{% for ev in events %}
<section id="{{ ev.anchor }}">
<h2>{{ ev.name }} <small>(day 0 = {{ ev.day0 }})</small></h2>
{% if ev.table %}<h3>Cumulative abnormal returns by asset</h3>{{ ev.table }}{% endif %}
{% for fig in ev.figures %}{{ fig }}{% endfor %}
</section>
{% endfor %}

{% if across %}
<section id="across">
<h2>Across events</h2>
{% for fig in across %}{{ fig }}{% endfor %}
</section>
{% endif %}

<section id="conventions">
<h2>Settings and conventions</h2>
<h3>Settings</h3>
{{ settings }}
<h3>Conventions: which formula each number used</h3>
{{ conventions }}
</section>

<section id="data">
<h2>Data and estimation</h2>
<p>Data source: <code>{{ data_source }}</code></p>
<details><summary>Normal-return model fits ({{ n_fits }} asset-events)</summary>
<div class="scroll">{{ params }}</div></details>
</section>

<section id="dropped">
<h2>Dropped data</h2>
{% if dropped %}<p>{{ dropped_summary }}</p><div class="scroll">{{ dropped }}</div>
{% else %}<p>Nothing was dropped: every asset-event was estimated and no day was excluded.</p>
{% endif %}
</section>

<section class="foot">
{% for f in footnotes %}<p>{{ f }}</p>{% endfor %}
</section>
</main>
</body>
</html>
"""


def _html_figure(item: ReportFigure, png: bytes | None = None) -> str:
    """A ``<figure>`` with the PNG embedded: ``png`` if already rendered, else drawn here."""
    caption = html.escape(item.caption)
    if item.figure is None:
        return f'<p class="note">{html.escape(item.name)}: {html.escape(item.note)}</p>'
    if png is None:
        buffer = io.BytesIO()
        item.figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight",
                            facecolor="white")
        png = buffer.getvalue()
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure id="{html.escape(item.name)}"><img alt="{caption}" '
        f'src="data:image/png;base64,{data}"><figcaption>{caption}</figcaption></figure>'
    )


def _dropped_summary(dropped: pd.DataFrame) -> str:
    counts = dropped["scope"].value_counts()
    return "; ".join(f"{n} {scope} row(s)" for scope, n in counts.items()) + "."


def _title(results: EventStudyResults) -> str:
    names = list(results.events["name"])
    return f"Event study: {names[0]}" if len(names) == 1 else f"Event study: {len(names)} events"


def _render_html(results: EventStudyResults, figures: list[tuple[str | None, str]]) -> str:
    """The HTML page; ``figures`` are ``(event_id, <figure> snippet)`` pairs."""
    import jinja2
    from markupsafe import Markup

    from eventstudy import __version__

    summary = results.summary()
    tables = _event_tables(results)
    events = []
    for ev in results.events.itertuples():
        events.append({
            "anchor": f"event-{_slug(ev.event_id)}",
            "name": ev.name,
            "day0": f"{pd.Timestamp(ev.day0):%Y-%m-%d}",
            "table": Markup(_html_table(tables[ev.event_id])) if ev.event_id in tables else "",
            "figures": [Markup(f) for e, f in figures if e == ev.event_id],
        })
    shown = _display(results.events)
    event_rows = [
        {"cells": [shown.at[i, c] for c in _EVENT_COLUMNS],
         "sources": _sources(shown.at[i, "source"])}
        for i in shown.index
    ]
    overview = pd.DataFrame({"item": list(summary.header), "value": list(summary.header.values())})
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_TEMPLATE).render(
        title=_title(results),
        css=Markup(_CSS),
        version=__version__,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        overview=Markup(_html_table(overview, header=False)),
        events=events,
        event_columns=_EVENT_COLUMNS,
        event_rows=event_rows,
        across=[Markup(f) for e, f in figures if e is None],
        settings=Markup(_html_table(_settings_frame(results))),
        conventions=Markup(_html_table(results.conventions)),
        data_source=results.settings.get("data", ""),
        n_fits=len(results.params),
        params=Markup(_html_table(results.params)),
        dropped=Markup(_html_table(results.dropped))
        if len(results.dropped) else "",
        dropped_summary=_dropped_summary(results.dropped) if len(results.dropped) else "",
        footnotes=list(summary.footnotes),
    )


# --- Markdown ---------------------------------------------------------------------------------
def _md_figure(item: ReportFigure, file: str | None) -> list[str]:
    if file is None:
        return ["", f"> {item.name}: {item.note}"]
    return ["", f"![{item.name}]({file})", "", f"_{item.caption}_"]


def _render_markdown(
    results: EventStudyResults, figures: list[tuple[str | None, list[str]]]
) -> str:
    """The Markdown page; ``figures`` are ``(event_id, lines)`` pairs."""
    from eventstudy import __version__

    summary = results.summary()
    tables = _event_tables(results)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"# {_title(results)}", "", f"_eventstudy {__version__} · generated {generated}_", ""]
    out += ["## Overview", ""]
    out += [f"- **{k}**: {v}" for k, v in summary.header.items()]
    events = _display(results.events)
    events["source"] = [
        " ".join(f"[{i}]({u})" for i, u in enumerate(_sources(s), start=1))
        for s in events["source"]
    ]
    out += ["", "## Events and alignment", "",
            "Day 0 is the first NYSE session whose prices can reflect the news; _rule_ names "
            "the alignment rule applied.", "",
            _md_table(events[[*_EVENT_COLUMNS, "source"]])]

    for ev in results.events.itertuples():
        out += ["", f"## {ev.name} (day 0 = {pd.Timestamp(ev.day0):%Y-%m-%d})"]
        if ev.event_id in tables:
            out += ["", "### Cumulative abnormal returns by asset", "",
                    _md_table(tables[ev.event_id])]
        for event_id, lines in figures:
            if event_id == ev.event_id:
                out += lines
    across = [lines for event_id, lines in figures if event_id is None]
    if across:
        out += ["", "## Across events"]
        for lines in across:
            out += lines
    out += ["", "## Settings and conventions", "", "### Settings", "",
            _md_table(_settings_frame(results)), "", "### Conventions", "",
            _md_table(results.conventions)]
    out += ["", "## Data and estimation", "", f"Data source: `{results.settings.get('data', '')}`",
            "", "### Normal-return model fits", "", _md_table(results.params)]
    out += ["", "## Dropped data", ""]
    if len(results.dropped):
        out += [_dropped_summary(results.dropped), "", _md_table(results.dropped)]
    else:
        out += ["Nothing was dropped: every asset-event was estimated and no day was excluded."]
    out += ["", *[f"_{f}_" for f in summary.footnotes]]
    return "\n".join(out) + "\n"


# --- entry point ------------------------------------------------------------------------------
def write_report(
    results: EventStudyResults,
    path: str | Path,
    format: str = "html",
    figures: bool = True,
    data: object = None,
    figure_dir: str | Path | None = None,
) -> Path:
    """Write a report of ``results``.

    Parameters
    ----------
    results : EventStudyResults
    path : str or Path
        The report file, e.g. ``"out/report.html"``; its folder is created if needed.
    format : {"html", "md"}, default "html"
        ``"html"``: one self-contained file, figures embedded as PNG. ``"md"``: Markdown,
        figures written as ``<name>.png`` beside it.
    figures : bool, default True
        Include the standard figures (see :func:`report_figures`).
    data : provider, DataFrame, path or None
        Price source of the price-path figures (None: ``EVENTSTUDY_DATA`` or cached Yahoo).
    figure_dir : str or Path, optional
        Also save each figure as ``<name>.png`` in this folder (drawn once for both).

    Returns
    -------
    Path
        The report file.

    Notes
    -----
    Contents: overview, events with their alignment rule and sources, the CAR table and
    figures of each event, figures across events, settings, conventions, data source and
    model fits, and every dropped asset-event or day with its reason.
    """
    from eventstudy.plotting import save_figure

    fmt = check_option("format", format, REPORT_FORMATS)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folders = list(dict.fromkeys(
        ([path.parent] if fmt == "md" else []) + ([Path(figure_dir)] if figure_dir else [])
    ))
    rendered: list[tuple[str | None, Any]] = []
    # Each figure is saved and encoded while it is open; the generator closes it afterwards.
    for item in report_figures(results, data) if figures else ():
        saved = None
        if item.figure is not None:
            for folder in folders:
                saved = save_figure(item.figure, folder / f"{item.name}.png")
        if fmt == "html":
            # Rendering dominates the run time: embed the PNG just written, if any.
            png = saved.read_bytes() if saved is not None else None
            rendered.append((item.event_id, _html_figure(item, png)))
        else:
            rendered.append((item.event_id, _md_figure(item, saved and saved.name)))
    if fmt == "html":
        text = _render_html(results, rendered)
    else:
        text = _render_markdown(results, rendered)
    path.write_text(text, encoding="utf-8")
    return path
