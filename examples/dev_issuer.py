"""A stand-in identity provider for the examples' ``--dev`` mode: one Ed25519 key, its JWK
Set served on a free loopback port, and a minter for access tokens (RFC 9068 style).

It signs with ``cryptography`` directly, never with jwkverify, which only verifies.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DevIssuer:
    """An Ed25519 key whose JWK Set is served at :attr:`jwks_url`, and a token minter."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self._key = Ed25519PrivateKey.generate()
        jwk = {"kty": "OKP", "crv": "Ed25519", "kid": "dev-1", "alg": "EdDSA", "use": "sig",
               "x": _b64(self._key.public_key().public_bytes_raw())}
        body = json.dumps({"keys": [jwk]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        port = self._httpd.server_address[1]
        self.issuer = f"http://127.0.0.1:{port}"
        self.jwks_url = f"{self.issuer}/jwks.json"

    def token(self, audience: str | list[str], sub: str, scope: str, lifetime: int = 3600,
              **claims: Any) -> str:
        """An access token for ``audience`` (a resource URI, or several)."""
        now = int(time.time())
        header = {"alg": "EdDSA", "kid": "dev-1", "typ": "at+jwt"}
        body = {"iss": self.issuer, "aud": audience, "sub": sub, "client_id": "dev-client",
                "scope": scope, "iat": now, "exp": now + lifetime, **claims}
        signing_input = ".".join(_b64(json.dumps(part).encode()) for part in (header, body))
        return f"{signing_input}.{_b64(self._key.sign(signing_input.encode()))}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
