import pandas as pd

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
