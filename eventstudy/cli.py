"""The ``eventstudy`` command: run a study, list the event catalog, show the data coverage.

Every error the library raises (:class:`~eventstudy.exceptions.EventStudyError`) is printed as
``error: <message>`` on stderr with exit status 2, the status argparse uses for bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from eventstudy.exceptions import EventStudyError, EventStudyWarning, SpecificationError

if TYPE_CHECKING:
    from eventstudy.results import EventStudyResults

__all__ = ["OUTPUT_FORMATS", "build_parser", "main"]

OUTPUT_FORMATS: tuple[str, ...] = ("html", "md", "csv", "png")

_EXIT_ERROR = 2

_EPILOG = """\
examples:
  eventstudy run 2025-06-05-trump-xi-call --out out
  eventstudy run 2025-05-12-geneva-joint-statement 2025-06-05-trump-xi-call \\
      --car 0 0 --car -1 1 --exclude catalog --out out --format html,csv
  eventstudy run 2025-04-09 --assets XLK,XLE,SMH --model market_adjusted \\
      --data ../shared/data/prices
  eventstudy events --tag escalation
  eventstudy data --data ../shared/data/prices

Prices come from --data, else the folder in $EVENTSTUDY_DATA, else Yahoo Finance through
the disk cache. Errors are printed as 'error: ...' with exit status 2.
"""

_RUN_EPILOG = """\
examples:
  eventstudy run 2025-06-05-trump-xi-call --out out
  eventstudy run 2025-06-05-trump-xi-call --window -5 5 --car 0 0 --car 0 2 --format md
  eventstudy run "2025-04-02 16:00" --assets SPY,XLK,SMH --model market_adjusted
  eventstudy run 2019-05-05-trump-tweets-tariff-hike-to-25 --exclude 2019-05-13,2019-08-05

Writes to --out: report.html (one self-contained file), report.md with PNG figures beside
it, CSV tables (ars, cars, params, events, dropped) and PNG figures (CAR grid, sector bars
for CAR(0,0) and CAR(-1,1), AR heatmap, price path; CAR heatmap and CAAR for several events).
"""


# --- parser -----------------------------------------------------------------------------------
def _formats(text: str) -> list[str]:
    """``--format html,csv`` as a list, checked against :data:`OUTPUT_FORMATS`."""
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in OUTPUT_FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(
            f"{text!r}: choose from {', '.join(OUTPUT_FORMATS)} (comma-separated)"
        )
    return list(dict.fromkeys(formats))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``eventstudy`` command (subcommands run, events, data)."""
    from eventstudy.models import MODEL_NAMES

    parser = argparse.ArgumentParser(
        prog="eventstudy",
        description="Measure how markets react to dated political events.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from eventstudy import __version__

    parser.add_argument("--version", action="version", version=f"eventstudy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run an event study, print the sector table, write report/tables/figures",
        description="Run an event study, print the CAR table of each event and, with\n"
        "--out, write the report, CSV tables and figures.",
        epilog=_RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "events", nargs="+", metavar="EVENT",
        help="catalog id (see 'eventstudy events') or date 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM' "
        "(New York time)",
    )
    run.add_argument(
        "--assets", default="sectors",
        help="'sectors' (market + 11 SPDR sector ETFs) or comma-separated tickers, e.g. "
        "XLK,XLE (default: sectors)",
    )
    run.add_argument("--market", default="SPY", help="market proxy ticker (default: SPY)")
    run.add_argument(
        "--model", default="market",
        help=f"normal-return model: {', '.join(MODEL_NAMES)} (default: market)",
    )
    run.add_argument(
        "--estimation", type=int, nargs=2, default=(-250, -11), metavar=("START", "END"),
        help="estimation window in trading days relative to day 0 (default: -250 -11)",
    )
    run.add_argument(
        "--window", type=int, nargs=2, default=(-10, 10), metavar=("START", "END"),
        help="event window in trading days relative to day 0 (default: -10 10)",
    )
    run.add_argument(
        "--car", type=int, nargs=2, action="append", metavar=("START", "END"),
        help="CAR window inside the event window; repeat for several "
        "(default: 0 0, -1 1, 0 1, -5 5, -10 10)",
    )
    run.add_argument(
        "--data", metavar="PATH",
        help="folder of <TICKER>.csv price files (default: $EVENTSTUDY_DATA, else Yahoo "
        "Finance with a disk cache)",
    )
    run.add_argument(
        "--out", metavar="DIR", type=Path,
        help="folder for the report, tables and figures (default: print only)",
    )
    run.add_argument(
        "--format", type=_formats, default=["html", "csv", "png"], metavar="LIST",
        help=f"what to write to --out, comma-separated from {','.join(OUTPUT_FORMATS)} "
        "(default: html,csv,png)",
    )
    run.add_argument(
        "--alignment", default="next", choices=("next", "previous", "raise"),
        help="day 0 of a date-only event on a weekend or holiday: next or previous "
        "session, or raise an error (default: next)",
    )
    run.add_argument(
        "--exclude", metavar="catalog|DATES",
        help="remove days from every estimation window: 'catalog' (all other catalog "
        "events) or comma-separated dates",
    )
    run.set_defaults(func=_run)

    events = commands.add_parser(
        "events", help="list the built-in catalog of US-China trade-policy events",
        description="List the built-in event catalog (ids usable with 'eventstudy run').",
        epilog="example:\n  eventstudy events --tag escalation",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    events.add_argument("--tag", help="only events with this tag, e.g. escalation, tariffs")
    events.set_defaults(func=_events)

    data = commands.add_parser(
        "data", help="show which tickers and dates the data source covers",
        description="Show the tickers and date ranges of the price source.",
        epilog="example:\n  eventstudy data --data ../shared/data/prices",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data.add_argument(
        "--data", metavar="PATH",
        help="folder of <TICKER>.csv price files (default: $EVENTSTUDY_DATA, else the "
        "Yahoo disk cache)",
    )
    data.set_defaults(func=_data)
    return parser


# --- commands ---------------------------------------------------------------------------------
def _data_source(path: str | None) -> str | None:
    """The price folder to use; passing it explicitly records it in the results' settings."""
    from eventstudy.data.base import DATA_ENV_VAR

    return path or os.environ.get(DATA_ENV_VAR) or None


def _run(args: argparse.Namespace) -> int:
    import eventstudy as es
    from eventstudy.universe import resolve_assets

    data = _data_source(args.data)
    if data is None:
        # One yfinance call fetches everything; say what is happening while it runs.
        n = len(resolve_assets(args.assets, args.market))
        print(f"fetching prices of {n} tickers from Yahoo Finance (disk-cached) ...",
              file=sys.stderr, flush=True)
    exclude = args.exclude
    if exclude and exclude != "catalog":
        exclude = [d.strip() for d in exclude.split(",") if d.strip()]
    options = {"car_windows": [tuple(w) for w in args.car]} if args.car else {}
    results = es.run_event_study(
        args.events,
        assets=args.assets,
        market=args.market,
        model=args.model,
        estimation_window=tuple(args.estimation),
        event_window=tuple(args.window),
        data=data,
        alignment=args.alignment,
        exclude=exclude,
        **options,
    )
    print(results.summary())
    if args.out is not None:
        report = _write_outputs(results, args.out, args.format, data)
        print(f"wrote {', '.join(args.format)} output to {args.out.resolve()}")
        if report is not None:
            print(f"report: {report.resolve()}")
    return 0


def _write_outputs(
    results: EventStudyResults, out: Path, formats: list[str], data: str | None
) -> Path | None:
    """Write the chosen formats to ``out``; return the report file (HTML preferred)."""
    import matplotlib

    from eventstudy.plotting import save_figure
    from eventstudy.report import report_figures, write_report

    # A command draws to files only; Agg needs no display.
    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    if "csv" in formats:
        results.to_csv(out)
    reports = []
    # The reports save the figures as PNG in ``out`` while drawing them (the Markdown one
    # always does), so they are drawn once.
    if "md" in formats:
        reports.append(write_report(results, out / "report.md", "md", data=data))
    if "html" in formats:
        png_dir = out if "png" in formats and "md" not in formats else None
        reports.insert(0, write_report(results, out / "report.html", "html", data=data,
                                       figure_dir=png_dir))
    if "png" in formats and not reports:
        for item in report_figures(results, data):
            if item.figure is not None:
                save_figure(item.figure, out / f"{item.name}.png")
    return reports[0] if reports else None


def _events(args: argparse.Namespace) -> int:
    import pandas as pd

    from eventstudy.events import load_catalog

    catalog = load_catalog()
    chosen = catalog.filter(args.tag)
    if not len(chosen):
        tags = sorted({t for e in catalog for t in e.tags})
        raise SpecificationError(
            f"no catalog event is tagged {args.tag!r}; tags: {', '.join(tags)}."
        )
    frame = chosen.to_frame()
    # Timed events as "2025-04-02 16:00 EDT" rather than a full ISO timestamp.
    frame["when"] = [
        e.when.strftime("%Y-%m-%d %H:%M %Z") if isinstance(e.when, pd.Timestamp) else str(e.when)
        for e in chosen
    ]
    # Left-aligned columns: pandas right-aligns text, which makes ids hard to scan.
    columns = ["id", "when", "tags", "name"]
    widths = {c: max(len(c), *(len(v) for v in frame[c])) for c in columns}
    for row in [dict(zip(columns, columns, strict=True)), *frame[columns].to_dict("records")]:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())
    print(f"\n{len(chosen)} of {len(catalog)} catalog events; run one with "
          f"'eventstudy run {chosen[0].id}'.")
    return 0


def _data(args: argparse.Namespace) -> int:
    from eventstudy.data import CSVDirectoryProvider, resolve_provider

    path = _data_source(args.data)
    if path is not None:
        provider = CSVDirectoryProvider(path)
        table = provider.coverage()
        print(f"source: {provider.path.resolve()}")
    else:
        provider = resolve_provider(None)
        print(f"source: {provider!r}")
        info = provider.info()  # type: ignore[attr-defined]
        if info.empty:
            print("the cache is empty: prices are downloaded from Yahoo Finance on first use.")
            return 0
        table = info.set_index("ticker")[["first", "last", "rows", "fetched_at"]]
    for col in ("first", "last"):
        table[col] = table[col].dt.strftime("%Y-%m-%d")
    print(table.to_string())
    print(f"\n{len(table)} tickers")
    return 0


# --- entry point ------------------------------------------------------------------------------
def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Library warnings as ``warning: <message>``; others in Python's usual format."""
    stream = file or sys.stderr
    if issubclass(category, EventStudyWarning):
        print(f"warning: {message}", file=stream)
    else:
        stream.write(warnings.formatwarning(message, category, filename, lineno, line))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``eventstudy`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on bad arguments or an
        :class:`~eventstudy.exceptions.EventStudyError`.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage and 0 after --help
        return int(exc.code or 0)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return int(args.func(args))
        except EventStudyError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return _EXIT_ERROR
