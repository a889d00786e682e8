"""Driving one request through a web face in process, for the DPoP tests of every face.

:class:`Face` wraps a recording app in the ASGI middleware, the WSGI middleware or
:func:`~jwkverify.mcp.protect_mcp_app` and sends it requests built from an
``Authorization`` value, ``DPoP`` header values and a raw (percent-encoded) path; the
decoded path each server would give the app is derived here from the raw one, as
uvicorn (UTF-8) and PEP 3333 servers (bytes as Latin-1) do. Access tokens are signed by
``KEY`` for ``RESOURCE``; proofs come from :mod:`dpop_proofs` clients.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

import pytest
from dpop_proofs import Client, ath
from signing import make_key

from jwkverify import JWKSet, JWTVerifier
from jwkverify._web.bearer import parse_challenges
from jwkverify.asgi import BearerAuthMiddleware as ASGIMiddleware
from jwkverify.asgi import VerifiedToken
from jwkverify.observe import Counters
from jwkverify.wsgi import BearerAuthMiddleware as WSGIMiddleware
from jwkverify.wsgi import verified_token

ORIGIN = "https://api.example.test"
RESOURCE = ORIGIN + "/mcp"
ISSUER = "https://issuer.example.test"
METADATA_URL = ORIGIN + "/.well-known/oauth-protected-resource/mcp"
KEY = make_key("ES256", kid="k1")
KEYS = JWKSet.from_dict({"keys": [KEY.jwk]})
FACES = ("asgi", "wsgi", "mcp")
ALGS = ["ES256", "EdDSA"]


def access_token(jkt: str | None = None, **changes: Any) -> str:
    """A token for ``RESOURCE``, bound to the key ``jkt`` when given (``cnf.jkt``)."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ISSUER, "aud": RESOURCE, "sub": "alice", "client_id": "agent-1",
                              "iat": now, "exp": now + 600, "scope": "notes:read"}
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}
    claims.update(changes)
    return str(KEY.token(claims))


def proof(who: Client, token: str, *, method: str = "GET", url: str = ORIGIN + "/mcp/notes",
          **changes: Any) -> str:
    """A fresh proof by ``who`` for ``method url`` with ``token``; ``changes`` alter claims."""
    values: dict[str, Any] = {"htm": method, "htu": url, "iat": int(time.time()), "ath": ath(token)}
    values.update(changes)
    return who.proof(**values)


@dataclass
class Reply:
    """What the face answered, and what its app saw (``None``: the app was not reached)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    seen: VerifiedToken | None = None
    access: Any = None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    def header(self, name: str) -> str | None:
        values = self.all(name)
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None

    @property
    def challenges(self) -> list[tuple[str, dict[str, str]]]:
        value = self.header("www-authenticate")
        assert value is not None, "no WWW-Authenticate"
        return parse_challenges(value)

    @property
    def error(self) -> str | None:
        found: str | None = json.loads(self.body)["error"] if self.status >= 400 else None
        return found


@dataclass
class Face:
    """One face with DPoP options, around a recording app."""

    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    verifier: Any = None

    def __post_init__(self) -> None:
        self.counters = Counters()
        self.seen: list[tuple[Any, Any]] = []
        verifier = self.verifier or JWTVerifier(KEYS, issuer=ISSUER, audience=RESOURCE, cache_size=64)
        common: dict[str, Any] = {"resource": RESOURCE, "authorization_servers": [ISSUER],
                                  "observer": self.counters, **self.options}
        if self.kind == "wsgi":
            self.middleware: Any = WSGIMiddleware(self._wsgi_app, verifier, **common)
        elif self.kind == "asgi":
            self.middleware = ASGIMiddleware(self._asgi_app, verifier, **common)
        else:
            pytest.importorskip("mcp.server.auth.middleware.auth_context")
            from jwkverify.mcp import protect_mcp_app

            self.middleware = protect_mcp_app(self._asgi_app, verifier, **common)

    @property
    def verdicts(self) -> dict[tuple[str, str | None], int]:
        return dict(self.counters.snapshot().verdicts)

    async def _asgi_app(self, scope: Any, receive: Any, send: Any) -> None:
        access = None
        if self.kind == "mcp":
            from mcp.server.auth.middleware.auth_context import get_access_token

            access = get_access_token()
        self.seen.append((scope.get("auth"), access))
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"cache-control", b"max-age=60"), (b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    def _wsgi_app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.seen.append((verified_token(environ), None))
        start_response("200 OK", [("Cache-Control", "max-age=60"), ("Content-Type", "text/plain")])
        return [b"ok"]

    def request(self, authorization: str | list[str] | None = None, proofs: list[str] | tuple[str, ...] = (),
                *, method: str = "GET", raw: str = "/mcp/notes", host: str = "api.example.test",
                request_uri: bool = True) -> Reply:
        """One request; ``raw`` is the path as sent. WSGI gets ``REQUEST_URI`` unless told not to."""
        authorizations = [authorization] if isinstance(authorization, str) else list(authorization or [])
        self.seen.clear()
        if self.kind == "wsgi":
            return self._wsgi(authorizations, list(proofs), method, raw, host=host, request_uri=request_uri)
        return self._asgi(authorizations, list(proofs), method, raw, host)

    def _asgi(self, authorizations: list[str], proofs: list[str], method: str, raw: str,
              host: str) -> Reply:
        headers = [(b"host", host.encode())]
        headers += [(b"authorization", value.encode("latin-1")) for value in authorizations]
        headers += [(b"dpop", value.encode("latin-1")) for value in proofs]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "https", "path": unquote(raw), "raw_path": raw.encode("ascii"),
                 "query_string": b"", "root_path": "", "headers": headers}
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        asyncio.run(self.middleware(scope, receive, send))
        start, body = sent[0], sent[1]
        pairs = [(name.decode("latin-1").lower(), value.decode("latin-1"))
                 for name, value in start["headers"]]
        token, access = self.seen[0] if self.seen else (None, None)
        return Reply(start["status"], pairs, body["body"], token, access)

    def _wsgi(self, authorizations: list[str], proofs: list[str], method: str, raw: str, *, host: str,
              request_uri: bool) -> Reply:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": unquote_to_bytes(raw).decode("latin-1"),
            "QUERY_STRING": "", "SERVER_NAME": "api.example.test", "SERVER_PORT": "443", "HTTP_HOST": host,
            "wsgi.url_scheme": "https", "wsgi.input": None,
        }
        if request_uri:
            environ["REQUEST_URI"] = raw
        if authorizations:  # a WSGI server joins repeated headers with a comma
            environ["HTTP_AUTHORIZATION"] = ", ".join(authorizations)
        if proofs:
            environ["HTTP_DPOP"] = ", ".join(proofs)
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
            started.append((int(status.split(maxsplit=1)[0]), headers))
            return lambda data: None

        body = b"".join(self.middleware(environ, start_response))
        status, headers = started[0]
        token = self.seen[0][0] if self.seen else None
        return Reply(status, [(name.lower(), value) for name, value in headers], body, token)
