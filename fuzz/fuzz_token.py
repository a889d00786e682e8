"""Fuzz target: arbitrary bytes as a token, through verify_jws, verify_jwt and JWTVerifier.

Property: whatever the input, only a ``JOSEError`` escapes. The key sources hold
every public key in vectors/ and a fresh key per algorithm, so inputs derived from
the seed tokens get past key selection to the signature check.
"""

from __future__ import annotations

import contextlib
from functools import cache
from typing import Any

from _common import Reader, generated, instrumented, main, vector_jwks, vector_tokens

with instrumented():
    from jwkverify import ANY_AUDIENCE, JWK, JOSEError, JWKSet, JWTVerifier, verify_jws, verify_jwt


@cache
def sources() -> tuple[Any, ...]:
    """The vectors' public keys, their secrets, and the generated keys (public, then secret)."""
    vector_keys = [jwk for jwk in vector_jwks() if "kty" in jwk]
    secret = [jwk for jwk in vector_keys if jwk["kty"] == "oct"]
    asymmetric = [jwk for jwk in vector_keys if jwk["kty"] != "oct"]
    fresh = [signer.jwk for signer in generated()]
    sets = [JWKSet.from_dict({"keys": keys}, min_rsa_bits=1024) for keys in (
        asymmetric, secret, [k for k in fresh if k["kty"] != "oct"], [k for k in fresh if k["kty"] == "oct"])]
    return (*sets, JWK.from_dict(fresh[0]))


@cache
def verifiers() -> tuple[JWTVerifier, ...]:
    return tuple(JWTVerifier(source, audience=ANY_AUDIENCE, cache_size=4, leeway=1e9)
                 for source in sources())


def check(data: bytes) -> None:
    reader = Reader(data)
    choice = reader.byte()
    token: str | bytes = reader.rest()
    if choice & 1:
        token = token.decode("latin-1")
    small = 64 + (choice >> 1) * 64  # exercise the size bound at inputs a fuzzer makes
    for source in sources():
        with contextlib.suppress(JOSEError):
            verify_jws(token, source)
        with contextlib.suppress(JOSEError):
            verify_jws(token, source, max_token_size=small)
        with contextlib.suppress(JOSEError):
            verify_jwt(token, source, audience=ANY_AUDIENCE, leeway=1e9)
    for verifier in verifiers():
        for _ in range(2):  # the second call may be answered by the token cache
            with contextlib.suppress(JOSEError):
                verifier.verify(token)


def seeds() -> list[bytes]:
    tokens = [*vector_tokens(), *(signer.token({"sub": "fuzz"}) for signer in generated())]
    return [bytes([flag]) + token.encode() for token in tokens for flag in (0, 1)]


if __name__ == "__main__":
    main(check)
