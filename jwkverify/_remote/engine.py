"""The mutable heart of a remote key set: the cached snapshot, the fetch in flight, and the decisions.

An :class:`Engine` holds what changes over a remote key set's life, behind one lock
that is never held across I/O. Every decision is the sans-I/O
:class:`.cache_policy.CachePolicy`'s; the engine asks it under the lock and turns
its answer into keys to return, a refusal to raise, or a :class:`Turn` (the one
attempt to run or to wait for). Running attempts is :mod:`.runner`'s business,
reporting their outcomes :mod:`.report`'s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ..errors import JOSEError, KeyNotFound, KeySetFetchError, clip
from ..jwk import JWK
from .background import Background
from .cache_policy import Action, Freshness
from .flight import Flight
from .http import redact
from .options import Settings
from .report import Reporter
from .snapshot import Exchange, Fetched, NotModified, Outcome, Snapshot, carried_over, exchange

__all__ = ["Engine", "Launcher", "Turn"]


@dataclass(frozen=True, slots=True)
class Turn:
    """A caller's part in the one fetch: run it (``leads``) or wait for it."""

    flight: Flight[Snapshot]
    leads: bool


#: Starts a flight's attempt off the request path (a thread, or a task of the running loop).
Launcher = Callable[["Engine", Flight[Snapshot]], None]


class Engine:
    """The state of one remote key set and the decisions about it; shared by threads and tasks."""

    __slots__ = ("background", "clock", "flight", "issuer", "last_error", "lock", "policy", "reporter",
                 "snapshot", "transport", "url", "wall_clock")

    snapshot: Snapshot | None

    def __init__(self, settings: Settings) -> None:
        self.url = settings.url
        self.issuer = settings.issuer
        self.transport = settings.transport
        self.policy = settings.policy()
        self.clock = settings.clock
        self.wall_clock = settings.wall_clock
        self.lock = threading.Lock()
        self.flight: Flight[Snapshot] | None = None
        self.snapshot = None
        self.last_error: KeySetFetchError | None = None
        self.reporter = Reporter(settings.log, settings.observer, self.where, self.source)
        self.background = Background(settings.log)

    def where(self) -> str:
        """Where the set comes from, fit for messages and logs (no query, no credentials)."""
        return redact(self.url) if self.url is not None else f"issuer {self.issuer!r}"

    def source(self) -> str:
        """Where the set comes from, as observers see it: the URL without query, or ``issuer <url>``."""
        return redact(self.url) if self.url is not None else f"issuer {self.issuer}"

    # -- decisions, under the lock ----------------------------------------------------

    def plan(self, alg: str, kid: str | None, *, final: bool, launch: Launcher) -> Sequence[JWK] | Turn:
        """The keys to return, or the flight to run or join.

        When the usable set answers but is due for a refresh, the refresh is started
        with ``launch`` and the caller is answered at once.

        Raises:
            KeyNotFound, AlgorithmNotAllowed: the usable set refuses the lookup.
            KeySetFetchError: no usable set, and no fetch may run now.
        """
        now = self.clock()
        with self.lock:
            snapshot = self.snapshot
            keys: Sequence[JWK] | None = None
            refusal: JOSEError | None = None
            if snapshot is not None:
                try:
                    keys = snapshot.keyset.keys_for(alg, kid)
                except JOSEError as exc:  # KeyNotFound is a miss; any other refusal an answer
                    refusal = exc
            answered = snapshot is not None and not isinstance(refusal, KeyNotFound)
            action = self.policy.decide(now, snapshot.freshness if snapshot is not None else None,
                                        answered, final=final)
            if action is Action.UNAVAILABLE:
                raise self.unavailable()
            if action is Action.WAIT and self.flight is not None:
                return Turn(self.flight, leads=False)
            if action is Action.FETCH or action is Action.WAIT:
                return Turn(self._start(now), leads=True)
            started = self._start(now) if action is Action.REFRESH else None
        if started is not None:
            self.reporter.refresh_started(snapshot, now)
            launch(self, started)
        if keys is None:
            raise refusal or KeyNotFound(f"no key for kid {clip(kid)}")
        if snapshot is not None and now >= snapshot.fresh_until:
            self.reporter.stale_served()
        return keys

    def claim(self) -> Turn:
        """The flight a forced refresh runs (a new one) or joins (the one in flight).

        Raises:
            KeySetFetchError: the set is closed.
        """
        now = self.clock()
        with self.lock:
            flight = self.flight
            if flight is not None and self.policy.in_flight(now) is flight.attempt:
                return Turn(flight, leads=False)
            if self.policy.closed:
                raise KeySetFetchError(f"the key set of {self.where()} is closed: it fetches no more")
            return Turn(self._start(now), leads=True)

    def close(self) -> None:
        """Start no fetch from now on; the cached set is still served while usable."""
        with self.lock:
            self.policy.close()

    def _start(self, now: float) -> Flight[Snapshot]:
        flight = Flight(self.policy.begin(now), self.snapshot)
        self.flight = flight
        return flight

    def unavailable(self) -> KeySetFetchError:
        """The error for a lookup with no usable set; the last fetch failure is its cause."""
        reason = ("the key set is closed" if self.policy.closed and self.policy.last_error is None
                  else self.policy.last_error or "the fetch in flight did not finish in time")
        error = KeySetFetchError(f"no usable key set from {self.where()}: {reason}")
        error.__cause__ = self.last_error
        return error

    def raise_for(self, flight: Flight[Snapshot]) -> None:
        """Raise what a forced refresh that ran or joined ``flight`` must raise, if anything.

        Raises:
            KeySetFetchError: the flight failed, or did not finish in time.
        """
        if flight.error is not None:
            raise flight.error
        if not flight.done:
            raise KeySetFetchError(f"the fetch of {self.where()} did not finish within "
                                   f"{self.policy.wait_limit:g} s")

    # -- one attempt: what to ask, and what its outcome changes ------------------------------

    def exchange(self, flight: Flight[Snapshot]) -> Exchange:
        """The sans-I/O protocol of ``flight``'s attempt (see :func:`.snapshot.exchange`)."""
        transport = self.transport
        return exchange(self.url, self.issuer, flight.base, transport.headers,
                        allow_http=transport.allow_http, max_bytes=transport.max_bytes,
                        discovered=self._discovered)

    def _discovered(self, url: str) -> None:
        self.url = url  # kept for the life of this object
        self.reporter.discovered(self.issuer, url)

    def settle(self, flight: Flight[Snapshot], result: Outcome | KeySetFetchError) -> None:
        """Apply ``flight``'s outcome (unless a newer one is in use), wake its waiters, report it."""
        now = self.clock()
        attempt, base = flight.attempt, flight.base
        freshness: Freshness | None = None
        applied = False
        if isinstance(result, Fetched):  # outside the lock: a race only keeps fewer key objects
            keyset, answers = carried_over(self.snapshot, result)
        with self.lock:
            before = self.snapshot
            if isinstance(result, Fetched):
                freshness = self.policy.succeeded(attempt, now, result.lifetime)
                if freshness is not None:
                    self.snapshot = Snapshot(answers, freshness.fresh_until, keyset,
                                             freshness, result.document, result.url, result.lifetime,
                                             result.etag, result.last_modified)
            elif isinstance(result, NotModified) and base is not None and base is before:
                lifetime = result.lifetime if result.lifetime is not None else base.server_lifetime
                freshness = self.policy.succeeded(attempt, now, lifetime)
                if freshness is not None:
                    self.snapshot = replace(base, fresh_until=freshness.fresh_until, freshness=freshness,
                                            server_lifetime=lifetime, etag=result.etag or base.etag,
                                            last_modified=result.last_modified or base.last_modified)
            elif isinstance(result, NotModified):
                self.policy.abandon(attempt)  # it revalidated a set replaced meanwhile
            elif self.policy.failed(attempt, now, str(result)) is not None:
                self.last_error = result
                applied = True
            applied = applied or freshness is not None
            if self.flight is flight:
                self.flight = None
            after = self.snapshot
            retry_at = self.policy.retry_at()
        flight.finish(result if isinstance(result, KeySetFetchError) else None)
        self.reporter.settled(result, applied, before, after, now=now, retry_at=retry_at)

    def abandon(self, flight: Flight[Snapshot]) -> None:
        """Forget ``flight``: its runner was cancelled before it had an outcome."""
        with self.lock:
            self.policy.abandon(flight.attempt)
            if self.flight is flight:
                self.flight = None
        flight.finish(KeySetFetchError(f"the fetch of {self.where()} was cancelled"))

    def install(self, snapshot: Snapshot, fetched_at: float) -> bool:
        """Cache an imported ``snapshot`` unless the set cached is as recent; whether it was."""
        with self.lock:
            current = self.snapshot
            if current is not None and current.freshness.fetched_at >= fetched_at:
                return False
            self.snapshot = snapshot
            if self.url is None:
                self.url = snapshot.url
        return True
