"""Remote JWK Sets: an HTTP-correct key cache that keeps serving through provider outages.

:class:`RemoteJWKSet` is a key source (see :mod:`.keyset`): wherever a ``JWKSet`` is
accepted, a remote one is too, for sync and async verification. Its hot path
(fresh set, known ``kid``) reads one immutable snapshot, with no lock and no I/O.
This module is the public face; the machinery is in :mod:`._remote`: option
checking (``options``), the state and decisions under a lock never held across I/O
(``engine``, asking the sans-I/O ``cache_policy``), running the one attempt that
every thread and task waits on (``runner``, ``flight``), logging (``report``), and
the operator's view with export / import (``state``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from ._remote import runner
from ._remote.cache_policy import (
    DEFAULT_CACHE_TTL,
    DEFAULT_COOLDOWN,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_STALE,
    DEFAULT_TIMEOUT,
)
from ._remote.engine import Engine
from ._remote.http import AsyncFetch, Fetch
from ._remote.options import settings
from ._remote.state import RemoteJWKSetState, export_of, import_into, state_of
from .jwk import JWK

if TYPE_CHECKING:
    import ssl
    from types import TracebackType

    from .observe import Observer

__all__ = ["RemoteJWKSet", "RemoteJWKSetState"]


class RemoteJWKSet:
    """A JWK Set fetched over HTTPS and cached: a key source for every verifier.

    Build one per provider and share it across threads and tasks. A request whose
    key the cached set holds never waits for the provider: past the set's freshness
    it is answered from the stale set at once while one refresh runs off the request
    path (stale-while-revalidate) -- in a daemon thread for a sync caller, in a task
    of the caller's event loop for an async one. Such a refresh ends within about
    ``timeout`` (twice that when discovery runs too). Only a lookup with no usable
    set, or for an unknown ``kid`` (at most one fetch per ``cooldown``), waits for a
    fetch, and not even that while the provider is failing and a usable set exists.

    :meth:`close` / :meth:`aclose` (or ``with`` / ``async with``) stop it fetching
    and wait for a background refresh still running; a closed set still serves its
    cached keys while they are usable. Without them nothing leaks either: threads
    are daemons, and tasks end with their loop.
    """

    __slots__ = ("_engine",)

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
        observer: Observer | None = None,
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
        - ``observer``: receives each key-set event (:data:`~jwkverify.observe.KEYSET_EVENTS`)
          as ``observer.keyset_event(event, source)``; e.g. a
          :class:`~jwkverify.observe.Counters`. It must be cheap and must not raise.

        Raises:
            TypeError, ValueError: an option is invalid, or ``url`` is not https.
        """
        import logging

        self._engine = Engine(settings(
            url, None, timeout=timeout, cache_ttl=cache_ttl, cooldown=cooldown, max_stale=max_stale,
            max_bytes=max_bytes, headers=headers, fetch=fetch, fetch_async=fetch_async,
            allow_http=allow_http, ssl_context=ssl_context, clock=clock, wall_clock=wall_clock,
            observer=observer, log=logging.getLogger(__name__)))

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
        observer: Observer | None = None,
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
        import logging

        self = cls.__new__(cls)
        self._engine = Engine(settings(
            None, issuer, timeout=timeout, cache_ttl=cache_ttl, cooldown=cooldown, max_stale=max_stale,
            max_bytes=max_bytes, headers=headers, fetch=fetch, fetch_async=fetch_async,
            allow_http=allow_http, ssl_context=ssl_context, clock=clock, wall_clock=wall_clock,
            observer=observer, log=logging.getLogger(__name__)))
        return self

    # -- key source --------------------------------------------------------------

    def keys_for(self, alg: str, kid: str | None) -> Sequence[JWK]:
        """Key-source protocol: the keys that may verify ``alg`` for ``kid``.

        A fresh set that knows ``kid`` answers at once: no lock, no I/O. A stale but
        usable set that knows it answers at once too, and starts a refresh in a
        background thread. Otherwise this may fetch (for an unknown ``kid`` at most once
        per ``cooldown``) or wait for the fetch in flight.

        Raises:
            KeyNotFound: no key has that ``kid`` (or none fits ``alg``), after any
                refetch the cooldown allows.
            AlgorithmNotAllowed: the key with that ``kid`` does not take ``alg``.
            KeySetFetchError: no usable set is cached and none could be fetched; the
                fetch failure is its ``__cause__``.
        """
        engine = self._engine
        snapshot = engine.snapshot
        if snapshot is not None and engine.clock() < snapshot.fresh_until:
            found = snapshot.answers.get((alg, kid))
            if found is not None:
                return found
        return runner.lookup(engine, alg, kid)

    async def keys_for_async(self, alg: str, kid: str | None) -> Sequence[JWK]:
        """Async form of :meth:`keys_for`; fetches and waits without blocking the loop.

        A background refresh runs as a task of the running loop.

        Raises:
            KeyNotFound, AlgorithmNotAllowed, KeySetFetchError: as :meth:`keys_for`.
        """
        engine = self._engine
        snapshot = engine.snapshot
        if snapshot is not None and engine.clock() < snapshot.fresh_until:
            found = snapshot.answers.get((alg, kid))
            if found is not None:
                return found
        return await runner.lookup_async(engine, alg, kid)

    def _keys_ready(self, alg: str, kid: str | None) -> Sequence[JWK] | None:
        """:meth:`keys_for`'s answer when a fresh set has one (no lock, no I/O, nothing to
        start), else ``None``: a verifier's sync step before it awaits :meth:`keys_for_async`."""
        engine = self._engine
        snapshot = engine.snapshot
        if snapshot is not None and engine.clock() < snapshot.fresh_until:
            return snapshot.answers.get((alg, kid))
        return None

    def refresh(self) -> None:
        """Fetch now, or join the fetch in flight, regardless of freshness, cooldown and backoff.

        For start-up (fail fast, warm the cache) and operator tools, not per request.

        Raises:
            KeySetFetchError: the fetch failed (a cached set, if any, is kept), or the
                set is closed.
        """
        runner.refresh(self._engine)

    async def refresh_async(self) -> None:
        """Async form of :meth:`refresh`.

        Raises:
            KeySetFetchError: the fetch failed (a cached set, if any, is kept), or the
                set is closed.
        """
        await runner.refresh_async(self._engine)

    # -- lifecycle -----------------------------------------------------------------

    def close(self) -> None:
        """Stop fetching; cancel background refresh tasks and wait for refresh threads.

        A refresh thread still running is waited for (it ends within about
        ``timeout``, twice that with discovery); its outcome is still applied. From
        then on no fetch starts: lookups are answered from the cached set while it is
        usable, and :meth:`refresh` raises. Idempotent. From async code, prefer
        :meth:`aclose`, which does not block the loop.
        """
        runner.close(self._engine)

    async def aclose(self) -> None:
        """Async form of :meth:`close`: cancels and awaits this loop's refresh tasks."""
        await runner.close_async(self._engine)

    def __enter__(self) -> RemoteJWKSet:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    async def __aenter__(self) -> RemoteJWKSet:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.aclose()

    # -- operators -----------------------------------------------------------------

    @property
    def url(self) -> str | None:
        """The JWK Set URL (``None`` until discovery has found it)."""
        return self._engine.url

    @property
    def issuer(self) -> str | None:
        """The issuer this set was discovered from (``None`` for a set built from a URL)."""
        return self._engine.issuer

    @property
    def state(self) -> RemoteJWKSetState:
        """A consistent, immutable view of the cache and its fetch history."""
        return state_of(self._engine)

    def export(self) -> str | None:
        """The cached set as JSON text for :meth:`import_state`; ``None`` if nothing is cached.

        For serverless cold starts: store it, import it in the next instance. It holds
        the JWK Set document as fetched, when it was fetched (wall clock), the server's
        freshness lifetime, the validators for a conditional request, and the URL in
        full (query included).
        """
        return export_of(self._engine)

    def import_state(self, text: str | bytes) -> bool:
        """Load what :meth:`export` produced; ``True`` if it is now the cached set.

        The key set is checked again as if just fetched. It is not used (``False``)
        when exported for another URL or issuer, past ``max_stale``, or older than the
        set already cached. Its freshness continues from when it was fetched.

        Raises:
            InvalidKeySet: the text is not an export, or its key set is refused.
        """
        return import_into(self._engine, text)

    def __repr__(self) -> str:
        snapshot = self._engine.snapshot
        held = f"{len(snapshot.keyset)} keys" if snapshot is not None else "nothing fetched"
        return f"RemoteJWKSet({self._engine.where()}, {held})"
