"""Placebo (pseudo-event) studies: how often each test rejects when nothing happened.

:func:`placebo_study` draws random session dates from the data (seeded), treats each as an
event for all assets at once (so abnormal returns are cross-correlated exactly as in a real
political event, the case Kolari & Pynnönen 2010 address), runs the study and the test
battery per date, and reports each test's rejection rate at the chosen levels. A
well-specified test rejects at its nominal level.

References
----------
Brown, S. J., & Warner, J. B. (1985). Using daily stock returns: the case of event studies.
*Journal of Financial Economics*, 14(1), 3–31.

Kolari, J. W., & Pynnönen, S. (2010). Event study testing with cross-sectional correlation
of abnormal returns. *Review of Financial Studies*, 23(11), 3996–4025.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventstudy.exceptions import DataCoverageError

__all__ = ["PlaceboResults", "placebo_study"]


@dataclass(frozen=True)
class PlaceboResults:
    """Outcome of :func:`placebo_study`.

    Attributes
    ----------
    rates : pandas.DataFrame
        ``test, start, end, level, rate, mc_se, reps, n_na`` (see
        :func:`~eventstudy.inference.rejection_rates`).
    tests : pandas.DataFrame
        Every test result of every placebo date (``event_id`` column = the date).
    dates : pandas.DatetimeIndex
        The pseudo-event dates drawn.
    windows : tuple of (int, int)
        The CAR windows tested.
    """

    rates: pd.DataFrame
    tests: pd.DataFrame
    dates: pd.DatetimeIndex
    windows: tuple[tuple[int, int], ...]

    def table(self, level: float = 0.05) -> pd.DataFrame:
        """Rejection rates (percent) at ``level``: tests x CAR windows."""
        part = self.rates[np.isclose(self.rates["level"], level)]
        wanted = pd.MultiIndex.from_tuples(self.windows)
        part = part[pd.MultiIndex.from_arrays([part["start"], part["end"]]).isin(wanted)]
        wide = part.assign(window=[f"({s},{e})" for s, e in zip(part["start"], part["end"],
                                                               strict=True)])
        order = [f"({s},{e})" for s, e in self.windows]
        rates = wide.pivot(index="test", columns="window", values="rate")[order]
        return (100 * rates).round(1)


def placebo_study(
    n_dates: int = 1000,
    assets: str | Sequence[str] = "sectors",
    *,
    start: str | None = None,
    end: str | None = None,
    windows: Sequence[tuple[int, int]] = ((0, 0), (-1, 1), (0, 1)),
    tests: Sequence[str] | None = None,
    levels: Sequence[float] = (0.01, 0.05, 0.10),
    include_market: bool = False,
    random_state: int = 0,
    **study_options: object,
) -> PlaceboResults:
    """Rejection rates of the test battery on random pseudo-event dates from real data.

    Parameters
    ----------
    n_dates : int, default 1000
        Number of distinct pseudo-event sessions, drawn without replacement.
    assets : "sectors" or sequence of str
        Assets studied on every date (same-date clustering).
    start, end : str, optional
        Range of sessions to draw from; defaults to the whole span in which every asset has
        data for the estimation and event windows.
    windows : sequence of (int, int)
        CAR windows tested (every event-window day is tested as well).
    tests : sequence of str, optional
        Tests to run (default: all of :data:`~eventstudy.inference.TESTS`).
    levels : sequence of float
        Significance levels.
    include_market : bool, default False
        Whether the market asset (modelled by the constant-mean model) enters the
        cross-section; by default the cross-section is the other assets.
    random_state : int, default 0
        Seed of the date draw and of the bootstrap test.
    **study_options
        Passed to :class:`~eventstudy.EventStudy` (``market``, ``model``, ``data``,
        ``estimation_window``, ``event_window``, ``conventions``, ...).

    Returns
    -------
    PlaceboResults
    """
    from eventstudy.estimation import EventStudy
    from eventstudy.inference.battery import run_tests
    from eventstudy.inference.calibration import rejection_rates

    probe = EventStudy("2000-01-03", assets, car_windows=list(windows),
                       **study_options)  # type: ignore[arg-type]
    sessions = _eligible_sessions(probe, start, end)
    if len(sessions) < n_dates:
        raise DataCoverageError(
            f"only {len(sessions)} eligible sessions between {start} and {end}; "
            f"ask for fewer than n_dates={n_dates} or widen the range."
        )
    rng = np.random.default_rng(random_state)
    dates = pd.DatetimeIndex(np.sort(rng.choice(sessions.to_numpy(), n_dates, replace=False)))
    study = EventStudy([str(d.date()) for d in dates], assets, car_windows=list(windows),
                       **study_options)  # type: ignore[arg-type]
    panel = study.fit().panel
    if not include_market:
        panel = panel.subset((panel.keys["asset"] != study.market).to_numpy())
    table = run_tests(panel, list(windows), tests=tests, group_by="event_id",
                      random_state=random_state, conventions=study.conventions)
    rates = rejection_rates(table, levels)
    return PlaceboResults(rates=rates, tests=table, dates=dates,
                          windows=tuple(tuple(w) for w in windows))


def _eligible_sessions(study, start: str | None, end: str | None) -> pd.DatetimeIndex:
    """Sessions where every asset has data for both windows (from the data's coverage)."""
    from eventstudy.data.base import resolve_provider

    provider = resolve_provider(study.data, study.data_kind)
    tickers = list(dict.fromkeys([*study.assets, study.market]))
    frame = provider.get_prices(tickers, start=None, end=None)
    first = max(frame[t].first_valid_index() for t in tickers)
    last = min(frame[t].last_valid_index() for t in tickers)
    cal = study.calendar
    lo, hi = study.windows.span
    earliest = cal.offset(first, -lo + 1)  # one extra session for the first return
    latest = cal.offset(last, -hi)
    if start is not None:
        earliest = max(earliest, pd.Timestamp(start))
    if end is not None:
        latest = min(latest, pd.Timestamp(end))
    return cal.sessions_in_range(earliest, latest)
