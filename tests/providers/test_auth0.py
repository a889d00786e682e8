"""auth0(): the issuer's trailing slash, array audiences, permissions as scopes, namespaced roles."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from jwks_server import JWKSServer
from provider_shapes import Upstream, asgi_client, bearer, claims_at, rsa_key, with_x5c

from jwkverify import InvalidAudience, InvalidIssuer, JWTVerifier, RemoteJWKSet
from jwkverify._web.conventions import DEFAULT_CONVENTIONS
from jwkverify.providers import auth0

DOMAIN = "my-tenant.eu.auth0.com"
ISSUER = f"https://{DOMAIN}/"
API = "https://api.example.com/health"
KEY = rsa_key("NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg", alg="RS256", use="sig")
# Auth0's set, member by member: alg, kty, use, n, e, kid, x5t, x5c (the signing certificate).
JWKS = {"keys": [with_x5c(KEY, DOMAIN)]}


def access_claims(**changes: Any) -> dict[str, Any]:
    """An Auth0 access token for an API with RBAC on (Auth0's "Access token profiles")."""
    claims = {
        "iss": ISSUER, "sub": "auth0|5f7c8ec7c33c6c004bbafe82", "aud": [API, f"https://{DOMAIN}/userinfo"],
        "azp": "s3dKJ7aNYx5g2mWqqqV5L4pR2h1kHcZo", "scope": "openid profile read:patients",
        "permissions": ["read:patients", "write:patients"],
        "https://example.com/roles": ["doctor"],
    }
    claims.update(changes)
    return claims_at({name: value for name, value in claims.items() if value is not None})



@pytest.fixture
def upstream(server: JWKSServer) -> Upstream:
    up = Upstream(server)
    up.serve("/.well-known/jwks.json", JWKS)
    return up


@pytest.mark.parametrize("domain", [DOMAIN, f"https://{DOMAIN}", f"https://{DOMAIN}/",
                                    "MY-TENANT.eu.auth0.com"])
def test_the_domain_with_or_without_scheme_and_slash(upstream: Upstream, domain: str) -> None:
    verifier = auth0(domain, audience=API, fetch=upstream.fetch)
    claims = access_claims()
    assert verifier.verify(KEY.token(claims, header={"typ": "JWT"})) == claims
    assert verifier.issuers == (ISSUER,)
    assert upstream.urls == [f"https://{DOMAIN}/.well-known/jwks.json"]


def test_a_custom_domain_over_loopback(server: JWKSServer) -> None:
    Upstream(server).serve("/.well-known/jwks.json", JWKS)
    origin = f"http://127.0.0.1:{server.port}"
    verifier = auth0(origin, audience=API, allow_http=True)
    claims = access_claims(iss=f"{origin}/")
    assert asyncio.run(verifier.verify_async(KEY.token(claims))) == claims
    assert [request.path for request in server.requests] == ["/.well-known/jwks.json"]


def test_an_issuer_without_the_slash_is_refused(upstream: Upstream) -> None:
    without_slash = KEY.token(access_claims(iss=f"https://{DOMAIN}"))
    # A generic configuration that drops the slash takes it, and refuses every real token.
    generic = JWTVerifier(RemoteJWKSet(f"https://{DOMAIN}/.well-known/jwks.json", fetch=upstream.fetch),
                          issuer=f"https://{DOMAIN}", audience=API)
    assert generic.verify(without_slash)["iss"] == f"https://{DOMAIN}"
    with pytest.raises(InvalidIssuer):
        generic.verify(KEY.token(access_claims()))
    verifier = auth0(DOMAIN, audience=API, fetch=upstream.fetch)
    with pytest.raises(InvalidIssuer, match="lacks the trailing slash") as caught:
        verifier.verify(without_slash)
    assert caught.value.claim == "iss"


def test_another_apis_token_and_an_id_token_are_refused(upstream: Upstream) -> None:
    verifier = auth0(DOMAIN, audience=API, fetch=upstream.fetch)
    with pytest.raises(InvalidAudience):
        verifier.verify(KEY.token(access_claims(aud=["https://other.example.com", f"https://{DOMAIN}/userinfo"])))
    id_token = KEY.token(claims_at({"iss": ISSUER, "sub": "auth0|5f7c8ec7c33c6c004bbafe82",
                                    "aud": "s3dKJ7aNYx5g2mWqqqV5L4pR2h1kHcZo", "nonce": "abc",
                                    "name": "Jane", "sid": "x"}))
    with pytest.raises(InvalidAudience):
        verifier.verify(id_token)


def test_permissions_are_scopes_and_a_named_claim_holds_roles(upstream: Upstream) -> None:
    claims = access_claims()
    plain = auth0(DOMAIN, audience=API, fetch=upstream.fetch).conventions
    assert plain.scopes(claims) == {"openid", "profile", "read:patients", "write:patients"}
    assert plain.roles(claims) == frozenset()
    assert plain.client_id(claims) == "s3dKJ7aNYx5g2mWqqqV5L4pR2h1kHcZo"
    named = auth0(DOMAIN, audience=API, roles_claim="https://example.com/roles", fetch=upstream.fetch)
    assert named.conventions.roles(claims) == {"doctor"}
    # A client-credentials token: permissions without any scope claim.
    machine = access_claims(scope=None, sub="s3dK@clients", gty="client-credentials")
    assert plain.scopes(machine) == {"read:patients", "write:patients"}
    assert DEFAULT_CONVENTIONS.scopes(machine) == frozenset()  # generic conventions: no scopes at all


@pytest.mark.parametrize(("domain", "options", "error", "match"), [
    ("", {}, ValueError, "non-empty domain"),
    (f"{DOMAIN}/api", {}, ValueError, "without a path"),
    (f"http://{DOMAIN}", {}, ValueError, "is http"),
    ("ftp://x.example", {}, ValueError, "https URL or a host name"),
    ("bad domain", {}, ValueError, "not a host name"),
    (DOMAIN, {"roles_claim": ""}, ValueError, "roles_claim"),
    (DOMAIN, {"roles_claim": ["a"]}, TypeError, "roles_claim"),
])
def test_bad_configuration_says_what_to_pass(domain: str, options: dict[str, Any], error: type[Exception],
                                              match: str) -> None:
    with pytest.raises(error, match=match):
        auth0(domain, audience=API, **options)


def test_asgi_auth0_permissions_count_as_scopes(upstream: Upstream) -> None:
    upstream.serve("/.well-known/jwks.json", JWKS)
    verifier = auth0(DOMAIN, audience=API, roles_claim="https://example.com/roles",
                     fetch_async=upstream.fetch_async)
    token = KEY.token(access_claims())
    with asgi_client(verifier, required_scopes=["write:patients"], required_roles=["doctor"]) as client:
        answer = client.get("/whoami", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        assert "write:patients" in answer.json()["scopes"]  # from permissions only
        no_slash = KEY.token(access_claims(iss=f"https://{DOMAIN}"))
        refused = client.get("/whoami", headers=bearer(no_slash))
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
