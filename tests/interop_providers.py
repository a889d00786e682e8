"""Key sets shaped like the ones Okta, Auth0, Entra ID and Keycloak publish.

Built at test time from freshly generated keys, never copied from a provider: the
members, their order and the extras (``x5c`` chains, ``x5t``, encryption keys,
keys with no ``alg``, Entra's ``issuer`` and ``cloud_instance_name``) follow what
each provider serves, and every set has entries jwkverify must skip mixed in
(an ``AKP`` post-quantum key, a Brainpool curve, X25519 and X448 keys).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from interop_peers import NOW
from signing import SigningKey, b64, make_key


@dataclass(frozen=True)
class Provider:
    """A provider's key set document, the keys that sign its tokens, and what to expect."""

    name: str
    issuer: str
    jwks_uri: str
    document: dict[str, Any]
    #: kid -> the key that signs tokens under that kid.
    signers: dict[str, SigningKey]
    #: The header the provider puts on its tokens (``alg`` and ``kid`` added per token).
    header: dict[str, Any]
    claims: dict[str, Any]
    #: The response headers of its JWKS endpoint.
    http_headers: dict[str, str]
    #: kid -> what jwkverify says about that entry: "skipped: <reason fragment>",
    #: or "never verifies: <reason fragment>" for a loaded key that may not verify.
    refused: dict[str, str] = field(default_factory=dict)


# -- certificates ------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@cache
def _ca() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def _certificate(key: SigningKey, subject: str, issuer_key: Any, issuer: str) -> x509.Certificate:
    start = datetime.datetime.fromtimestamp(NOW - 86400, tz=datetime.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(_name(subject)).issuer_name(_name(issuer))
            .public_key(key.private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=365 * 5))
            .sign(issuer_key, hashes.SHA256()))


def x5c(key: SigningKey, subject: str, *, chain: bool = False) -> dict[str, Any]:
    """``x5c`` (RFC 7517 §4.7: standard base64 DER, leaf first), ``x5t`` and ``x5t#S256``."""
    if chain:
        ca = _ca()
        root = _certificate(SigningKey("RS256", ca, {}), "Interop Test CA", ca, "Interop Test CA")
        certificates = [_certificate(key, subject, ca, "Interop Test CA"), root]
    else:
        certificates = [_certificate(key, subject, key.private, subject)]
    ders = [certificate.public_bytes(serialization.Encoding.DER) for certificate in certificates]
    return {"x5t": b64(hashlib.sha1(ders[0]).digest()),  # RFC 7517 §4.8: SHA-1, by definition
            "x5c": [base64.b64encode(der).decode() for der in ders],
            "x5t#S256": b64(hashlib.sha256(ders[0]).digest())}


# -- entries jwkverify must skip ---------------------------------------------------------------


def mixed_in(prefix: str) -> list[dict[str, Any]]:
    """Entries a verifier of JWS cannot use, found in real sets or coming to them."""
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return [
        # draft-ietf-cose-dilithium: ML-DSA keys, kty "AKP".
        {"kty": "AKP", "alg": "ML-DSA-44", "use": "sig", "kid": f"{prefix}-mldsa",
         "pub": b64(os.urandom(1312))},
        # A curve jwkverify does not know (coordinates of a real point, on another curve).
        {"kty": "EC", "crv": "BP-256", "use": "sig", "kid": f"{prefix}-bp256",
         "x": b64(point.x.to_bytes(32, "big")), "y": b64(point.y.to_bytes(32, "big"))},
        # Key agreement (ECDH-ES) keys.
        {"kty": "OKP", "crv": "X25519", "use": "enc", "alg": "ECDH-ES", "kid": f"{prefix}-x25519",
         "x": b64(os.urandom(32))},
        {"kty": "OKP", "crv": "X448", "kid": f"{prefix}-x448", "x": b64(os.urandom(56))},
    ]


def mixed_in_refusals(prefix: str) -> dict[str, str]:
    return {
        f"{prefix}-mldsa": "skipped: 'AKP' is not supported",
        f"{prefix}-bp256": "skipped: 'BP-256' is not supported for EC keys",
        f"{prefix}-x25519": "skipped: 'ECDH-ES' is not a JWS algorithm",
        f"{prefix}-x448": "skipped: X448 is a key-agreement curve",
    }


def _rsa(kid: str) -> SigningKey:
    return make_key("RS256", kid=kid)


def _public(key: SigningKey, **members: Any) -> dict[str, Any]:
    """``key``'s public JWK as a provider orders it: its own members, then the key."""
    material = {name: value for name, value in key.jwk.items() if name != "kid"}
    return {**members, **material}


# -- the providers -----------------------------------------------------------------------------


@cache
def okta() -> Provider:
    """An Okta custom authorization server: RS256 keys with kid/alg/use, one for encryption."""
    current, next_key, enc = _rsa("okta-current"), _rsa("okta-next"), _rsa("okta-enc")
    keys = [
        _public(current, kty="RSA", alg="RS256", kid="okta-current", use="sig"),
        _public(next_key, kty="RSA", alg="RS256", kid="okta-next", use="sig"),
        *mixed_in("okta"),
        _public(enc, kty="RSA", kid="okta-enc", use="enc"),
    ]
    issuer = "https://dev-1234567.okta.com/oauth2/default"
    return Provider(
        "okta", issuer, f"{issuer}/v1/keys", {"keys": keys},
        {"okta-current": current, "okta-next": next_key, "okta-enc": enc}, {},
        {"ver": 1, "jti": "AT.interop", "iss": issuer, "aud": "api://default", "iat": NOW - 10,
         "exp": NOW + 3600, "cid": "0oa1interop", "uid": "00u1interop", "scp": ["openid", "email"],
         "auth_time": NOW - 100, "sub": "alice@example.com"},
        {"content-type": "application/json", "cache-control": "max-age=3887817, must-revalidate",
         "expires": "Thu, 01 Jan 2099 00:00:00 GMT"},
        {"okta-enc": "never verifies: its use is 'enc'", **mixed_in_refusals("okta")},
    )


@cache
def auth0() -> Provider:
    """An Auth0 tenant: RS256 keys with x5c/x5t; the older one without ``alg``."""
    current, previous = _rsa("auth0-current"), _rsa("auth0-previous")
    subject = "dev-interop.eu.auth0.com"
    keys = [
        {"kty": "RSA", "use": "sig", **_public(current), "kid": "auth0-current",
         **{k: v for k, v in x5c(current, subject).items() if k != "x5t#S256"}, "alg": "RS256"},
        {"kty": "RSA", "use": "sig", **_public(previous), "kid": "auth0-previous",
         **{k: v for k, v in x5c(previous, subject).items() if k != "x5t#S256"}},
        *mixed_in("auth0"),
    ]
    issuer = "https://dev-interop.eu.auth0.com/"
    return Provider(
        "auth0", issuer, f"{issuer}.well-known/jwks.json", {"keys": keys},
        {"auth0-current": current, "auth0-previous": previous}, {"typ": "JWT"},
        {"iss": issuer, "sub": "auth0|64f0interop", "aud": ["https://api.interop", f"{issuer}userinfo"],
         "iat": NOW - 10, "exp": NOW + 86400, "scope": "openid profile read:items", "azp": "Xyz123",
         "permissions": ["read:items"]},
        {"content-type": "application/json; charset=utf-8",
         "cache-control": "public, max-age=15, stale-while-revalidate=15, stale-if-error=86400"},
        mixed_in_refusals("auth0"),
    )


@cache
def entra() -> Provider:
    """Microsoft Entra ID (v2.0): several RSA keys, no ``alg``, x5c, ``issuer`` per key."""
    tenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
    signers = {f"entra-{n}": _rsa(f"entra-{n}") for n in range(3)}
    certificates = {kid: x5c(key, "accounts.accesscontrol.windows.net") for kid, key in signers.items()}
    keys = [
        {"kty": "RSA", "use": "sig", "kid": kid, "x5t": certificates[kid]["x5t"], **_public(key),
         "x5c": certificates[kid]["x5c"], "cloud_instance_name": "microsoftonline.com",
         "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"}
        for kid, key in signers.items()
    ]
    keys[1:1] = mixed_in("entra")
    issuer = f"https://login.microsoftonline.com/{tenant}/v2.0"
    return Provider(
        "entra", issuer, "https://login.microsoftonline.com/common/discovery/v2.0/keys", {"keys": keys},
        signers, {"typ": "JWT"},
        {"aud": "6e74172b-be56-4843-9ff4-e66a39bb12e3", "iss": issuer, "iat": NOW - 10, "nbf": NOW - 10,
         "exp": NOW + 3600, "aio": "interop", "azp": "6e74172b-be56-4843-9ff4-e66a39bb12e3",
         "azpacr": "0", "oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474", "rh": "0.interop",
         "scp": "access_as_user", "sub": "interop-subject", "tid": tenant, "ver": "2.0",
         "roles": ["Reader"]},
        {"content-type": "application/json; charset=utf-8", "cache-control": "max-age=86400, private"},
        mixed_in_refusals("entra"),
    )


@cache
def keycloak() -> Provider:
    """A Keycloak realm: RS256 (with a certificate chain), ES256 and EdDSA signing keys,
    and an RSA-OAEP encryption key whose kid differs from the RS256 one by a suffix."""
    rs256, es256, eddsa, oaep = _rsa("kc-rs"), make_key("ES256", kid="kc-ec"), \
        make_key("EdDSA", kid="kc-ed"), _rsa("kc-rs-enc")
    realm = "sso.interop.example"
    keys = [
        {"kid": "kc-rs-enc", "kty": "RSA", "alg": "RSA-OAEP", "use": "enc", **_public(oaep),
         **x5c(oaep, "demo")},
        {"kid": "kc-rs", "kty": "RSA", "alg": "RS256", "use": "sig", **_public(rs256),
         **x5c(rs256, "demo", chain=True)},
        {"kid": "kc-ec", "kty": "EC", "alg": "ES256", "use": "sig", **_public(es256)},
        {"kid": "kc-ed", "kty": "OKP", "alg": "EdDSA", "use": "sig", **_public(eddsa)},
        *mixed_in("kc"),
    ]
    issuer = f"https://{realm}/realms/demo"
    return Provider(
        "keycloak", issuer, f"{issuer}/protocol/openid-connect/certs", {"keys": keys},
        {"kc-rs": rs256, "kc-ec": es256, "kc-ed": eddsa, "kc-rs-enc": oaep}, {"typ": "JWT"},
        {"exp": NOW + 300, "iat": NOW - 5, "jti": "onrtac:interop", "iss": issuer, "aud": "account",
         "sub": "f1e2d3c4-0000-4000-8000-000000000000", "typ": "Bearer", "azp": "interop-client",
         "sid": "interop", "acr": "1", "realm_access": {"roles": ["offline_access", "uma_authorization"]},
         "scope": "openid email profile", "email_verified": True, "preferred_username": "alice"},
        {"content-type": "application/json", "cache-control": "no-cache"},
        {"kc-rs-enc": "skipped: 'RSA-OAEP' is not a JWS algorithm", **mixed_in_refusals("kc")},
    )


PROVIDERS = {"okta": okta, "auth0": auth0, "entra": entra, "keycloak": keycloak}
