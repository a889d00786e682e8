"""The framework faces per request: FastMCP's ``verify_token`` and a FastAPI request, side by side.

- ``fastmcp first-seen``: ``verify_token`` of an RS256-2048 token through
  :class:`~jwkverify.fastmcp.FastMCPTokenVerifier` (the token cache off, so every call
  verifies the signature: what a token seen for the first time costs), against
  FastMCP's own ``JWTVerifier`` (``jwks_uri``: the same 10-key set from the same loopback
  server, fetched once before timing) and the core ``JWTVerifier.verify`` under it.
- ``fastmcp repeated``: the same with ``cache_size=1024`` and one token again and again
  (an agent's token on every tool call): the adapter against the core's cache hit.
- ``fastapi``: one in-process request (the ASGI app called directly, no HTTP client)
  to an endpoint behind ``Security(auth, scopes=[...])`` with a repeated token, against
  the same endpoint behind an empty ``Security`` dependency: the difference is what
  :class:`~jwkverify.fastapi.BearerAuth` adds per request.

The coroutines are driven by hand (``send(None)``): on these hot paths nothing waits
for I/O, so no event loop's scheduling is timed, for either side. Every column is
checked first: right claims (or the endpoint's answer), and refusals. (No ``from
__future__ import annotations``: FastAPI reads the endpoint's annotations at run time.)
"""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import pytest
from bench_server import JWKSServer, jwks_path
from bench_tokens import AUDIENCE, ISSUER, Case

from jwkverify import JWKSet, JWTVerifier, RemoteJWKSet

LABEL = "RS256-2048"


def drive(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """The result of a coroutine that never suspends (the hot paths here), without a loop."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise AssertionError("the coroutine waited for something: not a hot path")


def remote_keys(server: JWKSServer) -> RemoteJWKSet:
    remote = RemoteJWKSet(server.url(jwks_path(LABEL)), allow_http=True)
    remote.refresh()
    return remote


# -- FastMCP ---------------------------------------------------------------------------------------


def fastmcp_columns(case: Case, server: JWKSServer, cache_size: int) -> dict[str, Callable[[str], Any]]:
    pytest.importorskip("fastmcp", reason='pip install "jwkverify[fastmcp-test]"')
    from fastmcp.server.auth.providers.jwt import JWTVerifier as FastMCPJWTVerifier

    from jwkverify.fastmcp import FastMCPTokenVerifier

    core = JWTVerifier(remote_keys(server), algorithms=[case.alg], issuer=ISSUER, audience=AUDIENCE,
                       cache_size=cache_size)
    ours = FastMCPTokenVerifier(
        JWTVerifier(remote_keys(server), algorithms=[case.alg], issuer=ISSUER, audience=AUDIENCE,
                    cache_size=cache_size))
    theirs = FastMCPJWTVerifier(jwks_uri=server.url(jwks_path(LABEL)), issuer=ISSUER, audience=AUDIENCE,
                                algorithm=case.alg)
    assert asyncio.run(theirs.verify_token(case.token)) is not None  # fetches its key set, once
    return {
        "jwkverify verify": core.verify,
        "FastMCPTokenVerifier": lambda token: drive(ours.verify_token(token)),
        "FastMCP JWTVerifier": lambda token: drive(theirs.verify_token(token)),
    }


def check_fastmcp(name: str, call: Callable[[str], Any], case: Case) -> None:
    if name == "jwkverify verify":
        assert call(case.token) == case.claims
        return
    access = call(case.token)
    assert access is not None and access.claims == case.claims and access.subject == case.claims["sub"]
    assert sorted(access.scopes) == sorted(case.claims["scope"].split())
    for what, token in {"tampered": case.tampered, **case.refused}.items():
        assert call(token) is None, f"{name} accepted a token that is {what}"


@pytest.mark.parametrize("column", ["jwkverify verify", "FastMCPTokenVerifier", "FastMCP JWTVerifier"])
@pytest.mark.parametrize("mode", ["first-seen", "repeated"])
def test_fastmcp_verify_token(benchmark: Any, cases: dict[str, Case], jwks_server: JWKSServer,
                              mode: str, column: str) -> None:
    case = cases[LABEL]
    call = fastmcp_columns(case, jwks_server, 1024 if mode == "repeated" else 0)[column]
    check_fastmcp(column, call, case)
    benchmark.group = f"fastmcp verify_token {LABEL}, {mode} token"
    benchmark.extra_info.update(kind="fastmcp", mode=mode, column=column)
    benchmark(call, case.token)


# -- FastAPI ---------------------------------------------------------------------------------------


def fastapi_request(case: Case, column: str) -> Callable[[dict[str, Any]], tuple[int, bytes]]:
    """One in-process request to ``GET /notes`` of an app whose only difference is the dependency."""
    pytest.importorskip("fastapi", reason='pip install "jwkverify[fastapi-test]"')
    from fastapi import FastAPI, Security
    from fastapi.security import SecurityScopes

    from jwkverify.fastapi import BearerAuth

    verifier = JWTVerifier(JWKSet.from_json(case.jwks_json), algorithms=[case.alg], issuer=ISSUER,
                           audience=AUDIENCE, cache_size=1024)
    auth = BearerAuth(verifier, resource=AUDIENCE)

    async def empty(security_scopes: SecurityScopes) -> str:
        return case.claims["sub"]

    dependency = auth if column == "BearerAuth" else empty
    app = FastAPI()

    async def notes(token: Annotated[Any, Security(dependency, scopes=["mcp:tools"])]) -> dict[str, bool]:
        return {"ok": True}

    app.add_api_route("/notes", notes, methods=["GET"])

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    def request(headers: dict[str, Any]) -> tuple[int, bytes]:
        answer: list[Any] = []

        async def send(message: dict[str, Any]) -> None:
            answer.append(message.get("status", message.get("body")))

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "https", "path": "/notes", "raw_path": b"/notes", "root_path": "",
                 "query_string": b"", "server": ("api.example.com", 443), "client": ("127.0.0.1", 5000),
                 **headers}
        drive(app(scope, receive, send))
        return answer[0], answer[1]

    return request


@pytest.mark.parametrize("column", ["empty Security dependency", "BearerAuth"])
def test_fastapi_request(benchmark: Any, cases: dict[str, Case], column: str) -> None:
    case = cases[LABEL]
    request = fastapi_request(case, column)
    with_token = {"headers": [(b"host", b"api.example.com"),
                              (b"authorization", b"Bearer " + case.token.encode())]}
    assert request(with_token) == (200, b'{"ok":true}')
    if column == "BearerAuth":
        assert request({"headers": [(b"host", b"api.example.com")]})[0] == 401
        tampered = {"headers": [(b"authorization", b"Bearer " + case.tampered.encode())]}
        assert request(tampered)[0] == 401
        for token in case.refused.values():
            assert request({"headers": [(b"authorization", b"Bearer " + token.encode())]})[0] == 401
    benchmark.group = f"fastapi request {LABEL}, repeated token"
    benchmark.extra_info.update(kind="fastapi", column=column)
    benchmark(request, with_token)
