"""Estimation and event windows, in trading days relative to day 0."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eventstudy._typing import WindowLike, check_window
from eventstudy.exceptions import WindowError

__all__ = ["DEFAULT_CAR_WINDOWS", "WindowSpec"]

DEFAULT_CAR_WINDOWS: tuple[WindowLike, ...] = ((0, 0), (-1, 1), (0, 1), (-5, 5), (-10, 10))


@dataclass(frozen=True)
class WindowSpec:
    """Where the model is fitted and where abnormal returns are measured.

    Parameters
    ----------
    estimation : (int, int), default (-250, -11)
        Estimation window, trading days relative to day 0, inclusive.
    event : (int, int), default (-10, 10)
        Event window, inclusive; must contain day 0 and not overlap the estimation window.
    car_windows : sequence of (int, int)
        Windows for CARs and BHARs; each inside the event window.
    min_estimation_obs : int, default 100
        Fewest non-missing estimation-window returns an asset-event needs.
    """

    estimation: WindowLike = (-250, -11)
    event: WindowLike = (-10, 10)
    car_windows: tuple[WindowLike, ...] = DEFAULT_CAR_WINDOWS
    min_estimation_obs: int = 100

    def __post_init__(self) -> None:
        est = check_window("estimation_window", self.estimation)
        evt = check_window("event_window", self.event)
        object.__setattr__(self, "estimation", est)
        object.__setattr__(self, "event", evt)
        if not evt[0] <= 0 <= evt[1]:
            raise WindowError(f"event_window={evt} must contain day 0.")
        if est[1] >= evt[0] and est[0] <= evt[1]:
            raise WindowError(
                f"estimation_window={est} overlaps event_window={evt}; end the estimation "
                f"window before day {evt[0]}, e.g. estimation_window=({est[0]}, {evt[0] - 1})."
            )
        if est[0] > evt[1]:
            raise WindowError(
                f"estimation_window={est} lies after the event window {evt}; "
                "a post-event estimation window is not supported: place it before the event "
                f"window, e.g. estimation_window=(-250, {evt[0] - 1})."
            )
        cars = tuple(check_window("car_windows", w) for w in self._as_pairs(self.car_windows))
        for w in cars:
            if w[0] < evt[0] or w[1] > evt[1]:
                raise WindowError(
                    f"car window {w} is not inside event_window={evt}; widen the event window "
                    "or drop that CAR window."
                )
        object.__setattr__(self, "car_windows", tuple(dict.fromkeys(cars)))
        length = est[1] - est[0] + 1
        if isinstance(self.min_estimation_obs, bool) or not isinstance(
            self.min_estimation_obs, int | np.integer
        ) or self.min_estimation_obs < 3:
            raise WindowError(
                f"min_estimation_obs={self.min_estimation_obs!r} must be an integer >= 3."
            )
        if self.min_estimation_obs > length:
            raise WindowError(
                f"min_estimation_obs={self.min_estimation_obs} exceeds the estimation window "
                f"length {length} ({est}); lengthen the window or lower min_estimation_obs."
            )

    @staticmethod
    def _as_pairs(windows: Sequence[WindowLike] | WindowLike) -> list:
        if (
            isinstance(windows, tuple | list)
            and len(windows) == 2
            and all(isinstance(v, int | np.integer) for v in windows)
        ):
            return [windows]
        return list(windows)

    @property
    def est_taus(self) -> np.ndarray:
        """Estimation-window day offsets."""
        return np.arange(self.estimation[0], self.estimation[1] + 1)

    @property
    def taus(self) -> np.ndarray:
        """Event-window day offsets."""
        return np.arange(self.event[0], self.event[1] + 1)

    @property
    def span(self) -> tuple[int, int]:
        """First and last offset used by either window."""
        return min(self.estimation[0], self.event[0]), max(self.estimation[1], self.event[1])
