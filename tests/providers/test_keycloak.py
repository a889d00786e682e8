"""keycloak(): realm issuers (legacy /auth too), realm and client roles, the audience, typ."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from jwks_server import JWKSServer
from provider_shapes import Upstream, asgi_client, bearer, claims_at, rsa_key, with_x5c

from jwkverify import (
    ANY_AUDIENCE,
    ClaimError,
    InvalidAudience,
    InvalidIssuer,
    JWTVerifier,
    KeyNotFound,
    MissingClaim,
    RemoteJWKSet,
)
from jwkverify._web.conventions import DEFAULT_CONVENTIONS
from jwkverify.providers import keycloak

KEY = rsa_key("FJ86GcF3jTbNLOco4NvZkUCIUmfYCqoqtOQeMfbhNlE", alg="RS256", use="sig")
ENC = rsa_key("2XwqZ3FeT6V1m7QhLhYyYbSnhKCnmmd0kcC9vFMYOkY", alg="RSA-OAEP", use="enc")
# Keycloak's certs endpoint: a signing key and an encryption key, each with x5c, x5t, x5t#S256.
JWKS = {"keys": [with_x5c(KEY, "orders", thumbprints=("x5t", "x5t#S256")),
                 with_x5c(ENC, "orders", thumbprints=("x5t", "x5t#S256"))]}


def access_claims(issuer: str, **changes: Any) -> dict[str, Any]:
    """A Keycloak access token with an audience mapper adding 'orders-api'."""
    claims = {
        "jti": "onrtac:2a3f5c1e-1b9a-4c67-8c64-2a8d1f0b7e11", "iss": issuer, "aud": ["orders-api", "account"],
        "sub": "f3e1a2b4-9c8d-4e7f-a6b5-c4d3e2f1a0b9", "typ": "Bearer", "azp": "orders-web",
        "sid": "4b0a6f1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b", "acr": "1", "allowed-origins": ["https://orders.example"],
        "realm_access": {"roles": ["offline_access", "uma_authorization", "default-roles-orders"]},
        "resource_access": {"orders-api": {"roles": ["reader", "approver"]},
                            "account": {"roles": ["manage-account", "view-profile"]}},
        "scope": "openid profile email", "email_verified": True, "preferred_username": "alice",
    }
    claims.update(changes)
    return claims_at({name: value for name, value in claims.items() if value is not None})



@pytest.mark.parametrize("prefix", ["", "/auth"])
def test_the_realm_issuer_and_certs_endpoint(server: JWKSServer, prefix: str) -> None:
    base = f"http://127.0.0.1:{server.port}{prefix}"
    issuer = f"{base}/realms/orders"
    Upstream(server).serve(f"{prefix}/realms/orders/protocol/openid-connect/certs", JWKS)
    verifier = keycloak(base + "/", "orders", audience="orders-api", allow_http=True)
    claims = access_claims(issuer)
    assert verifier.verify(KEY.token(claims, header={"typ": "JWT"})) == claims
    assert asyncio.run(verifier.verify_async(KEY.token(claims))) == claims
    assert verifier.issuers == (issuer,)
    paths = [request.path for request in server.requests]
    assert paths == [f"{prefix}/realms/orders/protocol/openid-connect/certs"]
    # The encryption key is in the set, skipped: a token naming its kid finds nothing.
    with pytest.raises(KeyNotFound, match="skipped"):
        verifier.verify(ENC.token(claims, alg="RS256"))


def test_the_legacy_prefix_is_not_interchangeable(server: JWKSServer) -> None:
    Upstream(server).serve("/auth/realms/orders/protocol/openid-connect/certs", JWKS)
    base = f"http://127.0.0.1:{server.port}"
    verifier = keycloak(base + "/auth", "orders", audience="orders-api", allow_http=True)
    with pytest.raises(InvalidIssuer):
        verifier.verify(KEY.token(access_claims(f"{base}/realms/orders")))


def test_realm_roles_and_with_client_id_client_roles(server: JWKSServer) -> None:
    base = f"http://127.0.0.1:{server.port}"
    claims = access_claims(f"{base}/realms/orders")
    realm_only = keycloak(base, "orders", audience="orders-api", allow_http=True).conventions
    assert realm_only.roles(claims) == {"offline_access", "uma_authorization", "default-roles-orders"}
    with_client = keycloak(base, "orders", audience="orders-api", client_id="orders-api",
                           allow_http=True).conventions
    assert with_client.roles(claims) == {"offline_access", "uma_authorization", "default-roles-orders",
                                         "reader", "approver"}
    # The generic conventions never read client roles (nor another client's: account's).
    assert not {"reader", "approver"} & DEFAULT_CONVENTIONS.roles(claims)
    assert with_client.scopes(claims) == {"openid", "profile", "email"}
    assert with_client.client_id(claims) == "orders-web"


def test_the_audience_is_never_skipped(server: JWKSServer) -> None:
    base = f"http://127.0.0.1:{server.port}"
    Upstream(server).serve("/realms/orders/protocol/openid-connect/certs", JWKS)
    verifier = keycloak(base, "orders", audience="orders-api", allow_http=True)
    issuer = f"{base}/realms/orders"
    # No audience mapper: aud names only 'account', or is absent without client roles.
    with pytest.raises(InvalidAudience):
        verifier.verify(KEY.token(access_claims(issuer, aud="account")))
    with pytest.raises(MissingClaim):
        verifier.verify(KEY.token(access_claims(issuer, aud=None, resource_access=None)))
    with pytest.raises(ValueError, match="ANY_AUDIENCE"):
        keycloak(base, "orders", audience=ANY_AUDIENCE, allow_http=True)


@pytest.mark.parametrize("kind", ["ID", "Refresh", "Logout", "Serialized-ID"])
def test_id_and_refresh_tokens_are_not_access_tokens(server: JWKSServer, kind: str) -> None:
    base = f"http://127.0.0.1:{server.port}"
    Upstream(server).serve("/realms/orders/protocol/openid-connect/certs", JWKS)
    verifier = keycloak(base, "orders", audience="orders-api", allow_http=True, cache_size=4)
    other = KEY.token(access_claims(f"{base}/realms/orders", typ=kind, aud="orders-api"))
    certs = f"{base}/realms/orders/protocol/openid-connect/certs"
    generic = JWTVerifier(RemoteJWKSet(certs, allow_http=True), issuer=f"{base}/realms/orders",
                          audience="orders-api")
    assert generic.verify(other)["typ"] == kind
    for _ in range(2):  # again from the token cache: still refused
        with pytest.raises(ClaimError, match=f"typ claim is '{kind}'") as caught:
            verifier.verify(other)
        assert caught.value.claim == "typ"


@pytest.mark.parametrize(("base", "realm", "options", "error", "match"), [
    ("", "orders", {}, ValueError, "non-empty base_url"),
    ("https://sso.example.com", "", {}, ValueError, "realm="),
    ("https://sso.example.com", "a/b", {}, ValueError, "no '/'"),
    ("https://sso.example.com", "a b", {}, ValueError, "realm="),
    ("https://sso.example.com", 7, {}, TypeError, "realm= as a str"),
    ("https://sso.example.com/realms/orders", "orders", {}, ValueError, "without /realms"),
    ("http://sso.example.com", "orders", {}, ValueError, "is http"),
    ("https://sso.example.com", "orders", {"client_id": ""}, TypeError, "client_id"),
    ("https://sso.example.com", "orders", {"audience": []}, ValueError, "audience"),
])
def test_bad_configuration_says_what_to_pass(base: str, realm: Any, options: dict[str, Any],
                                              error: type[Exception], match: str) -> None:
    options.setdefault("audience", "orders-api")
    with pytest.raises(error, match=match):
        keycloak(base, realm, **options)


def test_asgi_keycloak_client_roles_and_an_explicit_role_claims_wins(server: JWKSServer) -> None:
    upstream = Upstream(server)
    base = "https://sso.example.com"
    upstream.serve("/realms/orders/protocol/openid-connect/certs", JWKS)
    verifier = keycloak(base, "orders", audience="orders-api", client_id="orders-api",
                        fetch_async=upstream.fetch_async)
    token = KEY.token(access_claims(f"{base}/realms/orders"))
    with asgi_client(verifier, required_roles=["approver"]) as client:
        answer = client.get("/whoami", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        assert "approver" in answer.json()["roles"] and "offline_access" in answer.json()["roles"]
    with asgi_client(verifier, role_claims=[("resource_access", "account", "roles")]) as client:
        roles = client.get("/whoami", headers=bearer(token)).json()["roles"]
        assert roles == ["manage-account", "view-profile"]
