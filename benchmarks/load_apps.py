"""The ASGI apps of the load test, built in each uvicorn worker by :func:`build` (``--factory``).

One Starlette endpoint (``GET /api``) and one MCP server (``POST /mcp``, the SDK's
stateless streamable HTTP app) behind the variant named by ``LOAD_VARIANT``:

- ``jwkverify``: :class:`jwkverify.asgi.BearerAuthMiddleware` and
  :func:`jwkverify.mcp.protect_mcp_app` over one :class:`~jwkverify.JWTVerifier`
  whose keys come from ``RemoteJWKSet.from_issuer`` (discovery);
- ``jwkverify-quiet``: the same with the ``jwkverify`` logger at WARNING: the MCP SDK's
  ``MCPServer`` sets up a rich INFO handler on the root logger, and the ASGI middleware
  logs each refused token at INFO, so this shows what those records cost;
- ``none``: the same apps without authentication;
- ``pyjwt``: a small middleware over PyJWT's ``PyJWKClient`` + ``jwt.decode``;
- ``fastmcp``: a small middleware over FastMCP's ``JWTVerifier.verify_token``;
- ``floor``: :class:`Floor`, the least any verifying middleware does per request (a
  bound to measure against, not a safe middleware).

Outermost, :class:`Echo` copies the load generator's ``x-class`` and ``x-sent``
request headers into the response, so the generator can tell each response's token
class and latency; ``GET /_stats`` (never authenticated) reports the worker's pid,
RSS, key-set events and key-set state. Each worker sends ``X-Worker: <pid>`` to the
provider. Configuration: ``LOAD_ISSUER``, ``LOAD_AUDIENCE``, ``LOAD_ALG``,
``LOAD_TIMEOUT``, ``LOAD_CACHE_TTL``, ``LOAD_COOLDOWN``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

_ECHOED = (b"x-class", b"x-sent")
_UNAUTHORIZED = (b'{"error": "invalid_token"}', [(b"content-type", b"application/json"),
                                                  (b"www-authenticate", b'Bearer error="invalid_token"')])


class LoopLag:
    """How late a 10 ms sleep of this worker's event loop wakes up, at worst: a blocked loop shows here."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.task: Any = None

    def start(self) -> None:
        import asyncio

        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        import asyncio
        import time

        while True:
            started = time.monotonic()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.monotonic() - started - 0.01)

    def take(self) -> float:
        worst, self.worst = self.worst, 0.0
        return worst


class Echo:
    """Echo the generator's bookkeeping headers; serve ``/_stats``; dispatch ``/mcp`` and the rest."""

    def __init__(self, api: App, mcp: App, stats: Callable[[], dict[str, Any]]) -> None:
        self.api, self.mcp, self.stats = api, mcp, stats
        self.lag = LoopLag()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.mcp(scope, receive, send)  # the MCP app's session manager
            return
        if scope["type"] != "http":
            await self.api(scope, receive, send)
            return
        self.lag.start()
        if scope["path"] == "/_stats":
            import time

            stats = {**self.stats(), "cpu_s": time.process_time(), "loop_lag_max_ms": self.lag.take() * 1000}
            body = json.dumps(stats).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        echo = [(name, value) for name, value in scope["headers"] if name in _ECHOED]

        async def echoing(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *echo]}
            await send(message)

        target = self.mcp if scope["path"].startswith("/mcp") else self.api
        await target(scope, receive, echoing)


def bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


async def refuse(send: Send) -> None:
    body, headers = _UNAUTHORIZED
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class PyJWTAuth:
    """A typical PyJWT middleware: ``PyJWKClient`` for the key, ``jwt.decode`` for the rest."""

    def __init__(self, app: App, *, jwks_url: str, issuer: str, audience: str, alg: str, ttl: float,
                 timeout: float) -> None:
        import jwt

        self.app, self.jwt = app, jwt
        self.client = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=ttl, timeout=int(max(1, timeout)),
                                      headers={"X-Worker": str(os.getpid())})
        self.options = {"algorithms": [alg], "audience": audience, "issuer": issuer}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = bearer(scope)
        try:
            key = self.client.get_signing_key_from_jwt(token or "")
            scope["auth"] = self.jwt.decode(token or "", key.key, **self.options)
        except Exception:  # every PyJWT error, and its client's fetch errors
            await refuse(send)
            return
        await self.app(scope, receive, send)


class FastMCPAuth:
    """FastMCP's ``JWTVerifier`` (``verify_token`` -> ``AccessToken | None``) as a middleware."""

    def __init__(self, app: App, *, jwks_url: str, issuer: str, audience: str, alg: str,
                 cooldown: float) -> None:
        from fastmcp.server.auth.providers.jwt import JWTVerifier

        self.app = app
        self.verifier = JWTVerifier(jwks_uri=jwks_url, issuer=issuer, audience=audience, algorithm=alg,
                                    jwks_refresh_interval=cooldown)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = bearer(scope)
        access = await self.verifier.verify_token(token) if token else None
        if access is None:
            await refuse(send)
            return
        scope["auth"] = access
        await self.app(scope, receive, send)


class Floor:
    """The least a middleware that verifies tokens can do per request: a bound, not a safe middleware.

    A token it let through before passes after one ``dict`` lookup: no expiry, key or
    scope check, no view, no answer built. Any other token goes to the core's
    ``verify_async`` (the signature, base64 and JSON any verifier pays) and is refused
    with a fixed ``401`` if it fails. jwkverify's middleware does all that Floor skips.
    """

    def __init__(self, app: App, verifier: Any) -> None:
        self.app, self.verifier = app, verifier
        self.seen: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = bearer(scope) or ""
        claims = self.seen.get(token)
        if claims is None:
            try:
                claims = await self.verifier.verify_async(token)
            except Exception:  # every refusal alike
                await refuse(send)
                return
            if len(self.seen) < 4096:
                self.seen[token] = claims
        scope["auth"] = claims
        await self.app(scope, receive, send)


def rss_kib() -> int:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def build() -> App:
    """The app of this worker, for ``uvicorn load_apps:build --factory``."""
    from mcp.server.mcpserver import MCPServer
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    env = os.environ
    variant, issuer, audience = env["LOAD_VARIANT"], env["LOAD_ISSUER"], env["LOAD_AUDIENCE"]
    alg = env.get("LOAD_ALG", "RS256")
    timeout, ttl = float(env.get("LOAD_TIMEOUT", "1")), float(env.get("LOAD_CACHE_TTL", "2"))
    cooldown = float(env.get("LOAD_COOLDOWN", "2"))

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    api: App = Starlette(routes=[Route("/api", hello)])
    server = MCPServer("load")

    @server.tool()
    def echo(text: str) -> str:
        """Return ``text``."""
        return text

    mcp: App = server.streamable_http_app(json_response=True, stateless_http=True)
    stats: Callable[[], dict[str, Any]] = lambda: {"pid": os.getpid(), "rss_kib": rss_kib()}  # noqa: E731
    if variant in ("jwkverify", "jwkverify-quiet"):
        from jwkverify import JWTVerifier, RemoteJWKSet
        from jwkverify.asgi import BearerAuthMiddleware
        from jwkverify.mcp import protect_mcp_app
        from jwkverify.observe import Counters

        counters = Counters()
        keys = RemoteJWKSet.from_issuer(issuer, allow_http=True, timeout=timeout, cache_ttl=ttl,
                                        cooldown=cooldown, observer=counters,
                                        headers={"X-Worker": str(os.getpid())})
        verifier = JWTVerifier(keys, issuer=issuer, audience=audience, algorithms=[alg], cache_size=4096)
        if variant == "jwkverify-quiet":  # refusals not logged: MCPServer set the root logger to INFO
            import logging

            logging.getLogger("jwkverify").setLevel(logging.WARNING)
        api = BearerAuthMiddleware(api, verifier, resource=audience, authorization_servers=[issuer])
        mcp = protect_mcp_app(mcp, verifier, resource=audience, authorization_servers=[issuer])

        def stats() -> dict[str, Any]:
            state = keys.state
            events = {f"{event}": count for (event, _), count in counters.snapshot().keyset_events.items()}
            return {"pid": os.getpid(), "rss_kib": rss_kib(), "events": events, "status": state.status,
                    "kids": list(state.kids), "fetch_count": state.fetch_count,
                    "failure_count": state.failure_count}
    elif variant == "floor":
        from jwkverify import JWTVerifier, RemoteJWKSet

        keys = RemoteJWKSet.from_issuer(issuer, allow_http=True, timeout=timeout, cache_ttl=ttl,
                                        cooldown=cooldown, headers={"X-Worker": str(os.getpid())})
        verifier = JWTVerifier(keys, issuer=issuer, audience=audience, algorithms=[alg])
        api, mcp = Floor(api, verifier), Floor(mcp, verifier)
    elif variant == "pyjwt":
        jwks_url = issuer + "/jwks"
        api = PyJWTAuth(api, jwks_url=jwks_url, issuer=issuer, audience=audience, alg=alg, ttl=ttl,
                        timeout=timeout)
        mcp = PyJWTAuth(mcp, jwks_url=jwks_url, issuer=issuer, audience=audience, alg=alg, ttl=ttl,
                        timeout=timeout)
    elif variant == "fastmcp":
        jwks_url = issuer + "/jwks"
        api = FastMCPAuth(api, jwks_url=jwks_url, issuer=issuer, audience=audience, alg=alg,
                          cooldown=cooldown)
        mcp = FastMCPAuth(mcp, jwks_url=jwks_url, issuer=issuer, audience=audience, alg=alg,
                          cooldown=cooldown)
    elif variant != "none":
        raise ValueError(f"unknown LOAD_VARIANT {variant!r}")
    return Echo(api, mcp, stats)
