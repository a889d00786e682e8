"""The bad inputs every web face must answer without a 500 or a traceback (issue 14).

Each case is an ``Authorization`` value (or a verifier that crashes) and the status
every face gives it. Faces that take the token itself (the MCP SDK's
``TokenVerifier``) use the token part.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from signing import SigningKey, b64, hs_token

#: A 20 KB header: longer than any token a verifier takes (16 KiB by default).
LONG = "Bearer " + "A" * 20_000


def unsigned(claims: dict[str, Any], kid: str = "k1") -> str:
    """A token with ``alg: none`` and no signature (RFC 7519 §6's unsecured JWT)."""
    header = b64(json.dumps({"alg": "none", "kid": kid}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


def public_key_hs256(key: SigningKey, claims: dict[str, Any]) -> str:
    """HS256 signed with the provider's public key as the HMAC secret (algorithm confusion)."""
    pem = key.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    return hs_token(pem, "HS256", {"kid": key.jwk["kid"]}, claims)


def cases(key: SigningKey, claims: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(name, ``Authorization`` value, status) for one face's key and valid claims."""
    return [
        ("malformed header", "Bearer two tokens", 400),
        ("empty bearer", "Bearer ", 400),
        ("control character", "Bearer abc\x7f", 400),
        ("20 KB header", LONG, 401),
        ("alg none", "Bearer " + unsigned(claims, key.jwk["kid"]), 401),
        ("HS256 with the public key", "Bearer " + public_key_hs256(key, claims), 401),
        ("garbage token", "Bearer not.a.jwt", 401),
    ]


class CrashingVerifier:
    """A verifier with an audience whose verification raises what no verifier should."""

    def __init__(self, audience: str) -> None:
        self.audiences = frozenset({audience})

    def verify(self, token: str) -> dict[str, Any]:
        raise RuntimeError("a bug inside the verifier")

    async def verify_async(self, token: str) -> dict[str, Any]:
        raise RuntimeError("a bug inside the verifier")
