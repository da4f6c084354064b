import pandas as pd
import pytest

import eventstudy as es


def test_dask_backend_through_the_factory(prices_dir):
    events = ["2025-05-12-geneva-joint-statement", "2025-06-05-trump-xi-call"]
    local = es.run_event_study(events, data=prices_dir)
    dask = es.run_event_study(events, data=prices_dir, backend="dask")
    pd.testing.assert_frame_equal(local.cars, dask.cars)
    pd.testing.assert_frame_equal(local.params, dask.params)


def test_results_remember_their_price_source(prices_dir, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    res = es.run_event_study("2025-06-05", assets=["XLK"], data=prices_dir)
    assert isinstance(res.data_source, es.CSVDirectoryProvider)
    assert res.data_source.path == prices_dir
    # No environment fallback needed: the price path reads from the study's own source.
    monkeypatch.setenv("EVENTSTUDY_DATA", "/nonexistent")
    ax = res.plot_price_path(annotate_catalog=False)
    assert len(ax.get_lines()) >= 2


@pytest.mark.parametrize("kind", ["prices", "returns"])
@pytest.mark.parametrize("blocks", [1, 2])
def test_provider_and_callers_frame_do_not_share_writes(kind, blocks):
    """The provider validates without a deep copy; neither side sees the other's edits, nor
    the provider edits to a frame it returned (one block of values, or columns in two)."""
    from eventstudy.data.base import DataFrameProvider

    idx = pd.bdate_range("2024-01-01", periods=5)
    frame = pd.DataFrame({"A": [1.0, 2.0, 3.0, 4.0, 5.0], "B": [2.0, 3.0, 4.0, 5.0, 6.0]},
                         index=idx)
    if blocks == 2:
        frame["C"] = [3.0, 4.0, 5.0, 6.0, 7.0]  # a column added later is a block of its own
    provider = DataFrameProvider(frame, kind=kind)
    frame.iloc[0, 0] = 99.0
    assert provider.frame.iloc[0, 0] == 1.0
    provider.frame.iloc[1, 1] = 77.0
    assert frame.iloc[1, 1] == 3.0
    for tickers in (list(provider.frame.columns), ["B", "A"]):
        returned = provider.get_prices(tickers)
        returned.iloc[2, 0] = -5.0
        assert provider.frame.iloc[2].tolist() == frame.iloc[2].tolist()


def test_events_on_the_same_session_are_flagged(prices_dir):
    """A Saturday announcement and the Monday after both align to Monday's session."""
    events = [es.Event(id="sat", when="2025-06-07", name="Saturday"),
              es.Event(id="mon", when="2025-06-09", name="Monday"),
              es.Event(id="thu", when="2025-06-05", name="Thursday")]
    with pytest.warns(es.DataWarning, match=r"same day 0: sat, mon \(2025-06-09\)"):
        res = es.run_event_study(events, assets=["XLK"], data=prices_dir)
    table = res.events.set_index("event_id")["same_day0_as"]
    assert table.to_dict() == {"sat": "mon", "mon": "sat", "thu": ""}
