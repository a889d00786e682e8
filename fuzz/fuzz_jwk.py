"""Fuzz target: arbitrary bytes as a JWK and as a JWK Set document.

Property: only a ``JOSEError`` escapes from parsing; a key that loads has a
thumbprint, exports a mapping that loads back as an equal key, and answers
``keys_for`` for every algorithm with its keys or a ``JOSEError``.
"""

from __future__ import annotations

import json

from _common import Reader, generated, instrumented, main, vector_jwks

with instrumented():
    from jwkverify import JWK, JOSEError, JWKSet
    from jwkverify.algorithms import ALGORITHMS

ALGORITHM_NAMES = tuple(ALGORITHMS)


def exercise(key: JWK) -> None:
    for hash_name in ("sha256", "sha384", "sha512"):
        assert isinstance(key.thumbprint(hash_name), str)
    exported = key.to_dict()
    assert JWK.from_dict(exported, min_rsa_bits=1024) == key
    assert JWK.from_json(json.dumps(exported), min_rsa_bits=1024) == key
    for alg in ALGORITHM_NAMES:
        try:
            assert key.keys_for(alg, key.kid) == (key,)
        except JOSEError:
            assert alg not in key.algorithms
        else:
            assert alg in key.algorithms
    repr(key)


def check(data: bytes) -> None:
    reader = Reader(data)
    choice = reader.byte()
    text: str | bytes = reader.rest()
    if choice & 1:
        text = text.decode("utf-8", "surrogateescape") if choice & 2 else text.decode("latin-1")
    min_rsa_bits = 1024 if choice & 4 else 2048
    try:
        key = JWK.from_json(text, min_rsa_bits=min_rsa_bits)
    except JOSEError:
        pass
    else:
        exercise(key)
    try:
        keys = JWKSet.from_json(text, min_rsa_bits=min_rsa_bits, max_keys=1 + (choice >> 3))
    except JOSEError:
        return
    assert len(keys) + len(keys.skipped) <= 1 + (choice >> 3)
    for key in keys:
        exercise(key)
    again = JWKSet.from_dict(keys.to_dict(), min_rsa_bits=1024)
    assert list(again) == list(keys)
    for key in keys:
        for alg in key.algorithms:
            try:
                found = keys.keys_for(alg, key.kid)
            except JOSEError:
                continue  # an ambiguous kid is refused
            assert all(alg in candidate.algorithms for candidate in found)


def seeds() -> list[bytes]:
    documents = [*vector_jwks(), *({"keys": [signer.jwk]} for signer in generated()),
                 *(signer.jwk for signer in generated()),
                 {"keys": [signer.jwk for signer in generated() if signer.jwk["kty"] != "oct"]}]
    return [bytes([flag]) + json.dumps(document).encode() for document in documents for flag in (0, 4 | 8)]


if __name__ == "__main__":
    main(check)
