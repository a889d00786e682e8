"""An MCP server whose tools are gated by OAuth scopes, every request verified by jwkverify.

Needs ``pip install "jwkverify[mcp]"``. Two ways to run it:

    python examples/mcp_server.py --dev
        Nothing else needed: it makes a signing key, publishes its JWK Set on a
        loopback port, prints a reader's and a writer's token, and serves MCP at
        http://127.0.0.1:8000/mcp.

    python examples/mcp_server.py --issuer https://login.example.com \\
        --resource https://mcp.example.com/mcp
        Real tokens: the keys are discovered from the issuer, and tokens must name
        the resource in ``aud`` (RFC 8707).

Every request needs ``notes:read``; ``add_note`` and ``delete_note`` also need
``notes:write``. A token without it gets ``403`` with
``WWW-Authenticate: Bearer error="insufficient_scope", scope="notes:read notes:write"``,
so a client can ask the authorization server for more (step-up).
"""

from __future__ import annotations

import argparse
from typing import Any

from dev_issuer import DevIssuer  # examples/dev_issuer.py, beside this file
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import MCPServer

from jwkverify import JWTVerifier, KeySource, RemoteJWKSet
from jwkverify.mcp import protect_mcp_app

READ, WRITE = "notes:read", "notes:write"


def build_server() -> MCPServer:
    """The MCP server: plain tools; who may call which is the middleware's business."""
    server = MCPServer("notes")
    notes: dict[str, dict[str, str]] = {}

    def caller() -> str:
        token = get_access_token()  # the verified token, as the SDK's own auth would give it
        return (token.subject if token is not None else None) or "unknown"

    @server.tool()
    def whoami() -> dict[str, Any]:
        """Who the server thinks you are: the verified subject, scopes and claims."""
        token = get_access_token()
        if token is None:
            return {}
        return {"subject": token.subject, "client_id": token.client_id, "scopes": token.scopes,
                "claims": token.claims}

    @server.tool()
    def list_notes() -> dict[str, dict[str, str]]:
        """Every note, with its author. Needs notes:read."""
        return notes

    @server.tool()
    def add_note(name: str, text: str) -> str:
        """Add a note. Needs notes:write."""
        notes[name] = {"text": text, "author": caller()}
        return f"added {name!r}"

    @server.tool()
    def delete_note(name: str) -> str:
        """Delete a note. Needs notes:write."""
        return f"deleted {name!r}" if notes.pop(name, None) is not None else f"no note {name!r}"

    return server


def build_app(keys: KeySource, *, issuer: str, resource: str, server: MCPServer | None = None) -> Any:
    """The ASGI app: the server's streamable HTTP app behind jwkverify's middleware."""
    verifier = JWTVerifier(keys, issuer=issuer, audience=resource, leeway=30, cache_size=1024)
    app = (server or build_server()).streamable_http_app()
    return protect_mcp_app(
        app, verifier, resource=resource, authorization_servers=[issuer],
        required_scopes=[READ], tool_scopes={"add_note": [WRITE], "delete_note": [WRITE]},
        resource_name="Notes (jwkverify example)",
    )


def main() -> None:
    import uvicorn

    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--dev", action="store_true", help="run a local issuer and print tokens")
    parser.add_argument("--issuer", help="the authorization server (keys by OIDC discovery)")
    parser.add_argument("--resource", help="this server's URL, e.g. https://mcp.example.com/mcp")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    resource = args.resource or f"http://127.0.0.1:{args.port}/mcp"
    if args.dev:
        dev = DevIssuer()
        keys: KeySource = RemoteJWKSet(dev.jwks_url, allow_http=True)
        issuer = dev.issuer
        reader, writer = dev.token(resource, "alice", READ), dev.token(resource, "bob", f"{READ} {WRITE}")
        print(f"JWK Set: {dev.jwks_url}\n\nreader (notes:read):\n{reader}\n\n"
              f"writer (notes:read notes:write):\n"
              f"{writer}\n\ntry:\n  curl -i {resource}\n  curl -s http://127.0.0.1:{args.port}"
              f"/.well-known/oauth-protected-resource/mcp\n")
    elif args.issuer:
        issuer = args.issuer
        keys = RemoteJWKSet.from_issuer(issuer)
    else:
        parser.error("pass --dev, or --issuer URL (and --resource URL)")
    uvicorn.run(build_app(keys, issuer=issuer, resource=resource), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
