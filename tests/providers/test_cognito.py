"""cognito(): access tokens without aud (client_id stands in), token_use, groups as roles."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from jwks_server import JWKSServer
from provider_shapes import Upstream, asgi_client, bearer, claims_at, rsa_key

from jwkverify import ClaimError, InvalidAudience, InvalidIssuer, JWTVerifier, MissingClaim, RemoteJWKSet
from jwkverify._web.conventions import DEFAULT_CONVENTIONS, require_audience
from jwkverify.providers import cognito

REGION = "eu-west-1"
POOL = "eu-west-1_AbCdEf123"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"
CLIENT = "3n4b5urk1ft4fl3mg5e62d9ado"
OTHER_CLIENT = "7f9a0c2d4e6b8a1c3e5f7a9b0c"
# Cognito's set, member by member: alg, e, kid, kty, n, use.
KEYS = [rsa_key("1234example=", alg="RS256", use="sig"), rsa_key("5678example=", alg="RS256", use="sig")]
JWKS = {"keys": [key.jwk for key in KEYS]}


def access_claims(**changes: Any) -> dict[str, Any]:
    """A Cognito access token (the user pool access token reference): no aud."""
    claims = {
        "sub": "aaaaaaaa-bbbb-cccc-dddd-example", "cognito:groups": ["admin", "editors"], "iss": ISSUER,
        "version": 2, "client_id": CLIENT, "origin_jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "event_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "token_use": "access",
        "scope": "phone openid profile email orders/read", "auth_time": 1_700_000_000,
        "jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "username": "alice",
    }
    claims.update(changes)
    return claims_at({name: value for name, value in claims.items() if value is not None})


def id_claims(**changes: Any) -> dict[str, Any]:
    """A Cognito ID token: aud is the app client, token_use is id."""
    claims = {
        "sub": "aaaaaaaa-bbbb-cccc-dddd-example", "cognito:groups": ["admin"], "email_verified": True,
        "iss": ISSUER, "cognito:username": "alice", "origin_jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "aud": CLIENT, "event_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "token_use": "id",
        "auth_time": 1_700_000_000, "jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "email": "alice@example.com",
    }
    claims.update(changes)
    return claims_at({name: value for name, value in claims.items() if value is not None})



@pytest.fixture
def upstream(server: JWKSServer) -> Upstream:
    up = Upstream(server)
    up.serve(f"/{POOL}/.well-known/jwks.json", JWKS)
    return up


def test_an_access_token_has_no_aud_and_client_id_stands_in(upstream: Upstream) -> None:
    token = KEYS[1].token(access_claims())
    # Generic configurations fail: an audience finds no aud; no audience is refused by adapters.
    source = RemoteJWKSet(f"{ISSUER}/.well-known/jwks.json", fetch=upstream.fetch)
    with pytest.raises(MissingClaim):
        JWTVerifier(source, issuer=ISSUER, audience=CLIENT).verify(token)
    with pytest.raises(ValueError, match="must check the audience"):
        require_audience(JWTVerifier(source, issuer=ISSUER))
    verifier = cognito(REGION, POOL, client_id=CLIENT, fetch=upstream.fetch)
    assert verifier.verify(token)["client_id"] == CLIENT
    assert asyncio.run(verifier.verify_async(token))["token_use"] == "access"
    assert verifier.audiences == frozenset() and verifier.checks_recipient is True
    assert require_audience(verifier) == frozenset()
    assert set(upstream.urls) == {f"{ISSUER}/.well-known/jwks.json"}
    assert verifier.issuers == (ISSUER,)


def test_another_clients_access_token_is_refused(upstream: Upstream) -> None:
    verifier = cognito(REGION, POOL, client_id=[CLIENT, "second-client"], fetch=upstream.fetch, cache_size=8)
    second = verifier.verify(KEYS[0].token(access_claims(client_id="second-client")))
    assert second["client_id"] == "second-client"
    other = KEYS[0].token(access_claims(client_id=OTHER_CLIENT))
    for _ in range(2):  # the second time from the token cache: still refused
        with pytest.raises(InvalidAudience, match="app client") as caught:
            verifier.verify(other)
        assert caught.value.claim == "client_id"
    with pytest.raises(MissingClaim, match="client_id"):
        verifier.verify(KEYS[0].token(access_claims(client_id=None)))


def test_an_id_token_where_an_access_token_is_expected_and_the_reverse(upstream: Upstream) -> None:
    access = cognito(REGION, POOL, client_id=CLIENT, fetch=upstream.fetch)
    id_token = KEYS[0].token(id_claims())
    generic = JWTVerifier(RemoteJWKSet(f"{ISSUER}/.well-known/jwks.json", fetch=upstream.fetch),
                          issuer=ISSUER, audience=CLIENT)
    assert generic.verify(id_token)["token_use"] == "id"  # aud is the client: a generic check passes
    with pytest.raises(ClaimError, match="an id token is not accepted where a Cognito access") as caught:
        access.verify(id_token)
    assert caught.value.claim == "token_use"
    ids = cognito(REGION, POOL, client_id=CLIENT, token_use="id", fetch=upstream.fetch)
    assert ids.verify(id_token)["aud"] == CLIENT
    assert ids.audiences == {CLIENT} and ids.checks_recipient is False
    with pytest.raises(ClaimError, match="an access token is not accepted where a Cognito id") as caught:
        ids.verify(KEYS[0].token(access_claims()))
    assert caught.value.claim == "token_use"
    with pytest.raises(InvalidAudience):
        ids.verify(KEYS[0].token(id_claims(aud=OTHER_CLIENT)))
    with pytest.raises(MissingClaim, match="token_use"):
        access.verify(KEYS[0].token(access_claims(token_use=None)))


def test_another_pools_token_is_refused(upstream: Upstream) -> None:
    verifier = cognito(REGION, POOL, client_id=CLIENT, fetch=upstream.fetch)
    with pytest.raises(InvalidIssuer):
        verifier.verify(KEYS[0].token(access_claims(iss=f"https://cognito-idp.{REGION}.amazonaws.com/eu-west-1_Other")))


def test_groups_are_roles_and_scope_is_read(upstream: Upstream) -> None:
    conventions = cognito(REGION, POOL, client_id=CLIENT, fetch=upstream.fetch).conventions
    claims = access_claims()
    assert conventions.roles(claims) == {"admin", "editors"}
    assert DEFAULT_CONVENTIONS.roles(claims) == frozenset()  # generic conventions: no roles
    assert conventions.scopes(claims) == {"phone", "openid", "profile", "email", "orders/read"}
    assert conventions.client_id(claims) == CLIENT
    assert conventions.client_id(id_claims()) == CLIENT


@pytest.mark.parametrize(("region", "pool", "options", "error", "match"), [
    ("eu-west", POOL, {}, ValueError, "AWS region"),
    (REGION, "AbCdEf123", {}, ValueError, "user pool ID"),
    ("us-east-1", POOL, {}, ValueError, "pass region='eu-west-1'"),
    (REGION, POOL, {"token_use": "refresh"}, ValueError, "'access'.*'id'"),
    (REGION, POOL, {"client_id": ""}, ValueError, "client_id"),
    (REGION, POOL, {"client_id": None}, TypeError, "client_id"),
    (REGION, POOL, {"audience": CLIENT}, TypeError, "pass client_id="),
    (None, POOL, {}, TypeError, "region="),
])
def test_bad_configuration_says_what_to_pass(region: Any, pool: str, options: dict[str, Any],
                                              error: type[Exception], match: str) -> None:
    options.setdefault("client_id", CLIENT)
    with pytest.raises(error, match=match):
        cognito(region, pool, **options)


def test_asgi_cognito_without_aud_is_accepted_and_groups_are_roles(upstream: Upstream) -> None:
    upstream.serve(f"/{POOL}/.well-known/jwks.json", JWKS)
    verifier = cognito(REGION, POOL, client_id=CLIENT,
                       fetch_async=upstream.fetch_async)
    key = KEYS[0]
    with asgi_client(verifier, required_roles=["admin"], required_scopes=["orders/read"]) as client:
        answer = client.get("/whoami", headers=bearer(key.token(access_claims())))
        assert answer.status_code == 200, answer.text
        assert answer.json()["roles"] == ["admin", "editors"]
        assert answer.json()["client_id"] == CLIENT
        other = key.token(access_claims(client_id=OTHER_CLIENT))
        assert client.get("/whoami", headers=bearer(other)).status_code == 401
        id_token = key.token(id_claims())
        assert client.get("/whoami", headers=bearer(id_token)).status_code == 401
