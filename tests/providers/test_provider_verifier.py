"""ProviderVerifier: the inner verifier, then the provider's rules, on every call; clearer refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from jwks_server import JWKSServer
from provider_shapes import Upstream, claims_at, rsa_key
from signing import b64, segment

from jwkverify import ClaimError, InvalidIssuer, InvalidSignature, JOSEError, MalformedToken, MissingClaim
from jwkverify._providers.verifier import Rules, payload_of, segment_of
from jwkverify.asgi import BearerAuthMiddleware
from jwkverify.providers import ANY_TENANT, CONSUMERS, ProviderVerifier, auth0, entra, okta
from jwkverify.wsgi import BearerAuthMiddleware as WSGIMiddleware

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


# -- the web adapters' seam: per-token views for presets, the rules on every cache hit -----------


class Revocations(Rules):
    """A deployment's own rule: tokens whose ``jti`` was revoked are refused from then on."""

    __slots__ = ("revoked",)

    def __init__(self) -> None:
        self.revoked: set[str] = set()

    def check(self, claims: Mapping[str, Any], token: str | bytes) -> None:
        if claims.get("jti") in self.revoked:
            raise ClaimError("the token was revoked", claim="jti", reason="revoked")


APP_SAW: list[Any] = []  # what recording_app found in scope["auth"], popped by asgi_request


async def recording_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    APP_SAW.append(scope["auth"])
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def asgi_request(middleware: BearerAuthMiddleware, token: str) -> tuple[int, Any]:
    """One in-process ASGI request through ``middleware``: its status, and what the app got."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/orders", "headers": [
        (b"authorization", f"Bearer {token}".encode())]}
    asyncio.run(middleware(scope, receive, send))
    return sent[0]["status"], APP_SAW.pop() if APP_SAW else None


def wsgi_request(middleware: WSGIMiddleware, token: str) -> tuple[str, Any]:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/orders", "HTTP_AUTHORIZATION": f"Bearer {token}"}
    statuses: list[str] = []
    middleware(environ, lambda status, headers, exc_info=None: statuses.append(status))  # type: ignore[arg-type]
    return statuses[0], environ.get("jwkverify.token")


def ok_wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [b""]


def okta_preset(upstream: Upstream) -> ProviderVerifier:
    return okta(ISSUER, audience="api://default", cache_size=16, fetch=upstream.fetch,
                fetch_async=upstream.fetch_async)


def test_a_preset_gets_per_token_views_through_the_middleware(upstream: Upstream) -> None:
    verifier = okta_preset(upstream)
    middleware = BearerAuthMiddleware(recording_app, verifier, resource="https://api.example.com/orders",
                                      authorization_servers=[ISSUER])
    token = KEY.token(claims_at({"iss": ISSUER, "aud": "api://default", "cid": "app",
                                 "scp": ["orders:read"]}))
    status, first = asgi_request(middleware, token)
    assert status == 200 and first.client_id == "app" and first.scopes == {"orders:read"}
    status, second = asgi_request(middleware, token)
    assert status == 200 and second is first  # the same VerifiedToken while the inner cache holds the token
    id_token = KEY.token(claims_at({"iss": ISSUER, "aud": "api://default", "sub": "u"}))  # no cid: refused
    assert asgi_request(middleware, id_token)[0] == 401
    assert asgi_request(middleware, id_token)[0] == 401


def test_the_rules_run_on_every_cache_hit_through_asgi_and_wsgi(upstream: Upstream) -> None:
    preset = okta_preset(upstream)
    rules = Revocations()
    guarded = ProviderVerifier(preset._inner, rules, provider="okta", issuers=preset.issuers,
                               conventions=preset.conventions)
    assert guarded._token_cache_size == 16
    asgi = BearerAuthMiddleware(recording_app, guarded, resource="https://api.example.com/orders",
                                authorization_servers=[ISSUER])
    wsgi = WSGIMiddleware(ok_wsgi_app, guarded,
                          resource="https://api.example.com/orders", authorization_servers=[ISSUER])
    for number, jti in enumerate(("a", "b")):
        token = KEY.token(claims_at({"iss": ISSUER, "aud": "api://default", "cid": "app", "jti": jti,
                                     "scp": "orders:read", "n": number}))
        status, view = asgi_request(asgi, token)
        assert status == 200 and asgi_request(asgi, token)[1] is view
        assert wsgi_request(wsgi, token)[0].startswith("200")
        rules.revoked.add(jti)
        assert preset._inner._verify_entry(token)[1] is not None  # still in the inner cache: a hit
        assert asgi_request(asgi, token)[0] == 401  # refused all the same
        assert wsgi_request(wsgi, token)[0].startswith("401")
        rules.revoked.clear()
        assert asgi_request(asgi, token)[0] == 200


def test_the_seam_explains_refusals_as_verify_does(upstream: Upstream) -> None:
    verifier = auth0("dev-1.us.auth0.com", audience="api", cache_size=4, fetch=upstream.fetch,
                     fetch_async=upstream.fetch_async)
    no_slash = KEY.token(claims_at({"iss": "https://dev-1.us.auth0.com", "aud": "api"}))
    with pytest.raises(InvalidIssuer, match="trailing slash") as explained:
        verifier._verify_entry(no_slash)
    assert isinstance(explained.value.__cause__, InvalidIssuer)
    with pytest.raises(InvalidIssuer, match="trailing slash"):
        asyncio.run(verifier._verify_entry_async(no_slash))
    with pytest.raises(MalformedToken) as unexplained:
        verifier._verify_entry("a.b")
    assert unexplained.value.__cause__ is None
    good = KEY.token(claims_at({"iss": "https://dev-1.us.auth0.com/", "aud": "api"}))
    claims, entry = asyncio.run(verifier._verify_entry_async(good))
    assert claims["aud"] == "api" and entry is not None and verifier._verify_entry(good)[1] is entry
