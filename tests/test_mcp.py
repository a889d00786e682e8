"""The MCP SDK adapter, and end-to-end runs with a real MCP server and a real MCP client.

The server is ``examples/mcp_server.py`` (the SDK's ``MCPServer``) served by uvicorn
on 127.0.0.1; the client is the SDK's ``Client`` over streamable HTTP; keys come
from a local key-set server. Skipped without the ``mcp-test`` extra.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bad_inputs
import pytest

pytest.importorskip("mcp.server.mcpserver")  # mcp >= 2
pytest.importorskip("uvicorn")
httpx2 = pytest.importorskip("httpx2")  # the MCP SDK's HTTP client

from asgi_server import base_url, listener, serve  # noqa: E402
from jwks_server import Clock, JWKSServer, Reply  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.auth.utils import (  # noqa: E402
    extract_resource_metadata_from_www_auth,
    extract_scope_from_www_auth,
    handle_protected_resource_response,
)
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.server.auth.provider import AccessToken  # noqa: E402
from mcp.server.auth.settings import AuthSettings  # noqa: E402
from mcp.server.mcpserver import MCPServer  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402
from signing import make_key  # noqa: E402

from jwkverify import ANY_AUDIENCE, JWKSet, JWTVerifier, RemoteJWKSet  # noqa: E402
from jwkverify.mcp import MCPTokenVerifier  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "https://issuer.test"
KEY = make_key("ES256", kid="k1")
KEYS = JWKSet.from_dict({"keys": [KEY.jwk]})
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "test", "version": "1"}}}


def load_example() -> Any:
    sys.path.insert(0, str(ROOT / "examples"))  # as when the script runs: for dev_issuer
    spec = importlib.util.spec_from_file_location("mcp_server_example", ROOT / "examples" / "mcp_server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE = load_example()


def token_for(resource: str, key: Any = KEY, header: dict[str, Any] | None = None, **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": resource, "sub": "alice", "client_id": "agent-1", "iat": now,
              "exp": now + 600, "scope": "notes:read"}
    claims.update(changes)
    return str(key.token({k: v for k, v in claims.items() if v is not None}, header=header))


# -- the TokenVerifier adapter ---------------------------------------------------------------------


def verify(adapter: MCPTokenVerifier, token: str) -> AccessToken | None:
    return asyncio.run(adapter.verify_token(token))


def test_adapter_fills_the_access_token() -> None:
    resource = "https://mcp.test/mcp"
    adapter = MCPTokenVerifier(JWTVerifier(KEYS, issuer=ISSUER, audience=resource))
    token = token_for(resource, scope=None, scp=["notes:write", "notes:read"], exp=2_000_000_000.5,
                      realm_access={"roles": ["admin"]})
    access = verify(adapter, token)
    assert isinstance(access, AccessToken)
    assert access.token == token
    assert access.client_id == "agent-1"
    assert access.scopes == ["notes:read", "notes:write"]
    assert access.expires_at == 2_000_000_000
    assert access.resource == resource
    assert access.subject == "alice"
    assert access.claims is not None and access.claims["realm_access"] == {"roles": ["admin"]}


def test_adapter_reports_the_audience_entry_of_this_resource() -> None:
    resource = "https://mcp.test/mcp"
    aud = ["https://gateway.test", resource]
    by_option = MCPTokenVerifier(JWTVerifier(KEYS, audience=["https://gateway.test", resource]),
                                 resource=resource)
    access = verify(by_option, token_for(resource, iss=None, aud=aud))
    assert access is not None and access.resource == resource
    by_audience = MCPTokenVerifier(JWTVerifier(KEYS, audience=resource))
    access = verify(by_audience, token_for(resource, iss=None, aud=aud))
    assert access is not None and access.resource == resource


def test_adapter_client_id_falls_back_to_azp() -> None:
    adapter = MCPTokenVerifier(JWTVerifier(KEYS, audience="x"))
    access = verify(adapter, token_for("x", client_id=None, azp="spa-client", iss=None))
    assert access is not None and access.client_id == "spa-client"
    anonymous = verify(adapter, token_for("x", client_id=None, iss=None, sub=None))
    assert anonymous is not None and anonymous.client_id == "" and anonymous.subject is None


@pytest.mark.parametrize("changes", [{"exp": 1}, {"aud": "https://other.test"}, {"iss": "https://evil.test"}])
def test_adapter_returns_none_for_refused_tokens(changes: dict[str, Any]) -> None:
    adapter = MCPTokenVerifier(JWTVerifier(KEYS, issuer=ISSUER, audience="https://mcp.test/mcp"))
    assert verify(adapter, token_for("https://mcp.test/mcp", **changes)) is None
    assert verify(adapter, "garbage") is None


def test_adapter_returns_none_when_the_key_set_is_down() -> None:
    jwks = JWKSServer()
    try:
        jwks.respond = lambda request: Reply(503)
        adapter = MCPTokenVerifier(JWTVerifier(RemoteJWKSet(jwks.url(), allow_http=True), audience="x"))
        assert verify(adapter, token_for("x")) is None
    finally:
        jwks.close()


def test_adapter_requires_an_audience() -> None:
    for audience in (None, ANY_AUDIENCE):
        with pytest.raises(ValueError, match="audience"):
            MCPTokenVerifier(JWTVerifier(KEYS, audience=audience))


def test_given_to_fastmcp_it_is_a_type_error_naming_the_fastmcp_adapter() -> None:
    # FastMCP(auth=...) asks its auth for middleware and routes first (tests/test_fastmcp.py runs FastMCP).
    adapter = MCPTokenVerifier(JWTVerifier(KEYS, audience="https://mcp.test/mcp"))
    for hook in (adapter.get_middleware, adapter.get_routes):
        with pytest.raises(TypeError, match=r"use jwkverify\.fastmcp\.FastMCPTokenVerifier\(verifier"):
            hook()


def test_bad_tokens_and_a_crashing_verifier_give_none() -> None:
    resource = "https://mcp.test/mcp"
    adapter = MCPTokenVerifier(JWTVerifier(KEYS, issuer=ISSUER, audience=resource))
    valid = {"iss": ISSUER, "aud": resource, "sub": "alice", "exp": int(time.time()) + 600}
    for case, value, _ in bad_inputs.cases(KEY, valid):
        assert verify(adapter, value.partition(" ")[2]) is None, case
    assert verify(MCPTokenVerifier(bad_inputs.CrashingVerifier(resource)), token_for(resource)) is None


def test_the_access_token_is_built_once_and_read_only() -> None:
    from pydantic import ValidationError

    from jwkverify.observe import Counters

    resource = "https://mcp.test/mcp"
    counters = Counters()
    adapter = MCPTokenVerifier(JWTVerifier(KEYS, issuer=ISSUER, audience=resource, cache_size=16),
                               observer=counters)
    token = token_for(resource, roles=["reader"])
    first = verify(adapter, token)
    assert first is not None and verify(adapter, token) is first  # reused while the cache holds it
    with pytest.raises(ValidationError):
        first.client_id = "mallory"
    with pytest.raises(TypeError, match="read-only"):
        first.scopes.append("notes:write")
    assert first.claims is not None
    with pytest.raises(TypeError, match="read-only"):
        first.claims["roles"].append("admin")
    assert first.model_dump()["claims"]["roles"] == ["reader"]
    assert verify(adapter, token_for(resource, exp=1)) is None
    verdicts = dict(counters.snapshot().verdicts)
    assert verdicts == {("accepted", None): 2, ("invalid_token", "expired_token"): 1}


def test_importing_the_adapter_module_alone_does_not_import_mcp() -> None:
    import subprocess

    code = "import sys, jwkverify.mcp; print(any(m.split('.')[0] == 'mcp' for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    assert result.stdout.strip() == "False"


# -- end to end: a real server, a real client ----------------------------------------------------


class Running:
    def __init__(self, resource: str) -> None:
        self.resource = resource

    def post(self, message: dict[str, Any], token: str | None = None, **headers: str) -> Any:
        auth = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return httpx2.post(self.resource, json=message, headers={**ACCEPT, **auth, **headers}, timeout=10)

    def call(self, token: str, tool: str, arguments: dict[str, Any] | None = None) -> Any:
        async def run() -> Any:
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=10) as http, \
                    Client(streamable_http_client(self.resource, http_client=http)) as client:
                return await client.call_tool(tool, arguments or {})

        return asyncio.run(run())


@pytest.fixture
def example() -> Iterator[Any]:
    """Start the example server with a given key source; yields a starter."""
    servers: list[Any] = []

    def start(keys: Any = KEYS) -> Running:
        sock = listener()
        resource = base_url(sock) + "/mcp"
        server = serve(EXAMPLE.build_app(keys, issuer=ISSUER, resource=resource), sock)
        server.__enter__()
        servers.append(server)
        return Running(resource)

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def test_no_token_is_401_and_the_header_leads_the_sdk_client_to_the_metadata(example: Any) -> None:
    running = example()
    response = running.post(INITIALIZE)
    assert response.status_code == 401
    url = extract_resource_metadata_from_www_auth(response)  # the SDK client's own parsing
    assert url == running.resource.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
    metadata = asyncio.run(handle_protected_resource_response(httpx2.get(url)))
    assert metadata is not None
    assert str(metadata.resource) == running.resource
    assert [str(server) for server in metadata.authorization_servers] == [ISSUER]
    assert metadata.scopes_supported == ["notes:read", "notes:write"]


def test_valid_token_calls_a_tool_that_sees_the_claims(example: Any) -> None:
    running = example()
    result = running.call(token_for(running.resource), "whoami")
    assert not result.is_error
    seen = json.loads(result.content[0].text)
    assert seen["subject"] == "alice" and seen["client_id"] == "agent-1"
    assert seen["scopes"] == ["notes:read"] and seen["claims"]["aud"] == running.resource


def test_writer_token_calls_a_gated_tool(example: Any) -> None:
    running = example()
    writer = token_for(running.resource, scope="notes:read notes:write", sub="bob")
    assert not running.call(writer, "add_note", {"name": "n1", "text": "hello"}).is_error
    listed = running.call(token_for(running.resource), "list_notes")
    assert json.loads(listed.content[0].text) == {"n1": {"text": "hello", "author": "bob"}}


@pytest.mark.parametrize("case", ["wrong audience", "expired", "wrong issuer", "unknown kid"])
def test_refused_tokens_are_401_invalid_token(example: Any, case: str) -> None:
    running = example()
    token = {
        "wrong audience": lambda: token_for("https://other.test/mcp"),
        "expired": lambda: token_for(running.resource, exp=int(time.time()) - 60),
        "wrong issuer": lambda: token_for(running.resource, iss="https://evil.test"),
        "unknown kid": lambda: token_for(running.resource, header={"kid": "k9"}),
    }[case]()
    response = running.post(INITIALIZE, token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    with pytest.raises(Exception):  # noqa: B017 -- the real client cannot connect
        running.call(token, "whoami")


def test_missing_scope_for_a_tool_is_403_with_scope_for_step_up(example: Any) -> None:
    running = example()
    reader = token_for(running.resource)
    params = {"name": "add_note", "arguments": {"name": "x", "text": "y"}}
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": params}
    response = running.post(call, reader)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert extract_scope_from_www_auth(response) == "notes:read notes:write"
    with pytest.raises(Exception) as refused:  # MCPError, maybe inside a task group's ExceptionGroup
        running.call(reader, "add_note", {"name": "x", "text": "y"})
    assert isinstance(refused.value, MCPError) or refused.group_contains(MCPError)


def test_missing_app_scope_is_403(example: Any) -> None:
    running = example()
    response = running.post(INITIALIZE, token_for(running.resource, scope="profile"))
    assert response.status_code == 403
    assert extract_scope_from_www_auth(response) == "notes:read"


def test_key_set_down_at_start_is_503_then_recovers(example: Any) -> None:
    jwks = JWKSServer()
    try:
        jwks.respond = lambda request: Reply(500, b"down")
        clock = Clock()
        running = example(RemoteJWKSet(jwks.url(), allow_http=True, clock=clock))
        token = token_for(running.resource)
        down = running.post(INITIALIZE, token)
        assert down.status_code == 503 and down.headers["retry-after"] == "1"  # the key set's next try
        jwks.serve_keys(KEY.jwk)
        clock.advance(31)
        result = running.call(token, "whoami")
        assert json.loads(result.content[0].text)["subject"] == "alice"
    finally:
        jwks.close()


def test_a_session_is_bound_to_the_user_who_opened_it(example: Any) -> None:
    running = example()
    alice, mallory = token_for(running.resource), token_for(running.resource, sub="mallory")
    opened = running.post(INITIALIZE, alice)
    session = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-06-18"}
    running.post({"jsonrpc": "2.0", "method": "notifications/initialized"}, alice, **session)
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
    assert running.post(call, alice, **session).status_code == 200
    assert running.post(call, mallory, **session).status_code == 404  # the SDK's session binding


# -- the SDK's own auth, with jwkverify as its TokenVerifier -------------------------------------


def test_sdk_auth_with_the_adapter_end_to_end() -> None:
    sock = listener()
    resource = base_url(sock) + "/mcp"
    verifier = JWTVerifier(KEYS, issuer=ISSUER, audience=resource)
    server = MCPServer(
        "sdk-auth", token_verifier=MCPTokenVerifier(verifier, resource=resource),
        auth=AuthSettings(issuer_url=ISSUER, resource_server_url=resource, required_scopes=["notes:read"],
                          validate_token_resource=True),
    )

    @server.tool()
    def whoami() -> str:
        from mcp.server.auth.middleware.auth_context import get_access_token

        token = get_access_token()
        return token.subject or "" if token is not None else ""

    with serve(server.streamable_http_app(), sock):
        running = Running(resource)
        assert running.call(token_for(resource), "whoami").content[0].text == "alice"
        assert running.post(INITIALIZE).status_code == 401
        assert running.post(INITIALIZE, token_for("https://other.test/mcp")).status_code == 401
        assert running.post(INITIALIZE, token_for(resource, scope="profile")).status_code == 403
