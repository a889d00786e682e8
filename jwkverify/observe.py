"""What an operator counts: the verdicts of the web adapters and the events of remote key sets.

Pass an :class:`Observer` as ``observer=`` to an adapter (ASGI, WSGI, MCP, FastMCP,
FastAPI) and to a :class:`~jwkverify.RemoteJWKSet`. :class:`Counters` is the
ready-made one: thread-safe counts behind a read-only :meth:`Counters.snapshot`,
to export to Prometheus or OpenTelemetry (see the operations docs). An observer is
called on the request path: it must be cheap and must not raise (an exception it
raises is swallowed and logged, never turned into a refusal or a ``500``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Protocol, runtime_checkable

__all__ = ["KEYSET_EVENTS", "VERDICTS", "Counters", "CountsSnapshot", "Observer"]

#: What an adapter reports for each request it decides (``verdict(outcome, code)``):
#: ``code`` is the refused token's error code (``JOSEError.code``, e.g.
#: ``"expired_token"``) for ``invalid_token`` and ``unavailable``, or
#: ``"dpop_bound_token"`` (a DPoP-bound token sent as Bearer), ``"unbound_token"`` (a
#: token bound to no key where DPoP is required), ``"replay_store_unavailable"``; for
#: ``invalid_dpop_proof`` the failed check (``InvalidDPoPProof.check``: ``"replay"``,
#: ``"htu"``, ``"jkt"``, ...); ``"dpop_required"`` for ``no_credentials`` when a Bearer
#: token came where only DPoP is taken; else ``None``.
VERDICTS: Final = (
    "accepted",            # a valid token with every scope and role the request needs
    "no_credentials",      # 401 with the challenge and no error code
    "invalid_request",     # 400: malformed credentials, two Authorization headers, ...
    "invalid_token",       # 401: the token was refused
    "insufficient_scope",  # 403 with scope=
    "insufficient_role",   # 403: a role is missing
    "unavailable",         # 503: no usable key set
    "invalid_dpop_proof",  # 401: DPoP (RFC 9449) proof refused
    "use_dpop_nonce",      # 401: DPoP nonce required or stale (RFC 9449 §8)
)

#: What a remote key set reports (``keyset_event(event, source)``; ``source`` is its URL
#: without query or credentials, or ``issuer <url>`` before discovery).
KEYSET_EVENTS: Final = (
    "fetched",         # a new set was fetched and is in use
    "not_modified",    # 304: the cached set was revalidated
    "rotated",         # the fetched set differs from the one it replaces
    "stale_served",    # a request was answered from a set past its freshness
    "fetch_failed",    # a fetch failed (the cached set, if usable, is still served)
    "refresh_started", # a background refresh began (stale-while-revalidate)
)


@runtime_checkable
class Observer(Protocol):
    """Receives verdicts and key-set events; both calls must be cheap and must not raise."""

    def verdict(self, outcome: str, code: str | None) -> None:
        """One request decided: ``outcome`` is one of :data:`VERDICTS`."""
        ...

    def keyset_event(self, event: str, source: str) -> None:
        """One key-set event: ``event`` is one of :data:`KEYSET_EVENTS`."""
        ...


@dataclass(frozen=True, slots=True)
class CountsSnapshot:
    """The counts at one instant: read-only mappings from name to count."""

    verdicts: Mapping[tuple[str, str | None], int]
    keyset_events: Mapping[tuple[str, str], int]


class Counters:
    """An :class:`Observer` that counts, safe to share across threads, tasks and adapters."""

    __slots__ = ("_events", "_lock", "_verdicts")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._verdicts: dict[tuple[str, str | None], int] = {}
        self._events: dict[tuple[str, str], int] = {}

    def verdict(self, outcome: str, code: str | None) -> None:
        key = (outcome, code)
        with self._lock:
            self._verdicts[key] = self._verdicts.get(key, 0) + 1

    def keyset_event(self, event: str, source: str) -> None:
        key = (event, source)
        with self._lock:
            self._events[key] = self._events.get(key, 0) + 1

    def snapshot(self) -> CountsSnapshot:
        """A consistent copy of every count."""
        with self._lock:
            verdicts, events = dict(self._verdicts), dict(self._events)
        return CountsSnapshot(MappingProxyType(verdicts), MappingProxyType(events))
