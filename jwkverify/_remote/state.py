"""A remote key set seen from outside: its state for operators, and export / import for cold starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import InvalidKeySet
from ..jwk import JWK
from .engine import Engine
from .http import redact, url_problem
from .snapshot import Snapshot, answers_of, export_text, parse_export

__all__ = ["RemoteJWKSetState", "Status", "export_of", "import_into", "state_of"]

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


def state_of(engine: Engine) -> RemoteJWKSetState:
    """A consistent, immutable view of ``engine``'s cache and fetch history."""
    now, wall, policy = engine.clock(), engine.wall_clock(), engine.policy
    with engine.lock:
        snapshot = engine.snapshot
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
        url=redact(engine.url) if engine.url is not None else None, issuer=engine.issuer, status=status,
        fetched_at=times[0], fresh_until=times[1], usable_until=times[2], key_count=len(keys),
        kids=tuple(key.kid for key in keys if key.kid is not None),
        etag=snapshot.etag if snapshot is not None else None,
        last_modified=snapshot.last_modified if snapshot is not None else None,
        fetch_count=counts[0], failure_count=counts[1], consecutive_failures=counts[2],
        last_error=last_error, retry_at=epoch(retry_at) if retry_at > now else None, fetching=fetching,
    )


def export_of(engine: Engine) -> str | None:
    """The cached set as export text, or ``None`` if nothing is cached."""
    snapshot = engine.snapshot
    if snapshot is None:
        return None
    age = engine.clock() - snapshot.freshness.fetched_at
    return export_text(snapshot, engine.issuer, engine.wall_clock() - age)


def import_into(engine: Engine, text: str | bytes) -> bool:
    """Load an export into ``engine``; whether it is now the cached set.

    Raises:
        InvalidKeySet: the text is not an export, or its key set is refused.
    """
    data = parse_export(text)
    if url_problem(data.url, allow_http=engine.transport.allow_http) is not None:
        raise InvalidKeySet(f"the exported URL {redact(data.url)} is not allowed here")
    if (engine.url is not None and data.url != engine.url) or data.issuer != engine.issuer:
        engine.reporter.not_imported(data.url)
        return False
    now = engine.clock()
    fetched_at = now - max(0.0, engine.wall_clock() - data.fetched_at)
    freshness = engine.policy.freshness(fetched_at, data.lifetime)
    if not now < freshness.usable_until:
        return False
    snapshot = Snapshot(answers_of(data.keyset), freshness.fresh_until, data.keyset, freshness,
                        data.document, data.url, data.lifetime, data.etag, data.last_modified)
    if not engine.install(snapshot, fetched_at):
        return False
    engine.reporter.imported(data.url, len(data.keyset), now - fetched_at)
    return True
