"""A replay cache in Redis, shared by every replica (``pip install "jwkverify[redis]"``).

Each accepted proof is one ``SET key 1 NX PX <ms>``: atomic, so of two replicas
that receive the same proof at once exactly one records it and the other refuses
it; the relative expiry makes Redis forget the key when the proof's window has
ended. When Redis cannot be reached, the request is refused with
:class:`~jwkverify.errors.ReplayStoreUnavailable` (``status_hint`` 503): whether the
proof is a replay is unknown, so it is never accepted.
"""

from __future__ import annotations

import math
from typing import Any, Final

from ..errors import ReplayStoreUnavailable

__all__ = ["DEFAULT_PREFIX", "RedisReplayCache"]

DEFAULT_PREFIX: Final = "jwkverify:dpop:"
#: Added to every expiry: replicas' clocks differ a little, and a key must outlive the
#: window on every replica's clock.
_MARGIN_MS: Final = 1000


class RedisReplayCache:
    """A :class:`ReplayCache` on a redis-py client: ``redis.Redis`` for
    :meth:`DPoPVerifier.verify`, ``redis.asyncio.Redis`` for ``verify_async`` (a
    synchronous client also serves ``verify_async``, from a worker thread).

    ``prefix`` starts every key (default ``"jwkverify:dpop:"``): give each protected
    service its own when they share a Redis and must not see each other's proofs.
    Give the client a ``socket_timeout`` (e.g. 0.5 s) so an outage refuses requests
    quickly rather than holding them.

    Raises ``ImportError`` (naming the extra) without redis-py, ``TypeError`` for a
    client that is not a redis-py client.
    """

    __slots__ = ("_client", "_errors", "_is_async", "_prefix")

    def __init__(self, client: Any, *, prefix: str = DEFAULT_PREFIX) -> None:
        try:
            import redis
            import redis.asyncio
        except ImportError as exc:
            raise ImportError('RedisReplayCache needs redis-py: pip install "jwkverify[redis]"') from exc
        asynchronous = (redis.asyncio.Redis, redis.asyncio.RedisCluster)
        if not isinstance(client, (redis.Redis, redis.RedisCluster, *asynchronous)):
            raise TypeError(f"client must be a redis-py client (redis.Redis or redis.asyncio.Redis), "
                            f"not {type(client).__name__}")
        if not isinstance(prefix, str):
            raise TypeError("prefix must be a str")
        self._client: Any = client
        self._is_async = isinstance(client, asynchronous)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._prefix = prefix

    def remember(self, key: str, *, now: float, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at`` unless Redis has it; ``False`` if it had.

        Raises:
            ReplayStoreUnavailable: Redis could not be reached or failed.
            TypeError: the client is asynchronous (use ``verify_async``).
        """
        if self._is_async:
            raise TypeError("this RedisReplayCache has an asyncio client: call verify_async, "
                            "or give it a redis.Redis client")
        try:
            stored = self._client.set(self._prefix + key, b"1", nx=True, px=_milliseconds(now, expires_at))
        except self._errors as exc:
            raise _unavailable(exc) from exc
        return bool(stored)

    async def remember_async(self, key: str, *, now: float, expires_at: float) -> bool:
        """:meth:`remember` for ``verify_async``.

        Raises:
            ReplayStoreUnavailable: Redis could not be reached or failed.
        """
        if not self._is_async:
            import asyncio

            return await asyncio.to_thread(self.remember, key, now=now, expires_at=expires_at)
        try:
            stored = await self._client.set(self._prefix + key, b"1", nx=True,
                                            px=_milliseconds(now, expires_at))
        except self._errors as exc:
            raise _unavailable(exc) from exc
        return bool(stored)


def _milliseconds(now: float, expires_at: float) -> int:
    return max(1, math.ceil((expires_at - now) * 1000)) + _MARGIN_MS


def _unavailable(exc: BaseException) -> ReplayStoreUnavailable:
    return ReplayStoreUnavailable(
        f"the DPoP replay store (Redis) is unavailable ({type(exc).__name__}: {exc}); whether the "
        "proof was used before cannot be known, so the request is refused: retry later")
