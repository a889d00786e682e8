"""DPoP (RFC 9449) at the resource server: sender-constrained access tokens.

A DPoP-bound access token names, in ``cnf.jkt``, the key of the client it was
issued to; the client signs a fresh proof with that key for every request (the
``DPoP`` header), so a stolen token alone is useless. :class:`DPoPVerifier` checks
a proof against the request and the token, sans I/O like the rest of jwkverify,
and records it so that it is accepted once. The ``jwk`` in a proof's header is the
one key jwkverify ever takes from a token, and it verifies that proof only.

Replay protection is per process by default (:class:`MemoryReplayCache`); replicas
behind one URL share a :class:`RedisReplayCache`. Server nonces (RFC 9449 §9) come
from :class:`HMACNonceSource`, stateless and shared by replicas through a secret.
"""

from ._dpop.claims import access_token_hash
from ._dpop.htu import normalise_htu
from ._dpop.nonces import HMACNonceSource, NonceSource
from ._dpop.options import DEFAULT_ALGORITHMS
from ._dpop.redis_cache import RedisReplayCache
from ._dpop.replay import MemoryReplayCache, ReplayCache
from ._dpop.verifier import DPoPVerifier, VerifiedProof, token_jkt
from .errors import InvalidDPoPProof, ReplayStoreUnavailable, UseDPoPNonce

__all__ = [
    "DEFAULT_ALGORITHMS",
    "DPoPVerifier",
    "HMACNonceSource",
    "InvalidDPoPProof",
    "MemoryReplayCache",
    "NonceSource",
    "RedisReplayCache",
    "ReplayCache",
    "ReplayStoreUnavailable",
    "UseDPoPNonce",
    "VerifiedProof",
    "access_token_hash",
    "normalise_htu",
    "token_jkt",
]
