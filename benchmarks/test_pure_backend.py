"""Zero-dependency mode: the pure-Python backend against the ``cryptography`` floor.

Per algorithm, one ~450-byte signing input and three columns, each checked (the valid
signature verifies, a tampered one does not) before it is timed:

- ``floor``: the bare ``cryptography`` call, parameters and (for ECDSA) the DER
  signature built beforehand; the same floor as ``test_verify.py``.
- ``pure``: the pure backend's verifier for the key, the primitive that replaces it.
- ``jwkverify-pure``: a whole ``JWTVerifier.verify`` (parse, signature, claims) with
  the key set loaded by the pure backend.

Keys are made with ``cryptography`` and warmed (each pure key and curve builds its
point tables on first use) before timing. Run with the suite, or alone for a ratio
table without pytest-benchmark:

    python -m pytest benchmarks/test_pure_backend.py --benchmark-only
    python benchmarks/test_pure_backend.py        # Markdown table of medians and ratios
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from jwkverify import JWK, JWKSet, JWTVerifier
from jwkverify._crypto.choice import backend_by_name

AUDIENCE = "https://api.example.com/mcp"
#: label -> (JWS alg, key kind)
CASES = {
    "RS256-2048": ("RS256", "RSA-2048"),
    "RS256-4096": ("RS256", "RSA-4096"),
    "PS256": ("PS256", "RSA-2048"),
    "ES256": ("ES256", "P-256"),
    "ES384": ("ES384", "P-384"),
    "ES512": ("ES512", "P-521"),
    "ES256K": ("ES256K", "secp256k1"),
    "Ed25519": ("EdDSA", "Ed25519"),
    "Ed448": ("EdDSA", "Ed448"),
}
COLUMNS = ("floor", "pure", "jwkverify-pure")
_EC = {"P-256": (ec.SECP256R1, 32, hashes.SHA256), "P-384": (ec.SECP384R1, 48, hashes.SHA384),
       "P-521": (ec.SECP521R1, 66, hashes.SHA512), "secp256k1": (ec.SECP256K1, 32, hashes.SHA256)}
_HASH = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Case:
    alg: str
    jwk: dict[str, Any]
    token: str
    signing_input: bytes
    signature: bytes
    #: floor(signature) verifies or raises InvalidSignature.
    floor: Callable[[bytes], object]
    #: The timed floor: the valid signature, parameters (and DER) built beforehand.
    floor_valid: Callable[[], object]


@cache
def case(label: str) -> Case:
    alg, kind = CASES[label]
    now = int(time.time())
    claims = {"iss": "https://login.example.com/", "sub": "user-42", "aud": AUDIENCE, "iat": now,
              "nbf": now, "exp": now + 3600, "jti": os.urandom(16).hex(), "scope": "read write tools",
              "client_id": "mcp-agent-7f3c2a91"}
    header = b64(json.dumps({"alg": alg, "kid": "k1", "typ": "JWT"}).encode())
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}".encode()
    private: Any
    if kind.startswith("RSA"):
        private = rsa.generate_private_key(65537, int(kind[4:]))
        h = _HASH[alg[2:]]()
        pad = padding.PKCS1v15() if alg.startswith("RS") else padding.PSS(padding.MGF1(h), h.digest_size)
        signature = private.sign(signing_input, pad, h)
        numbers = private.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
               "e": "AQAB"}
        public = private.public_key()

        def floor(sig: bytes) -> object:
            return public.verify(sig, signing_input, pad, h)

        def floor_valid() -> object:
            return public.verify(signature, signing_input, pad, h)
    elif kind in _EC:
        curve, size, hash_cls = _EC[kind]
        private = ec.generate_private_key(curve())
        scheme = ec.ECDSA(hash_cls())
        r, s = decode_dss_signature(private.sign(signing_input, scheme))
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        point = private.public_key().public_numbers()
        jwk = {"kty": "EC", "crv": kind, "x": b64(point.x.to_bytes(size, "big")),
               "y": b64(point.y.to_bytes(size, "big"))}
        public = private.public_key()
        der = encode_dss_signature(r, s)

        def floor(sig: bytes) -> object:
            half = len(sig) // 2
            r_s = (int.from_bytes(sig[:half], "big"), int.from_bytes(sig[half:], "big"))
            return public.verify(encode_dss_signature(*r_s), signing_input, scheme)

        def floor_valid() -> object:
            return public.verify(der, signing_input, scheme)
    else:
        private = (ed25519.Ed25519PrivateKey if kind == "Ed25519" else ed448.Ed448PrivateKey).generate()
        signature = private.sign(signing_input)
        jwk = {"kty": "OKP", "crv": kind, "x": b64(private.public_key().public_bytes_raw())}
        public = private.public_key()

        def floor(sig: bytes) -> object:
            return public.verify(sig, signing_input)

        def floor_valid() -> object:
            return public.verify(signature, signing_input)
    jwk["kid"] = "k1"
    token = f"{signing_input.decode()}.{b64(signature)}"
    return Case(alg, jwk, token, signing_input, signature, floor, floor_valid)


def build(label: str, column: str) -> Callable[[], object]:
    """The timed call of ``column`` for ``label``, checked first."""
    c = case(label)
    tampered = bytes([c.signature[0] ^ 1]) + c.signature[1:]
    if column == "floor":
        c.floor(c.signature)
        with pytest.raises(InvalidSignature):
            c.floor(tampered)
        return c.floor_valid
    key = JWK.from_dict(c.jwk, backend=backend_by_name("pure"))
    if column == "pure":
        assert key.verify_signature(c.alg, c.signature, c.signing_input)  # builds the verifier
        verify = key._verifiers[c.alg][1]  # the backend's verifier callable
        assert verify(c.signature, c.signing_input) and verify(c.signature, c.signing_input)
        assert not verify(tampered, c.signing_input)
        return lambda: verify(c.signature, c.signing_input)
    verifier = JWTVerifier(JWKSet([key]), algorithms=[c.alg], audience=AUDIENCE)
    assert verifier.verify(c.token)["aud"] == AUDIENCE
    return lambda: verifier.verify(c.token)


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("label", list(CASES))
def test_pure_backend(benchmark: Any, label: str, column: str) -> None:
    timed = build(label, column)
    benchmark.group = f"pure backend {label}"
    benchmark.extra_info.update(kind="pure-backend", algorithm=label, column=column)
    benchmark(timed)


def _median_seconds(call: Callable[[], object], budget: float = 0.5) -> float:
    """Median of repeated timings, each of enough calls to take about a millisecond."""
    number = max(1, int(1e-3 / max(timeit.timeit(call, number=1), 1e-7)))
    rounds = max(5, int(budget / (number * max(timeit.timeit(call, number=number) / number, 1e-7))))
    return statistics.median(timeit.repeat(call, number=number, repeat=min(rounds, 200))) / number


def main() -> None:
    print("| algorithm | floor (`cryptography`) | pure | pure ÷ floor | whole JWT, pure ÷ floor |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label in CASES:
        floor, pure, whole = (_median_seconds(build(label, column)) for column in COLUMNS)
        print(f"| {label} | {floor * 1e6:.0f} µs | {pure * 1e6:.0f} µs | {pure / floor:.1f}x "
              f"| {whole / floor:.1f}x |")


if __name__ == "__main__":
    main()
