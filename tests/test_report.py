"""Reports: the HTML file is self-contained and holds every table; Markdown links real PNGs."""

from __future__ import annotations

import base64
import html
import re
from html.parser import HTMLParser

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt

import eventstudy as es
from eventstudy.exceptions import DataWarning, SpecificationError
from eventstudy.report import report_figures, write_report

EVENT = "2025-06-05-trump-xi-call"
FIGURES = [
    f"car_grid_{EVENT}",
    f"sector_bars_{EVENT}_0_0",
    f"sector_bars_{EVENT}_-1_1",
    f"ar_heatmap_{EVENT}",
    f"price_path_{EVENT}",
]


@pytest.fixture(scope="module")
def res(prices_dir):
    # Excluding the other catalog events gives a non-empty dropped list to report; three
    # assets keep the figures small and the tests fast.
    return es.run_event_study(EVENT, assets="XLK,XLE,XLY", data=prices_dir, exclude="catalog")


@pytest.fixture(scope="module")
def html_text(res, prices_dir, tmp_path_factory):
    path = write_report(res, tmp_path_factory.mktemp("html") / "report.html", data=prices_dir)
    return path.read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


class _Tags(HTMLParser):
    """Counts opening and closing tags, and collects ids and external references."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: dict[str, int] = {}
        self.closed: dict[str, int] = {}
        self.ids: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.opened[tag] = self.opened.get(tag, 0) + 1
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag in ("img", "script", "link") and (attrs.get("src") or attrs.get("href") or "")[
                :4] == "http":
            self.external.append(tag)

    def handle_endtag(self, tag):
        self.closed[tag] = self.closed.get(tag, 0) + 1


def test_html_is_self_contained_with_embedded_pngs(html_text):
    parser = _Tags()
    parser.feed(html_text)
    for tag in ("html", "body", "main", "section", "table", "tr", "figure", "details"):
        assert parser.opened.get(tag, 0) == parser.closed.get(tag, 0), tag
    assert parser.external == []
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html_text)
    assert len(images) == len(FIGURES)
    assert all(base64.b64decode(img).startswith(b"\x89PNG") for img in images)
    assert set(FIGURES) <= set(parser.ids)


def test_html_holds_tables_settings_conventions_events_and_dropped(res, html_text):
    # The CAR table of the event, from the summary.
    assert "Consumer Discretionary" in html_text and "CAR(-1,1) p(SQ)" in html_text
    assert "S&amp;P 500" not in html_text
    for setting, value in res.settings.items():
        assert f"<td>{setting}</td><td>{html.escape(str(value))}</td>" in html_text
    for setting in res.conventions["setting"]:
        assert f"<td>{setting}</td>" in html_text
    assert "CSVDirectoryProvider" in html_text  # data provenance
    event = res.events.iloc[0]
    assert f"<td>{event['rule']}</td>" in html_text
    for url in event["source"].split("|"):
        assert f'href="{url.strip()}"' in html_text
    dropped = res.dropped
    assert len(dropped) > 0
    for reason in dropped["reason"]:
        assert reason in html_text
    assert f"{len(dropped)} estimation-day row(s)" in html_text


def test_markdown_writes_pngs_beside_and_links_them(res, prices_dir, tmp_path):
    path = write_report(res, tmp_path / "report.md", format="md", data=prices_dir)
    text = path.read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links == [f"{name}.png" for name in FIGURES]
    for link in links:
        assert (tmp_path / link).read_bytes().startswith(b"\x89PNG")
    # Tables keep their shape: a row has as many unescaped pipes as its header.
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| event_id | name"))
    pipes = len(re.findall(r"(?<!\\)\|", lines[header]))
    assert len(re.findall(r"(?<!\\)\|", lines[header + 2])) == pipes
    for heading in ("## Events and alignment", "## Settings and conventions", "## Dropped data"):
        assert heading in text
    assert res.dropped["reason"].iloc[0] in text


def test_figure_dir_saves_the_embedded_pngs(res, prices_dir, tmp_path):
    path = write_report(res, tmp_path / "r.html", data=prices_dir, figure_dir=tmp_path / "png")
    text = path.read_text(encoding="utf-8")
    for name in FIGURES:
        png = (tmp_path / "png" / f"{name}.png").read_bytes()
        assert base64.b64encode(png).decode() in text


def test_without_figures_and_bad_format(res, tmp_path):
    text = write_report(res, tmp_path / "r.html", figures=False).read_text(encoding="utf-8")
    assert "data:image/png" not in text and "<table>" in text
    with pytest.raises(SpecificationError, match="format='pdf'"):
        write_report(res, tmp_path / "r.pdf", format="pdf")


def test_missing_price_data_is_noted_not_fatal(prices_dir, tmp_path):
    res = es.run_event_study(EVENT, assets="XLK,XLE", data=prices_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.warns(DataWarning, match="price_path"):
        items = [(i.name, i.figure is None, i.note) for i in report_figures(res, data=empty)]
    missing = [i for i in items if i[1]]
    assert [m[0] for m in missing] == [f"price_path_{EVENT}"]
    assert "no data for ticker" in missing[0][2]
    with pytest.warns(DataWarning):
        text = write_report(res, tmp_path / "r.html", data=empty).read_text(encoding="utf-8")
    assert 'class="note">price_path_' in text


def test_several_events_add_cross_event_figures(prices_dir, tmp_path):
    res = es.run_event_study([EVENT, "2025-05-12-geneva-joint-statement"], assets="XLK,XLE",
                             data=prices_dir)
    names = [i.name for i in report_figures(res, data=prices_dir)]
    assert names[-2:] == ["car_heatmap_-1_1", "caar"]
    assert len(names) == 2 * len(FIGURES) + 2
    assert not plt.get_fignums()  # every figure was closed after use
