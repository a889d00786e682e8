"""Test-side token minting with `cryptography`: private keys, JWKs and signed tokens.

jwkverify only verifies; the tests need an independent signer. Everything here
uses `cryptography` directly, never jwkverify, so a bug in the library cannot
hide itself by producing the tokens it then accepts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_EC = {
    "ES256": (ec.SECP256R1, "P-256", 32, "256"),
    "ES384": (ec.SECP384R1, "P-384", 48, "384"),
    "ES512": (ec.SECP521R1, "P-521", 66, "512"),
    "ES256K": (ec.SECP256K1, "secp256k1", 32, "256"),
}

ALL_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "ES256K",
    "EdDSA", "Ed25519", "Ed448",
    "HS256", "HS384", "HS512",
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def uint(value: int) -> str:
    return b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def segment(obj: Any) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


@dataclass
class SigningKey:
    """A private key that signs for one algorithm, with its public JWK."""

    alg: str
    private: Any
    jwk: dict[str, Any]

    def sign(self, signing_input: bytes) -> bytes:
        return _sign(self.alg, self.private, signing_input)

    def token(
        self,
        claims: Any = None,
        *,
        header: dict[str, Any] | None = None,
        payload: bytes | None = None,
        alg: str | None = None,
    ) -> str:
        """A compact JWS over ``claims`` (or raw ``payload``) with ``kid`` from the JWK."""
        hdr: dict[str, Any] = {"alg": alg or self.alg}
        if "kid" in self.jwk:
            hdr["kid"] = self.jwk["kid"]
        if header is not None:
            hdr.update(header)
            hdr = {k: v for k, v in hdr.items() if v is not None}
        body = payload if payload is not None else json.dumps(claims or {}).encode()
        signing_input = f"{segment(hdr)}.{b64(body)}"
        return f"{signing_input}.{b64(self.sign(signing_input.encode()))}"


def make_key(alg: str, kid: str | None = "k1", *, rsa_bits: int = 2048, **extra: Any) -> SigningKey:
    """A fresh key for ``alg`` and its public JWK (with ``kid`` and ``extra`` members)."""
    private, jwk = _generate(alg, rsa_bits)
    if kid is not None:
        jwk["kid"] = kid
    jwk.update(extra)
    return SigningKey(alg, private, jwk)


def _generate(alg: str, rsa_bits: int) -> tuple[Any, dict[str, Any]]:
    if alg[:2] in ("RS", "PS"):
        key = rsa.generate_private_key(65537, rsa_bits)
        numbers = key.public_key().public_numbers()
        return key, {"kty": "RSA", "n": uint(numbers.n), "e": uint(numbers.e)}
    if alg in _EC:
        curve, crv, size, _ = _EC[alg]
        key = ec.generate_private_key(curve())
        point = key.public_key().public_numbers()
        return key, {"kty": "EC", "crv": crv, "x": b64(point.x.to_bytes(size, "big")),
                     "y": b64(point.y.to_bytes(size, "big"))}
    if alg in ("EdDSA", "Ed25519"):
        key = ed25519.Ed25519PrivateKey.generate()
        return key, {"kty": "OKP", "crv": "Ed25519", "x": b64(key.public_key().public_bytes_raw())}
    if alg == "Ed448":
        key = ed448.Ed448PrivateKey.generate()
        return key, {"kty": "OKP", "crv": "Ed448", "x": b64(key.public_key().public_bytes_raw())}
    if alg.startswith("HS"):
        secret = os.urandom(int(alg[2:]) // 8)
        return secret, {"kty": "oct", "k": b64(secret)}
    raise ValueError(alg)


def _sign(alg: str, private: Any, data: bytes) -> bytes:
    if alg.startswith("RS"):
        return private.sign(data, padding.PKCS1v15(), _HASHES[alg[2:]]())
    if alg.startswith("PS"):
        h = _HASHES[alg[2:]]()
        return private.sign(data, padding.PSS(padding.MGF1(h), h.digest_size), h)
    if alg in _EC:
        _, _, size, bits = _EC[alg]
        r, s = decode_dss_signature(private.sign(data, ec.ECDSA(_HASHES[bits]())))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if alg in ("EdDSA", "Ed25519", "Ed448"):
        return private.sign(data)
    if alg.startswith("HS"):
        return hmac.new(private, data, getattr(hashlib, "sha" + alg[2:])).digest()
    raise ValueError(alg)


def hs_token(secret: bytes, alg: str, header: dict[str, Any], claims: Any) -> str:
    """An HS* token signed with an arbitrary secret (e.g. an RSA JWK's text)."""
    signing_input = f"{segment({'alg': alg, **header})}.{segment(claims)}"
    mac = hmac.new(secret, signing_input.encode(), getattr(hashlib, "sha" + alg[2:])).digest()
    return f"{signing_input}.{b64(mac)}"
