"""The options of a claims policy, checked and compiled once (``TypeError``/``ValueError`` on misuse)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from ..errors import JOSEError, clip

__all__ = ["Clock", "Duration", "TimeSpec", "clock_of", "media_type", "seconds", "string_set", "strings"]

Clock = Callable[[], float]
TimeSpec = float | int | datetime | Clock | None
Duration = float | int | timedelta


def strings(option: str, value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """``value`` (a str or a collection of str) as a tuple; ``None`` stays ``None``."""
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise TypeError(f"{option} takes a str or a collection of str")
    if not items and option != "required_claims":
        raise ValueError(f"{option} must name at least one value (or be None)")
    return items


def string_set(option: str, value: str | Iterable[str] | None) -> frozenset[str] | None:
    """:func:`strings` as a frozenset."""
    items = strings(option, value)
    return None if items is None else frozenset(items)


def seconds(option: str, value: Duration) -> float:
    """A finite, non-negative number of seconds (or a timedelta) as a float."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{option} must be a number of seconds or a timedelta")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{option} must be a finite number of seconds, at least 0")
    return float(value)


def clock_of(now: TimeSpec) -> Clock:
    """The clock ``now=`` describes: ``time.time``, a fixed reading, or a checked callable."""
    if now is None:
        return time.time
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime")
        fixed = now.timestamp()
        return lambda: fixed
    if isinstance(now, int | float) and not isinstance(now, bool):
        if not math.isfinite(now):
            raise ValueError("now must be finite")
        fixed_number = float(now)
        return lambda: fixed_number
    if callable(now):
        return _checked(now)
    raise TypeError("now must be None, a number, an aware datetime or a callable")


def _checked(caller_clock: Clock) -> Clock:
    """Wrap a caller's clock so that a bad reading refuses the token, never passes it.

    Every comparison with NaN is false, so an unchecked NaN would pass every time check.
    """

    def now() -> float:
        value = caller_clock()
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise JOSEError(f"the now= clock returned {clip(value)}, not a finite number of seconds")
        return value

    return now


def media_type(value: str) -> str:
    """A ``typ`` value compared as RFC 7515 §4.1.9 says: lower case, ``application/`` optional."""
    lowered = value.lower()
    return lowered[len("application/"):] if lowered.startswith("application/") else lowered
