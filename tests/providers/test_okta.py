"""okta(): custom authorization servers only; scp arrays, cid, groups on request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from jwks_server import JWKSServer
from provider_shapes import Upstream, asgi_client, bearer, claims_at, rsa_key

from jwkverify import ANY_AUDIENCE, InvalidAudience, InvalidIssuer, JWTVerifier, MissingClaim, RemoteJWKSet
from jwkverify.providers import okta

DOMAIN = "dev-133337.okta.com"
ISSUER = f"https://{DOMAIN}/oauth2/default"
KEY = rsa_key("Cb9jF6ocv6ZvBw3pdDIgeZl2TBcCprpeCQZEJ3JOo6o", alg="RS256", use="sig")


def access_claims(issuer: str = ISSUER, **changes: Any) -> dict[str, Any]:
    """An Okta access token's claims, as Okta's "Access token" reference lists them."""
    claims = {
        "ver": 1, "jti": "AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE", "iss": issuer,
        "aud": "api://default", "sub": "00uk1u7AsAk6dZL3z0g3", "cid": "0oah1z1lxF5f7iP6E0g3",
        "uid": "00uk1u7AsAk6dZL3z0g3", "scp": ["openid", "email", "orders:read"],
        "auth_time": 1_700_000_000, "groups": ["Everyone", "Admins"],
    }
    claims.update(changes)
    return claims_at({name: value for name, value in claims.items() if value is not None})



@pytest.fixture
def upstream(server: JWKSServer) -> Upstream:
    up = Upstream(server)
    up.serve("/oauth2/default/v1/keys", {"keys": [KEY.jwk]})
    return up


def test_keys_come_from_the_issuers_v1_keys(server: JWKSServer) -> None:
    issuer = f"http://127.0.0.1:{server.port}/oauth2/aus9o8wzkhckw9TLa0h7"
    Upstream(server).serve("/oauth2/aus9o8wzkhckw9TLa0h7/v1/keys", {"keys": [KEY.jwk]})
    verifier = okta(issuer + "/", audience="api://orders", allow_http=True)  # a trailing slash is dropped
    claims = access_claims(issuer, aud="api://orders")
    assert verifier.verify(KEY.token(claims)) == claims
    assert asyncio.run(verifier.verify_async(KEY.token(claims))) == claims
    assert [request.path for request in server.requests] == ["/oauth2/aus9o8wzkhckw9TLa0h7/v1/keys"]
    assert verifier.issuers == (issuer,)
    assert isinstance(verifier.key_source, RemoteJWKSet)


def test_the_documented_url_is_fetched(upstream: Upstream) -> None:
    verifier = okta(ISSUER, audience="api://default", fetch=upstream.fetch)
    verifier.verify(KEY.token(access_claims()))
    assert upstream.urls == [f"{ISSUER}/v1/keys"]


def test_conventions_scp_array_cid_and_no_roles_by_default(upstream: Upstream) -> None:
    conventions = okta(ISSUER, audience="api://default", fetch=upstream.fetch).conventions
    claims = access_claims()
    assert conventions.scopes(claims) == {"openid", "email", "orders:read"}
    assert conventions.client_id(claims) == "0oah1z1lxF5f7iP6E0g3"
    assert conventions.roles(claims) == frozenset()  # groups only when the adapter opts in
    assert conventions.roles(claims, ["groups"]) == {"Everyone", "Admins"}


@pytest.mark.parametrize("issuer", [
    f"https://{DOMAIN}", f"https://{DOMAIN}/", DOMAIN, f"https://{DOMAIN}/oauth2/v1", f"https://{DOMAIN}/oauth2",
])
def test_the_org_authorization_server_is_refused_at_construction(issuer: str) -> None:
    with pytest.raises(ValueError, match=r"org authorization server.*custom authorization server.*"
                                         r"oauth2/default"):
        okta(issuer, audience="api://default")


@pytest.mark.parametrize(("issuer", "options", "error", "match"), [
    ("", {}, ValueError, "non-empty issuer"),
    (f"https://{DOMAIN}/oauth2/default/extra", {}, ValueError, "custom authorization server's issuer"),
    (f"https://{DOMAIN}/custom/default", {}, ValueError, "custom authorization server's issuer"),
    (f"http://{DOMAIN}/oauth2/default", {}, ValueError, "is http"),
    (f"https://{DOMAIN}/oauth2/default?x=1", {}, ValueError, "without query"),
    (42, {}, TypeError, "as a str"),
    (ISSUER, {"key": KEY.jwk}, TypeError, "does not take key="),
    (ISSUER, {"cache_sise": 10}, TypeError, "unexpected keyword 'cache_sise'"),
    (ISSUER, {"cache_size": -1}, ValueError, "cache_size"),
    (ISSUER, {"timeout": 0}, ValueError, "timeout"),
])
def test_bad_configuration_says_what_to_pass(issuer: Any, options: dict[str, Any], error: type[Exception],
                                              match: str) -> None:
    with pytest.raises(error, match=match):
        okta(issuer, audience="api://default", **options)


@pytest.mark.parametrize(("audience", "error"), [("", ValueError), ([], ValueError),
                                                 (ANY_AUDIENCE, ValueError),
                                                 (None, TypeError), ([1], TypeError)])
def test_the_audience_is_always_checked(audience: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="audience"):
        okta(ISSUER, audience=audience)


def test_an_id_token_is_not_an_access_token(upstream: Upstream) -> None:
    # Okta's ID token: aud is the client, no cid, no scp. A verifier whose audience
    # was (wrongly) set to the client ID would take it; the preset asks for cid.
    id_token = KEY.token(claims_at({
        "sub": "00uk1u7AsAk6dZL3z0g3", "ver": 1, "iss": ISSUER, "aud": "0oah1z1lxF5f7iP6E0g3",
        "jti": "ID.4eAWJOCMB3SX8XewDfVR", "amr": ["pwd"], "idp": "00ok1u7AsAk6dZL3z0g3",
        "nonce": "n-0S6_WzA2Mj", "auth_time": 1_700_000_000, "at_hash": "preview_at_hash"}))
    generic = JWTVerifier(RemoteJWKSet(f"{ISSUER}/v1/keys", fetch=upstream.fetch), issuer=ISSUER,
                          audience="0oah1z1lxF5f7iP6E0g3")
    assert generic.verify(id_token)["aud"] == "0oah1z1lxF5f7iP6E0g3"
    verifier = okta(ISSUER, audience="0oah1z1lxF5f7iP6E0g3", fetch=upstream.fetch)
    with pytest.raises(MissingClaim, match=r"cid.*ID token") as caught:
        verifier.verify(id_token)
    assert caught.value.claim == "cid"


def test_tokens_of_other_servers_and_audiences_are_refused(upstream: Upstream) -> None:
    verifier = okta(ISSUER, audience="api://default", fetch=upstream.fetch)
    with pytest.raises(InvalidIssuer):
        verifier.verify(KEY.token(access_claims(f"https://{DOMAIN}/oauth2/aus-other")))
    with pytest.raises(InvalidIssuer):
        verifier.verify(KEY.token(access_claims(f"https://{DOMAIN}")))  # the org server's token
    with pytest.raises(InvalidAudience):
        verifier.verify(KEY.token(access_claims(aud="https://okta.example/api")))


def test_the_token_cache_keeps_checking_cid(upstream: Upstream) -> None:
    verifier = okta(ISSUER, audience="api://default", fetch=upstream.fetch, cache_size=8)
    good = KEY.token(access_claims())
    without_cid = KEY.token(access_claims(cid=None))
    for _ in range(3):
        assert verifier.verify(good)["cid"] == "0oah1z1lxF5f7iP6E0g3"
        with pytest.raises(MissingClaim):
            verifier.verify(without_cid)


def test_asgi_okta_scp_array_and_groups_on_request(upstream: Upstream) -> None:
    upstream.serve("/oauth2/default/v1/keys", {"keys": [KEY.jwk]})
    verifier = okta(ISSUER, audience="api://default", fetch_async=upstream.fetch_async)
    token = KEY.token(access_claims())
    with asgi_client(verifier, required_scopes=["orders:read"]) as client:
        answer = client.get("/whoami", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"scopes": ["email", "openid", "orders:read"], "roles": [],
                                 "sub": "00uk1u7AsAk6dZL3z0g3", "client_id": "0oah1z1lxF5f7iP6E0g3"}
    with asgi_client(verifier, role_claims=["groups"], required_roles=["Admins"]) as client:
        assert client.get("/whoami", headers=bearer(token)).json()["roles"] == ["Admins", "Everyone"]
    with asgi_client(verifier, required_roles=["Admins"]) as client:
        assert client.get("/whoami", headers=bearer(token)).status_code == 403  # groups not read unasked
