"""DPoP (RFC 9449) through every face that sees the request: the ASGI and WSGI middlewares and
``protect_mcp_app``, in process with real proofs (:mod:`dpop_faces`), then over uvicorn and
wsgiref. Each answer of RFC 9449 §7 per check, the no-downgrade rule (§7.2) with DPoP on and
off, ``require_dpop``, nonces (§8-9), the RFC 9728 fields, replay across replicas in Redis and
its outage, and the never-a-500 rules. The token-only ``MCPTokenVerifier`` refuses bound tokens.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from dpop_faces import ALGS, FACES, ISSUER, KEYS, METADATA_URL, ORIGIN, RESOURCE, Face, access_token, proof
from dpop_proofs import ABSENT, Client, client

from jwkverify import JWTVerifier
from jwkverify.dpop import DPoPVerifier, HMACNonceSource

ES = client("ES256")
ED = client("EdDSA")
THIEF = client("ES256")
BEARER_BARE = ("Bearer", {"resource_metadata": METADATA_URL})
DPOP_BARE = ("DPoP", {"algs": " ".join(ALGS), "resource_metadata": METADATA_URL})


def dpop(**options: Any) -> DPoPVerifier:
    return DPoPVerifier(algorithms=ALGS, **options)


@pytest.fixture(params=FACES)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def face(kind: str, **options: Any) -> Face:
    options.setdefault("dpop", dpop())
    if options["dpop"] is None:
        del options["dpop"]
    return Face(kind, options)


# -- accepted ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [ES, ED], ids=["ES256", "EdDSA"])
def test_a_bound_token_with_its_proof_is_accepted(kind: str, who: Client) -> None:
    protected = face(kind)
    token = access_token(who.jkt)
    reply = protected.request(f"DPoP {token}", [proof(who, token)])
    assert reply.status == 200 and reply.body == b"ok"
    assert reply.seen is not None and reply.seen.dpop_jkt == who.jkt and reply.seen.subject == "alice"
    assert reply.header("cache-control") == "max-age=60" and reply.header("dpop-nonce") is None
    if kind == "mcp":  # the SDK's AccessToken for tools, as with SDK auth
        assert reply.access.subject == "alice" and reply.access.claims["cnf"]["jkt"] == who.jkt
    assert protected.verdicts == {("accepted", None): 1}


def test_the_scheme_is_case_insensitive_and_posts_carry_their_method(kind: str) -> None:
    protected = face(kind)
    token = access_token(ES.jkt)
    assert protected.request(f"dpop {token}", [proof(ES, token)]).status == 200
    assert protected.request(f"DPoP {token}", [proof(ES, token, method="POST")], method="POST").status == 200


def test_the_token_may_be_cached_the_proof_never(kind: str) -> None:
    protected = face(kind)
    token = access_token(ES.jkt)
    first = protected.request(f"DPoP {token}", [proof(ES, token)])
    wrong = protected.request(f"DPoP {token}", [proof(ES, token, method="DELETE")])
    again = protected.request(f"DPoP {token}", [proof(ES, token)])
    assert first.status == 200 and wrong.status == 401 and wrong.error == "invalid_dpop_proof"
    assert again.status == 200 and again.seen is first.seen  # the token's view, built once


def test_an_unbound_token_with_a_proof_is_accepted_unless_dpop_is_required(kind: str) -> None:
    protected = face(kind)
    token = access_token()
    reply = protected.request(f"DPoP {token}", [proof(ES, token)])
    assert reply.status == 200 and reply.seen is not None and reply.seen.dpop_jkt == ES.jkt
    other = protected.request(f"DPoP {token}", [proof(THIEF, token)])  # bound to nothing: any key
    assert other.status == 200 and other.seen is not None and other.seen.dpop_jkt == THIEF.jkt
    plain = protected.request(f"Bearer {token}")
    assert plain.status == 200 and plain.seen is not None and plain.seen.dpop_jkt is None  # no copy leaked


# -- refused ----------------------------------------------------------------------------------------


def test_the_same_request_replayed_is_refused(kind: str) -> None:
    protected = face(kind)
    token = access_token(ES.jkt)
    sent = proof(ES, token)
    assert protected.request(f"DPoP {token}", [sent]).status == 200
    replayed = protected.request(f"DPoP {token}", [sent])
    assert replayed.status == 401 and replayed.error == "invalid_dpop_proof" and replayed.seen is None
    scheme, params = replayed.challenges[0]
    assert scheme == "DPoP" and params["error"] == "invalid_dpop_proof" and params["algs"] == "ES256 EdDSA"
    assert params["error_description"] == "the DPoP proof was used before"
    assert replayed.challenges[1] == BEARER_BARE  # RFC 9449 §7.2: the other scheme, bare
    assert replayed.header("cache-control") == "no-store"
    assert protected.verdicts == {("accepted", None): 1, ("invalid_dpop_proof", "replay"): 1}


@pytest.mark.parametrize("dpop_on", [True, False], ids=["dpop on", "dpop off"])
def test_a_bound_token_sent_as_bearer_is_refused(kind: str, dpop_on: bool) -> None:
    protected = face(kind, dpop=dpop() if dpop_on else None)
    token = access_token(ES.jkt)
    if dpop_on:  # its view is cached by a DPoP request first: the Bearer one is still refused
        assert protected.request(f"DPoP {token}", [proof(ES, token)]).status == 200
    reply = protected.request(f"Bearer {token}", [proof(ES, token)])
    assert reply.status == 401 and reply.error == "invalid_token" and reply.seen is None
    scheme, params = reply.challenges[0]
    assert scheme == "Bearer" and params["error"] == "invalid_token"
    assert "bound to a DPoP key" in params["error_description"]
    assert reply.challenges[1:] == ([DPOP_BARE] if dpop_on else [])
    assert protected.verdicts[("invalid_token", "dpop_bound_token")] == 1


def test_a_proof_from_another_key_is_invalid_token(kind: str) -> None:
    protected = face(kind)
    token = access_token(ES.jkt)
    reply = protected.request(f"DPoP {token}", [proof(THIEF, token)])
    # RFC 9449 §7.1, Figure 16: the key binding failed, answered invalid_token in a DPoP challenge.
    assert reply.status == 401 and reply.error == "invalid_token" and reply.seen is None
    assert reply.challenges[0][0] == "DPoP" and reply.challenges[0][1]["error"] == "invalid_token"
    assert protected.verdicts == {("invalid_dpop_proof", "jkt"): 1}


def _header_with(**changes: Any) -> dict[str, Any]:
    header = ES.header()
    header.update(changes)
    return header


#: (case, DPoP header values for a token, the check that fails); every one is a 401, never a 500.
BAD_PROOFS: list[tuple[str, Any, str]] = [
    ("no DPoP header", lambda token: [], "count"),
    ("two DPoP headers", lambda token: [proof(ES, token), proof(ES, token)], "count"),
    ("not a JWT", lambda token: ["not-a-jwt"], "format"),
    ("garbage with dots", lambda token: ["a.b.c"], "format"),
    ("a 20 KB proof", lambda token: [proof(ES, token, pad="x" * 20_000)], "format"),
    ("a private key in the header", lambda token: [ES.proof(
        header=_header_with(jwk={**ES.jwk, "d": "AAAA"}), htu=ORIGIN + "/mcp/notes",
        iat=int(time.time()), ath=_ath(token))], "jwk"),
    ("a symmetric key in the header", lambda token: [ES.proof(
        header=_header_with(jwk={"kty": "oct", "k": "AAAA"}), htu=ORIGIN + "/mcp/notes",
        iat=int(time.time()), ath=_ath(token))], "jwk"),
    ("alg none", lambda token: [proof(ES, token).rpartition(".")[0].replace(
        proof(ES, token).partition(".")[0], _segment(_header_with(alg="none")), 1) + "."], "alg"),
    ("alg not accepted here", lambda token: [client("ES384").proof(
        htu=ORIGIN + "/mcp/notes", iat=int(time.time()), ath=_ath(token))], "alg"),
    ("typ JWT", lambda token: [ES.proof(header=_header_with(typ="JWT"), htu=ORIGIN + "/mcp/notes",
                                        iat=int(time.time()), ath=_ath(token))], "typ"),
    ("signed by another key", lambda token: [ES.proof(signer=THIEF.signer, htu=ORIGIN + "/mcp/notes",
                                                      iat=int(time.time()), ath=_ath(token))], "signature"),
    ("no jti", lambda token: [proof(ES, token, jti=ABSENT)], "claims"),
    ("another method", lambda token: [proof(ES, token, method="POST")], "htm"),
    ("another path", lambda token: [proof(ES, token, url=ORIGIN + "/mcp/other")], "htu"),
    ("the Host header's origin", lambda token: [proof(ES, token, url="https://evil.example/mcp/notes")],
     "htu"),
    ("too old", lambda token: [proof(ES, token, iat=int(time.time()) - 400)], "iat"),
    ("from the future", lambda token: [proof(ES, token, iat=int(time.time()) + 60)], "iat"),
    ("no ath", lambda token: [proof(ES, token, ath=ABSENT)], "ath"),
    ("another token's ath", lambda token: [proof(ES, token, ath=_ath("another token"))], "ath"),
]


def _ath(token: str) -> str:
    from dpop_proofs import ath

    return ath(token)


def _segment(value: dict[str, Any]) -> str:
    from signing import segment

    return segment(value)


@pytest.mark.parametrize(("case", "make", "check"), BAD_PROOFS, ids=[case for case, _, _ in BAD_PROOFS])
def test_each_bad_proof_is_401_invalid_dpop_proof(kind: str, case: str, make: Any, check: str) -> None:
    protected = face(kind)
    token = access_token(ES.jkt)
    reply = protected.request(f"DPoP {token}", make(token), host="evil.example")
    assert reply.status == 401 and reply.error == "invalid_dpop_proof" and reply.seen is None, case
    scheme, params = reply.challenges[0]
    assert scheme == "DPoP" and params["error"] == "invalid_dpop_proof" and params["algs"] == "ES256 EdDSA"
    assert token not in reply.header("www-authenticate")  # type: ignore[operator]
    assert protected.verdicts == {("invalid_dpop_proof", check): 1}, case


def test_refused_tokens_with_the_dpop_scheme_are_invalid_token(kind: str) -> None:
    protected = face(kind)
    expired = access_token(ES.jkt, exp=int(time.time()) - 3600)
    reply = protected.request(f"DPoP {expired}", [proof(ES, expired)])
    assert reply.status == 401 and reply.error == "invalid_token"
    assert reply.challenges[0] == ("DPoP", {
        "error": "invalid_token", "error_description": "the token has expired", "algs": "ES256 EdDSA",
        "resource_metadata": METADATA_URL})
    malformed_cnf = access_token(cnf="not an object")
    for scheme in ("Bearer", "DPoP"):
        refused = protected.request(f"{scheme} {malformed_cnf}", [proof(ES, malformed_cnf)])
        assert refused.status == 401 and refused.error == "invalid_token"
    malformed = [("DPoP", "the DPoP credentials are empty"),
                 ("DPoP a b", "the DPoP credentials are not a single token")]
    if kind != "wsgi":  # a WSGI server's comma may join two headers: "more than one" there
        malformed.append(("DPoP a,b", "the DPoP credentials are not a single token"))
    for value, description in malformed:
        bad = protected.request(value, [proof(ES, expired)])
        assert bad.status == 400 and bad.error == "invalid_request"
        assert bad.challenges[0] == ("DPoP", {"error": "invalid_request", "error_description": description,
                                              "algs": "ES256 EdDSA", "resource_metadata": METADATA_URL})
    two = protected.request([f"DPoP {expired}", f"Bearer {expired}"])
    # RFC 9449 §7.2, Figure 19: which scheme was meant is unclear, so both carry the error.
    assert two.status == 400 and [params["error"] for _, params in two.challenges] == ["invalid_request"] * 2


def test_no_credentials_names_both_schemes_without_an_error(kind: str) -> None:
    protected = face(kind, required_scopes=["notes:read"])
    reply = protected.request()
    assert reply.status == 401 and reply.error == "unauthorized"
    # RFC 9449 §7.2, Figure 17: Bearer first (MCP clients read resource_metadata from it), then DPoP.
    assert reply.challenges == [("Bearer", {"scope": "notes:read", "resource_metadata": METADATA_URL}),
                                ("DPoP", {"scope": "notes:read", "algs": "ES256 EdDSA",
                                          "resource_metadata": METADATA_URL})]
    assert reply.header("dpop-nonce") is None


def test_a_missing_scope_on_a_dpop_request_is_a_dpop_403(kind: str) -> None:
    protected = face(kind, required_scopes=["notes:write"])
    token = access_token(ES.jkt)
    reply = protected.request(f"DPoP {token}", [proof(ES, token)])
    assert reply.status == 403 and reply.error == "insufficient_scope"
    assert reply.challenges == [("DPoP", {"error": "insufficient_scope",
                                          "error_description": "the token lacks a scope this request needs",
                                          "scope": "notes:write", "algs": "ES256 EdDSA",
                                          "resource_metadata": METADATA_URL})]


# -- require_dpop ---------------------------------------------------------------------------------


def test_require_dpop_refuses_bearer_and_unbound_tokens(kind: str) -> None:
    protected = face(kind, require_dpop=True)
    unbound, bound = access_token(), access_token(ES.jkt)
    bearer = protected.request(f"Bearer {unbound}")
    # RFC 6750 §3.1: an unsupported method is answered like no credentials: no error code.
    assert bearer.status == 401 and bearer.challenges == [DPOP_BARE] and bearer.seen is None
    assert "accepts only DPoP-bound tokens" in json.loads(bearer.body)["error_description"]
    unbound_dpop = protected.request(f"DPoP {unbound}", [proof(ES, unbound)])
    assert unbound_dpop.status == 401 and unbound_dpop.error == "invalid_token"
    assert "not bound to a DPoP key" in unbound_dpop.challenges[0][1]["error_description"]
    assert unbound_dpop.challenges[1:] == []  # Bearer is not accepted: not named
    assert protected.request(f"DPoP {bound}", [proof(ES, bound)]).status == 200
    assert protected.verdicts == {("no_credentials", "dpop_required"): 1,
                                  ("invalid_token", "unbound_token"): 1, ("accepted", None): 1}


def test_the_metadata_document_names_dpop(kind: str) -> None:
    assert "dpop_signing_alg_values_supported" not in face(kind, dpop=None).middleware.metadata
    document = face(kind).middleware.metadata
    assert document["dpop_signing_alg_values_supported"] == ALGS  # RFC 9728 §2
    assert document["dpop_bound_access_tokens_required"] is False
    assert face(kind, require_dpop=True).middleware.metadata["dpop_bound_access_tokens_required"] is True


# -- nonces ---------------------------------------------------------------------------------------


def test_nonces_the_first_try_then_the_retry_then_the_rotation(kind: str) -> None:
    source = HMACNonceSource(os.urandom(32), period=3600)
    protected = face(kind, dpop=dpop(nonces=source))
    token = access_token(ES.jkt)
    current = source.current(time.time())
    assert protected.request().header("dpop-nonce") == current  # a client may use it at once
    first = protected.request(f"DPoP {token}", [proof(ES, token)])
    assert first.status == 401 and first.error == "use_dpop_nonce" and first.header("dpop-nonce") == current
    assert first.challenges[0][0] == "DPoP" and first.challenges[0][1]["error"] == "use_dpop_nonce"
    retry = protected.request(f"DPoP {token}", [proof(ES, token, nonce=current)])
    assert retry.status == 200 and retry.header("dpop-nonce") is None
    assert retry.header("cache-control") == "max-age=60"  # the app's own, nothing rotated
    previous = source.current(time.time() - 3600)
    rotated = protected.request(f"DPoP {token}", [proof(ES, token, nonce=previous)])
    # RFC 9449 §8.2: the next nonce on the 200, and such a response is never cached.
    assert rotated.status == 200 and rotated.header("dpop-nonce") == current
    assert rotated.header("cache-control") == "no-store"
    refused = protected.request(f"DPoP {token}", [proof(ES, token, nonce=current, method="PUT")])
    assert refused.error == "invalid_dpop_proof" and refused.header("dpop-nonce") == current
    assert protected.verdicts == {("no_credentials", None): 1, ("use_dpop_nonce", None): 1,
                                  ("accepted", None): 2, ("invalid_dpop_proof", "htm"): 1}


# -- paths ----------------------------------------------------------------------------------------


def _paths_accepted(protected: Face, request_uri: bool = True) -> None:
    token = access_token(ES.jkt)
    raw = "/mcp/a%20b/caf%C3%A9"
    for htu in (ORIGIN + raw, ORIGIN + raw.lower(), "HTTPS://API.example.test:443" + raw):
        reply = protected.request(f"DPoP {token}", [proof(ES, token, url=htu)], raw=raw,
                                  request_uri=request_uri)
        assert reply.status == 200, htu  # RFC 3986 §6.2.2-6.2.3 normalisation on both sides
    decoded = protected.request(f"DPoP {token}", [proof(ES, token, url=ORIGIN + "/mcp/a b/café")], raw=raw,
                                request_uri=request_uri)
    assert decoded.status == 401 and decoded.error == "invalid_dpop_proof"


def test_the_htu_is_the_raw_percent_encoded_path(kind: str) -> None:
    _paths_accepted(face(kind))  # ASGI raw_path, WSGI REQUEST_URI


def test_without_request_uri_wsgi_rebuilds_the_path_from_path_info() -> None:
    _paths_accepted(face("wsgi"), request_uri=False)  # wsgiref, waitress: PEP 3333 bytes as Latin-1


def test_a_websocket_handshake_with_dpop() -> None:
    import asyncio

    protected = face("asgi")
    token = access_token(ES.jkt)
    sent: list[dict[str, Any]] = []
    messages = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"authorization", f"DPoP {token}".encode()),
               (b"dpop", proof(ES, token, url=ORIGIN + "/ws").encode())]
    scope = {"type": "websocket", "path": "/ws", "raw_path": b"/ws", "headers": headers, "subprotocols": []}
    asyncio.run(protected.middleware(scope, receive, send))
    assert sent == [{"type": "websocket.accept"}] and protected.seen[0][0].dpop_jkt == ES.jkt


# -- never a 500 ----------------------------------------------------------------------------------


class CrashingReplay:
    """A replay store with a bug: the face must still refuse, never answer 500."""

    def remember(self, key: str, *, now: float, expires_at: float) -> bool:
        raise RuntimeError("a bug in a replay store")

    async def remember_async(self, key: str, *, now: float, expires_at: float) -> bool:
        raise RuntimeError("a bug in a replay store")


def test_a_crashing_replay_store_is_a_401_not_a_500(kind: str) -> None:
    protected = face(kind, dpop=dpop(replay=CrashingReplay()))
    token = access_token(ES.jkt)
    reply = protected.request(f"DPoP {token}", [proof(ES, token)])
    assert reply.status == 401 and reply.error == "invalid_dpop_proof" and reply.seen is None
    assert protected.verdicts == {("invalid_dpop_proof", "verifier_error"): 1}


def test_odd_dpop_headers_never_get_a_500(kind: str) -> None:
    protected = face(kind)
    token = access_token(ES.jkt)
    for values in (["\x7f"], ["é" * 10], [""], [" "], [",,,"], ["a" * 70_000], ["x.y.z", "x.y.z", "x.y.z"]):
        reply = protected.request(f"DPoP {token}", values)
        assert reply.status == 401 and reply.error == "invalid_dpop_proof", values


def test_a_redis_outage_is_503_with_retry_after(kind: str) -> None:
    from redis_server import RedisServer, redis_module

    redis = redis_module()
    from jwkverify.dpop import RedisReplayCache

    server = RedisServer()
    try:
        def replica() -> Face:
            client_ = redis.Redis.from_url(server.url, socket_timeout=0.5, socket_connect_timeout=0.5)
            return face(kind, dpop=dpop(replay=RedisReplayCache(client_)))

        first, second = replica(), replica()
        token = access_token(ES.jkt)
        sent = proof(ES, token)
        assert first.request(f"DPoP {token}", [sent]).status == 200
        replayed = second.request(f"DPoP {token}", [sent])  # another replica, the same record
        assert replayed.status == 401 and replayed.error == "invalid_dpop_proof"
        server.kill()
        down = first.request(f"DPoP {token}", [proof(ES, token)])
        assert down.status == 503 and down.error == "temporarily_unavailable" and down.seen is None
        assert down.header("retry-after") == "5" and down.header("www-authenticate") is None
        assert first.verdicts[("unavailable", "replay_store_unavailable")] == 1
    finally:
        server.kill()


# -- construction, and the faces that see only the token -------------------------------------------


def test_dpop_options_are_checked_at_construction(kind: str) -> None:
    with pytest.raises(TypeError, match="DPoPVerifier"):
        face(kind, dpop="yes")
    with pytest.raises(ValueError, match="require_dpop=True needs dpop"):
        face(kind, dpop=None, require_dpop=True)
    with pytest.raises(TypeError, match="require_dpop must be True or False"):
        face(kind, require_dpop="yes")


def test_the_mcp_token_verifier_refuses_bound_tokens() -> None:
    pytest.importorskip("mcp.server.auth.provider")
    import asyncio

    from jwkverify.mcp import MCPTokenVerifier
    from jwkverify.observe import Counters

    counters = Counters()
    verifier = JWTVerifier(KEYS, issuer=ISSUER, audience=RESOURCE, cache_size=8)
    adapter = MCPTokenVerifier(verifier, observer=counters)
    bound, unbound = access_token(ES.jkt), access_token()
    # RFC 9449 §7.2: a token verifier sees no proof, so a bound token is refused (None: 401).
    assert asyncio.run(adapter.verify_token(bound)) is None
    assert asyncio.run(adapter.verify_token(bound)) is None  # and again: no view was kept for it
    assert asyncio.run(adapter.verify_token(access_token(cnf=["not", "an", "object"]))) is None
    access = asyncio.run(adapter.verify_token(unbound))
    assert access is not None and access.subject == "alice"
    assert dict(counters.snapshot().verdicts) == {
        ("invalid_token", "dpop_bound_token"): 2, ("invalid_token", "invalid_claim"): 1,
        ("accepted", None): 1}


# -- over real servers: uvicorn's raw_path, wsgiref's PATH_INFO --------------------------------------


def _served_twice(url: str, send: Any) -> None:
    """A bound token with its proof to ``url`` + a percent-encoded path: accepted once, then replayed."""
    resource = url + "/mcp"
    token = access_token(ES.jkt, aud=resource)
    sent = proof(ES, token, url=url + "/mcp/a%20b/caf%C3%A9")
    first = send("/mcp/a%20b/caf%C3%A9", [("Authorization", f"DPoP {token}"), ("DPoP", sent)])
    assert first.status == 200, first.body
    again = send("/mcp/a%20b/caf%C3%A9", [("Authorization", f"DPoP {token}"), ("DPoP", sent)])
    assert again.status == 401 and again.json()["error"] == "invalid_dpop_proof"
    bearer = send("/mcp/notes", [("Authorization", f"Bearer {token}")])
    assert bearer.status == 401
    assert bearer.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_over_uvicorn() -> None:
    pytest.importorskip("uvicorn")
    from asgi_server import base_url, listener, serve
    from raw_http import request

    from jwkverify.asgi import BearerAuthMiddleware

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["auth"].dpop_jkt.encode()})

    sock = listener()
    url = base_url(sock)
    verifier = JWTVerifier(KEYS, issuer=ISSUER, audience=url + "/mcp", cache_size=8)
    middleware = BearerAuthMiddleware(app, verifier, resource=url + "/mcp", authorization_servers=[ISSUER],
                                      dpop=dpop())
    with serve(middleware, sock):
        _served_twice(url, lambda path, headers: request(url + path, headers=headers))


def test_over_wsgiref_without_request_uri() -> None:
    from raw_http import request
    from wsgi_server import serve

    from jwkverify.wsgi import BearerAuthMiddleware, verified_token

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        assert "REQUEST_URI" not in environ and "RAW_URI" not in environ  # rebuilt from PATH_INFO
        start_response("200 OK", [])
        token = verified_token(environ)
        return [token.dpop_jkt.encode() if token and token.dpop_jkt else b""]

    holder: dict[str, Any] = {}

    def lazy(environ: dict[str, Any], start_response: Any) -> Any:  # the URL is known once served
        return holder["middleware"](environ, start_response)

    with serve(lazy) as url:
        verifier = JWTVerifier(KEYS, issuer=ISSUER, audience=url + "/mcp", cache_size=8)
        holder["middleware"] = BearerAuthMiddleware(app, verifier, resource=url + "/mcp",
                                                    authorization_servers=[ISSUER], dpop=dpop())
        _served_twice(url, lambda path, headers: request(url + path, headers=headers))
