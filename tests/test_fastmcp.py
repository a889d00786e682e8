"""jwkverify.fastmcp with the real FastMCP: the TokenVerifier, FastMCP's HTTP stack, end to end.

FastMCP servers are served over streamable HTTP by uvicorn on 127.0.0.1, keys come
from a real loopback JWKS server, and FastMCP's own ``Client`` calls the tools.
Skipped without the ``fastmcp-test`` extra (a failure in CI), and on Python 3.10,
where FastMCP 4 does not install.

FastMCP's own ``JWTVerifier`` tests are borrowed where they apply. Where jwkverify
differs, the difference is a deliberate strictness, tested as such: an audience is
required; ``client_id`` never falls back to ``sub``; ``scope`` must be a string
(RFC 9068 §2.2.3), ``scp`` is read only when there is none; a missing scope is a
``403`` from FastMCP, never a refusal of the token; HS keys never come from a key set.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import bad_inputs
import pytest
from frameworks import MALFORMED, claims_for, hostile_credentials, require

if sys.version_info < (3, 11):
    pytest.skip("FastMCP 4 needs Python 3.11 or newer", allow_module_level=True)
require("fastmcp", "uvicorn", "httpx", extra="fastmcp-test")

import httpx  # noqa: E402
from asgi_server import base_url, listener, serve  # noqa: E402
from fastmcp import Client, FastMCP  # noqa: E402
from fastmcp.exceptions import ToolError  # noqa: E402
from fastmcp.server.auth import AccessToken, RemoteAuthProvider, TokenVerifier  # noqa: E402
from fastmcp.server.dependencies import get_access_token  # noqa: E402
from jwks_server import Clock, JWKSServer, Reply  # noqa: E402
from mcp import MCPError  # noqa: E402
from signing import SigningKey, make_key  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402

from jwkverify import ANY_AUDIENCE, JWKSet, JWTVerifier, RemoteJWKSet  # noqa: E402
from jwkverify._web.bearer import parse_challenge  # noqa: E402
from jwkverify.fastmcp import FastMCPTokenVerifier  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "https://issuer.test"
RESOURCE = "https://mcp.test/mcp"
KEY = make_key("RS256", kid="k1")
KEYS = JWKSet.from_dict({"keys": [KEY.jwk]})
ACCEPT = {"Accept": "application/json, text/event-stream"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "test", "version": "1"}}}


def token_for(resource: str, key: SigningKey = KEY, **changes: Any) -> str:
    return key.token(claims_for(resource, **changes))


def adapter(verifier: Any = None, **options: Any) -> FastMCPTokenVerifier:
    return FastMCPTokenVerifier(verifier or JWTVerifier(KEYS, issuer=ISSUER, audience=RESOURCE), **options)


def verify(auth: FastMCPTokenVerifier, token: str) -> AccessToken | None:
    return asyncio.run(auth.verify_token(token))


# -- the TokenVerifier ---------------------------------------------------------------------------


def test_it_is_fastmcps_own_token_verifier() -> None:
    auth = adapter(base_url="https://mcp.test")
    assert isinstance(auth, TokenVerifier)
    server = FastMCP("notes", auth=auth)  # today's MCPTokenVerifier fails here: no get_middleware
    assert server.auth is auth
    assert server.http_app(path="/mcp") is not None
    assert str(auth.base_url) == "https://mcp.test/"


def test_the_access_token_carries_client_subject_scopes_expiry_resource_and_all_claims() -> None:
    token = token_for(RESOURCE, client_id=None, azp="spa", scope=None, scp=["notes:write", "notes:read"],
                      exp=2_000_000_000.5, realm_access={"roles": ["admin"]})
    access = verify(adapter(), token)
    assert isinstance(access, AccessToken)  # FastMCP's own, with claims
    assert access.token == token
    assert access.client_id == "spa"
    assert access.subject == "alice"
    assert access.scopes == ["notes:read", "notes:write"]
    assert access.expires_at == 2_000_000_000
    assert access.resource == RESOURCE
    assert access.claims["realm_access"] == {"roles": ["admin"]} and access.claims["iss"] == ISSUER


@pytest.mark.parametrize("claim", ["client_id", "azp", "appid", "cid"])
def test_client_id_comes_from_the_client_claims_and_never_from_sub(claim: str) -> None:
    auth = adapter()
    access = verify(auth, token_for(RESOURCE, **{"client_id": None, claim: "app-9"}))
    assert access is not None and access.client_id == "app-9" and access.subject == "alice"
    anonymous = verify(auth, token_for(RESOURCE, client_id=None))
    # FastMCP's JWTVerifier would say "alice" here: a user is not a client.
    assert anonymous is not None and anonymous.client_id == "" and anonymous.subject == "alice"


@pytest.mark.parametrize(("claims", "scopes"), [
    ({"scope": "read write"}, ["read", "write"]),
    ({"scope": None, "scp": "read write admin"}, ["admin", "read", "write"]),
    ({"scope": None, "scp": ["read", "write"]}, ["read", "write"]),
    ({"scope": "read", "scp": "admin delete"}, ["read"]),  # scope wins; never the union
    ({"scope": ["read", "write"]}, []),  # deliberate: RFC 9068 §2.2.3 scope is a string
    ({"scope": None}, []),
])
def test_scopes_from_scope_else_scp(claims: dict[str, Any], scopes: list[str]) -> None:
    access = verify(adapter(), token_for(RESOURCE, **claims))
    assert access is not None and access.scopes == scopes


def test_the_resource_is_the_audience_entry_of_this_server() -> None:
    aud = ["https://gateway.test", RESOURCE]
    by_option = adapter(JWTVerifier(KEYS, audience=["https://gateway.test", RESOURCE]), resource=RESOURCE)
    access = verify(by_option, token_for(RESOURCE, iss=None, aud=aud))
    assert access is not None and access.resource == RESOURCE
    access = verify(adapter(), token_for(RESOURCE, aud=aud))
    assert access is not None and access.resource == RESOURCE


def test_several_expected_audiences() -> None:
    auth = adapter(JWTVerifier(KEYS, issuer=ISSUER, audience=[RESOURCE, "https://other.test"]))
    assert verify(auth, token_for("https://other.test")) is not None
    assert verify(auth, token_for(RESOURCE, aud=[RESOURCE, "https://third.test"])) is not None
    assert verify(auth, token_for("https://wrong.test")) is None


def test_a_missing_scope_never_refuses_the_token() -> None:
    # FastMCP's JWTVerifier returns None (a 401): here FastMCP answers 403 insufficient_scope.
    auth = adapter(required_scopes=["notes:write"])
    assert auth.required_scopes == ["notes:write"]
    access = verify(auth, token_for(RESOURCE))
    assert access is not None and access.scopes == ["notes:read"]


@pytest.mark.parametrize("changes", [
    {"exp": 1}, {"nbf": 4_000_000_000}, {"iss": "https://evil.test"}, {"aud": "https://wrong.test"},
    {"aud": None},
])
def test_refused_claims_give_none(changes: dict[str, Any]) -> None:
    assert verify(adapter(), token_for(RESOURCE, **changes)) is None


@pytest.mark.parametrize("token", ["not.a.jwt", "too.many.parts.here.invalid", "invalid-token", "",
                                   "header.body", "a" * 20_000])
def test_malformed_tokens_give_none(token: str) -> None:
    assert verify(adapter(), token) is None


def test_a_dpop_bound_token_gives_none() -> None:
    """RFC 9449 §7.2: a token bound to a key (cnf.jkt) needs its proof, which this face never sees."""
    bound = token_for(RESOURCE, cnf={"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})
    assert verify(adapter(), bound) is None
    assert verify(adapter(), token_for(RESOURCE)) is not None


def test_hostile_tokens_give_none() -> None:
    auth = adapter()
    for name, value in hostile_credentials(KEY, RESOURCE).items():
        assert verify(auth, value.removeprefix("Bearer ")) is None, name
    assert verify(auth, KEY.token(claims_for(RESOURCE), header={"kid": "k2"})) is None  # unknown kid


def test_an_hmac_key_never_comes_from_a_key_set() -> None:
    secret = make_key("HS256", kid="s1")
    with_secret = JWKSet.from_dict({"keys": [KEY.jwk, secret.jwk]})
    assert all(key.kty != "oct" for key in with_secret)  # a set mixing secrets and public keys drops them
    auth = adapter(JWTVerifier(with_secret, audience=RESOURCE))
    assert verify(auth, token_for(RESOURCE, key=secret)) is None


def test_a_down_key_set_and_a_verifier_crash_give_none(caplog: pytest.LogCaptureFixture) -> None:
    jwks = JWKSServer()
    try:
        jwks.respond = lambda request: Reply(503)
        auth = adapter(JWTVerifier(RemoteJWKSet(jwks.url(), allow_http=True), audience=RESOURCE))
        assert verify(auth, token_for(RESOURCE)) is None
    finally:
        jwks.close()
    assert verify(adapter(JWTVerifier(_Broken(), audience=RESOURCE)), token_for(RESOURCE)) is None
    assert "the verifier failed" in caplog.text


def test_a_verifier_without_an_audience_and_bad_options_are_refused() -> None:
    for audience in (None, ANY_AUDIENCE):
        with pytest.raises(ValueError, match="audience"):
            FastMCPTokenVerifier(JWTVerifier(KEYS, audience=audience))
    with pytest.raises(TypeError, match="verifier"):
        FastMCPTokenVerifier(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scope name"):
        adapter(required_scopes=["two words"])
    with pytest.raises(ValueError, match="https"):
        adapter(resource="http://mcp.example/mcp")
    with pytest.raises(TypeError, match="role_claims"):
        adapter(role_claims=[("",)])


def test_roles_for_fastmcps_require_roles() -> None:
    auth = adapter()
    claims = {"roles": ["editor"], "realm_access": {"roles": ["admin"]}, "groups": ["staff"]}
    assert auth.extract_roles(claims) == {"editor", "admin"}
    assert adapter(role_claims=["groups"]).extract_roles(claims) == {"staff"}
    assert auth.extract_roles({}) == frozenset()
    with pytest.raises(ValueError):
        auth.require_roles()  # FastMCP's rule: a check with no role would admit anyone


def test_the_access_token_is_built_once_per_cached_token_and_read_only() -> None:
    from pydantic import ValidationError

    cached = adapter(JWTVerifier(KEYS, issuer=ISSUER, audience=RESOURCE, cache_size=8))
    token = token_for(RESOURCE, scope="a b", roles=["editor"])
    first = verify(cached, token)
    assert first is not None and verify(cached, token) is first  # shared while the verifier caches it
    assert isinstance(first, AccessToken) and first.original_client_id is None
    with pytest.raises(ValidationError):
        first.client_id = "mallory"
    with pytest.raises(TypeError):
        first.scopes.append("admin")
    with pytest.raises(TypeError):
        first.claims["roles"].append("admin")
    assert verify(cached, token).claims["roles"] == ["editor"]  # type: ignore[union-attr]
    uncached = adapter()  # no token cache: a new one each time, equal
    assert verify(uncached, token) is not verify(uncached, token)
    assert verify(uncached, token).model_dump() == first.model_dump()  # type: ignore[union-attr]


def test_the_observer_hears_each_verify_token() -> None:
    from jwkverify.observe import Counters

    counters = Counters()
    auth = adapter(observer=counters, required_scopes=["notes:write"])
    assert verify(auth, token_for(RESOURCE)) is not None  # a missing scope is accepted here
    assert verify(auth, token_for(RESOURCE, exp=1)) is None
    assert verify(auth, "not.a.jwt") is None
    assert dict(counters.snapshot().verdicts) == {
        ("accepted", None): 1, ("invalid_token", "expired_token"): 1, ("invalid_token", "malformed_token"): 1}
    with pytest.raises(TypeError, match="observer"):
        adapter(observer=object())


def test_the_module_names_the_extra_to_install_and_jwkverify_never_imports_fastmcp() -> None:
    code = ("import sys; sys.modules['fastmcp'] = None\n"
            "try:\n    import jwkverify.fastmcp\nexcept ImportError as exc:\n    print(exc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    assert 'pip install "jwkverify[fastmcp]"' in result.stdout
    code = ("import sys, jwkverify, jwkverify.asgi, jwkverify.mcp, jwkverify._web.decision; "
            "print(any(m.split('.')[0] == 'fastmcp' for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    assert result.stdout.strip() == "False"


class _Broken:
    def keys_for(self, alg: str, kid: str | None) -> Any:
        raise RuntimeError("bug")

    async def keys_for_async(self, alg: str, kid: str | None) -> Any:
        raise RuntimeError("bug")


# -- FastMCP's HTTP stack, with the adapter as FastMCP(auth=...) ---------------------------------------


class Running:
    def __init__(self, base: str) -> None:
        self.base = base
        self.resource = base + "/mcp"

    def post(self, authorization: str | list[str] | None = None, message: Any = INITIALIZE,
             **headers: str) -> httpx.Response:
        values = [] if authorization is None else [authorization] if isinstance(authorization, str) \
            else authorization
        pairs = [*ACCEPT.items(), *headers.items(), *(("Authorization", value) for value in values)]
        return httpx.post(self.resource, json=message, headers=pairs, timeout=10)

    def call(self, token: str, tool: str) -> Any:
        async def run() -> Any:
            async with Client(self.resource, auth=token) as client:
                return await client.call_tool(tool, {})

        return asyncio.run(run())


def notes_server(auth: Any) -> FastMCP:
    """Two tools: one for any valid token, one for the role notes-admin."""
    server = FastMCP("notes", auth=auth)
    roles = auth.token_verifier if isinstance(auth, RemoteAuthProvider) else auth

    @server.tool
    def whoami() -> dict[str, Any]:
        token = get_access_token()
        assert token is not None
        return {"subject": token.subject, "client_id": token.client_id, "scopes": token.scopes,
                "aud": token.claims["aud"]}

    @server.tool(auth=roles.require_roles("notes-admin"))
    def purge() -> str:
        return "purged"

    @server.custom_route("/health", methods=["GET"])
    async def health(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return server


@pytest.fixture
def served() -> Iterator[Callable[..., Running]]:
    """Serve a notes server; ``served(verifier, **options)`` uses the adapter as ``auth=``."""
    stack: list[Any] = []

    def start(verifier: Any = None, **options: Any) -> Running:
        sock = listener()
        base = base_url(sock)
        verifier = verifier or JWTVerifier(KEYS, issuer=ISSUER, audience=base + "/mcp")
        running = serve(notes_server(FastMCPTokenVerifier(verifier, base_url=base, **options))
                        .http_app(path="/mcp"), sock)
        running.__enter__()
        stack.append(running)
        return Running(base)

    yield start
    for running in stack:
        running.__exit__(None, None, None)


def test_no_token_is_401_and_a_valid_token_calls_a_tool(served: Callable[..., Running]) -> None:
    running = served()
    response = running.post()
    assert response.status_code == 401
    assert parse_challenge(response.headers["www-authenticate"])[1].get("error") is None
    result = running.call(token_for(running.resource), "whoami")
    assert result.data == {"subject": "alice", "client_id": "agent-1", "scopes": ["notes:read"],
                           "aud": running.resource}


def test_malformed_credentials_and_two_headers_are_400_at_the_mcp_endpoint(
        served: Callable[..., Running]) -> None:
    running = served()
    valid = "Bearer " + token_for(running.resource)
    for value in [*MALFORMED, [valid, valid]]:
        response = running.post(value)
        assert response.status_code == 400, value
        assert parse_challenge(response.headers["www-authenticate"])[1]["error"] == "invalid_request"
        assert response.json()["error"] == "invalid_request"
    # Elsewhere (a public custom route) FastMCP's rules stay: the request is just unauthenticated.
    assert httpx.get(running.base + "/health", headers={"Authorization": "Bearer a b"}).status_code == 200


def test_the_bad_inputs_every_face_refuses_get_the_same_answers() -> None:
    from starlette.testclient import TestClient

    for verifier in (JWTVerifier(KEYS, issuer=ISSUER, audience=RESOURCE),
                     bad_inputs.CrashingVerifier(RESOURCE)):
        auth = FastMCPTokenVerifier(verifier, base_url="https://mcp.test")
        with TestClient(notes_server(auth).http_app(path="/mcp"), base_url="https://mcp.test") as http:
            cases = bad_inputs.cases(KEY, claims_for(RESOURCE))
            if isinstance(verifier, bad_inputs.CrashingVerifier):
                cases = [("crashing verifier", "Bearer " + token_for(RESOURCE), 401)]
            for case, value, status in cases:
                response = http.post("/mcp", json=INITIALIZE, headers={**ACCEPT, "Authorization": value})
                assert response.status_code == status, case
                assert "Traceback" not in response.text, case


def test_the_header_rules_hold_under_a_mount() -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.testclient import TestClient

    resource = "https://mcp.test/api/mcp"
    auth = FastMCPTokenVerifier(JWTVerifier(KEYS, audience=resource), base_url="https://mcp.test/api")
    inner = notes_server(auth).http_app(path="/mcp")
    outer = Starlette(routes=[Mount("/api", app=inner)], lifespan=inner.lifespan)
    with TestClient(outer, base_url="https://mcp.test") as http:
        headers = {**ACCEPT, "Authorization": "Bearer a b"}
        assert http.post("/api/mcp", json=INITIALIZE, headers=headers).status_code == 400
        headers["Authorization"] = "Bearer " + token_for(resource)
        assert http.post("/api/mcp", json=INITIALIZE, headers=headers).status_code == 200


def test_hostile_credentials_are_401_never_a_500(served: Callable[..., Running]) -> None:
    running = served()
    for name, value in hostile_credentials(KEY, running.resource).items():
        response = running.post(value)
        # uvicorn itself may refuse a header block over its limit before the app sees it
        assert response.status_code in ((400, 401, 431) if name == "20 KB token" else (401,)), name
        assert "Traceback" not in response.text, name
        if response.status_code == 401:
            assert parse_challenge(response.headers["www-authenticate"])[1]["error"] == "invalid_token"


def test_a_dpop_bound_token_is_no_bearer_token_at_the_mcp_endpoint(served: Callable[..., Running]) -> None:
    running = served()
    bound = token_for(running.resource, cnf={"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})
    response = running.post("Bearer " + bound)
    assert response.status_code == 401
    assert parse_challenge(response.headers["www-authenticate"])[1]["error"] == "invalid_token"


def test_a_refused_token_is_401_saying_why(served: Callable[..., Running]) -> None:
    running = served()
    response = running.post("Bearer " + token_for(running.resource, exp=1))
    assert response.status_code == 401
    challenge = parse_challenge(response.headers["www-authenticate"])[1]
    assert challenge == {"error": "invalid_token", "error_description": "the token has expired"}
    assert response.json() == challenge


def test_a_missing_required_scope_is_403_insufficient_scope(served: Callable[..., Running]) -> None:
    running = served(required_scopes=["notes:write"])
    response = running.post("Bearer " + token_for(running.resource))
    assert response.status_code == 403
    challenge = parse_challenge(response.headers["www-authenticate"])[1]
    assert challenge["error"] == "insufficient_scope" and challenge["scope"] == "notes:write"
    writer = token_for(running.resource, scope="notes:read notes:write")
    assert running.call(writer, "whoami").data["scopes"] == ["notes:read", "notes:write"]


def test_the_observer_hears_each_request_at_the_mcp_endpoint_once(served: Callable[..., Running]) -> None:
    from jwkverify.observe import Counters

    counters = Counters()
    running = served(observer=counters, required_scopes=["notes:read"])
    valid = "Bearer " + token_for(running.resource)
    assert running.post(valid).status_code == 200
    assert running.post().status_code == 401
    assert running.post("Bearer a b").status_code == 400
    assert running.post("Bearer " + token_for("https://other.test/mcp")).status_code == 401
    assert running.post("Bearer " + token_for(running.resource, scope="profile")).status_code == 403
    # Away from the MCP endpoint the request is not decided here: nothing is reported.
    assert httpx.get(running.base + "/health", headers={"Authorization": valid}).status_code == 200
    assert httpx.get(running.base + "/health", headers={"Authorization": "Bearer a b"}).status_code == 200
    assert dict(counters.snapshot().verdicts) == {
        ("accepted", None): 1, ("no_credentials", None): 1, ("invalid_request", None): 1,
        ("invalid_token", "invalid_audience"): 1, ("insufficient_scope", None): 1}


def test_a_custom_route_sees_the_user_of_a_valid_token() -> None:
    from starlette.testclient import TestClient

    auth = FastMCPTokenVerifier(JWTVerifier(KEYS, audience=RESOURCE, cache_size=8),
                                base_url="https://mcp.test")
    server = FastMCP("notes", auth=auth)

    @server.custom_route("/me", methods=["GET"])
    async def me(request: Request) -> PlainTextResponse:
        user = request.scope.get("user")
        return PlainTextResponse(getattr(getattr(user, "access_token", None), "subject", None) or "anonymous")

    with TestClient(server.http_app(path="/mcp"), base_url="https://mcp.test") as http:
        assert http.get("/me", headers={"Authorization": "Bearer " + token_for(RESOURCE)}).text == "alice"
        assert http.get("/me", headers={"Authorization": "Bearer " + token_for(RESOURCE, exp=1)}).text \
            == "anonymous"
        assert http.get("/me").text == "anonymous"


def test_inside_remote_auth_provider_a_missing_scope_is_fastmcps_403() -> None:
    from starlette.testclient import TestClient

    auth = FastMCPTokenVerifier(JWTVerifier(KEYS, audience=RESOURCE), required_scopes=["notes:write"])
    provider = RemoteAuthProvider(token_verifier=auth, authorization_servers=[ISSUER],  # type: ignore[list-item]
                                  base_url="https://mcp.test")
    with TestClient(notes_server(provider).http_app(path="/mcp"), base_url="https://mcp.test") as http:
        headers = {**ACCEPT, "Authorization": "Bearer " + token_for(RESOURCE)}
        response = http.post("/mcp", json=INITIALIZE, headers=headers)
        assert response.status_code == 403
        challenge = parse_challenge(response.headers["www-authenticate"])[1]
        assert challenge["error"] == "insufficient_scope"
        assert challenge["resource_metadata"] == "https://mcp.test/.well-known/oauth-protected-resource/mcp"


def test_the_mcp_sdk_adapter_in_fastmcp_is_a_type_error_naming_this_one() -> None:
    from jwkverify.mcp import MCPTokenVerifier

    server = FastMCP("notes", auth=MCPTokenVerifier(JWTVerifier(KEYS, audience=RESOURCE)))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"jwkverify\.fastmcp\.FastMCPTokenVerifier"):
        server.http_app(path="/mcp")


def test_the_mcp_sdk_adapter_in_remote_auth_provider_is_a_type_error_naming_this_one() -> None:
    from fastmcp.server.auth import RemoteAuthProvider

    from jwkverify.mcp import MCPTokenVerifier

    with pytest.raises(TypeError, match=r"jwkverify\.fastmcp\.FastMCPTokenVerifier"):
        RemoteAuthProvider(token_verifier=MCPTokenVerifier(JWTVerifier(KEYS, audience=RESOURCE)),  # type: ignore[arg-type]
                           authorization_servers=["https://idp.test"], base_url="https://mcp.test")


def test_a_verifier_crash_is_401_not_500(served: Callable[..., Running]) -> None:
    running = served(JWTVerifier(_Broken(), audience="x"))
    assert running.post("Bearer " + token_for("x")).status_code == 401


def test_key_set_down_is_503_with_retry_after_then_recovers(served: Callable[..., Running]) -> None:
    jwks = JWKSServer()
    try:
        jwks.respond = lambda request: Reply(500, b"down")
        clock = Clock()
        remote = RemoteJWKSet(jwks.url(), allow_http=True, clock=clock)
        running = served(JWTVerifier(remote, issuer=ISSUER, audience="https://mcp.test/mcp"))
        token = token_for("https://mcp.test/mcp")
        response = running.post("Bearer " + token)
        assert response.status_code == 503
        assert "www-authenticate" not in response.headers  # not the client's fault: no challenge
        # RFC 9110 §10.2.3: when the key set tries again (its backoff: 1 s after one failure)
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"] == "temporarily_unavailable"
        jwks.serve_keys(KEY.jwk)
        clock.advance(31)
        assert running.post("Bearer " + token).status_code == 200
    finally:
        jwks.close()


def test_a_session_is_bound_to_the_subject_that_opened_it(served: Callable[..., Running]) -> None:
    running = served()
    alice, mallory = token_for(running.resource), token_for(running.resource, sub="mallory")
    opened = running.post("Bearer " + alice)
    session = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-06-18"}
    running.post("Bearer " + alice, {"jsonrpc": "2.0", "method": "notifications/initialized"}, **session)
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
    assert running.post("Bearer " + alice, call, **session).status_code == 200
    # Same client, another user: with client_id alone (or an empty subject) this would pass.
    assert running.post("Bearer " + mallory, call, **session).status_code == 404


# -- end to end: RemoteAuthProvider, a rotating JWKS server, FastMCP's Client -------------------------


def test_end_to_end_with_remote_auth_provider_and_a_key_rotation() -> None:
    jwks = JWKSServer()
    old, new = make_key("RS256", kid="2025"), make_key("RS256", kid="2026")
    jwks.serve_keys(old.jwk)
    clock = Clock()
    sock = listener()
    base = base_url(sock)
    resource = base + "/mcp"
    remote = RemoteJWKSet(jwks.url(), allow_http=True, clock=clock)
    auth = FastMCPTokenVerifier(JWTVerifier(remote, issuer=ISSUER, audience=resource, cache_size=64),
                                resource=resource)
    provider = RemoteAuthProvider(token_verifier=auth, authorization_servers=[ISSUER],  # type: ignore[list-item]
                                  base_url=base, resource_name="notes")
    try:
        with serve(notes_server(provider).http_app(path="/mcp"), sock):
            running = Running(base)
            # No token: 401, and the challenge leads to the RFC 9728 document.
            response = running.post()
            assert response.status_code == 401
            url = parse_challenge(response.headers["www-authenticate"])[1]["resource_metadata"]
            assert url == base + "/.well-known/oauth-protected-resource/mcp"
            metadata = httpx.get(url).json()
            assert metadata["resource"] == resource
            assert [server.rstrip("/") for server in metadata["authorization_servers"]] == [ISSUER]
            # A valid token: the tool result; a missing role: the tool is refused.
            alice = token_for(resource, key=old)
            assert running.call(alice, "whoami").data["subject"] == "alice"
            with pytest.raises(ToolError):
                running.call(alice, "purge")
            assert running.call(token_for(resource, key=old, roles=["notes-admin"]), "purge").data == "purged"
            # The provider rotates its key: a token under the new kid still verifies.
            jwks.serve_keys(new.jwk)
            clock.advance(31)  # past the cooldown between two fetches an unknown kid may cause
            assert running.call(token_for(resource, key=new, sub="bob"), "whoami").data["subject"] == "bob"
            assert running.post("Bearer " + alice).status_code == 401  # rotated out, though cached
            # A token for another audience: 401.
            other = token_for("https://other.test/mcp", key=new)
            response = running.post("Bearer " + other)
            assert response.status_code == 401
            assert parse_challenge(response.headers["www-authenticate"])[1]["error"] == "invalid_token"
            with pytest.raises(MCPError):
                running.call(other, "whoami")
    finally:
        jwks.close()
    assert json.loads(json.dumps(metadata))["resource_name"] == "notes"
