"""Remote JWK Sets: an HTTP-correct key cache that keeps serving through provider outages.

:class:`RemoteJWKSet` is a key source (see :mod:`.keyset`): wherever a ``JWKSet`` is
accepted, a remote one is too, for sync and async verification. Its hot path
(fresh set, known ``kid``) reads one immutable snapshot, with no lock and no I/O.
Everything else is decided by the sans-I/O :class:`._cache_policy.CachePolicy`
under a lock that is never held across I/O; one attempt at a time runs
:func:`._snapshot.exchange` over a :class:`._transport.Transport`, and every thread
and task that needs its result waits on the same :class:`._flight.Flight`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from ._remote.cache_policy import (
    DEFAULT_CACHE_TTL,
    DEFAULT_COOLDOWN,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_STALE,
    DEFAULT_TIMEOUT,
    Action,
    CachePolicy,
    Freshness,
)
from ._remote.discovery import issuer_problem
from ._remote.flight import Flight
from ._remote.http import AsyncFetch, Fetch, Request, redact, url_problem
from ._remote.snapshot import (
    Exchange,
    Fetched,
    NotModified,
    Outcome,
    Snapshot,
    answers_of,
    exchange,
    export_text,
    parse_export,
    step,
)
from ._remote.transport import Transport
from .errors import InvalidKeySet, JOSEError, KeyNotFound, KeySetFetchError, clip
from .jwk import JWK

if TYPE_CHECKING:
    import ssl

__all__ = ["RemoteJWKSet", "RemoteJWKSetState"]

Status = Literal["empty", "fresh", "stale", "expired"]


@dataclass(frozen=True, slots=True)
class RemoteJWKSetState:
    """What an operator needs to know about a remote key set, at one instant.

    Times are wall-clock seconds since the epoch. ``status`` is ``"empty"`` (nothing
    fetched yet), ``"fresh"``, ``"stale"`` (past its lifetime, still served while
    refreshes are tried) or ``"expired"`` (past ``max_stale``: no longer served).
    ``url`` is shown without query or credentials.
    """

    url: str | None
    issuer: str | None
    status: Status
    fetched_at: float | None
    fresh_until: float | None
    usable_until: float | None
    key_count: int
    kids: tuple[str, ...]
    etag: str | None
    last_modified: str | None
    fetch_count: int
    failure_count: int
    consecutive_failures: int
    last_error: str | None
    retry_at: float | None
    fetching: bool


@dataclass(frozen=True, slots=True)
class _Turn:
    """A caller's part in the one fetch: run it (``leads``) or wait for it."""

    flight: Flight[Snapshot]
    leads: bool


class RemoteJWKSet:
    """A JWK Set fetched over HTTPS and cached: a key source for every verifier.

    Build one per provider and share it across threads and tasks.
    """

    __slots__ = ("_clock", "_flight", "_issuer", "_last_error", "_lock", "_log", "_policy",
                 "_snapshot", "_transport", "_url", "_wall_clock")

    _snapshot: Snapshot | None

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        cooldown: float = DEFAULT_COOLDOWN,
        max_stale: float = DEFAULT_MAX_STALE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        headers: Mapping[str, str] | None = None,
        fetch: Fetch | None = None,
        fetch_async: AsyncFetch | None = None,
        allow_http: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """A remote set at ``url``; nothing is fetched until a key is needed.

        - ``timeout``: seconds for each request, connect and read together.
        - ``cache_ttl``: seconds a set is fresh when the server sends no ``max-age``.
        - ``cooldown``: least seconds between two fetches an unknown ``kid`` may cause;
          also the cap of the retry backoff after failures.
        - ``max_stale``: seconds past its freshness a set is still served while
          refreshes fail (``math.inf``: forever).
        - ``max_bytes``: the largest response accepted.
        - ``headers``: added to every request (e.g. an API gateway's credentials).
        - ``fetch(url, headers, timeout) -> (status, headers, body)`` and its awaitable
          twin ``fetch_async`` replace the standard-library client; they must not
          follow redirects. An exception they raise becomes ``KeySetFetchError``.
        - ``allow_http``: permit ``http://`` (tests on loopback).
        - ``ssl_context``: for the built-in client; must verify certificates and names.
        - ``clock``: monotonic seconds for freshness; ``wall_clock``: epoch seconds,
          only for :attr:`state`, :meth:`export` and :meth:`import_state`.

        Raises:
            TypeError, ValueError: an option is invalid, or ``url`` is not https.
        """
        problem = url_problem(url, allow_http=allow_http is True)
        if problem is not None:
            raise (ValueError if isinstance(url, str) else TypeError)(problem)
        self._setup(url, None, Transport.build(
            timeout=timeout, max_bytes=max_bytes, headers=headers, allow_http=allow_http, fetch=fetch,
            fetch_async=fetch_async, ssl_context=ssl_context,
        ), cache_ttl=cache_ttl, cooldown=cooldown, max_stale=max_stale, clock=clock, wall_clock=wall_clock)

    @classmethod
    def from_issuer(
        cls,
        issuer: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        cooldown: float = DEFAULT_COOLDOWN,
        max_stale: float = DEFAULT_MAX_STALE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        headers: Mapping[str, str] | None = None,
        fetch: Fetch | None = None,
        fetch_async: AsyncFetch | None = None,
        allow_http: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> RemoteJWKSet:
        """The key set of ``issuer``, found by OpenID Connect or RFC 8414 discovery.

        Nothing is fetched now. The first fetch reads
        ``{issuer}/.well-known/openid-configuration`` (falling back to RFC 8414's
        ``/.well-known/oauth-authorization-server``), requires its ``issuer`` to equal
        ``issuer`` exactly, and keeps its ``jwks_uri``. Check tokens' ``iss`` against
        :attr:`issuer`; call :meth:`refresh` at start-up to fail fast. Options as for
        the constructor.

        Raises:
            TypeError, ValueError: an option is invalid, or ``issuer`` is not an https
                URL without query or fragment.
        """
        problem = issuer_problem(issuer, allow_http=allow_http is True)
        if problem is not None:
            raise (ValueError if isinstance(issuer, str) else TypeError)(problem)
        self = cls.__new__(cls)
        self._setup(None, issuer, Transport.build(
            timeout=timeout, max_bytes=max_bytes, headers=headers, allow_http=allow_http, fetch=fetch,
            fetch_async=fetch_async, ssl_context=ssl_context,
        ), cache_ttl=cache_ttl, cooldown=cooldown, max_stale=max_stale, clock=clock, wall_clock=wall_clock)
        return self

    def _setup(self, url: str | None, issuer: str | None, transport: Transport, *, cache_ttl: float,
               cooldown: float, max_stale: float, clock: Callable[[], float],
               wall_clock: Callable[[], float]) -> None:
        if not callable(clock) or not callable(wall_clock):
            raise TypeError("clock and wall_clock must be callables returning seconds")
        self._url = url
        self._issuer = issuer
        self._transport = transport
        self._policy = CachePolicy(
            cache_ttl=_seconds("cache_ttl", cache_ttl, positive=True),
            cooldown=_seconds("cooldown", cooldown),
            max_stale=_seconds("max_stale", max_stale, infinite=True),
            timeout=transport.timeout,
        )
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._flight: Flight[Snapshot] | None = None
        self._snapshot = None
        self._last_error: KeySetFetchError | None = None
        import logging

        self._log = logging.getLogger(__name__)

    # -- key source --------------------------------------------------------------

    def keys_for(self, alg: str, kid: str | None) -> Sequence[JWK]:
        """Key-source protocol: the keys that may verify ``alg`` for ``kid``.

        A fresh set that knows ``kid`` answers at once: no lock, no I/O. Otherwise
        this may fetch (for an unknown ``kid`` at most once per ``cooldown``), wait
        for the fetch in flight, or serve a stale set while the provider is down.

        Raises:
            KeyNotFound: no key has that ``kid`` (or none fits ``alg``), after any
                refetch the cooldown allows.
            AlgorithmNotAllowed: the key with that ``kid`` does not take ``alg``.
            KeySetFetchError: no usable set is cached and none could be fetched; the
                fetch failure is its ``__cause__``.
        """
        snapshot = self._snapshot
        if snapshot is not None and self._clock() < snapshot.fresh_until:
            found = snapshot.answers.get((alg, kid))
            if found is not None:
                return found
        final = False
        while True:
            turn = self._plan(alg, kid, final=final)
            if not isinstance(turn, _Turn):
                return turn
            if turn.leads:
                self._run(turn.flight)
            else:
                turn.flight.wait(self._policy.wait_limit)
            final = True

    async def keys_for_async(self, alg: str, kid: str | None) -> Sequence[JWK]:
        """Async form of :meth:`keys_for`; fetches and waits without blocking the loop.

        Raises:
            KeyNotFound, AlgorithmNotAllowed, KeySetFetchError: as :meth:`keys_for`.
        """
        snapshot = self._snapshot
        if snapshot is not None and self._clock() < snapshot.fresh_until:
            found = snapshot.answers.get((alg, kid))
            if found is not None:
                return found
        final = False
        while True:
            turn = self._plan(alg, kid, final=final)
            if not isinstance(turn, _Turn):
                return turn
            if turn.leads:
                await self._run_async(turn.flight)
            else:
                await turn.flight.wait_async(self._policy.wait_limit)
            final = True

    def refresh(self) -> None:
        """Fetch now, or join the fetch in flight, regardless of freshness, cooldown and backoff.

        For start-up (fail fast, warm the cache) and operator tools, not per request.

        Raises:
            KeySetFetchError: the fetch failed; a cached set, if any, is kept.
        """
        turn = self._claim()
        if turn.leads:
            self._run(turn.flight)
        else:
            turn.flight.wait(self._policy.wait_limit)
        self._raise_for(turn.flight)

    async def refresh_async(self) -> None:
        """Async form of :meth:`refresh`.

        Raises:
            KeySetFetchError: the fetch failed; a cached set, if any, is kept.
        """
        turn = self._claim()
        if turn.leads:
            await self._run_async(turn.flight)
        else:
            await turn.flight.wait_async(self._policy.wait_limit)
        self._raise_for(turn.flight)

    # -- decisions, under the lock -------------------------------------------------

    def _plan(self, alg: str, kid: str | None, *, final: bool) -> Sequence[JWK] | _Turn:
        """The keys to return, or the flight to run or join. Raises a refusal."""
        now = self._clock()
        with self._lock:
            snapshot = self._snapshot
            keys: Sequence[JWK] | None = None
            refusal: JOSEError | None = None
            if snapshot is not None:
                try:
                    keys = snapshot.keyset.keys_for(alg, kid)
                except JOSEError as exc:  # KeyNotFound is a miss; any other refusal an answer
                    refusal = exc
            answered = snapshot is not None and not isinstance(refusal, KeyNotFound)
            action = self._policy.decide(now, snapshot.freshness if snapshot is not None else None,
                                         answered, final=final)
            if action is Action.SERVE or action is Action.NOT_FOUND:
                if keys is None:
                    raise refusal or KeyNotFound(f"no key for kid {clip(kid)}")
                return keys
            if action is Action.UNAVAILABLE:
                raise self._unavailable()
            if action is Action.WAIT and self._flight is not None:
                return _Turn(self._flight, leads=False)
            return _Turn(self._start(now), leads=True)

    def _claim(self) -> _Turn:
        now = self._clock()
        with self._lock:
            flight = self._flight
            if flight is not None and self._policy.in_flight(now) is flight.attempt:
                return _Turn(flight, leads=False)
            return _Turn(self._start(now), leads=True)

    def _start(self, now: float) -> Flight[Snapshot]:
        flight = Flight(self._policy.begin(now), self._snapshot)
        self._flight = flight
        return flight

    def _unavailable(self) -> KeySetFetchError:
        reason = self._policy.last_error or "the fetch in flight did not finish in time"
        error = KeySetFetchError(f"no usable key set from {self._where()}: {reason}")
        error.__cause__ = self._last_error
        return error

    def _raise_for(self, flight: Flight[Snapshot]) -> None:
        if flight.error is not None:
            raise flight.error
        if not flight.done:
            raise KeySetFetchError(f"the fetch of {self._where()} did not finish within "
                                   f"{self._policy.wait_limit:g} s")

    def _where(self) -> str:
        return redact(self._url) if self._url is not None else f"issuer {self._issuer!r}"

    # -- running the one attempt: a sync and an async edge over one exchange -------

    def _exchange(self, flight: Flight[Snapshot]) -> Exchange:
        transport = self._transport
        return exchange(self._url, self._issuer, flight.base, transport.headers,
                        allow_http=transport.allow_http, max_bytes=transport.max_bytes,
                        discovered=self._discovered)

    def _discovered(self, url: str) -> None:
        self._url = url  # kept for the life of this object
        self._log.info("issuer %r publishes its JWK Set at %s", self._issuer, redact(url))

    def _run(self, flight: Flight[Snapshot]) -> None:
        try:
            attempt = self._exchange(flight)
            state = step(attempt, None)
            while isinstance(state, Request):
                state = step(attempt, self._transport.send(state))
        except BaseException:
            self._abandon(flight)
            raise
        self._settle(flight, state)

    async def _run_async(self, flight: Flight[Snapshot]) -> None:
        import asyncio

        task = asyncio.ensure_future(self._attempt_async(flight))
        flight.task = task  # referenced until done
        await asyncio.shield(task)  # a cancelled caller does not cancel the shared fetch

    async def _attempt_async(self, flight: Flight[Snapshot]) -> None:
        import asyncio

        try:
            attempt = self._exchange(flight)
            # Checking and parsing responses is CPU work: it runs off the event loop.
            state = await asyncio.to_thread(step, attempt, None)
            while isinstance(state, Request):
                reply = await self._transport.send_async(state)
                state = await asyncio.to_thread(step, attempt, reply)
        except BaseException:
            self._abandon(flight)
            raise
        self._settle(flight, state)

    def _settle(self, flight: Flight[Snapshot], result: Outcome | KeySetFetchError) -> None:
        now = self._clock()
        attempt, base = flight.attempt, flight.base
        freshness: Freshness | None = None
        applied = False
        with self._lock:
            before = self._snapshot
            if isinstance(result, Fetched):
                freshness = self._policy.succeeded(attempt, now, result.lifetime)
                if freshness is not None:
                    self._snapshot = Snapshot(result.answers, freshness.fresh_until, result.keyset,
                                              freshness, result.document, result.url, result.lifetime,
                                              result.etag, result.last_modified)
            elif isinstance(result, NotModified) and base is not None and base is before:
                lifetime = result.lifetime if result.lifetime is not None else base.server_lifetime
                freshness = self._policy.succeeded(attempt, now, lifetime)
                if freshness is not None:
                    self._snapshot = replace(base, fresh_until=freshness.fresh_until, freshness=freshness,
                                             server_lifetime=lifetime, etag=result.etag or base.etag,
                                             last_modified=result.last_modified or base.last_modified)
            elif isinstance(result, NotModified):
                self._policy.abandon(attempt)  # it revalidated a set replaced meanwhile
            elif self._policy.failed(attempt, now, str(result)) is not None:
                self._last_error = result
                applied = True
            applied = applied or freshness is not None
            if self._flight is flight:
                self._flight = None
            after = self._snapshot
        flight.finish(result if isinstance(result, KeySetFetchError) else None)
        self._report(result, applied, before, after, now)

    def _abandon(self, flight: Flight[Snapshot]) -> None:
        with self._lock:
            self._policy.abandon(flight.attempt)
            if self._flight is flight:
                self._flight = None
        flight.finish(KeySetFetchError(f"the fetch of {self._where()} was cancelled"))

    def _report(self, result: Outcome | KeySetFetchError, applied: bool, before: Snapshot | None,
                after: Snapshot | None, now: float) -> None:
        """Log an outcome, outside the lock (handlers may do I/O). Never a token."""
        where, log = self._where(), self._log
        if not applied:
            log.debug("an outcome from %s was discarded: a newer one is in use (%s)", where, result)
        elif isinstance(result, KeySetFetchError):
            retry = max(0.0, self._policy.retry_at() - now)
            if after is not None and now < after.freshness.usable_until:
                log.warning("refreshing the JWK Set from %s failed: %s; serving the set fetched %.0f s "
                            "ago (usable for %.0f s more); next retry in %.0f s", where, result,
                            now - after.freshness.fetched_at, after.freshness.usable_until - now, retry)
            else:
                log.error("fetching the JWK Set from %s failed: %s; no usable set; next retry in "
                          "%.0f s", where, result, retry)
        elif after is None:  # pragma: no cover - an applied response always leaves a set
            pass
        elif isinstance(result, NotModified):
            log.debug("the JWK Set at %s is unchanged (304); fresh for %.0f s", where,
                      after.freshness.lifetime)
        else:
            changed = before is None or before.document != after.document
            (log.info if changed else log.debug)(
                "fetched the JWK Set from %s: %d keys, %d entries skipped%s; fresh for %.0f s",
                where, len(after.keyset), len(after.keyset.skipped), "" if changed else " (unchanged)",
                after.freshness.lifetime)
            for skipped in after.keyset.skipped if changed else ():
                log.warning("the JWK Set at %s: entry %d skipped: %s", where, skipped.index, skipped.reason)

    # -- operators -----------------------------------------------------------------

    @property
    def url(self) -> str | None:
        """The JWK Set URL (``None`` until discovery has found it)."""
        return self._url

    @property
    def issuer(self) -> str | None:
        """The issuer this set was discovered from (``None`` for a set built from a URL)."""
        return self._issuer

    @property
    def state(self) -> RemoteJWKSetState:
        """A consistent, immutable view of the cache and its fetch history."""
        now, wall, policy = self._clock(), self._wall_clock(), self._policy
        with self._lock:
            snapshot = self._snapshot
            fetching = policy.in_flight(now) is not None
            counts = policy.fetch_count, policy.failure_count, policy.consecutive_failures
            last_error, retry_at = policy.last_error, policy.retry_at()

        def epoch(moment: float) -> float:
            return wall - (now - moment)

        status: Status = "empty"
        times: tuple[float | None, float | None, float | None] = (None, None, None)
        keys: tuple[JWK, ...] = ()
        if snapshot is not None:
            fresh = snapshot.freshness
            status = ("fresh" if now < fresh.fresh_until else
                      "stale" if now < fresh.usable_until else "expired")
            times = epoch(fresh.fetched_at), epoch(fresh.fresh_until), epoch(fresh.usable_until)
            keys = tuple(snapshot.keyset)
        return RemoteJWKSetState(
            url=redact(self._url) if self._url is not None else None, issuer=self._issuer, status=status,
            fetched_at=times[0], fresh_until=times[1], usable_until=times[2], key_count=len(keys),
            kids=tuple(key.kid for key in keys if key.kid is not None),
            etag=snapshot.etag if snapshot is not None else None,
            last_modified=snapshot.last_modified if snapshot is not None else None,
            fetch_count=counts[0], failure_count=counts[1], consecutive_failures=counts[2],
            last_error=last_error, retry_at=epoch(retry_at) if retry_at > now else None, fetching=fetching,
        )

    def export(self) -> str | None:
        """The cached set as JSON text for :meth:`import_state`; ``None`` if nothing is cached.

        For serverless cold starts: store it, import it in the next instance. It holds
        the JWK Set document as fetched, when it was fetched (wall clock), the server's
        freshness lifetime, the validators for a conditional request, and the URL in
        full (query included).
        """
        snapshot = self._snapshot
        if snapshot is None:
            return None
        age = self._clock() - snapshot.freshness.fetched_at
        return export_text(snapshot, self._issuer, self._wall_clock() - age)

    def import_state(self, text: str | bytes) -> bool:
        """Load what :meth:`export` produced; ``True`` if it is now the cached set.

        The key set is checked again as if just fetched. It is not used (``False``)
        when exported for another URL or issuer, past ``max_stale``, or older than the
        set already cached. Its freshness continues from when it was fetched.

        Raises:
            InvalidKeySet: the text is not an export, or its key set is refused.
        """
        data = parse_export(text)
        if url_problem(data.url, allow_http=self._transport.allow_http) is not None:
            raise InvalidKeySet(f"the exported URL {redact(data.url)} is not allowed here")
        if (self._url is not None and data.url != self._url) or data.issuer != self._issuer:
            self._log.warning("not importing a JWK Set exported for %s into the key set of %s",
                              redact(data.url), self._where())
            return False
        now = self._clock()
        fetched_at = now - max(0.0, self._wall_clock() - data.fetched_at)
        freshness = self._policy.freshness(fetched_at, data.lifetime)
        if not now < freshness.usable_until:
            return False
        snapshot = Snapshot(answers_of(data.keyset), freshness.fresh_until, data.keyset, freshness,
                            data.document, data.url, data.lifetime, data.etag, data.last_modified)
        with self._lock:
            current = self._snapshot
            if current is not None and current.freshness.fetched_at >= fetched_at:
                return False
            self._snapshot = snapshot
            if self._url is None:
                self._url = data.url
        self._log.info("imported the JWK Set of %s: %d keys, fetched %.0f s ago", redact(data.url),
                       len(data.keyset), now - fetched_at)
        return True

    def __repr__(self) -> str:
        snapshot = self._snapshot
        held = f"{len(snapshot.keyset)} keys" if snapshot is not None else "nothing fetched"
        return f"RemoteJWKSet({self._where()}, {held})"


def _seconds(name: str, value: float, *, positive: bool = False, infinite: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds")
    if math.isnan(value) or (math.isinf(value) and not infinite) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"{name} must be a {kind}{'' if infinite else ', finite'} number of seconds")
    return float(value)
