"""The server side of a protected request, in process: apps, requests and the adapters' peers.

What ``test_server.py`` times, built here once:

- a bare ASGI app and a bare WSGI app (each answers ``200 ok``), the request an MCP
  client sends them (an ASGI ``scope`` with the eight headers of a streamable-HTTP
  ``POST /mcp``, a WSGI ``environ`` as ``wsgiref`` builds it), and drivers that run
  one request to completion without an event loop (an ASGI app that awaits nothing
  real finishes on its first ``send(None)``; a driver refuses one that suspends);
- the peers users write today for the MCP SDK's ``TokenVerifier``: FastMCP's own
  ``JWTVerifier`` (``public_key=`` the signing key's PEM, and ``jwks_uri=`` the same key
  set served from 127.0.0.1), and an SDK
  ``TokenVerifier`` on PyJWT (``PyJWKClient`` for the key, ``jwt.decode`` with
  audience and issuer, then the SDK's ``AccessToken``), as its docs show.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bench_tokens import AUDIENCE, ISSUER

Scope = dict[str, Any]


async def bare_asgi(scope: Scope, receive: Any, send: Any) -> None:
    """The least an ASGI app does: one response, no body read."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def bare_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The least a WSGI app does."""
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


def asgi_scope(token: str | None) -> Scope:
    """``POST /mcp`` as uvicorn hands it to the app, from an MCP client's streamable HTTP."""
    headers = [(b"host", b"api.example.com"), (b"user-agent", b"mcp-client/1.0"),
               (b"accept", b"application/json, text/event-stream"), (b"content-type", b"application/json"),
               (b"content-length", b"78"), (b"mcp-session-id", b"6f1c2b8e9d0a4f3e"),
               (b"mcp-protocol-version", b"2025-06-18")]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
            "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 53122), "scheme": "https",
            "method": "POST", "root_path": "", "path": "/mcp", "raw_path": b"/mcp", "query_string": b"",
            "headers": headers, "state": {}}


def wsgi_environ(token: str | None) -> dict[str, Any]:
    """The same request as ``wsgiref`` builds its environ."""
    import io
    import sys

    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": "/mcp", "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "78", "SERVER_NAME": "api.example.com",
        "SERVER_PORT": "443", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "api.example.com", "HTTP_USER_AGENT": "mcp-client/1.0",
        "HTTP_ACCEPT": "application/json, text/event-stream", "HTTP_MCP_SESSION_ID": "6f1c2b8e9d0a4f3e",
        "HTTP_MCP_PROTOCOL_VERSION": "2025-06-18", "wsgi.version": (1, 0), "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
        "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    if token is not None:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return environ


class Recorder:
    """An ASGI ``send`` that keeps the last response, and a ``receive`` that has an empty body."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status, self.headers = message["status"], message["headers"]

    async def receive(self) -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that awaits nothing real to its end, in the caller's thread."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("the coroutine suspended: it waited for I/O, which a hot path must not")


def asgi_call(app: Callable[..., Awaitable[None]], scope: Scope, recorder: Recorder) -> int:
    """One ASGI request, start to end; the response status."""
    run(app(scope, recorder.receive, recorder.send))  # type: ignore[arg-type]
    return recorder.status


def wsgi_call(app: Callable[..., Any], environ: dict[str, Any]) -> Any:
    """One WSGI request; what the app returned (a server would iterate and close it)."""
    return app(environ, _start_response)


def _start_response(status: str, headers: list[tuple[str, str]],
                    exc_info: Any = None) -> Callable[[bytes], None]:
    return _write


def _write(data: bytes) -> None:
    pass


# -- the peers ---------------------------------------------------------------------------------


def fastmcp_verifier(alg: str, *, jwks_url: str | None = None, public_key: Any = None) -> Any:
    """FastMCP's ``JWTVerifier``: with the signing key's PEM (``public_key=``, what most users
    configure), or on the same key set (``jwks_uri=``, fetched once before timing).

    Raises:
        ImportError: fastmcp is not installed.
    """
    from fastmcp.server.auth.providers.jwt import JWTVerifier

    if public_key is not None:
        from cryptography.hazmat.primitives import serialization

        pem = public_key.public_bytes(serialization.Encoding.PEM,
                                      serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        return JWTVerifier(public_key=pem, issuer=ISSUER, audience=AUDIENCE, algorithm=alg)
    return JWTVerifier(jwks_uri=jwks_url, issuer=ISSUER, audience=AUDIENCE, algorithm=alg)


def warm(verifier: Any, token: str) -> Any:
    """One ``verify_token`` on a real event loop (a peer fetches its key set here)."""
    return asyncio.run(verifier.verify_token(token))


class PyJWTTokenVerifier:
    """What users write today for the MCP SDK: PyJWT, a ``PyJWKClient``, the SDK's ``AccessToken``."""

    def __init__(self, jwks_url: str, alg: str) -> None:
        import jwt
        from mcp.server.auth.provider import AccessToken

        self._jwt, self._access_token, self._alg = jwt, AccessToken, alg
        self._keys = jwt.PyJWKClient(jwks_url, cache_keys=True)

    async def verify_token(self, token: str) -> Any:
        jwt = self._jwt
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=[self._alg], audience=AUDIENCE, issuer=ISSUER)
        except jwt.PyJWTError:
            return None
        scope = claims.get("scope")
        return self._access_token(
            token=token, client_id=claims.get("client_id") or claims.get("azp") or "",
            scopes=scope.split() if isinstance(scope, str) else [], expires_at=claims.get("exp"),
            resource=AUDIENCE, subject=claims.get("sub"), claims=claims,
        )
