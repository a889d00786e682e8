"""ProviderVerifier: the inner verifier, then the provider's rules, on every call; clearer refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from jwks_server import JWKSServer
from provider_shapes import Upstream, claims_at, rsa_key
from signing import b64, segment

from jwkverify import InvalidIssuer, InvalidSignature, JOSEError, MalformedToken, MissingClaim
from jwkverify._providers.verifier import payload_of, segment_of
from jwkverify.providers import ANY_TENANT, CONSUMERS, ProviderVerifier, auth0, entra, okta

KEY = rsa_key("k1", alg="RS256")
ISSUER = "https://dev-1.okta.com/oauth2/default"


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = JWKSServer()
    up = Upstream(server)
    up.serve("/oauth2/default/v1/keys", {"keys": [KEY.jwk]})
    up.serve("/.well-known/jwks.json", {"keys": [KEY.jwk]})
    yield up
    server.close()


def test_a_preset_is_what_adapters_ask_for(upstream: Upstream) -> None:
    verifier = okta(ISSUER, audience="api://default", fetch=upstream.fetch)
    assert isinstance(verifier, ProviderVerifier)
    assert verifier.provider == "okta"
    assert verifier.audiences == {"api://default"}
    assert verifier.checks_recipient is False
    assert repr(verifier) == f"ProviderVerifier(okta: {ISSUER})"
    token = KEY.token(claims_at({"iss": ISSUER, "aud": "api://default", "cid": "c"}))
    assert verifier.verify(token.encode())["cid"] == "c"  # bytes, as JWTVerifier takes them


def test_refusals_the_rules_do_not_explain_pass_through_unchanged(upstream: Upstream) -> None:
    verifier = auth0("dev-1.us.auth0.com", audience="api", fetch=upstream.fetch,
                     fetch_async=upstream.fetch_async)
    for bad, error in (("a.b", MalformedToken), (KEY.token({"iss": "https://x/", "aud": "api"})[:-3] + "AAA",
                                                 InvalidSignature)):
        with pytest.raises(error) as caught:
            verifier.verify(bad)
        assert caught.value.__cause__ is None
        with pytest.raises(error):
            asyncio.run(verifier.verify_async(bad))
    no_slash = KEY.token(claims_at({"iss": "https://dev-1.us.auth0.com", "aud": "api"}))
    with pytest.raises(InvalidIssuer, match="trailing slash") as explained:
        asyncio.run(verifier.verify_async(no_slash))
    assert isinstance(explained.value.__cause__, InvalidIssuer)  # the inner refusal, kept as the cause
    with pytest.raises(InvalidIssuer, match="not accepted"):  # another issuer: not explained
        verifier.verify(KEY.token(claims_at({"iss": "https://other.example/", "aud": "api"})))


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "é.b.c", b"\xff.a.b", f"{segment([1])}.x.y",
                                   f"x.{b64(b'not json')}.y", "!!.!!.!!"])
def test_reading_a_segment_never_raises(token: Any) -> None:
    assert segment_of(token, 0) is None or isinstance(segment_of(token, 0), dict)
    assert payload_of(token) is None


def test_entra_claims_without_iss_or_with_a_foreign_issuer(upstream: Upstream) -> None:
    tid = "aaaabbbb-0000-cccc-1111-dddd2222eeee"
    upstream.serve("/common/discovery/v2.0/keys", {"keys": [KEY.jwk]})
    verifier = entra("common", audience="6e74172b-be56-4843-9ff4-e66a39bb12e3", allowed_tenants=ANY_TENANT,
                     fetch=upstream.fetch)
    base = {"aud": "6e74172b-be56-4843-9ff4-e66a39bb12e3", "tid": tid, "scp": "x"}
    with pytest.raises(MissingClaim, match="no 'iss'"):
        verifier.verify(KEY.token(claims_at(base)))
    with pytest.raises(InvalidIssuer, match=r"is not Entra ID's version 2\.0 issuer"):
        verifier.verify(KEY.token(claims_at({**base, "iss": f"https://evil.example/{tid}/v2.0"})))
    assert repr(ANY_TENANT) == "ANY_TENANT"
    assert CONSUMERS == "9188040d-6c67-4c5b-b112-36a304b66dad"


def test_a_domain_lookup_failure_is_a_fetch_error(upstream: Upstream) -> None:
    def failing(url: str, headers: Any, timeout: float) -> Any:
        if "openid-configuration" in url:
            raise OSError("connection refused")
        return upstream.fetch(url, headers, timeout)

    upstream.serve("/contoso.com/discovery/v2.0/keys", {"keys": [KEY.jwk]})
    upstream.serve("/fabrikam.com/v2.0/.well-known/openid-configuration", {"issuer": 1})
    upstream.serve("/fabrikam.com/discovery/v2.0/keys", {"keys": [KEY.jwk]})
    claims = claims_at({"aud": "6e74172b-be56-4843-9ff4-e66a39bb12e3", "scp": "x",
                        "tid": "aaaabbbb-0000-cccc-1111-dddd2222eeee",
                        "iss": "https://login.microsoftonline.com/aaaabbbb-0000-cccc-1111-dddd2222eeee/v2.0"})
    refused = entra("contoso.com", audience="6e74172b-be56-4843-9ff4-e66a39bb12e3", fetch=failing)
    with pytest.raises(JOSEError, match="connection refused"):
        refused.verify(KEY.token(claims))
    strange = entra("fabrikam.com", audience="6e74172b-be56-4843-9ff4-e66a39bb12e3", fetch=upstream.fetch)
    with pytest.raises(JOSEError, match="names issuer 1"):
        strange.verify(KEY.token(claims))
    upstream.documents["/fabrikam.com/v2.0/.well-known/openid-configuration"] = b"{not json"
    broken = entra("fabrikam.com", audience="6e74172b-be56-4843-9ff4-e66a39bb12e3", fetch=upstream.fetch)
    with pytest.raises(JOSEError, match="JSON"):
        broken.verify(KEY.token(claims))
