"""Figures: what each draws is checked against numbers computed here, not read off the code.

Band widths are rebuilt from ``car_path_var`` and scipy quantiles; CAR paths from the ``ars``
table; rebased prices from the snapshot CSVs.
"""

from __future__ import annotations

import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import TwoSlopeNorm
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter

import eventstudy as es
from eventstudy import plotting
from eventstudy.exceptions import DependencyError, SpecificationError, WindowError

EVENT = "2025-06-05-trump-xi-call"
EVENTS = ["2025-05-12-geneva-joint-statement", EVENT, "2019-05-05-trump-tweets-tariff-hike-to-25"]


@pytest.fixture(scope="module")
def res(prices_dir):
    return es.run_event_study(EVENT, data=prices_dir)


@pytest.fixture(scope="module")
def multi(prices_dir):
    return es.run_event_study(EVENTS, data=prices_dir)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _row(results, asset, event_id=EVENT):
    keys = results.panel.keys
    return int(np.flatnonzero((keys["asset"] == asset) & (keys["event_id"] == event_id))[0])


def _band(ax):
    bands = [c for c in ax.collections if isinstance(c, PolyCollection) and c.get_gid() == "band"]
    assert len(bands) == 1
    return bands[0].get_paths()[0].vertices


def _half_width_at(vertices, day):
    ys = vertices[np.isclose(vertices[:, 0], day), 1]
    return (ys.max() - ys.min()) / 2


def _by_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


# --- plot_car ---------------------------------------------------------------------------------
@pytest.mark.parametrize("level", [0.90, 0.95, 0.99])
def test_car_band_is_t_quantile_times_sqrt_car_path_var(res, level):
    ax = plotting.plot_car(res, "XLY", level=level)
    row = _row(res, "XLY")
    df = res.panel.nobs[row] - res.panel.k[row]
    var = res.panel.car_path_var(-10, 10)[row]
    vertices = _band(ax)
    for day in (-10, 0, 1, 10):
        expected = stats.t.ppf((1 + level) / 2, df) * np.sqrt(var[day + 10])
        assert _half_width_at(vertices, day) == pytest.approx(expected, rel=1e-10)


def test_car_band_uses_normal_quantile_under_estudy2(prices_dir):
    res2 = es.run_event_study(EVENT, data=prices_dir, conventions="estudy2", assets="XLY,XLK")
    ax = plotting.plot_car(res2, "XLK", level=0.95)
    row = _row(res2, "XLK")
    expected = stats.norm.ppf(0.975) * np.sqrt(res2.panel.car_path_var(-10, 10)[row, 10])
    assert _half_width_at(_band(ax), 0) == pytest.approx(expected, rel=1e-10)
    assert "normal" in ax.get_legend().get_texts()[0].get_text()


def test_car_band_at_level_excludes_zero_iff_t_test_rejects(res):
    # The band of the CAR from day 0 through day 0 is the CI of CAR(0, 0).
    cars = res.cars.query("start == 0 and end == 0").set_index("asset")
    for asset in ("XLY", "XLK"):
        ax = plotting.plot_car(res, asset, window=(0, 0), level=0.95)
        ys = _band(ax)[:, 1]
        assert (ys.min() > 0 or ys.max() < 0) == (cars.at[asset, "pvalue"] < 0.05)


def test_car_line_is_cumulated_ars_and_axes_are_labelled(res):
    ax = plotting.plot_car(res, "XLY")
    line = _by_gid(ax, "car")[0]
    ars = res.ars.query("asset == 'XLY'").sort_values("tau")
    np.testing.assert_allclose(line.get_xdata(), ars["tau"])
    np.testing.assert_allclose(line.get_ydata(), ars["ar"].cumsum(), rtol=1e-12)
    day0 = _by_gid(ax, "day0")
    assert len(day0) == 1 and list(day0[0].get_xdata()) == [0, 0]
    assert isinstance(ax.yaxis.get_major_formatter(), PercentFormatter)
    ax.figure.canvas.draw()
    assert all(t.get_text().endswith("%") for t in ax.get_yticklabels() if t.get_text())
    assert "day 0" in ax.get_xlabel() and "CAR" in ax.get_ylabel()
    title = ax.get_title(loc="left")
    assert "Trump-Xi phone call" in title and "2025-06-05" in title
    assert "Consumer Discretionary (XLY)" in title


def test_car_draws_on_given_axes_and_validates(res, multi):
    _fig, ax = plt.subplots()
    assert plotting.plot_car(res, "XLK", ax=ax) is ax
    with pytest.raises(SpecificationError, match="asset='NOPE'"):
        plotting.plot_car(res, "NOPE")
    with pytest.raises(SpecificationError, match="level"):
        plotting.plot_car(res, "XLK", level=95)
    with pytest.raises(SpecificationError, match="pass event_id"):
        plotting.plot_car(multi, "XLK")
    with pytest.raises(SpecificationError, match="not in the results"):
        plotting.plot_car(res, "XLK", event_id="2020-01-01")
    with pytest.raises(WindowError):
        plotting.plot_car(res, "XLK", window=(-20, 0))


def test_car_grid_has_one_panel_per_asset_with_shared_y(res):
    fig = plotting.plot_car_grid(res, level=0.9)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == res.panel.keys["asset"].nunique() == 12
    assert len({ax.get_ylim() for ax in panels}) == 1
    titles = [ax.get_title(loc="left") for ax in panels]
    assert titles[0] == "S&P 500 (SPY)" and "Utilities (XLU)" in titles
    assert "90%" in fig.get_suptitle() and "Trump-Xi phone call" in fig.get_suptitle()
    row = _row(res, "XLU")
    expected = stats.t.ppf(0.95, res.panel.df[row]) * np.sqrt(
        res.panel.car_path_var(-10, 10)[row, 15])
    assert _half_width_at(_band(panels[titles.index("Utilities (XLU)")]), 5) == pytest.approx(
        expected, rel=1e-10)
    given = plt.figure()
    assert plotting.plot_car_grid(res, fig=given, ncols=6) is given
    assert given.axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 6)


# --- plot_sector_bars -------------------------------------------------------------------------
@pytest.mark.parametrize(("adjusted", "column"), [(None, "pvalue"), ("holm", "pvalue_holm"),
                                                  ("bh", "pvalue_bh")])
def test_sector_bars_sorted_marked_and_with_t_intervals(res, adjusted, column):
    ax = plotting.plot_sector_bars(res, (0, 0), alpha=0.10, adjusted=adjusted)
    bars = ax.patches[: len(ax.get_yticklabels())]
    assert len(bars) == 12 == res.panel.keys["asset"].nunique()
    widths = np.array([b.get_width() for b in bars])
    assert np.all(np.diff(widths) >= 0)
    cars = res.cars.query("start == 0 and end == 0").sort_values("car")
    np.testing.assert_allclose(widths, cars["car"])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    for ticker, sector in es.SECTOR_NAMES.items():
        assert f"{sector} ({ticker})" in labels
    hatched = [bool(b.get_hatch()) for b in bars]
    assert hatched == list(cars[column] < 0.10)
    # Interval half-widths: t quantile with each asset's df times the CAR standard error.
    (ci,) = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_gid() == "ci"]
    halves = [abs(seg[1][0] - seg[0][0]) / 2 for seg in ci.get_segments()]
    df = {a: res.panel.df[_row(res, a)] for a in cars["asset"]}
    expected = [stats.t.ppf(0.975, df[a]) * se for a, se in zip(cars["asset"], cars["std_error"],
                                                                  strict=True)]
    np.testing.assert_allclose(halves, expected, rtol=1e-10)
    assert isinstance(ax.xaxis.get_major_formatter(), PercentFormatter)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("p < 0.1") and "95% CI" in legend[2]


def test_sector_bars_interval_and_marking_agree_at_matching_levels(res):
    ax = plotting.plot_sector_bars(res, (-1, 1), level=0.95, alpha=0.05)
    (ci,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    bars = ax.patches[:12]
    for bar, seg in zip(bars, ci.get_segments(), strict=True):
        lo, hi = sorted([seg[0][0], seg[1][0]])
        assert bool(bar.get_hatch()) == (lo > 0 or hi < 0)


def test_sector_bars_rejects_unknown_adjustment(res):
    with pytest.raises(SpecificationError, match="adjusted"):
        plotting.plot_sector_bars(res, adjusted="bonferroni")


# --- heatmaps ---------------------------------------------------------------------------------
def test_ar_heatmap_cells_norm_and_annotations(res):
    ax = plotting.plot_ar_heatmap(res)
    (image,) = ax.get_images()
    rows = np.flatnonzero(res.panel.keys["event_id"] == EVENT)
    np.testing.assert_allclose(image.get_array(), res.panel.ar[rows])
    norm = image.norm
    assert isinstance(norm, TwoSlopeNorm) and norm.vcenter == 0 and norm.vmin == -norm.vmax
    assert norm.vmax == pytest.approx(np.abs(res.panel.ar[rows]).max())
    cells = _by_gid(ax, "cell")
    assert len(cells) == 12 * 21
    xly_day0 = res.ars.query("asset == 'XLY' and tau == 0")["ar"].iloc[0]
    assert f"{100 * xly_day0:.1f}".replace("-", "\N{MINUS SIGN}") in {c.get_text() for c in cells}
    assert any(isinstance(p, Rectangle) and p.get_gid() == "day0" for p in ax.patches)
    assert not _by_gid(plotting.plot_ar_heatmap(res, annotate=False), "cell")


def test_car_heatmap_is_event_by_asset_in_date_order(multi):
    ax = plotting.plot_car_heatmap(multi, window=(-1, 1))
    (image,) = ax.get_images()
    events = multi.events.sort_values("day0")
    assets = list(dict.fromkeys(multi.panel.keys["asset"]))
    expected = (multi.cars.query("start == -1 and end == 1")
                .pivot(index="event_id", columns="asset", values="car")
                .loc[events["event_id"], assets])
    np.testing.assert_allclose(image.get_array(), expected.to_numpy())
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows[0].startswith("2019-05-06") and rows[-1].startswith("2025-06-05")
    assert isinstance(image.norm, TwoSlopeNorm) and image.norm.vcenter == 0
    assert len(_by_gid(ax, "cell")) == len(events) * len(assets)


# --- plot_price_path --------------------------------------------------------------------------
def test_price_path_rebased_on_day_minus_1_with_catalog_events(res, prices_dir, snapshot_closes):
    ax = plotting.plot_price_path(res, assets=["XLK"], data=prices_dir)
    lines = {line.get_gid(): line for line in ax.get_lines()}
    base = pd.Timestamp("2025-06-04")  # day -1
    for ticker in ("SPY", "XLK"):
        closes = snapshot_closes(ticker)
        dates = pd.DatetimeIndex(lines[ticker].get_xdata())
        expected = 100 * closes.loc[dates] / closes.loc[base]
        np.testing.assert_allclose(lines[ticker].get_ydata(), expected, rtol=1e-12)
        assert len(dates) == 21 and dates[10] == pd.Timestamp("2025-06-05")
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    catalog = es.load_catalog()
    for eid in ("2025-05-30-trump-china-totally-violated", "2025-06-04-trump-xi-very-tough-post",
                "2025-06-11-trump-deal-with-china-done"):
        assert catalog.get(eid).name in legend
    assert len(_by_gid(ax, "confounder")) == 3
    assert [t.get_text() for t in _by_gid(ax, "confounder-label")] == ["A", "B", "C"]
    assert _by_gid(ax, "day0")[0].get_xdata()[0] == pd.Timestamp("2025-06-05")


def test_price_path_default_assets_are_the_day0_extremes(res, prices_dir):
    ax = plotting.plot_price_path(res, data=prices_dir, annotate_catalog=False)
    day0 = res.cars.query("start == 0 and end == 0 and asset != 'SPY'").sort_values("car")
    gids = [line.get_gid() for line in ax.get_lines() if line.get_gid() not in ("day0", "zero")]
    assert gids[:3] == ["SPY", day0["asset"].iloc[0], day0["asset"].iloc[-1]]
    assert not _by_gid(ax, "confounder")


def test_price_path_from_a_price_frame(snapshot_closes):
    frame = pd.concat([snapshot_closes("SPY"), snapshot_closes("XLE")], axis=1).loc["2025"]
    ax = plotting.plot_price_path(frame, event_id=EVENT, window=(0, 5))
    spy = next(line for line in ax.get_lines() if line.get_gid() == "SPY")
    # The window starts after day -1, so prices are rebased on its first day.
    assert spy.get_ydata()[0] == pytest.approx(100.0)
    with pytest.raises(SpecificationError, match="event_id"):
        plotting.plot_price_path(frame)


# --- plot_caar --------------------------------------------------------------------------------
def _car_paths(results):
    wide = results.ars.pivot_table(index=["event_id", "asset"], columns="tau", values="ar")
    return wide.cumsum(axis=1)


def test_caar_is_mean_car_path_with_cross_sectional_t_band(multi):
    ax = plotting.plot_caar(multi, level=0.9)
    paths = _car_paths(multi)
    (line,) = _by_gid(ax, "caar")
    np.testing.assert_allclose(line.get_ydata(), paths.mean(axis=0), rtol=1e-10)
    n = len(paths)
    for day in (-10, 0, 3):
        s = paths[day].std(ddof=1)
        expected = stats.t.ppf(0.95, n - 1) * s / np.sqrt(n)
        assert _half_width_at(_band(ax), day) == pytest.approx(expected, rel=1e-10)
    assert "N=36" in ax.get_legend().get_texts()[0].get_text()


def test_caar_by_group_and_asset_filter(multi):
    ax = plotting.plot_caar(multi, window=(-1, 5), group_by="direction",
                            assets=list(es.SECTOR_ETFS))
    labels = sorted(t.get_text() for t in ax.get_legend().get_texts())
    assert labels == ["de-escalation (N=22)", "escalation (N=11)"]
    ars = multi.ars.pivot_table(index=["event_id", "asset"], columns="tau", values="ar")
    paths = ars.loc[:, -1:5].cumsum(axis=1)
    escalation = paths.loc[("2019-05-05-trump-tweets-tariff-hike-to-25", list(es.SECTOR_ETFS)), :]
    line = next(c for c in _by_gid(ax, "caar") if c.get_label().startswith("escalation"))
    np.testing.assert_allclose(line.get_ydata(), escalation.mean(axis=0), rtol=1e-10)
    with pytest.raises(SpecificationError, match="group_by"):
        plotting.plot_caar(multi, group_by="sector")


# --- style, output, dependencies ----------------------------------------------------------------
def test_rcparams_unchanged_and_style_kept_when_drawn_later(res, multi, prices_dir):
    before = dict(matplotlib.rcParams)
    axes = [
        plotting.plot_car(res, "XLK"),
        plotting.plot_car_grid(res).axes[8],  # bottom left: both axes labelled
        plotting.plot_sector_bars(res),
        plotting.plot_ar_heatmap(res),
        plotting.plot_car_heatmap(multi),
        plotting.plot_price_path(res, data=prices_dir),
        plotting.plot_caar(multi),
    ]
    assert dict(matplotlib.rcParams) == before
    for ax in axes:
        ax.figure.canvas.draw()  # outside the style context
        assert ax.get_xticklabels()[0].get_fontsize() == plotting.STYLE["xtick.labelsize"]
        assert not ax.spines["top"].get_visible()


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"),
                                               (".pdf", b"%PDF")])
def test_save_figure_formats(res, tmp_path, suffix, magic):
    ax = plotting.plot_car(res, "XLK")
    path = plotting.save_figure(ax, tmp_path / "sub" / f"car{suffix}")
    assert path.read_bytes().startswith(magic)


def test_save_figure_rejects_other_suffixes(res, tmp_path):
    with pytest.raises(SpecificationError, match=r"\.png, \.svg or \.pdf"):
        plotting.save_figure(plotting.plot_car(res, "XLK").figure, tmp_path / "car.jpg")


def test_missing_matplotlib_names_the_function(res, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(DependencyError, match=r"plot_sector_bars\(\) needs matplotlib"):
        plotting.plot_sector_bars(res)


def test_results_methods_delegate(res, multi, prices_dir):
    assert res.plot_car("XLK", level=0.9).get_title(loc="left") == plotting.plot_car(
        res, "XLK", level=0.9).get_title(loc="left")
    assert len(res.plot_car_grid().axes) == 12
    assert len(res.plot_sector_bars((0, 0)).get_yticklabels()) == 12
    assert res.plot_ar_heatmap().get_images()
    assert multi.plot_car_heatmap((0, 0)).get_images()
    assert res.plot_price_path(data=prices_dir).get_lines()
    assert multi.plot_caar(group_by="event_id").get_legend()
