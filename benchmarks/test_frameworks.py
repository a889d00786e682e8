"""The framework faces per request (issues 14 and 16): FastMCP's ``verify_token`` and a FastAPI request.

Rows of the server group (``test_server.py``), timed side by side with it in one run,
RS256-2048 against the same local 10-key set, and read by the report's server section:

- ``FastMCPTokenVerifier``: ``verify_token`` through
  :class:`~jwkverify.fastmcp.FastMCPTokenVerifier`, *repeated* (``cache_size=1024``, one
  token again and again, as an agent sends it on every tool call: the whole call against
  the budget) and *first-seen* (the cache off: against the core's ``verify`` of the same
  token, ``core verify, first-seen``). FastMCP's own ``JWTVerifier`` is a row of
  ``test_server.py`` (``FastMCP JWTVerifier, first-seen``): the report divides.
- ``FastAPI``: one in-process request (the ASGI app called directly, no HTTP client) to
  an endpoint behind ``Security(auth, scopes=[...])``, against the same endpoint behind
  an empty ``Security`` dependency (repeated token) and behind a dependency that awaits
  ``verifier.verify_async`` itself (first-seen): the differences are what
  :class:`~jwkverify.fastapi.BearerAuth` adds per request. (Not the core's ``verify``
  alone for first-seen: after an RSA verify FastAPI's own request handling runs about
  10 µs slower, the processor's caches being cold, whoever calls the verify.) For scale,
  the same app inside the ASGI middleware: the shared core's work costs about twice as
  much around a FastAPI request as around a bare app, whichever face drives it.

Coroutines are driven by hand (:func:`bench_faces.run`): on these paths nothing waits
for I/O, so no event loop's scheduling is timed. Every row is checked before it is
timed: the ``AccessToken`` (claims, subject, scopes) or the endpoint's answer, and
refusals. (No ``from __future__ import annotations``: FastAPI reads the endpoint's
annotations at run time.)
"""

from collections.abc import Callable
from typing import Annotated, Any

import pytest
from bench_faces import run, warm
from bench_server import JWKSServer
from bench_tokens import AUDIENCE, ISSUER, Case
from test_server import CACHE, LABEL, SCOPE

from jwkverify import JWKSet, JWTVerifier

#: (row, what it is): the report prints them after test_server.py's rows.
ROWS: tuple[tuple[str, str], ...] = (
    ("FastMCPTokenVerifier, repeated", "jwkverify.fastmcp's verify_token, FastMCP's AccessToken reused"),
    ("FastMCPTokenVerifier, first-seen", "the same, no cache"),
    ("FastAPI, empty Security dependency", "an in-process request to an endpoint behind Security(empty)"),
    ("FastAPI BearerAuth, repeated", "the same endpoint behind Security(BearerAuth, scopes=[...])"),
    ("FastAPI, ASGI middleware around it, repeated",
     "for scale: the empty-dependency app inside jwkverify.asgi.BearerAuthMiddleware"),
    ("FastAPI, verify_async by hand, first-seen",
     "behind a dependency that awaits verifier.verify_async(the header's token), no cache"),
    ("FastAPI BearerAuth, first-seen", "Security(BearerAuth, scopes=[...]), no cache"),
)
NAMES = tuple(name for name, _ in ROWS)


def _verifier(case: Case, cache: int) -> JWTVerifier:
    return JWTVerifier(JWKSet.from_json(case.jwks_json), algorithms=[case.alg], issuer=ISSUER,
                       audience=AUDIENCE, cache_size=cache)


def fastmcp_row(case: Case, cache: int) -> Callable[[], Any]:
    """``FastMCPTokenVerifier.verify_token`` of the bench token, checked."""
    pytest.importorskip("fastmcp", reason='pip install "jwkverify[fastmcp-test]"')
    from fastmcp.server.auth import AccessToken

    from jwkverify.fastmcp import FastMCPTokenVerifier

    adapter = FastMCPTokenVerifier(_verifier(case, cache), resource=AUDIENCE, required_scopes=[SCOPE])
    access = warm(adapter, case.token)
    assert isinstance(access, AccessToken) and access.claims == case.claims
    assert access.subject == case.claims["sub"] and access.client_id == case.claims["client_id"]
    assert sorted(access.scopes) == sorted(case.claims["scope"].split())
    assert (warm(adapter, case.token) is access) is bool(cache)  # reused only while cached
    for what, token in {"tampered": case.tampered, **case.refused}.items():
        assert warm(adapter, token) is None, f"FastMCPTokenVerifier accepted a token that is {what}"
    token = case.token
    return lambda: run(adapter.verify_token(token))


def fastapi_request(case: Case, dependency: Any,
                    wrap: JWTVerifier | None = None) -> Callable[[dict[str, Any]], tuple[int, bytes]]:
    """One in-process request to ``GET /notes`` of an app whose endpoint depends on ``dependency``
    (``wrap``: the app inside the ASGI middleware on that verifier)."""
    from fastapi import FastAPI, Security

    from jwkverify.asgi import BearerAuthMiddleware

    app = FastAPI()

    async def notes(token: Annotated[Any, Security(dependency, scopes=[SCOPE])]) -> dict[str, bool]:
        return {"ok": True}

    app.add_api_route("/notes", notes, methods=["GET"])
    served: Any = app if wrap is None else BearerAuthMiddleware(
        app, wrap, resource=AUDIENCE, authorization_servers=[ISSUER], required_scopes=[SCOPE])

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
        run(served(scope, receive, send))
        return answer[0], answer[1]

    return request


def fastapi_row(case: Case, name: str) -> Callable[[], Any]:
    """A checked, ready-to-time request of row ``name``."""
    pytest.importorskip("fastapi", reason='pip install "jwkverify[fastapi-test]"')
    from fastapi.security import SecurityScopes
    from starlette.requests import Request

    from jwkverify.fastapi import BearerAuth

    verifier = _verifier(case, CACHE if "repeated" in name else 0)

    async def empty(security_scopes: SecurityScopes) -> str:
        return str(case.claims["sub"])

    async def by_hand(request: Request, security_scopes: SecurityScopes) -> str:
        claims = await verifier.verify_async(request.headers["authorization"][7:])
        return str(claims["sub"])

    auth = BearerAuth(verifier, resource=AUDIENCE) if "BearerAuth" in name else None
    request = fastapi_request(case, auth or (by_hand if "by hand" in name else empty), wrap=(
        verifier if "ASGI middleware" in name else None))
    with_token = {"headers": [(b"host", b"api.example.com"),
                              (b"authorization", b"Bearer " + case.token.encode())]}
    assert request(with_token) == (200, b'{"ok":true}')
    if auth is not None or "ASGI middleware" in name:
        assert request({"headers": [(b"host", b"api.example.com")]})[0] == 401
        for token in (case.tampered, *case.refused.values()):
            assert request({"headers": [(b"authorization", b"Bearer " + token.encode())]})[0] == 401
    return lambda: request(with_token)


def build_row(name: str, case: Case, server: JWKSServer | None = None) -> Callable[[], Any]:
    """The checked, ready-to-time callable of row ``name`` (``server``: as test_server.build_row's)."""
    if name.startswith("FastMCPTokenVerifier"):
        return fastmcp_row(case, CACHE if "repeated" in name else 0)
    return fastapi_row(case, name)


@pytest.mark.parametrize("name", NAMES)
def test_frameworks(benchmark: Any, cases: dict[str, Case], name: str) -> None:
    timed = build_row(name, cases[LABEL])
    benchmark.group = f"server {LABEL}"  # side by side with test_server.py's rows
    benchmark.extra_info.update(kind="server", algorithm=LABEL, row=name, column=name)
    benchmark(timed)
