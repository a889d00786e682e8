"""Gateway propagation: the same user's JWT verified at the gateway and again upstream.

The gateway (any ASGI app behind ``BearerAuthMiddleware``) verifies the token for its
own audience, then forwards the request with the original ``Authorization`` header
and nothing else that says who the user is. The upstream service verifies the same
JWT again, independently: same key set, its own audience, and it authorizes on the
user's claims (``sub``, roles). The token's ``aud`` array names both.

Needs ``pip install starlette uvicorn httpx`` (or ``pip install -e ".[asgi-test]"``):

    python examples/gateway.py --dev
        A local key set, the gateway on :8001 and the upstream on :8002, and tokens to try.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jwkverify import BearerAuthMiddleware, JWTVerifier, KeySource, RemoteJWKSet

NOTES = {"alice": ["buy milk"], "bob": ["call alice"]}
#: Response headers the gateway relays (hop-by-hop and framing headers are not).
RELAYED = ("content-type", "www-authenticate", "cache-control")


def build_upstream(keys: KeySource, *, issuer: str, resource: str) -> BearerAuthMiddleware:
    """The notes service: it trusts no gateway, only a token issued for it."""

    async def notes(request: Request) -> JSONResponse:
        user = request.user.display_name  # the verified `sub`, not anything the gateway says
        return JSONResponse({"owner": user, "notes": NOTES.get(user, []), "service": "upstream"})

    async def all_notes(request: Request) -> JSONResponse:
        return JSONResponse(NOTES)

    app = Starlette(routes=[Route("/notes", notes), Route("/admin/notes", all_notes)])
    verifier = JWTVerifier(keys, issuer=issuer, audience=resource, leeway=30)
    return BearerAuthMiddleware(app, verifier, resource=resource, authorization_servers=[issuer],
                                required_scopes=["notes:read"], route_roles={"/admin": ["admin"]})


def build_gateway(keys: KeySource, *, issuer: str, resource: str, upstream: str) -> BearerAuthMiddleware:
    """The gateway: checks the token for itself, then forwards it untouched."""

    async def forward(request: Request) -> Response:
        # The middleware let exactly one Authorization header through; forward it as is.
        headers = {"authorization": request.headers["authorization"]}
        if "content-type" in request.headers:
            headers["content-type"] = request.headers["content-type"]
        async with httpx.AsyncClient(timeout=10) as client:
            reply = await client.request(request.method, upstream + request.url.path, headers=headers,
                                         params=request.query_params, content=await request.body())
        relayed = {name: reply.headers[name] for name in RELAYED if name in reply.headers}
        return Response(reply.content, status_code=reply.status_code, headers=relayed)

    app = Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "PUT", "DELETE"])])
    verifier = JWTVerifier(keys, issuer=issuer, audience=resource, leeway=30)
    return BearerAuthMiddleware(app, verifier, resource=resource, authorization_servers=[issuer],
                                required_scopes=["notes:read"])


def main() -> None:
    import uvicorn
    from dev_issuer import DevIssuer  # examples/dev_issuer.py, beside this file

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", action="store_true", help="run a local key set and print tokens")
    parser.parse_args()
    dev = DevIssuer()
    gateway, upstream = "http://127.0.0.1:8001", "http://127.0.0.1:8002"
    keys: Any = RemoteJWKSet(dev.jwks_url, allow_http=True)
    both = dev.token([gateway, upstream], "alice", "notes:read")
    gateway_only = dev.token(gateway, "alice", "notes:read")
    print(f"token for both (aud = gateway and upstream):\n{both}\n\n"
          f"token for the gateway only:\n{gateway_only}\n\n"
          f"try:\n  curl -s -H 'Authorization: Bearer <token>' {gateway}/notes\n")
    upstream_app = build_upstream(keys, issuer=dev.issuer, resource=upstream)
    gateway_app = build_gateway(keys, issuer=dev.issuer, resource=gateway, upstream=upstream)
    servers = [
        uvicorn.Server(uvicorn.Config(upstream_app, host="127.0.0.1", port=8002, log_level="warning")),
        uvicorn.Server(uvicorn.Config(gateway_app, host="127.0.0.1", port=8001, log_level="warning")),
    ]
    threading.Thread(target=servers[0].run, daemon=True).start()
    servers[1].run()


if __name__ == "__main__":
    main()
