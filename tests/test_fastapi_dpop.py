"""DPoP (RFC 9449) at the FastAPI dependency: ``BearerAuth(..., dpop=DPoPVerifier(...))``.

The same answers as the ASGI and WSGI middlewares (tests/test_dpop_faces.py), through the
real FastAPI and its TestClient. Skipped without the ``fastapi-test`` extra (a failure in CI).
No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations.
"""

import json
import os
import time
from typing import Annotated, Any

from dpop_proofs import client
from frameworks import require

require("fastapi", "httpx", extra="fastapi-test")

from dpop_faces import KEYS as TOKEN_KEYS  # noqa: E402
from dpop_faces import ORIGIN, RESOURCE, access_token, proof  # noqa: E402
from fastapi import FastAPI, Security  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from jwkverify import JWTVerifier, VerifiedToken  # noqa: E402
from jwkverify._web.bearer import parse_challenges  # noqa: E402
from jwkverify.dpop import DPoPVerifier, HMACNonceSource  # noqa: E402
from jwkverify.fastapi import BearerAuth  # noqa: E402
from jwkverify.observe import Counters  # noqa: E402

ALGS = ["ES256", "EdDSA"]
ES = client("ES256")
THIEF = client("ES256")
URL = ORIGIN + "/mcp/notes"


def served(**options: Any) -> tuple[TestClient, Counters]:
    counters = Counters()
    verifier = JWTVerifier(TOKEN_KEYS, audience=RESOURCE, cache_size=16)
    auth = BearerAuth(verifier, resource=RESOURCE, authorization_servers=["https://issuer.example.test"],
                      observer=counters, **options)
    app = FastAPI()
    app.include_router(auth.router)

    @app.get("/mcp/notes")
    async def notes(token: Annotated[VerifiedToken, Security(auth, scopes=["notes:read"])]) -> dict[str, Any]:
        return {"sub": token.subject, "jkt": token.dpop_jkt}

    return TestClient(app, base_url=ORIGIN), counters


def dpop(**options: Any) -> DPoPVerifier:
    return DPoPVerifier(algorithms=ALGS, **options)


def challenges(response: Any) -> list[tuple[str, dict[str, str]]]:
    return parse_challenges(response.headers["www-authenticate"])


def test_a_dpop_request_with_its_proof_is_let_in_and_the_endpoint_sees_the_key() -> None:
    http, counters = served(dpop=dpop())
    token = access_token(ES.jkt)
    answer = http.get("/mcp/notes", headers={"Authorization": f"DPoP {token}", "DPoP": proof(ES, token)})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"sub": "alice", "jkt": ES.jkt}
    assert dict(counters.snapshot().verdicts) == {("accepted", None): 1}


def test_a_replayed_proof_another_key_and_a_bearer_downgrade_are_refused() -> None:
    http, _ = served(dpop=dpop())
    token = access_token(ES.jkt)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof(ES, token)}
    assert http.get("/mcp/notes", headers=headers).status_code == 200
    replayed = http.get("/mcp/notes", headers=headers)  # the same proof, byte for byte
    assert replayed.status_code == 401
    scheme, params = challenges(replayed)[0]
    assert scheme == "DPoP" and params["error"] == "invalid_dpop_proof" and params["algs"] == "ES256 EdDSA"
    stolen = http.get("/mcp/notes", headers={"Authorization": f"DPoP {token}", "DPoP": proof(THIEF, token)})
    assert stolen.status_code == 401 and challenges(stolen)[0][1]["error"] == "invalid_token"  # §7.1
    downgraded = http.get("/mcp/notes", headers={"Authorization": f"Bearer {token}"})  # §7.2
    assert downgraded.status_code == 401
    assert any(params.get("error") == "invalid_token" for _, params in challenges(downgraded))


def test_no_credentials_name_both_schemes_and_require_dpop_refuses_bearer() -> None:
    http, _ = served(dpop=dpop())
    bare = http.get("/mcp/notes")
    assert bare.status_code == 401 and [scheme for scheme, _ in challenges(bare)] == ["Bearer", "DPoP"]
    assert all("error" not in params for _, params in challenges(bare))
    strict, _ = served(dpop=dpop(), require_dpop=True)
    unbound = access_token()
    assert http.get("/mcp/notes", headers={"Authorization": f"Bearer {unbound}"}).status_code == 200
    refused = strict.get("/mcp/notes", headers={"Authorization": f"Bearer {unbound}"})
    assert refused.status_code == 401 and [scheme for scheme, _ in challenges(refused)] == ["DPoP"]
    document = strict.get("/.well-known/oauth-protected-resource/mcp").json()
    assert document["dpop_signing_alg_values_supported"] == ALGS
    assert document["dpop_bound_access_tokens_required"] is True


def test_a_bound_token_is_no_bearer_token_even_with_dpop_off() -> None:
    http, _ = served()
    answer = http.get("/mcp/notes", headers={"Authorization": f"Bearer {access_token(ES.jkt)}"})
    assert answer.status_code == 401 and challenges(answer)[0][1]["error"] == "invalid_token"


def test_nonces_the_first_try_then_the_retry() -> None:
    source = HMACNonceSource(os.urandom(32), period=3600)
    http, _ = served(dpop=dpop(nonces=source))
    token = access_token(ES.jkt)
    current = source.current(time.time())
    first = http.get("/mcp/notes", headers={"Authorization": f"DPoP {token}", "DPoP": proof(ES, token)})
    assert first.status_code == 401 and first.headers["dpop-nonce"] == current
    assert challenges(first)[0][1]["error"] == "use_dpop_nonce"
    retry = http.get("/mcp/notes", headers={"Authorization": f"DPoP {token}",
                                            "DPoP": proof(ES, token, nonce=current)})
    assert retry.status_code == 200 and "dpop-nonce" not in retry.headers
    previous = source.current(time.time() - 3600)
    rotated = http.get("/mcp/notes", headers={"Authorization": f"DPoP {token}",
                                              "DPoP": proof(ES, token, nonce=previous)})
    # RFC 9449 §8.2: the next nonce on the success, never served from a cache.
    assert rotated.status_code == 200 and rotated.headers["dpop-nonce"] == current
    assert rotated.headers["cache-control"] == "no-store"


def test_hostile_dpop_headers_are_4xx_never_a_500() -> None:
    http, _ = served(dpop=dpop())
    token = access_token(ES.jkt)
    good = proof(ES, token)
    for proofs in (["x" * 20_000], ["not.a.proof"], [good, good], []):
        headers = [("authorization", f"DPoP {token}"), *(("dpop", value) for value in proofs)]
        answer = http.get("/mcp/notes", headers=headers)
        assert answer.status_code in (400, 401), (proofs[:1], answer.status_code)
        assert json.loads(answer.text)  # FastAPI's JSON error body, no traceback
