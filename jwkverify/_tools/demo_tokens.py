"""The demo's keys and tokens: its own tiny signer (``cryptography`` directly, never
jwkverify, so the library cannot vouch for tokens it made itself), good tokens, and
tokens whose claims, header or signature must be refused.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import (
    AlgorithmNotAllowed,
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    InvalidSignature,
    JOSEError,
    KeyNotFound,
    MalformedToken,
    NotYetValid,
    UnsupportedAlgorithm,
)

__all__ = [
    "AUDIENCE", "ISSUER", "Case", "DemoKey", "claim_cases", "claims_at", "ec_key", "ed25519_key",
    "forged_cases", "good_cases", "json_octets", "mint", "rsa_key",
]

ISSUER = "https://issuer.demo"
AUDIENCE = "https://api.demo"

Signer = Callable[[bytes], bytes]


@dataclass(frozen=True, slots=True)
class DemoKey:
    """A private key that signs for one algorithm, with its published public JWK."""

    alg: str
    kid: str
    jwk: dict[str, Any]
    sign: Signer
    #: The bare ``cryptography`` verify of one signature (the floor no library beats).
    floor: Callable[[bytes, bytes], None] | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """A token and what the verifier must do with it (``expected`` None: accept)."""

    name: str
    alg: str
    token: str
    expected: type[JOSEError] | None = None
    signer: DemoKey | None = None  # for a good token: whose floor to time it against

# -- the demo's own signer ----------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def json_octets(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _compact(header: Mapping[str, Any], payload: bytes, sign: Signer) -> str:
    """A compact JWS: base64url(header).base64url(payload).base64url(signature)."""
    signing_input = f"{_b64(json_octets(header))}.{_b64(payload)}"
    return f"{signing_input}.{_b64(sign(signing_input.encode('ascii')))}"


def _published(members: dict[str, str], kid: str, alg: str) -> dict[str, Any]:
    return {**members, "kid": kid, "alg": alg, "use": "sig"}


def rsa_key(kid: str) -> DemoKey:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = private.public_key().public_numbers()
    members = {"kty": "RSA", "n": _uint(numbers.n), "e": _uint(numbers.e)}
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    public = private.public_key()
    return DemoKey("RS256", kid, _published(members, kid, "RS256"),
                    lambda data: private.sign(data, pkcs1, sha256),
                    lambda signature, data: public.verify(signature, data, pkcs1, sha256))


def ec_key(kid: str) -> DemoKey:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import (
        decode_dss_signature,
        encode_dss_signature,
    )

    private = ec.generate_private_key(ec.SECP256R1())
    point = private.public_key().public_numbers()
    members = {"kty": "EC", "crv": "P-256",
               "x": _b64(point.x.to_bytes(32, "big")), "y": _b64(point.y.to_bytes(32, "big"))}
    ecdsa = ec.ECDSA(hashes.SHA256())

    def sign(data: bytes) -> bytes:
        # RFC 7518 §3.4: JWS wants R || S, 32 octets each; cryptography returns DER.
        r, s = decode_dss_signature(private.sign(data, ecdsa))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    public = private.public_key()

    def floor(signature: bytes, data: bytes) -> None:
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        public.verify(encode_dss_signature(r, s), data, ecdsa)

    return DemoKey("ES256", kid, _published(members, kid, "ES256"), sign, floor)


def ed25519_key(kid: str) -> DemoKey:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    private = ed25519.Ed25519PrivateKey.generate()
    members = {"kty": "OKP", "crv": "Ed25519", "x": _b64(private.public_key().public_bytes_raw())}
    return DemoKey("EdDSA", kid, _published(members, kid, "EdDSA"), private.sign,
                    private.public_key().verify)


def mint(key: DemoKey, claims: Mapping[str, Any] | bytes, **header: Any) -> str:
    """A token signed by ``key``; ``header`` adds members (a None value removes one)."""
    fields = {"alg": key.alg, "kid": key.kid, "typ": "JWT", **header}
    fields = {name: value for name, value in fields.items() if value is not None}
    payload = claims if isinstance(claims, bytes) else json_octets(claims)
    return _compact(fields, payload, key.sign)


# -- the tokens ---------------------------------------------------------------------


def claims_at(sub: str, now: int, **changes: Any) -> dict[str, Any]:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "nbf": now, "exp": now + 600}
    return {**claims, **changes}


def good_cases(keys: Sequence[DemoKey], now: int) -> list[Case]:
    subjects = ("alice", "bob", "carol")
    return [Case(f"good {key.alg} token", key.alg, mint(key, claims_at(sub, now)), signer=key)
            for key, sub in zip(keys, subjects, strict=True)]


def claim_cases(rsa: DemoKey, now: int) -> list[Case]:
    """Well-signed tokens whose claims must not pass."""
    nan_exp = json.dumps(claims_at("mallory", now, exp=float("nan"))).encode()  # json writes NaN
    return [
        Case("expired (exp 1 h ago)", "RS256", mint(rsa, claims_at("mallory", now, exp=now - 3600)),
              ExpiredToken),
        Case("not yet valid (nbf in 1 h)", "RS256",
              mint(rsa, claims_at("mallory", now, nbf=now + 3600)), NotYetValid),
        Case("wrong issuer", "RS256",
              mint(rsa, claims_at("mallory", now, iss="https://other.example")), InvalidIssuer),
        Case("issuer prefix attack", "RS256",
              mint(rsa, claims_at("mallory", now, iss=ISSUER + ".evil.example")), InvalidIssuer),
        Case("wrong audience", "RS256",
              mint(rsa, claims_at("mallory", now, aud="https://other-api.demo")), InvalidAudience),
        Case("NaN in exp", "RS256", mint(rsa, nan_exp), MalformedToken),
    ]


def forged_cases(keys: Sequence[DemoKey], attacker: DemoKey, now: int) -> list[Case]:
    """Tokens whose header or signature is an attack on key or algorithm choice."""
    rsa, ec, ed = keys
    claims = claims_at("mallory", now)
    good = mint(rsa, claims).split(".")
    tampered = _b64(json_octets({**claims, "sub": "admin"}))
    # The classic confusion: HMAC keyed with the public key text the issuer publishes.
    secret = json.dumps(rsa.jwk).encode()
    confused = DemoKey("HS256", rsa.kid, {}, lambda data: hmac.digest(secret, data, "sha256"))
    return [
        Case("alg none", "none", _compact({"alg": "none", "typ": "JWT"}, json_octets(claims), lambda _: b""),
              UnsupportedAlgorithm),
        Case("alg confusion (HS256, RSA JWK)", "HS256", mint(confused, claims), AlgorithmNotAllowed),
        Case("unknown kid", "RS256", mint(rsa, claims, kid="rsa-2"), KeyNotFound),
        Case("tampered payload", "RS256", f"{good[0]}.{tampered}.{good[2]}", InvalidSignature),
        Case("crit header", "ES256", mint(ec, claims, crit=["exp"], exp=now + 600), MalformedToken),
        Case("ES256 key, ES384 header", "ES384", mint(ec, claims, alg="ES384"), AlgorithmNotAllowed),
        Case("embedded jwk (own key)", "EdDSA",
              mint(attacker, claims, kid=None, jwk=attacker.jwk), InvalidSignature),
        Case("attacker key, real kid", "EdDSA", mint(attacker, claims, kid=ed.kid), InvalidSignature),
    ]
