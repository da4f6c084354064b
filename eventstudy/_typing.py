"""Shared type aliases, option sets and the one helper that validates option arguments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal, TypeAlias, get_args

import numpy as np
import pandas as pd

from eventstudy.exceptions import SpecificationError

DateLike: TypeAlias = str | dt.date | dt.datetime | pd.Timestamp | np.datetime64
WindowLike: TypeAlias = tuple[int, int]

AlignmentPolicy = Literal["next", "previous", "raise"]
ReturnType = Literal["simple", "log"]
Alternative = Literal["two-sided", "greater", "less"]
DataKind = Literal["prices", "returns"]
ConventionName = Literal["clm", "estudy2"]

ALIGNMENT_POLICIES: tuple[str, ...] = get_args(AlignmentPolicy)
RETURN_TYPES: tuple[str, ...] = get_args(ReturnType)
ALTERNATIVES: tuple[str, ...] = get_args(Alternative)
DATA_KINDS: tuple[str, ...] = get_args(DataKind)
CONVENTIONS: tuple[str, ...] = get_args(ConventionName)


def check_option(name: str, value: object, options: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``options``, else raise a message listing them.

    Parameters
    ----------
    name : str
        Argument name, used in the message.
    value : object
        Value given by the user.
    options : iterable of str
        Valid values.

    Returns
    -------
    str
        The validated value.

    Raises
    ------
    SpecificationError
        If ``value`` is not among ``options``.
    """
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        valid = ", ".join(repr(o) for o in options)
        raise SpecificationError(f"{name}={value!r} is not valid; choose one of {valid}.")
    return value


def check_window(name: str, window: object) -> WindowLike:
    """Validate a ``(start, end)`` pair of trading-day offsets with ``start <= end``.

    Parameters
    ----------
    name : str
        Argument name, used in the message.
    window : object
        Value given by the user.

    Returns
    -------
    tuple of int
        ``(start, end)`` as Python ints.

    Raises
    ------
    WindowError
        If ``window`` is not a pair of integers or is reversed.
    """
    from eventstudy.exceptions import WindowError

    try:
        start, end = window  # type: ignore[misc]
    except (TypeError, ValueError):
        raise WindowError(
            f"{name}={window!r} must be a pair (start, end) of trading-day offsets, e.g. (-10, 10)."
        ) from None
    for v in (start, end):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise WindowError(
                f"{name}={window!r} must hold integers (trading days relative to day 0)."
            )
    if start > end:
        raise WindowError(
            f"{name}={window!r} is reversed: start {start} is after end {end}; "
            f"write ({end}, {start})."
        )
    return int(start), int(end)
