"""Test-side DPoP proofs (RFC 9449 §4.2), signed with `cryptography` through ``signing.py``.

Independent of jwkverify: the thumbprint (RFC 7638) and ``ath`` are computed here with
hashlib, so a bug in the library cannot produce the values it then accepts.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from signing import SigningKey, b64, make_key, segment

URL = "https://api.example.test/notes"
TOKEN = "an.access-token~for_the+notes/api="
NOW = 1_700_000_000
_REQUIRED = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
_ABSENT: Any = object()


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3: the required members, sorted, no whitespace, SHA-256, base64url."""
    members = {name: jwk[name] for name in _REQUIRED[jwk["kty"]]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return b64(hashlib.sha256(canonical).digest())


def ath(token: str) -> str:
    return b64(hashlib.sha256(token.encode("ascii")).digest())


@dataclass
class Client:
    """A DPoP client: a private key, and proofs made with it."""

    signer: SigningKey
    jwk: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.jwk = {name: value for name, value in self.signer.jwk.items() if name != "kid"}

    @property
    def jkt(self) -> str:
        return thumbprint(self.jwk)

    def claims(self, **changes: Any) -> dict[str, Any]:
        claims: dict[str, Any] = {"jti": str(uuid.uuid4()), "htm": "GET", "htu": URL, "iat": NOW,
                                  "ath": ath(TOKEN)}
        for name, value in changes.items():
            if value is _ABSENT:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def header(self, **changes: Any) -> dict[str, Any]:
        header: dict[str, Any] = {"typ": "dpop+jwt", "alg": self.signer.alg, "jwk": self.jwk}
        for name, value in changes.items():
            if value is _ABSENT:
                header.pop(name, None)
            else:
                header[name] = value
        return header

    def proof(self, *, header: dict[str, Any] | None = None, signer: SigningKey | None = None,
              **claims: Any) -> str:
        """A proof for ``GET URL`` with ``TOKEN`` at ``NOW``; ``claims`` change or drop
        (:data:`ABSENT`) claims, ``header`` replaces the header, ``signer`` signs instead."""
        return sign(header or self.header(), self.claims(**claims), signer or self.signer)


ABSENT = _ABSENT


def sign(header: dict[str, Any], claims: Any, signer: SigningKey) -> str:
    signing_input = f"{segment(header)}.{segment(claims)}"
    return f"{signing_input}.{b64(signer.sign(signing_input.encode()))}"


def client(alg: str = "ES256", **key_options: Any) -> Client:
    return Client(make_key(alg, kid=None, **key_options))
