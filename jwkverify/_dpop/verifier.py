"""The DPoP proof verifier (RFC 9449 §4.3, §7.1, §9, §11.1): sans I/O but for the replay store."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, NoReturn

from ..errors import ClaimError, UseDPoPNonce, clip
from ..jwk import JWK
from .claims import access_token_hash, check_request, check_time, check_token, read_claims
from .frozen import freeze
from .header import ProofKeyCache, check_header, refuse, split_proof
from .nonces import NonceSource
from .options import (
    DEFAULT_ALGORITHMS,
    DEFAULT_LEEWAY,
    DEFAULT_MAX_AGE,
    DEFAULT_MAX_PROOF_SIZE,
    ProofPolicy,
    Seconds,
)
from .replay import MemoryReplayCache, ReplayCache, replay_key

__all__ = ["DPoPVerifier", "ProofInput", "VerifiedProof", "token_jkt"]

#: What ``verify`` takes as the proof: the ``DPoP`` header's value, or every value
#: of the request's ``DPoP`` headers (none, one, or too many), or ``None`` for none.
ProofInput = str | bytes | Sequence[str | bytes] | None
Moment = float | int | datetime | None


class VerifiedProof(NamedTuple):
    """A DPoP proof that passed every check: read-only ``header`` and ``claims``, the
    public ``key`` from its ``jwk`` header and that key's RFC 7638 ``thumbprint``.

    ``next_nonce`` is set when the verifier has nonces and the proof used the previous
    period's: send it in a ``DPoP-Nonce`` header on the response (RFC 9449 §8.2).
    A NamedTuple rather than a frozen dataclass: one is built per request, and tuple
    construction is several times cheaper.
    """

    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    key: JWK
    thumbprint: str
    next_nonce: str | None = None

    @property
    def jti(self) -> str:
        value: str = self.claims["jti"]
        return value

    @property
    def iat(self) -> float:
        value: float = self.claims["iat"]
        return value

    def __repr__(self) -> str:
        return f"VerifiedProof(jti={self.jti!r}, thumbprint={self.thumbprint!r}, alg={self.header['alg']!r})"


class DPoPVerifier:
    """Checks DPoP proofs at a resource server; build one per protected service, share it.

    Options (keyword-only, checked here, once):

    - ``algorithms``: the asymmetric algorithms a proof may use (default: every one
      jwkverify verifies; RFC 9449 §4.2 forbids symmetric ones and ``none``).
    - ``max_age``: seconds a proof stays acceptable after its ``iat`` (default 300).
    - ``leeway``: seconds a proof's ``iat`` may lie in the future (default 5); the
      past side of the window is ``max_age`` alone.
    - ``replay``: a :class:`ReplayCache`; default a :class:`MemoryReplayCache` of this
      process. Several replicas share a :class:`RedisReplayCache`.
    - ``nonces``: a :class:`NonceSource` (e.g. :class:`HMACNonceSource`) to require
      server nonces (RFC 9449 §9); default ``None``: no nonces.
    - ``max_proof_size``: longest proof accepted, in characters (default 8192).

    Raises ``TypeError``/``ValueError`` for invalid options.
    """

    __slots__ = ("_ath", "_keys", "_nonces", "_policy", "_replay")

    def __init__(
        self,
        *,
        algorithms: Iterable[str] | str = DEFAULT_ALGORITHMS,
        max_age: Seconds = DEFAULT_MAX_AGE,
        leeway: Seconds = DEFAULT_LEEWAY,
        replay: ReplayCache | None = None,
        nonces: NonceSource | None = None,
        max_proof_size: int = DEFAULT_MAX_PROOF_SIZE,
    ) -> None:
        self._policy = ProofPolicy.build(algorithms, max_age, leeway, max_proof_size)
        if replay is None:
            replay = MemoryReplayCache()
        elif not isinstance(replay, ReplayCache):
            raise TypeError("replay must be a ReplayCache (MemoryReplayCache() or RedisReplayCache(client)), "
                            f"not {type(replay).__name__}")
        if nonces is not None and not isinstance(nonces, NonceSource):
            raise TypeError("nonces must be a NonceSource such as HMACNonceSource(secret), or None, "
                            f"not {type(nonces).__name__}")
        self._replay = replay
        self._nonces = nonces
        self._keys = ProofKeyCache()
        # A client sends one token with many proofs: its hash is computed once (bounded).
        self._ath = lru_cache(maxsize=256)(access_token_hash)

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The accepted algorithms, for a challenge's ``algs`` and for RFC 9728's
        ``dpop_signing_alg_values_supported``."""
        return self._policy.algorithms

    @property
    def requires_nonce(self) -> bool:
        """Whether proofs must carry a server nonce."""
        return self._nonces is not None

    def current_nonce(self, now: Moment = None) -> str | None:
        """The nonce to send in a ``DPoP-Nonce`` header now (with a 401, for one), or
        ``None`` without nonces."""
        return None if self._nonces is None else self._nonces.current(_seconds_now(now))

    def verify(
        self, proof: ProofInput, *, method: str, url: str, access_token: str, jkt: str | None,
        now: Moment = None,
    ) -> VerifiedProof:
        """Check a request's DPoP proof (RFC 9449 §4.3) and record it as used.

        ``proof``: the ``DPoP`` header value, or the list of all of the request's
        ``DPoP`` header values. ``method``: the request's method. ``url``: its URI as the
        client addressed it (scheme, host and port the client used, then the raw,
        percent-encoded path; a query or fragment is ignored). ``access_token``: the
        token sent with it. ``jkt``: the token's ``cnf.jkt`` (see :func:`token_jkt`), or
        ``None`` for a token bound to no key, which the caller then decides about.
        ``now``: the time to check against (default: the system clock).

        Raises:
            InvalidDPoPProof: the proof fails a check; ``check`` names which.
            UseDPoPNonce: nonces are on and the proof lacks the current one.
            ReplayStoreUnavailable: a shared replay store could not be reached (503).
        """
        checked, key, moment, ends = self._check(proof, method, url, access_token, jkt=jkt, now=now)
        if not self._replay.remember(key, now=moment, expires_at=ends):  # last: every check passed
            refuse("the DPoP proof was used before (a replay); every request needs a new proof", "replay")
        return checked

    async def verify_async(
        self, proof: ProofInput, *, method: str, url: str, access_token: str, jkt: str | None,
        now: Moment = None,
    ) -> VerifiedProof:
        """:meth:`verify` for async code: the replay store is asked without blocking.

        Raises:
            InvalidDPoPProof, UseDPoPNonce, ReplayStoreUnavailable: as :meth:`verify`.
        """
        checked, key, moment, ends = self._check(proof, method, url, access_token, jkt=jkt, now=now)
        if not await self._replay.remember_async(key, now=moment, expires_at=ends):
            refuse("the DPoP proof was used before (a replay); every request needs a new proof", "replay")
        return checked

    def _check(
        self, proof: ProofInput, method: str, url: str, access_token: str, *, jkt: str | None, now: Moment
    ) -> tuple[VerifiedProof, str, float, float]:
        """Every check but replay; the proof, its replay key, the time and the window's end."""
        if type(method) is not str or type(url) is not str or type(access_token) is not str or (
                jkt is not None and type(jkt) is not str):
            _wrong_arguments(method, url, access_token, jkt)
        moment = _seconds_now(now)
        policy = self._policy
        text = _one_proof(proof)
        header_segment, payload_segment, signing_input, signature = split_proof(text, policy.max_proof_size)
        entry = self._keys.get(header_segment)
        if entry is None:
            entry = check_header(text, policy.max_proof_size, policy.allowed)
            self._keys.put(header_segment, entry)
        # RFC 9449 §4.3 item 12, §6: cheap, so before the signature.
        if jkt is not None and entry.thumbprint != jkt:
            refuse("the DPoP proof's key is not the key the access token is bound to (cnf.jkt)", "jkt")
        if not entry.key.verify_signature(entry.alg, signature, signing_input):  # RFC 9449 §4.3 item 6
            refuse(f"the DPoP proof's {entry.alg} signature does not verify with its jwk", "signature")
        found = read_claims(payload_segment)
        check_request(found, method, url)
        check_time(found.iat, moment, policy.max_age, policy.leeway)
        check_token(found.ath, self._ath(access_token))
        next_nonce = self._check_nonce(found.nonce, moment)
        checked = VerifiedProof(entry.header, freeze(found.claims), entry.key, entry.thumbprint, next_nonce)
        # Remembered until its iat leaves the window, and a leeway more for other replicas' clocks.
        ends = found.iat + policy.max_age + policy.leeway
        return checked, replay_key(entry.thumbprint, found.jti), moment, ends

    def _check_nonce(self, nonce: str | None, now: float) -> str | None:
        """RFC 9449 §4.3 item 10, §9, §11.3: the next nonce to hand out, if any."""
        source = self._nonces
        if source is None:
            return None
        current = source.current(now)
        if nonce is None:
            raise UseDPoPNonce("the resource server requires a nonce in the DPoP proof", nonce=current)
        if not source.accepts(nonce, now):
            raise UseDPoPNonce("the DPoP proof's nonce is not (or no longer) accepted", nonce=current)
        return None if nonce == current else current


def token_jkt(claims: Mapping[str, Any]) -> str | None:
    """The key thumbprint an access token is bound to (RFC 9449 §6.1 ``cnf.jkt``), or
    ``None`` for a token with no ``jkt`` confirmation.

    Raises:
        ClaimError: ``cnf`` is not an object, or its ``jkt`` is not a string.
    """
    cnf = claims.get("cnf")
    if cnf is None:
        return None
    if not isinstance(cnf, Mapping):
        raise ClaimError("the token's 'cnf' claim must be an object (RFC 7800 §3.1)", claim="cnf",
                         reason="invalid_type")
    jkt = cnf.get("jkt")
    if jkt is not None and (not isinstance(jkt, str) or not jkt):
        raise ClaimError("the token's 'cnf.jkt' must be a thumbprint string (RFC 9449 §6.1)", claim="cnf",
                         reason="invalid_type")
    return jkt


def _one_proof(proof: ProofInput) -> str:
    """RFC 9449 §4.3 item 1: exactly one DPoP header."""
    if type(proof) is str:
        return proof
    if proof is None:
        refuse("the request has no DPoP header; a DPoP-bound token needs a proof (RFC 9449 §7.1)", "count")
    if isinstance(proof, bytes | bytearray):
        try:
            return bytes(proof).decode("ascii")
        except UnicodeDecodeError as exc:
            refuse("the DPoP proof is not a JWT: it has non-ASCII characters", "format", exc)
    if isinstance(proof, list | tuple):
        if len(proof) != 1:
            refuse(f"the request has {len(proof)} DPoP headers; exactly one is allowed (RFC 9449 §4.3)"
                   if proof else "the request has no DPoP header", "count")
        return _one_proof(proof[0])
    refuse(f"the DPoP proof must be a str, not {type(proof).__name__}", "format")


def _wrong_arguments(method: object, url: object, access_token: object, jkt: object) -> NoReturn:
    for name, value in (("method", method), ("url", url), ("access_token", access_token)):
        if type(value) is not str:
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if jkt is not None and type(jkt) is not str:
        raise TypeError(f"jkt must be the token's cnf.jkt string or None, not {clip(jkt)}; see token_jkt()")
    raise AssertionError("unreachable: an argument of the wrong type was found above")  # pragma: no cover


def _seconds_now(now: Moment) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime")
        return now.timestamp()
    if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now):
        raise TypeError("now must be None, a finite number of seconds or an aware datetime")
    return float(now)
