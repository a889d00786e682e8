"""The options of a remote key set, checked once, at construction.

:func:`settings` turns the keyword arguments of ``RemoteJWKSet(...)`` and
``RemoteJWKSet.from_issuer(...)`` into one immutable :class:`Settings`, raising
``TypeError``/``ValueError`` with what to pass instead. Nothing is fetched here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .cache_policy import CachePolicy
from .discovery import issuer_problem
from .http import AsyncFetch, Fetch, url_problem
from .transport import Transport

if TYPE_CHECKING:
    import logging
    import ssl

    from ..observe import Observer

__all__ = ["Settings", "seconds", "settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a remote key set was configured with, checked."""

    url: str | None
    issuer: str | None
    transport: Transport
    cache_ttl: float
    cooldown: float
    max_stale: float
    clock: Callable[[], float]
    wall_clock: Callable[[], float]
    observer: Observer | None
    log: logging.Logger

    def policy(self) -> CachePolicy:
        """A new cache policy with these numbers."""
        return CachePolicy(cache_ttl=self.cache_ttl, cooldown=self.cooldown, max_stale=self.max_stale,
                           timeout=self.transport.timeout)


def settings(
    url: str | None,
    issuer: str | None,
    *,
    timeout: float,
    cache_ttl: float,
    cooldown: float,
    max_stale: float,
    max_bytes: int,
    headers: Mapping[str, str] | None,
    fetch: Fetch | None,
    fetch_async: AsyncFetch | None,
    allow_http: bool,
    ssl_context: ssl.SSLContext | None,
    clock: Callable[[], float],
    wall_clock: Callable[[], float],
    observer: Observer | None,
    log: logging.Logger,
) -> Settings:
    """Check the options of a set at ``url``, or discovered from ``issuer`` (exactly one is given).

    Raises:
        TypeError, ValueError: an option is invalid, or the URL or issuer is not https.
    """
    where: object = url if issuer is None else issuer
    problem = (url_problem(url, allow_http=allow_http is True) if issuer is None
               else issuer_problem(issuer, allow_http=allow_http is True))
    if problem is not None:
        raise (ValueError if isinstance(where, str) else TypeError)(problem)
    transport = Transport.build(timeout=timeout, max_bytes=max_bytes, headers=headers,
                                allow_http=allow_http, fetch=fetch, fetch_async=fetch_async,
                                ssl_context=ssl_context)
    if not callable(clock) or not callable(wall_clock):
        raise TypeError("clock and wall_clock must be callables returning seconds")
    if observer is not None and not callable(getattr(observer, "keyset_event", None)):
        raise TypeError("observer must have a keyset_event(event, source) method, "
                        "e.g. jwkverify.observe.Counters()")
    return Settings(
        url=url, issuer=issuer, transport=transport,
        cache_ttl=seconds("cache_ttl", cache_ttl, positive=True), cooldown=seconds("cooldown", cooldown),
        max_stale=seconds("max_stale", max_stale, infinite=True), clock=clock, wall_clock=wall_clock,
        observer=observer, log=log,
    )


def seconds(name: str, value: float, *, positive: bool = False, infinite: bool = False) -> float:
    """``value`` as float seconds; ``TypeError``/``ValueError`` naming ``name`` if it is not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds")
    if math.isnan(value) or (math.isinf(value) and not infinite) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"{name} must be a {kind}{'' if infinite else ', finite'} number of seconds")
    return float(value)
