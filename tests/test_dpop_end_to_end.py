"""End to end: DPoP between implementations no one here wrote.

panva's ``oidc-provider`` (``e2e/oidc-provider/server.mjs``) issues DPoP-bound JWT access
tokens (``cnf.jkt``) to a client built on panva's ``oauth4webapi``
(``e2e/dpop-client/client.mjs``), which calls a uvicorn-served app with real proofs. The
app is a test-only stand-in for the adapters (phase 2 plugs DPoP into the middleware): it
reads ``Authorization: DPoP`` and the ``DPoP`` header itself and calls
:class:`~jwkverify.dpop.DPoPVerifier`. Proven: accepted; the same request replayed byte for
byte, refused; the token sent as Bearer, refused; a proof from another key, refused; with
nonces on, oauth4webapi's documented single retry after ``use_dpop_nonce`` succeeds.

Needs Node.js, ``npm ci --prefix e2e/oidc-provider`` and ``npm ci --prefix e2e/dpop-client``;
skipped without them locally, a failure in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn")

from asgi_server import base_url, listener, serve

from jwkverify import JOSEError, JWTVerifier, RemoteJWKSet
from jwkverify.dpop import (
    DPoPVerifier,
    HMACNonceSource,
    InvalidDPoPProof,
    UseDPoPNonce,
    token_jkt,
)

ROOT = Path(__file__).resolve().parents[1]
PROVIDER, CLIENT = ROOT / "e2e" / "oidc-provider", ROOT / "e2e" / "dpop-client"
CLIENT_ID, CLIENT_SECRET = "agent", "a-client-secret-of-enough-length-1234"
RESOURCE = "https://notes.example.test/mcp"
ALGS = ["ES256", "Ed25519"]  # oidc-provider 9's default DPoP algorithms, both WebCrypto keys

Scope = MutableMapping[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def unavailable(reason: str) -> None:
    if os.environ.get("JWKVERIFY_REQUIRE_INTEROP") == "1":
        pytest.fail(f"{reason} (JWKVERIFY_REQUIRE_INTEROP=1)")
    pytest.skip(reason)


class ProofCheckingApp:
    """The smallest resource server that checks DPoP: a test double of the phase-2 middleware.

    ``/notes`` checks proofs without nonces, ``/nonce/...`` with them. Every refusal is
    logged (path, the failing check) so the test sees why a request was refused.
    """

    def __init__(self, tokens: JWTVerifier, origin: str) -> None:
        self.tokens, self.origin = tokens, origin  # the public origin clients use, never Host
        self.plain = DPoPVerifier()
        self.with_nonces = DPoPVerifier(nonces=HMACNonceSource(os.urandom(32)))
        self.refusals: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["raw_path"].decode("ascii")
        dpop = self.with_nonces if path.startswith("/nonce/") else self.plain
        values = [(name, value.decode("latin-1")) for name, value in scope["headers"]]
        authorization = [value for name, value in values if name == b"authorization"]
        proofs = [value for name, value in values if name == b"dpop"]
        if len(authorization) != 1:
            return await self.answer(send, 401, dpop, None, path=path, why="no credentials")
        scheme, _, token = authorization[0].partition(" ")
        try:
            claims = await self.tokens.verify_async(token)
            jkt = token_jkt(claims)
        except JOSEError as exc:
            return await self.answer(send, 401, dpop, "invalid_token", path=path, why=exc.code)
        if scheme.lower() != "dpop":
            # RFC 9449 §7.2: a DPoP-bound token presented as Bearer is refused (no downgrade).
            return await self.answer(send, 401, dpop, "invalid_token", path=path, why="bearer downgrade")
        try:
            proof = await dpop.verify_async(proofs, method=scope["method"], url=self.origin + path,
                                            access_token=token, jkt=jkt)
        except UseDPoPNonce as exc:
            return await self.answer(send, 401, dpop, "use_dpop_nonce", path=path, why="nonce",
                                     nonce=exc.nonce)
        except InvalidDPoPProof as exc:
            error = "invalid_token" if exc.check == "jkt" else "invalid_dpop_proof"
            return await self.answer(send, 401, dpop, error, path=path, why=exc.check)
        body = json.dumps({"client_id": claims["client_id"], "jkt": proof.thumbprint}).encode()
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
        if proof.next_nonce is not None:
            headers.append((b"dpop-nonce", proof.next_nonce.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return None

    async def answer(self, send: Send, status: int, dpop: DPoPVerifier, error: str | None, *, path: str,
                     why: str, nonce: str | None = None) -> None:
        self.refusals.append((path, why))
        params = [f'error="{error}"'] if error else []
        challenge = "DPoP " + ", ".join([*params, f'algs="{" ".join(dpop.algorithms)}"'])
        headers = [(b"www-authenticate", challenge.encode())]
        nonce = nonce or dpop.current_nonce()
        if nonce is not None:
            headers.append((b"dpop-nonce", nonce.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    node = shutil.which("node")
    if node is None:
        unavailable("needs Node.js 20 or newer")
    for package, module in ((PROVIDER, "oidc-provider"), (CLIENT, "oauth4webapi")):
        if not (package / "node_modules" / module).is_dir():
            unavailable(f"needs `npm ci --prefix {package.relative_to(ROOT)}`")
    process = subprocess.Popen([str(node), "server.mjs", "0"], cwd=PROVIDER, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if not first:
            pytest.fail("oidc-provider did not start")
        yield str(json.loads(first)["issuer"])
    finally:
        process.terminate()
        process.wait(10)


def test_oauth4webapi_against_an_app_checking_dpop_proofs(issuer: str) -> None:
    keys = RemoteJWKSet.from_issuer(issuer, allow_http=True)
    tokens = JWTVerifier(keys, issuer=issuer, audience=RESOURCE, typ="at+jwt")
    sock = listener()
    app = ProofCheckingApp(tokens, base_url(sock))
    with serve(app, sock) as api:
        config = {"issuer": issuer, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
                  "resource": RESOURCE, "api": api, "algs": ALGS}
        result = subprocess.run([str(shutil.which("node")), "client.mjs", json.dumps(config)], cwd=CLIENT,
                                capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    outcomes = json.loads(result.stdout)
    for alg in ALGS:
        steps = outcomes[alg]
        assert steps["tokenType"] == "dpop"
        assert steps["accepted"]["status"] == 200, (alg, steps["accepted"])
        assert steps["accepted"]["body"] == {"client_id": CLIENT_ID, "jkt": steps["jkt"]}
        assert steps["replayed"]["status"] == 401
        assert 'error="invalid_dpop_proof"' in steps["replayed"]["challenge"]
        assert steps["bearer"]["status"] == 401 and 'error="invalid_token"' in steps["bearer"]["challenge"]
        assert steps["otherKey"]["status"] == 401
        assert steps["otherKey"]["challenges"][0]["error"] == "invalid_token"
        first, retry = steps["nonceFirst"], steps["nonceRetry"]
        assert first["status"] == 401 and first["nonceError"] is True and first["nonce"], first
        assert retry is not None and retry["status"] == 200, (alg, retry)
    # Why each was refused, as the app saw it: per algorithm the replay, the downgrade,
    # the other key and the missing nonce, and nothing else.
    assert app.refusals == [refusal for _ in ALGS for refusal in (
        ("/notes", "replay"), ("/notes", "bearer downgrade"), ("/notes", "jkt"), ("/nonce/notes", "nonce"))]
