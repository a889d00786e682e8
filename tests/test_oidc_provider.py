"""End to end against a real, certified OpenID provider on loopback: panva's ``oidc-provider``.

``e2e/oidc-provider/server.mjs`` issues RFC 9068 JWT access tokens with the
client-credentials grant and a resource indicator (RFC 8707). jwkverify finds its
keys by discovery, verifies its tokens, and follows a key rotation. Needs Node.js
and ``npm ci --prefix e2e/oidc-provider``; skipped without them (a failure in CI).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jwks_server import Clock

from jwkverify import InvalidAudience, JWTVerifier, KeyNotFound, RemoteJWKSet

ROOT = Path(__file__).resolve().parents[1]
PROVIDER = ROOT / "e2e" / "oidc-provider"
CLIENT_ID, CLIENT_SECRET = "agent", "a-client-secret-of-enough-length-1234"
RESOURCE = "https://notes.example.test/mcp"


class OpenIDProvider:
    def __init__(self, process: subprocess.Popen[str], issuer: str) -> None:
        self.process, self.issuer = process, issuer

    def token(self, resource: str = RESOURCE, scope: str = "notes:read") -> str:
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "resource": resource,
                                       "scope": scope}).encode()
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        request = urllib.request.Request(self.issuer + "/token", data=form,
                                         headers={"Authorization": f"Basic {basic}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(json.load(response)["access_token"])

    def admin(self, action: str) -> list[str]:
        request = urllib.request.Request(f"{self.issuer}/_{action}", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            kids: list[str] = json.load(response)["kids"]
            return kids


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIDProvider]:
    node = shutil.which("node")
    if node is None or not (PROVIDER / "node_modules" / "oidc-provider").is_dir():
        missing = "needs Node.js and `npm ci --prefix e2e/oidc-provider`"
        if os.environ.get("JWKVERIFY_REQUIRE_INTEROP"):  # CI: a missing part is a failure
            pytest.fail(missing)
        pytest.skip(missing)
    process = subprocess.Popen([node, "server.mjs", "0"], cwd=PROVIDER, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if not first:
            pytest.fail("oidc-provider did not start")
        yield OpenIDProvider(process, json.loads(first)["issuer"])
    finally:
        process.terminate()
        process.wait(10)


def header(token: str) -> dict[str, Any]:
    segment = token.split(".", 1)[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


def test_discovery_then_verification_of_its_access_tokens(provider: OpenIDProvider) -> None:
    keys = RemoteJWKSet.from_issuer(provider.issuer, allow_http=True)
    verifier = JWTVerifier(keys, issuer=keys.issuer, audience=RESOURCE, typ="at+jwt",
                           required_claims=["exp", "iat", "jti", "client_id"])
    claims = verifier.verify(provider.token())
    assert keys.url == provider.issuer + "/jwks"  # the jwks_uri of its discovery document
    assert claims["iss"] == provider.issuer and claims["aud"] == RESOURCE
    assert claims["client_id"] == CLIENT_ID and claims["scope"] == "notes:read"
    with pytest.raises(InvalidAudience):  # a token minted for another resource (RFC 8707)
        verifier.verify(provider.token(resource="https://other.example.test/api"))


def test_key_rotation_is_followed(provider: OpenIDProvider) -> None:
    clock = Clock()
    keys = RemoteJWKSet.from_issuer(provider.issuer, allow_http=True, clock=clock)
    verifier = JWTVerifier(keys, issuer=provider.issuer, audience=RESOURCE, typ="at+jwt")
    old = provider.token()
    verifier.verify(old)
    fetches = keys.state.fetch_count

    rotated = provider.admin("rotate")  # a new key signs from now on; the old one stays published
    new = provider.token()
    assert header(new)["kid"] == rotated[0] != header(old)["kid"]
    clock.advance(31)  # past the cooldown: an unknown kid may cause one refetch
    assert verifier.verify(new)["client_id"] == CLIENT_ID
    assert keys.state.fetch_count == fetches + 1
    verifier.verify(old)  # still published: still good

    provider.admin("retire")  # the old key is gone from the provider's set
    clock.advance(3600)  # the cached set is stale: the next lookup answers at once and refetches
    verifier.verify(new)
    deadline = time.monotonic() + 5  # the refetch runs off the request path (stale-while-revalidate)
    while keys.state.fetching or header(old)["kid"] in keys.state.kids:
        assert time.monotonic() < deadline, keys.state
        time.sleep(0.005)
    with pytest.raises(KeyNotFound):
        verifier.verify(old)
