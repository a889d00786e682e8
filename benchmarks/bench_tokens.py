"""Keys, key sets and tokens for the benchmarks, made with `cryptography` alone.

This is an independent minimal signer: it never calls jwkverify, so a token that
jwkverify accepts was not produced by jwkverify. Every algorithm gets one realistic
access token (a ``kid``, ~450 bytes of claims) and a key set of ten public keys of
the same kind with the signing key among them.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ISSUER = "https://login.example.com/tenants/7f3c2a91-5b4e-4c8d-9a1f-2e6b8d0c4f17/v2.0/"
AUDIENCE = "https://api.example.com/mcp"

#: (label, JWS alg, key kind): the label names the benchmark group.
ALGORITHMS: tuple[tuple[str, str, str], ...] = (
    ("RS256-2048", "RS256", "RSA-2048"),
    ("RS256-4096", "RS256", "RSA-4096"),
    ("PS256", "PS256", "RSA-2048"),
    ("ES256", "ES256", "P-256"),
    ("ES384", "ES384", "P-384"),
    ("ES512", "ES512", "P-521"),
    ("EdDSA", "EdDSA", "Ed25519"),
    ("HS256", "HS256", "oct-256"),
)
LABELS = tuple(label for label, _, _ in ALGORITHMS)

_EC_CURVES: dict[str, tuple[type[ec.EllipticCurve], int]] = {
    "P-256": (ec.SECP256R1, 32),
    "P-384": (ec.SECP384R1, 48),
    "P-521": (ec.SECP521R1, 66),
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512,
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _uint(value: int) -> str:
    return b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass
class KeyPair:
    """A private key (or HMAC secret) and its public JWK."""

    kind: str
    private: Any
    jwk: dict[str, Any]

    @property
    def public(self) -> Any:
        """The `cryptography` public key (the secret itself for ``oct``)."""
        return self.private if self.kind.startswith("oct") else self.private.public_key()


def generate(kind: str, kid: str, alg: str) -> KeyPair:
    """A fresh key of ``kind`` with a public JWK carrying ``kid``, ``alg`` and ``use``."""
    jwk: dict[str, Any]
    private: Any
    if kind.startswith("RSA-"):
        private = rsa.generate_private_key(65537, int(kind[4:]))
        numbers = private.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": _uint(numbers.n), "e": _uint(numbers.e)}
    elif kind in _EC_CURVES:
        curve, size = _EC_CURVES[kind]
        private = ec.generate_private_key(curve())
        point = private.public_key().public_numbers()
        jwk = {"kty": "EC", "crv": kind, "x": b64(point.x.to_bytes(size, "big")),
               "y": b64(point.y.to_bytes(size, "big"))}
    elif kind == "Ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(private.public_key().public_bytes_raw())}
    elif kind.startswith("oct-"):
        private = os.urandom(int(kind[4:]) // 8)
        jwk = {"kty": "oct", "k": b64(private)}
    else:
        raise ValueError(kind)
    # Providers (Auth0, Okta, Keycloak) publish kid, alg and use with every key.
    return KeyPair(kind, private, {"kid": kid, "use": "sig", "alg": alg, **jwk})


def sign(alg: str, private: Any, data: bytes) -> bytes:
    """A JWS signature (RFC 7518 §3): raw R || S for ECDSA."""
    bits = alg[2:]
    if alg.startswith("RS"):
        return private.sign(data, padding.PKCS1v15(), _HASHES[bits]())  # type: ignore[no-any-return]
    if alg.startswith("PS"):
        h = _HASHES[bits]()
        return private.sign(data, padding.PSS(padding.MGF1(h), h.digest_size), h)  # type: ignore[no-any-return]
    if alg.startswith("ES"):
        size = (private.curve.key_size + 7) // 8
        r, s = decode_dss_signature(private.sign(data, ec.ECDSA(_HASHES[bits]())))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if alg == "EdDSA":
        return private.sign(data)  # type: ignore[no-any-return]
    if alg.startswith("HS"):
        return hmac.digest(private, data, "sha" + bits)
    raise ValueError(alg)


def claims_now(now: float | None = None) -> dict[str, Any]:
    """A realistic access-token claims set (~450 bytes as compact JSON)."""
    issued = int(now if now is not None else time.time()) - 60
    return {
        "iss": ISSUER,
        "sub": "auth0|5f8d0b6e2c1a4b0068a1c3d9",
        "aud": AUDIENCE,
        "iat": issued,
        "nbf": issued,
        "exp": issued + 86400,
        "jti": "4b1d6c0e-8f2a-4e57-b3c9-a0d1e2f3a4b5",
        "azp": "Xk3pQ9rT2vW8yZ1aB4cD6eF0gH5jK7mN",
        "client_id": "Xk3pQ9rT2vW8yZ1aB4cD6eF0gH5jK7mN",
        "scope": "openid profile email offline_access read:orders write:orders "
                 "read:invoices mcp:tools mcp:resources mcp:prompts",
    }


#: Claims that are JSON arrays and objects, as identity providers add them: an
#: application-roles array (Entra ID ``roles``, Okta groups) and an organisation object
#: (Auth0 ``org``-style namespaced claim, Keycloak ``realm_access``).
NESTED_CLAIMS: dict[str, Any] = {
    "roles": ["orders.read", "orders.write", "invoices.read", "mcp.tools.invoke", "audit.viewer"],
    "https://example.com/org": {"id": "org_7Hq2Lm9Xv4", "name": "Example Corp", "tier": "enterprise"},
}


def with_nested(claims: dict[str, Any]) -> dict[str, Any]:
    """``claims`` plus a fresh copy of :data:`NESTED_CLAIMS`."""
    return {**claims, **json.loads(json.dumps(NESTED_CLAIMS))}


def token_stream(case: Case, count: int) -> list[str]:
    """``count`` distinct valid tokens for ``case``'s signer and key set: the same
    claims and header, each with its own ``jti`` (as a stream of fresh tokens has)."""
    base = claims_now()
    return [compact(case.alg, case.signer.private, case.kid,
                    {**base, "jti": f"{base['jti'][:-6]}{index:06d}"})
            for index in range(count)]


def compact(alg: str, private: Any, kid: str, claims: dict[str, Any]) -> str:
    header = {"alg": alg, "typ": "JWT", "kid": kid}
    signing_input = (b64(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + b64(json.dumps(claims, separators=(",", ":")).encode()))
    return f"{signing_input}.{b64(sign(alg, private, signing_input.encode('ascii')))}"


def tamper(token: str) -> str:
    """The token with one payload character changed, still valid base64url and JSON.

    The signature is then the only thing that can refuse it: a verifier that does
    not check it would return the altered claims.
    """
    header, payload, signature = token.split(".")
    original = json.loads(b64decode(payload))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for index in range(len(payload) // 2, len(payload) - 1):  # not the last: trailing bits
        for char in alphabet:
            if char == payload[index]:
                continue
            changed = payload[:index] + char + payload[index + 1:]
            try:
                claims = json.loads(b64decode(changed).decode("utf-8"))
            except ValueError:
                continue
            if isinstance(claims, dict) and claims != original and claims.keys() == original.keys():
                return f"{header}.{changed}.{signature}"
    raise AssertionError("no one-character change keeps the payload valid JSON")


@dataclass
class Case:
    """One algorithm's benchmark input: a token, a tampered copy and a key set."""

    label: str
    alg: str
    kind: str
    signer: KeyPair
    token: str
    tampered: str
    claims: dict[str, Any]
    jwks: dict[str, Any]
    #: Correctly signed tokens that every verifier must refuse, by what is wrong.
    refused: dict[str, str] = field(repr=False, default_factory=dict)
    jwks_json: str = field(repr=False, default="")

    def __post_init__(self) -> None:
        self.jwks_json = json.dumps(self.jwks)

    @property
    def kid(self) -> str:
        return str(self.signer.jwk["kid"])


def make_case(label: str, alg: str, kind: str, *, keys: int = 10, position: int | None = None) -> Case:
    """A case whose key set holds ``keys`` keys of ``kind``, the signer at ``position``
    (default: the middle of the set; ``keys - 1`` puts it last)."""
    signer = generate(kind, f"{label.lower()}-signer", alg)
    decoys = [generate(kind, f"{label.lower()}-decoy-{index:04d}", alg).jwk for index in range(keys - 1)]
    where = keys // 2 if position is None else position
    entries = [*decoys[:where], signer.jwk, *decoys[where:]]
    claims = claims_now()
    kid = str(signer.jwk["kid"])
    token = compact(alg, signer.private, kid, claims)
    hour = 3600  # beyond any peer's default leeway (jwcrypto: 60 s)
    wrong = {
        "expired": {"exp": claims["iat"] - hour},
        "not yet valid": {"nbf": claims["iat"] + 2 * hour},
        "wrong issuer": {"iss": ISSUER.replace("login.", "login2.")},
        "wrong audience": {"aud": AUDIENCE + "-other"},
    }
    refused = {what: compact(alg, signer.private, kid, {**claims, **change})
               for what, change in wrong.items()}
    return Case(label, alg, kind, signer, token, tamper(token), claims, {"keys": entries}, refused)


def all_cases() -> dict[str, Case]:
    """One case per benchmarked algorithm (takes a few seconds: RSA-4096 keys)."""
    return {label: make_case(label, alg, kind) for label, alg, kind in ALGORITHMS}
