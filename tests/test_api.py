import pandas as pd

import eventstudy as es


def test_dask_backend_through_the_factory(prices_dir):
    events = ["2025-05-12-geneva-joint-statement", "2025-06-05-trump-xi-call"]
    local = es.run_event_study(events, data=prices_dir)
    dask = es.run_event_study(events, data=prices_dir, backend="dask")
    pd.testing.assert_frame_equal(local.cars, dask.cars)
    pd.testing.assert_frame_equal(local.params, dask.params)
