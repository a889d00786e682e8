"""Provider-shaped key sets and tokens, and a loopback stand-in for a provider's hosts.

The shapes follow each provider's documentation field by field (headers, claims,
key-set members: ``x5c`` chains, ``x5t``, keys without ``alg``, Entra's per-key
``issuer``, Keycloak's encryption key). Signing uses ``cryptography`` directly
(tests/signing.py), never jwkverify.

:class:`Upstream` is the real loopback HTTP server of tests/jwks_server.py plus a
``fetch`` hook that sends each request for a provider's documented URL (say
``https://login.microsoftonline.com/{tid}/discovery/v2.0/keys``) to that server,
path and query kept, and records the URL asked for.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.client
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from jwks_server import JWKSServer, Reply
from signing import SigningKey, b64, make_key

__all__ = ["Upstream", "asgi_client", "bearer", "claims_at", "rsa_key", "with_x5c"]


def rsa_key(kid: str, **extra: Any) -> SigningKey:
    """An RS256 signing key whose JWK has ``kid`` and ``extra`` members (no ``alg`` unless given)."""
    key = make_key("RS256", kid=kid)
    key.jwk.update(extra)
    return key


def with_x5c(key: SigningKey, subject: str, *, thumbprints: tuple[str, ...] = ("x5t",)) -> dict[str, Any]:
    """``key``'s JWK with a one-certificate ``x5c`` chain (self-signed, as providers publish)
    and its ``x5t`` (SHA-1) and/or ``x5t#S256`` thumbprints."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.private.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=365))
                   .sign(key.private, hashes.SHA256()))
    der = certificate.public_bytes(serialization.Encoding.DER)
    jwk = dict(key.jwk)
    jwk["x5c"] = [base64.b64encode(der).decode("ascii")]
    if "x5t" in thumbprints:
        jwk["x5t"] = b64(hashlib.sha1(der).digest())  # RFC 7517 §4.8: x5t is SHA-1
    if "x5t#S256" in thumbprints:
        jwk["x5t#S256"] = b64(hashlib.sha256(der).digest())
    return jwk


def claims_at(claims: Mapping[str, Any], lifetime: int = 3600) -> dict[str, Any]:
    """``claims`` with ``iat``/``nbf``/``exp`` around now (``nbf`` only where given as True)."""
    now = int(time.time())
    out = dict(claims)
    out.setdefault("iat", now)
    out.setdefault("exp", now + lifetime)
    if out.get("nbf") is True:
        out["nbf"] = now
    return out


class Upstream:
    """A loopback server answering for a provider's hosts; ``fetch`` is the hook to pass."""

    def __init__(self, server: JWKSServer) -> None:
        self.server = server
        self.urls: list[str] = []
        self.documents: dict[str, bytes] = {}
        server.respond = self._answer

    def serve(self, path: str, document: Mapping[str, Any]) -> None:
        """Answer GET ``path`` (query included, if any) with ``document`` as JSON."""
        self.documents[path] = json.dumps(document).encode()

    def _answer(self, request: Any) -> Reply:
        body = self.documents.get(request.path)
        return Reply(200, body) if body is not None else Reply(404, b"{}")

    def fetch(self, url: str, headers: Mapping[str, str],
              timeout: float) -> tuple[int, dict[str, str], bytes]:
        """Fetch ``url``'s path and query from the loopback server, over real HTTP."""
        self.urls.append(url)
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        try:
            connection.request("GET", target, headers=dict(headers))
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    async def fetch_async(self, url: str, headers: Mapping[str, str],
                          timeout: float) -> tuple[int, dict[str, str], bytes]:
        """The awaitable form of :meth:`fetch` (in a worker thread)."""
        import asyncio

        return await asyncio.to_thread(self.fetch, url, headers, timeout)


def asgi_client(verifier: Any, *, resource: str = "https://api.example.com/orders", **options: Any) -> Any:
    """A Starlette ``TestClient`` for an app behind ``BearerAuthMiddleware(verifier)``.

    The app's ``/whoami`` answers the request's scopes, roles, subject and client
    id as the middleware found them. Skips without Starlette (``asgi-test`` extra),
    except where ``JWKVERIFY_REQUIRE_INTEROP`` is set (CI): there it fails.
    """
    import os
    import warnings

    import pytest

    try:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        with warnings.catch_warnings():  # newer Starlette prefers httpx2 to httpx; either works here
            warnings.filterwarnings("ignore", message=".*httpx2")
            from starlette.testclient import TestClient
    except ImportError:
        if os.environ.get("JWKVERIFY_REQUIRE_INTEROP"):
            raise
        pytest.skip('needs Starlette and httpx: pip install -e ".[asgi-test]"')

    from jwkverify.asgi import BearerAuthMiddleware, VerifiedToken

    async def whoami(request: Request) -> JSONResponse:
        auth = request.auth
        assert isinstance(auth, VerifiedToken)
        return JSONResponse({"scopes": sorted(auth.scopes), "roles": sorted(auth.roles), "sub": auth.subject,
                             "client_id": auth.client_id})

    app = Starlette(routes=[Route("/whoami", whoami)])
    options.setdefault("authorization_servers", ["https://issuer.example"])
    return TestClient(BearerAuthMiddleware(app, verifier, resource=resource, **options))


def bearer(token: str) -> dict[str, str]:
    """The request headers that present ``token``."""
    return {"Authorization": f"Bearer {token}"}
