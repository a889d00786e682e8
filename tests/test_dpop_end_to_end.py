"""End to end: DPoP between implementations no one here wrote, through the real middleware.

panva's ``oidc-provider`` (``e2e/oidc-provider/server.mjs``) issues DPoP-bound JWT access
tokens (``cnf.jkt``) to a client built on panva's ``oauth4webapi``
(``e2e/dpop-client/client.mjs``), which calls, with real proofs, a uvicorn-served app behind
:class:`jwkverify.asgi.BearerAuthMiddleware` with ``dpop=``: ``/notes`` without nonces,
``/nonce/...`` behind a second middleware whose verifier requires them (a three-line
dispatcher routes by path; both see the whole raw path). Proven: accepted; the same request
replayed byte for byte, refused; the token sent as Bearer, refused; a proof from another key,
refused; with nonces on, oauth4webapi's documented single retry after ``use_dpop_nonce``
succeeds. Each middleware's observer says why it refused what it refused.

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

from jwkverify import JWTVerifier, RemoteJWKSet
from jwkverify.asgi import BearerAuthMiddleware, verified_token
from jwkverify.dpop import DPoPVerifier, HMACNonceSource
from jwkverify.observe import Counters

ROOT = Path(__file__).resolve().parents[1]
PROVIDER, CLIENT = ROOT / "e2e" / "oidc-provider", ROOT / "e2e" / "dpop-client"
CLIENT_ID, CLIENT_SECRET = "agent", "a-client-secret-of-enough-length-1234"
ALGS = ["ES256", "Ed25519"]  # oidc-provider 9's default DPoP algorithms, both WebCrypto keys

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def unavailable(reason: str) -> None:
    if os.environ.get("JWKVERIFY_REQUIRE_INTEROP") == "1":
        pytest.fail(f"{reason} (JWKVERIFY_REQUIRE_INTEROP=1)")
    pytest.skip(reason)


async def notes(scope: Scope, receive: Receive, send: Send) -> None:
    """The protected app: says who called, with which key."""
    token = verified_token(scope)
    assert token is not None
    body = json.dumps({"client_id": token.client_id, "jkt": token.dpop_jkt}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


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


def test_oauth4webapi_against_the_middleware_with_dpop(issuer: str) -> None:
    sock = listener()
    resource = base_url(sock) + "/mcp"  # the URL clients use: a proof's htu starts with its origin
    tokens = JWTVerifier(RemoteJWKSet.from_issuer(issuer, allow_http=True), issuer=issuer, audience=resource,
                         typ="at+jwt", cache_size=64)
    plain, nonced = Counters(), Counters()
    options: dict[str, Any] = {"resource": resource, "authorization_servers": [issuer]}
    without_nonces = BearerAuthMiddleware(notes, tokens, dpop=DPoPVerifier(), observer=plain, **options)
    with_nonces = BearerAuthMiddleware(notes, tokens, observer=nonced, **options,
                                       dpop=DPoPVerifier(nonces=HMACNonceSource(os.urandom(32))))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonce = scope.get("path", "").startswith("/nonce/")
        await (with_nonces if nonce else without_nonces)(scope, receive, send)

    with serve(app, sock) as api:
        config = {"issuer": issuer, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
                  "resource": resource, "api": api, "algs": ALGS}
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
        assert steps["replayed"]["challenge"].startswith('DPoP error="invalid_dpop_proof"')
        assert steps["bearer"]["status"] == 401
        assert steps["bearer"]["challenge"].startswith('Bearer error="invalid_token"')
        assert steps["otherKey"]["status"] == 401
        assert steps["otherKey"]["challenges"][0]["scheme"].lower() == "dpop"
        assert steps["otherKey"]["challenges"][0]["error"] == "invalid_token"
        first, retry = steps["nonceFirst"], steps["nonceRetry"]
        assert first["status"] == 401 and first["nonceError"] is True and first["nonce"], first
        assert retry is not None and retry["status"] == 200, (alg, retry)
        assert retry["body"] == {"client_id": CLIENT_ID, "jkt": steps["jkt"]}
    # Why each was refused, as the middlewares saw it: per algorithm the replay, the downgrade,
    # the other key and the missing nonce, and nothing else.
    runs = len(ALGS)
    assert dict(plain.snapshot().verdicts) == {
        ("accepted", None): runs, ("invalid_dpop_proof", "replay"): runs,
        ("invalid_token", "dpop_bound_token"): runs, ("invalid_dpop_proof", "jkt"): runs}
    assert dict(nonced.snapshot().verdicts) == {("use_dpop_nonce", None): runs, ("accepted", None): runs}
