"""The caching policy of a remote key set, sans I/O.

Nothing here reads a clock, touches a socket or takes a lock: every method takes
``now`` (seconds on one monotonic clock) and returns a decision. The sync and
async edges in :mod:`.remote` hold the lock around these calls and do the I/O;
the tests drive this object directly. The rules are:

- A fetched set is *fresh* for its lifetime: ``cache_ttl``, or the response's
  ``Cache-Control: max-age`` (minus ``Age``) clamped to sane bounds.
- Past its lifetime it is *stale* but still *usable* for ``max_stale`` more
  seconds: served while a refresh is tried, and kept when refreshes fail.
- One attempt is in flight at a time. A caller whose key the usable set holds
  never waits for it: past the set's freshness the first such caller starts the
  attempt *in the background* and every caller is answered from the stale set at
  once (stale-while-revalidate).
- A caller the usable set cannot answer (an unknown ``kid``) joins the attempt in
  flight, or starts one and waits for it: at most one per ``cooldown`` while the
  set is fresh (a stale set is due for a refresh anyway). While the provider is
  failing (the last attempt failed) it does not wait: it is answered from the
  usable set at once, and the retry, if one is due, runs in the background.
- Only a caller with no usable set at all waits for an attempt it cannot avoid.
- Failures back off: 1 s, 2 s, 4 s, ... up to ``cooldown``.
- Attempts are numbered; a response older than the one in use is discarded.
- Once closed, no attempt starts: the cached set is served while it is usable.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "ABANDON_GRACE",
    "BACKOFF_BASE",
    "DEFAULT_CACHE_TTL",
    "DEFAULT_COOLDOWN",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_STALE",
    "DEFAULT_TIMEOUT",
    "MAX_SERVER_TTL",
    "MIN_SERVER_TTL",
    "Action",
    "Attempt",
    "CacheControl",
    "CachePolicy",
    "Freshness",
    "parse_cache_control",
    "server_lifetime",
]

#: Seconds for connecting and for reading one response (as jose does).
DEFAULT_TIMEOUT: Final = 5.0
#: Seconds a set stays fresh when the server sends no ``max-age`` (jose: 10 min).
DEFAULT_CACHE_TTL: Final = 600.0
#: Least seconds between two fetches an unknown ``kid`` may cause (jose: 30 s).
DEFAULT_COOLDOWN: Final = 30.0
#: Seconds past its freshness a set is still served while refreshes fail. Provider
#: outages last minutes to hours; providers publish new keys days ahead and keep
#: retired ones for days, so a day-old set still verifies nearly every token. Past a
#: day the risk of trusting a key the provider has since revoked outweighs
#: availability, and verification fails with ``KeySetFetchError``.
DEFAULT_MAX_STALE: Final = 24 * 3600.0
#: Largest response accepted, in bytes. Real sets are 1-30 KB (a few RSA keys, up
#: to ~20 with x5c chains); 512 KiB is over 10x that, while bounding the memory and
#: parse cost a hostile or broken endpoint can cause.
DEFAULT_MAX_BYTES: Final = 512 * 1024
#: Bounds for a lifetime the *server* sets. Below a minute, ``max-age=0`` or
#: ``no-cache`` would turn every request into a fetch; above a day, a year-long
#: ``max-age`` would pin a revoked key. An explicit ``cache_ttl`` outside these
#: bounds widens them (the caller's own value is trusted, the server's is not).
MIN_SERVER_TTL: Final = 60.0
MAX_SERVER_TTL: Final = 24 * 3600.0
#: First retry delay after a failure; it doubles per failure, up to ``cooldown``.
BACKOFF_BASE: Final = 1.0
#: An attempt older than this many seconds past its time budget is given up on, so
#: a fetcher that ignores its timeout cannot block refreshes forever.
ABANDON_GRACE: Final = 1.0

# RFC 9111 §1.2.2: delta-seconds is 1*DIGIT; values past 2^31 mean 2^31.
_DELTA_SECONDS = re.compile(r"[0-9]+")
_MAX_DELTA = 2**31


@dataclass(frozen=True, slots=True)
class CacheControl:
    """The ``Cache-Control`` directives that matter to a key-set cache."""

    max_age: int | None = None
    no_store: bool = False
    no_cache: bool = False
    invalid: bool = False  # a malformed max-age: treat the response as stale


def _delta_seconds(text: str) -> int | None:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':  # tolerate the quoted form
        text = text[1:-1]
    if _DELTA_SECONDS.fullmatch(text) is None:
        return None
    return min(int(text[:12]), _MAX_DELTA)


def parse_cache_control(value: str | None) -> CacheControl:
    """Parse a ``Cache-Control`` field value (RFC 9111 §5.2); unknown directives are ignored."""
    if not value:
        return CacheControl()
    max_age: int | None = None
    no_store = no_cache = invalid = False
    for part in value.split(","):
        name, has_argument, argument = part.partition("=")
        name = name.strip().lower()
        if name == "max-age" and max_age is None and not invalid:
            # RFC 9111 §4.2.1: of several max-age directives the first is used.
            seconds = _delta_seconds(argument) if has_argument else None
            if seconds is None:
                invalid = True
            else:
                max_age = seconds
        elif name == "no-store":
            no_store = True
        elif name == "no-cache" and not has_argument:  # no-cache="field" only names fields
            no_cache = True
    return CacheControl(max_age, no_store, no_cache, invalid)


def server_lifetime(headers: dict[str, str]) -> float | None:
    """The freshness lifetime the response's headers ask for, unclamped, or ``None``.

    ``headers`` has lower-case names. ``no-store``/``no-cache`` or a malformed
    ``max-age`` ask for 0 (the policy raises it to its lower bound); ``Age`` is
    subtracted from ``max-age`` (RFC 9111 §4.2.3). ``Expires`` is not consulted.
    """
    directives = parse_cache_control(headers.get("cache-control"))
    if directives.no_store or directives.no_cache or directives.invalid:
        return 0.0
    if directives.max_age is None:
        return None
    age = _delta_seconds(headers.get("age", "")) or 0
    return float(max(0, directives.max_age - age))


@dataclass(frozen=True, slots=True)
class Freshness:
    """When a cached set was fetched, until when it is fresh, and until when usable."""

    fetched_at: float
    lifetime: float
    fresh_until: float
    usable_until: float


@dataclass(frozen=True, slots=True)
class Attempt:
    """One fetch: its number (later attempts have larger ones) and start time."""

    generation: int
    started: float


class Action(enum.Enum):
    """What a caller that missed the hot path does next."""

    SERVE = "serve"            # answer from the cached set (fresh, or stale but usable)
    REFRESH = "refresh"        # answer from the usable set now; start the attempt off the request path
    FETCH = "fetch"            # start the one attempt and run it
    WAIT = "wait"              # join the attempt in flight, then decide again
    NOT_FOUND = "not_found"    # the usable set has no such key and no fetch may run
    UNAVAILABLE = "unavailable"  # no usable set and no fetch may run: fail


class CachePolicy:
    """Freshness, cooldown, backoff and response ordering for one remote key set.

    Not thread-safe by itself: the I/O edge calls it under its lock. Holds only
    numbers and the attempt in flight, never keys.
    """

    __slots__ = (
        "_abandon_after", "_applied", "_backoff_base", "_cache_ttl", "_closed", "_cooldown", "_generation",
        "_in_flight", "_last_started", "_max_stale", "_max_ttl", "_min_ttl", "_retry_at",
        "consecutive_failures", "failure_count", "fetch_count", "last_error",
    )

    def __init__(self, *, cache_ttl: float = DEFAULT_CACHE_TTL, cooldown: float = DEFAULT_COOLDOWN,
                 max_stale: float = DEFAULT_MAX_STALE, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._cache_ttl = cache_ttl
        self._cooldown = cooldown
        self._max_stale = max_stale
        self._min_ttl = min(MIN_SERVER_TTL, cache_ttl)
        self._max_ttl = max(MAX_SERVER_TTL, cache_ttl)
        self._backoff_base = min(BACKOFF_BASE, cooldown)
        # Discovery and the key set are two requests, each bounded by timeout.
        self._abandon_after = 2 * timeout + ABANDON_GRACE
        self._generation = 0
        self._applied = 0
        self._in_flight: Attempt | None = None
        self._last_started = float("-inf")
        self._retry_at = float("-inf")
        self._closed = False
        self.fetch_count = 0
        self.failure_count = 0
        self.consecutive_failures = 0
        self.last_error: str | None = None

    @property
    def wait_limit(self) -> float:
        """Longest a caller waits for an attempt in flight, in seconds."""
        return self._abandon_after

    def retry_at(self) -> float:
        """When the next attempt may start after a failure (``-inf`` if not backing off)."""
        return self._retry_at

    def in_flight(self, now: float) -> Attempt | None:
        """The attempt in flight, unless it has outlived its time budget."""
        attempt = self._in_flight
        if attempt is not None and now < attempt.started + self._abandon_after:
            return attempt
        return None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: no attempt starts any more."""
        return self._closed

    def close(self) -> None:
        """Start no attempt from now on (an attempt in flight still settles)."""
        self._closed = True

    def decide(self, now: float, cached: Freshness | None, answered: bool, *, final: bool) -> Action:
        """What to do for a lookup that missed the hot path.

        ``answered``: the cached set gave an answer (keys, or a refusal other than
        "no such key"). ``final``: this caller already ran or joined an attempt, so
        it must not start or join another.
        """
        usable = cached is not None and now < cached.usable_until
        fresh = cached is not None and now < cached.fresh_until
        may_start = not self._closed and self.in_flight(now) is None and now >= self._retry_at
        if usable and answered:
            if final or fresh or not may_start:
                return Action.SERVE
            return Action.REFRESH  # stale: answered at once, refreshed in the background
        if final:
            return Action.NOT_FOUND if usable else Action.UNAVAILABLE
        # An unknown kid in a fresh set: at most one refetch per cooldown.
        cooling = fresh and now < self._last_started + self._cooldown
        if usable and self.consecutive_failures:
            # The provider is failing: nobody waits for it while a usable set exists.
            return Action.REFRESH if may_start and not cooling else Action.NOT_FOUND
        if self.in_flight(now) is not None:
            return Action.WAIT
        if not may_start:
            return Action.NOT_FOUND if usable else Action.UNAVAILABLE
        return Action.NOT_FOUND if cooling else Action.FETCH

    def begin(self, now: float) -> Attempt:
        """Start an attempt (the caller decided ``FETCH``, or forces a refresh)."""
        self._generation += 1
        attempt = Attempt(self._generation, now)
        self._in_flight = attempt
        self._last_started = now
        self.fetch_count += 1
        return attempt

    def succeeded(self, attempt: Attempt, now: float, lifetime: float | None) -> Freshness | None:
        """Record a usable response; its freshness, or ``None`` if a newer one is in use.

        ``lifetime`` is what the server asked for (``None``: nothing, use ``cache_ttl``).
        """
        self._finish(attempt)
        if attempt.generation < self._applied:
            return None  # an older response finishing late never replaces a newer one
        self._applied = attempt.generation
        self.consecutive_failures = 0
        self._retry_at = float("-inf")
        return self.freshness(now, lifetime)

    def failed(self, attempt: Attempt, now: float, error: str) -> float | None:
        """Record a failed attempt; the seconds until the next retry, or ``None`` if it is moot."""
        self._finish(attempt)
        self.failure_count += 1
        if attempt.generation < self._applied:
            return None  # a newer response already succeeded; no backoff
        self.last_error = error
        self.consecutive_failures += 1
        delay = min(self._cooldown, self._backoff_base * 2.0 ** min(self.consecutive_failures - 1, 32))
        self._retry_at = now + delay
        return delay

    def abandon(self, attempt: Attempt) -> None:
        """Forget an attempt that was cancelled before it produced an outcome."""
        self._finish(attempt)

    def freshness(self, fetched_at: float, lifetime: float | None) -> Freshness:
        """The freshness of a set fetched at ``fetched_at`` with the server's ``lifetime``."""
        ttl = self._cache_ttl if lifetime is None else min(max(lifetime, self._min_ttl), self._max_ttl)
        fresh_until = fetched_at + ttl
        return Freshness(fetched_at, ttl, fresh_until, fresh_until + self._max_stale)

    def is_newer(self, attempt: Attempt) -> bool:
        """Whether a response to ``attempt`` would still be applied."""
        return attempt.generation >= self._applied

    def _finish(self, attempt: Attempt) -> None:
        if self._in_flight is attempt:
            self._in_flight = None
