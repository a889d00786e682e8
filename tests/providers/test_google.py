"""google(): both documented issuers, the client ID as audience, the hosted domain."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from jwks_server import JWKSServer
from provider_shapes import Upstream, claims_at, rsa_key

from jwkverify import ClaimError, InvalidAudience, InvalidIssuer, JWTVerifier, MissingClaim, RemoteJWKSet
from jwkverify.providers import google

CLIENT = "1234987819200.apps.googleusercontent.com"
# Google's set, member by member: e, n, kty, use, kid, alg.
KEY = rsa_key("6719678351a5faedc2e70274bbea62da2a8c4a12", use="sig", alg="RS256")
CERTS = "https://www.googleapis.com/oauth2/v3/certs"


def id_claims(**changes: Any) -> dict[str, Any]:
    """A Google ID token (Google Identity's "An ID token's payload")."""
    claims = {
        "iss": "https://accounts.google.com", "azp": CLIENT, "aud": CLIENT, "sub": "110169484474386276334",
        "hd": "example.com", "email": "jsmith@example.com", "email_verified": True,
        "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q", "nonce": "0394852-3190485-2490358", "name": "J Smith",
    }
    claims.update(changes)
    return claims_at({name: value for name, value in claims.items() if value is not None})



@pytest.fixture
def upstream(server: JWKSServer) -> Upstream:
    up = Upstream(server)
    up.serve("/oauth2/v3/certs", {"keys": [KEY.jwk]})
    return up


def test_both_documented_issuers(upstream: Upstream) -> None:
    bare = KEY.token(id_claims(iss="accounts.google.com"), header={"typ": "JWT"})
    generic = JWTVerifier(RemoteJWKSet(CERTS, fetch=upstream.fetch), issuer="https://accounts.google.com",
                          audience=CLIENT)
    with pytest.raises(InvalidIssuer):
        generic.verify(bare)
    verifier = google(CLIENT, fetch=upstream.fetch)
    assert verifier.verify(bare)["iss"] == "accounts.google.com"
    assert asyncio.run(verifier.verify_async(KEY.token(id_claims())))["iss"] == "https://accounts.google.com"
    assert set(upstream.urls) == {CERTS}
    assert verifier.issuers == ("https://accounts.google.com", "accounts.google.com")
    assert verifier.audiences == {CLIENT}
    with pytest.raises(InvalidIssuer):
        verifier.verify(KEY.token(id_claims(iss="https://accounts.google.com/")))


def test_another_clients_token_is_refused(upstream: Upstream) -> None:
    verifier = google(CLIENT, fetch=upstream.fetch)
    with pytest.raises(InvalidAudience):
        verifier.verify(KEY.token(id_claims(aud="99999.apps.googleusercontent.com")))


def test_the_hosted_domain(upstream: Upstream) -> None:
    verifier = google(CLIENT, hosted_domain="example.com", fetch=upstream.fetch, cache_size=8)
    assert verifier.verify(KEY.token(id_claims()))["hd"] == "example.com"
    consumer = KEY.token(id_claims(hd=None, email="jsmith@example.com"))  # the email is not proof
    for _ in range(2):  # from the token cache the second time: still refused
        with pytest.raises(MissingClaim, match="no 'hd' claim") as caught:
            verifier.verify(consumer)
        assert caught.value.claim == "hd"
    with pytest.raises(ClaimError, match=r"hosted domain 'example\.org'"):
        verifier.verify(KEY.token(id_claims(hd="example.org")))
    assert google(CLIENT, fetch=upstream.fetch).verify(consumer)["email"] == "jsmith@example.com"


def test_an_id_token_grants_no_scopes_or_roles(upstream: Upstream) -> None:
    conventions = google(CLIENT, fetch=upstream.fetch).conventions
    claims = id_claims(roles=["admin"], scope="x")
    assert conventions.roles(claims) == frozenset()
    assert conventions.client_id(claims) == CLIENT


@pytest.mark.parametrize(("client_id", "options", "error", "match"), [
    ("", {}, ValueError, "client_id"),
    (None, {}, TypeError, "client_id"),
    (CLIENT, {"hosted_domain": ""}, ValueError, "hosted_domain"),
    (CLIENT, {"hosted_domain": "Example.com"}, ValueError, "lower case"),
    (CLIENT, {"hosted_domain": 1}, TypeError, "hosted_domain"),
    (CLIENT, {"audience": CLIENT}, TypeError, "pass client_id="),
])
def test_bad_configuration_says_what_to_pass(client_id: Any, options: dict[str, Any], error: type[Exception],
                                              match: str) -> None:
    with pytest.raises(error, match=match):
        google(client_id, **options)
