"""Server-provided nonces (RFC 9449 §8, §9), stateless: shared by replicas through a secret.

:class:`HMACNonceSource` derives the nonce of each period of time from a secret:
every replica given the same secret hands out and accepts the same nonces, with no
store. A nonce is accepted during its own period and the next one, so it lives at
least ``period`` and at most twice that; a client that sends the previous period's
nonce gets the current one back on success (``VerifiedProof.next_nonce``).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from typing import Final, Protocol, runtime_checkable

from .._codec.base64url import b64url_encode
from .options import Seconds, seconds

__all__ = ["DEFAULT_NONCE_PERIOD", "HMACNonceSource", "NonceSource"]

#: How long a nonce is handed out: one minute, so a proof made ahead of time (RFC 9449
#: §11.2) is usable for two minutes at most.
DEFAULT_NONCE_PERIOD: Final = 60.0
_MIN_SECRET: Final = 32
_CONTEXT: Final = b"jwkverify DPoP nonce v1:"


@runtime_checkable
class NonceSource(Protocol):
    """Where a verifier gets nonces: ``current(now)`` is the nonce to hand out now;
    ``accepts(nonce, now)`` says whether a proof's nonce is still good."""

    def current(self, now: float) -> str: ...

    def accepts(self, nonce: str, now: float) -> bool: ...


class HMACNonceSource:
    """Nonces that are an HMAC-SHA-256, under ``secret``, of the number of the period.

    ``secret``: at least 32 random bytes (``os.urandom(32)``), the same on every replica
    behind one URL and kept as secret as a signing key: who knows it can make nonces.
    ``period``: seconds (default 60) a nonce is handed out; it is accepted one period
    more. Replicas' clocks must agree to within a period.

    Raises ``TypeError``/``ValueError`` for a short or non-bytes secret or a bad period.
    """

    __slots__ = ("_key", "_period")

    def __init__(self, secret: bytes, *, period: Seconds = DEFAULT_NONCE_PERIOD) -> None:
        if not isinstance(secret, bytes | bytearray):
            raise TypeError("secret must be bytes: e.g. os.urandom(32), shared by every replica")
        if len(secret) < _MIN_SECRET:
            raise ValueError(f"secret must have at least {_MIN_SECRET} bytes (os.urandom(32))")
        self._period = seconds("period", period)
        if not 1 <= self._period <= 86400:
            raise ValueError("period must be between 1 second and 1 day")
        self._key = bytes(secret)

    def current(self, now: float) -> str:
        """The nonce to hand out at ``now`` (43 base64url characters, RFC 9449 §8.1 NQCHAR)."""
        return self._nonce(self._step(now))

    def accepts(self, nonce: str, now: float) -> bool:
        """Whether ``nonce`` is this period's or the previous one's, compared in constant time."""
        if not nonce.isascii():
            return False
        step = self._step(now)
        given = nonce.encode("ascii")
        current = hmac.compare_digest(given, self._nonce(step).encode("ascii"))
        previous = hmac.compare_digest(given, self._nonce(step - 1).encode("ascii"))
        return current | previous

    def _step(self, now: float) -> int:
        return math.floor(now / self._period)

    def _nonce(self, step: int) -> str:
        message = _CONTEXT + str(step).encode("ascii")  # any integer, however far the clock
        return b64url_encode(hmac.new(self._key, message, hashlib.sha256).digest())
