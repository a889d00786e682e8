"""The server's hot path (issue 16): what a protected request costs on top of the verify, per face.

One group, side by side, RS256-2048 against the 10-key set of the hot-path table:

- *repeated* (``cache_size=1024``, the same token every time, as an agent sends it on
  every tool call): the core's cache hit; a bare ASGI app and the ASGI middleware
  around it (over a local ``JWKSet`` and over a ``RemoteJWKSet`` fetched from
  127.0.0.1); a bare WSGI app and the WSGI middleware; ``MCPTokenVerifier.verify_token``.
- *first-seen* (cache off: every call verifies the signature, as for a token never
  seen before): the core's ``verify``, the same faces, FastMCP's ``JWTVerifier`` and an
  SDK ``TokenVerifier`` on PyJWT (:mod:`bench_faces`).
- *refused*: no credentials, and a token that is not a JWT, through the ASGI middleware.

Each row is checked before it is timed: the app got the verified subject and the
status is 200 (or the refusal's 401 and its challenge); the ``AccessToken`` carries the
subject and scopes; the peers refuse a tampered token and one for another audience.
The report subtracts the bare apps and the core's verify to give each face's overhead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bench_faces import (
    PyJWTTokenVerifier,
    Recorder,
    asgi_call,
    asgi_scope,
    bare_asgi,
    bare_wsgi,
    fastmcp_verifier,
    run,
    warm,
    wsgi_call,
    wsgi_environ,
)
from bench_server import JWKSServer, jwks_path
from bench_tokens import AUDIENCE, ISSUER, Case

from jwkverify import JWKSet, JWTVerifier, MalformedToken, RemoteJWKSet
from jwkverify.asgi import BearerAuthMiddleware
from jwkverify.wsgi import BearerAuthMiddleware as WSGIMiddleware

LABEL = "RS256-2048"
SCOPE = "mcp:tools"  # one of the bench token's scopes: every face checks it
CACHE = 1024

#: (row, what it is); the report prints them in this order.
ROWS: tuple[tuple[str, str], ...] = (
    ("core verify, repeated", "JWTVerifier.verify, a cache hit"),
    ("bare ASGI app", "the app alone"),
    ("ASGI middleware, repeated", "BearerAuthMiddleware around the bare app"),
    ("ASGI middleware, repeated, RemoteJWKSet", "the same over a RemoteJWKSet fetched from 127.0.0.1"),
    ("bare WSGI app", "the app alone"),
    ("WSGI middleware, repeated", "jwkverify.wsgi.BearerAuthMiddleware around it"),
    ("MCPTokenVerifier, repeated", "MCPTokenVerifier.verify_token"),
    ("core verify, first-seen", "JWTVerifier.verify, no cache"),
    ("ASGI middleware, first-seen", "around the bare app, no cache"),
    ("WSGI middleware, first-seen", "around the bare app, no cache"),
    ("MCPTokenVerifier, first-seen", "verify_token, no cache"),
    ("FastMCP JWTVerifier, first-seen", "fastmcp's own verify_token, public_key=PEM (it has no cache)"),
    ("FastMCP JWTVerifier jwks_uri, first-seen", "the same on jwks_uri= the key set's URL"),
    ("PyJWT TokenVerifier, first-seen", "an SDK TokenVerifier on PyJWT + PyJWKClient"),
    ("core verify, not a JWT", "JWTVerifier.verify refusing it: MalformedToken"),
    ("ASGI refused, no credentials", "401 with the challenge"),
    ("ASGI refused, not a JWT", "401 invalid_token"),
)
NAMES = tuple(name for name, _ in ROWS)


def _verifier(case: Case, cache: int, source: Any = None) -> JWTVerifier:
    keys = source if source is not None else JWKSet.from_json(case.jwks_json)
    return JWTVerifier(keys, algorithms=[case.alg], issuer=ISSUER, audience=AUDIENCE, cache_size=cache)


def _asgi(verifier: JWTVerifier, token: str | None, sub: str | None, status: int = 200) -> Callable[[], Any]:
    seen: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope.get("auth"))
        await bare_asgi(scope, receive, send)

    checked = BearerAuthMiddleware(app, verifier, resource=AUDIENCE, authorization_servers=[ISSUER],
                                   required_scopes=[SCOPE])
    scope, recorder = asgi_scope(token), Recorder()
    assert asgi_call(checked, scope, recorder) == status
    if status == 200:
        assert seen[-1].subject == sub and SCOPE in seen[-1].scopes
        assert asgi_call(checked, scope, recorder) == 200 and "auth" not in scope
    else:
        assert not seen and any(name == b"www-authenticate" for name, _ in recorder.headers)
    timed = BearerAuthMiddleware(bare_asgi, verifier, resource=AUDIENCE, authorization_servers=[ISSUER],
                                 required_scopes=[SCOPE])
    return lambda: asgi_call(timed, scope, recorder)


def _wsgi(verifier: JWTVerifier, token: str, sub: str) -> Callable[[], Any]:
    seen: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(environ["jwkverify.token"])
        return bare_wsgi(environ, start_response)

    environ = wsgi_environ(token)
    checked = WSGIMiddleware(app, verifier, resource=AUDIENCE, authorization_servers=[ISSUER],
                             required_scopes=[SCOPE])
    assert wsgi_call(checked, environ) == [b"ok"] and seen[-1].subject == sub
    timed = WSGIMiddleware(bare_wsgi, verifier, resource=AUDIENCE, authorization_servers=[ISSUER],
                           required_scopes=[SCOPE])
    return lambda: wsgi_call(timed, environ)


def _token_verifier(verifier: Any, case: Case, refuses: bool = True) -> Callable[[], Any]:
    """A TokenVerifier's ``verify_token``, checked: the AccessToken of the token, None for bad ones."""
    access = warm(verifier, case.token)
    assert access is not None and access.subject == case.claims["sub"] and SCOPE in access.scopes
    assert access.client_id == case.claims["client_id"]
    if refuses:
        assert warm(verifier, case.tampered) is None
        assert warm(verifier, case.refused["wrong audience"]) is None
    token = case.token
    return lambda: run(verifier.verify_token(token))


def _mcp(verifier: JWTVerifier, case: Case) -> Callable[[], Any]:
    try:
        from jwkverify.mcp import MCPTokenVerifier

        adapter = MCPTokenVerifier(verifier, resource=AUDIENCE)
    except ImportError as exc:
        pytest.skip(f"the MCP SDK is not installed: {exc}")
    return _token_verifier(adapter, case)


def build_row(name: str, case: Case, server: JWKSServer) -> Callable[[], Any]:
    """The checked, ready-to-time callable of row ``name``."""
    sub = case.claims["sub"]
    if name in ("core verify, repeated", "core verify, first-seen"):
        verifier = _verifier(case, CACHE if "repeated" in name else 0)
        assert verifier.verify(case.token)["sub"] == sub
        token = case.token
        return lambda: verifier.verify(token)
    if name == "core verify, not a JWT":
        verifier = _verifier(case, CACHE)

        def refuse() -> None:
            try:
                verifier.verify("not.a.jwt")
            except MalformedToken:
                return
            raise AssertionError("a token that is not a JWT was accepted")

        refuse()
        return refuse
    if name == "bare ASGI app":
        scope, recorder = asgi_scope(case.token), Recorder()
        assert asgi_call(bare_asgi, scope, recorder) == 200
        return lambda: asgi_call(bare_asgi, scope, recorder)
    if name == "bare WSGI app":
        environ = wsgi_environ(case.token)
        assert wsgi_call(bare_wsgi, environ) == [b"ok"]
        return lambda: wsgi_call(bare_wsgi, environ)
    cache = CACHE if "repeated" in name else 0
    if name.startswith("ASGI middleware"):
        source = None
        if "RemoteJWKSet" in name:
            source = RemoteJWKSet(server.url(jwks_path(LABEL)), allow_http=True)
            source.refresh()
        return _asgi(_verifier(case, cache, source), case.token, sub)
    if name.startswith("WSGI middleware"):
        return _wsgi(_verifier(case, cache), case.token, sub)
    if name.startswith("MCPTokenVerifier"):
        return _mcp(_verifier(case, cache), case)
    if name == "ASGI refused, no credentials":
        return _asgi(_verifier(case, CACHE), None, None, status=401)
    if name == "ASGI refused, not a JWT":
        return _asgi(_verifier(case, CACHE), "not.a.jwt", None, status=401)
    url = server.url(jwks_path(LABEL))
    try:
        if name.startswith("FastMCP"):
            peer = (fastmcp_verifier(case.alg, jwks_url=url) if "jwks_uri" in name
                    else fastmcp_verifier(case.alg, public_key=case.signer.public))
        else:
            peer = PyJWTTokenVerifier(url, case.alg)
    except ImportError as exc:
        pytest.skip(f"{name.split(maxsplit=1)[0]} is not installed: {exc}")
    return _token_verifier(peer, case)


@pytest.mark.parametrize("name", NAMES)
def test_server(benchmark: Any, cases: dict[str, Case], jwks_server: JWKSServer, name: str) -> None:
    timed = build_row(name, cases[LABEL], jwks_server)
    benchmark.group = f"server {LABEL}"
    benchmark.extra_info.update(kind="server", algorithm=LABEL, row=name, column=name)
    benchmark(timed)
