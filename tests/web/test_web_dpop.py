"""jwkverify._web.dpop: the DPoP side of the core, sans I/O (what a framework face calls).

``BearerCore.admit``/``admit_async`` with the method, the raw path and the header values;
the request's raw path from ASGI scopes and WSGI environs; the refusal of DPoP-bound tokens
by faces that see only the token; ``VerifiedToken.dpop_jkt``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import pickle
import time
from typing import Any

import pytest
from dpop_proofs import ath, client
from signing import make_key

from jwkverify import ClaimError, JWKSet, JWTVerifier
from jwkverify._web.answers import Answer
from jwkverify._web.credentials import Credentials
from jwkverify._web.decision import BearerCore
from jwkverify._web.dpop import (
    Admission,
    DPoPBoundToken,
    asgi_request_path,
    refuse_bound,
    request_target_path,
    unbound_only,
    wsgi_request_path,
)
from jwkverify._web.options import BearerOptions
from jwkverify._web.token import VerifiedToken
from jwkverify.dpop import DPoPVerifier, HMACNonceSource
from jwkverify.observe import Counters

KEY = make_key("ES256", kid="k1")
KEYS = JWKSet.from_dict({"keys": [KEY.jwk]})
AUD = "https://api.test/mcp"
ES, OTHER = client("ES256"), client("ES256")


def core(**options: Any) -> BearerCore:
    verifier = JWTVerifier(KEYS, audience=AUD, cache_size=8)
    options.setdefault("dpop", DPoPVerifier(algorithms=["ES256"]))
    return BearerCore(BearerOptions.build(verifier, resource=AUD, **options))


def token(jkt: str | None = None, **changes: Any) -> str:
    claims: dict[str, Any] = {"aud": AUD, "sub": "alice", "exp": int(time.time()) + 60, "scope": "read"}
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}
    return str(KEY.token({**claims, **changes}))


def proof(access: str, url: str = "https://api.test/notes", method: str = "GET", **claims: Any) -> str:
    return ES.proof(htm=method, htu=url, iat=int(time.time()), ath=ath(access), **claims)


def test_admit_takes_what_a_framework_face_has() -> None:
    counters = Counters()
    decide = core(observer=counters, required_scopes=["read"])
    bound = token(ES.jkt)
    admitted = decide.admit([f"DPoP {bound}"], [proof(bound)], method="GET", path="/notes", scopes=("read",))
    assert type(admitted) is Admission and admitted.token.dpop_jkt == ES.jkt and admitted.nonce is None
    assert admitted.headers == ()
    plain = token()
    bearer = decide.admit([f"Bearer {plain}"], method="GET", path="/notes", scopes=("read",))
    assert type(bearer) is Admission and bearer.token.dpop_jkt is None
    refused = decide.admit([f"Bearer {bound}"], method="GET", path="/notes")
    assert type(refused) is Answer and refused.status == 401 and refused.error == "invalid_token"
    scope = decide.admit([f"DPoP {bound}"], [proof(bound)], method="GET", path="/notes", scopes=("write",))
    assert type(scope) is Answer and scope.status == 403 and (scope.challenge or "").startswith("DPoP ")
    none = decide.admit([], method="GET", path="/notes")
    assert type(none) is Answer and none.status == 401 and none.error is None
    assert dict(counters.snapshot().verdicts) == {
        ("accepted", None): 2, ("invalid_token", "dpop_bound_token"): 1, ("insufficient_scope", None): 1,
        ("no_credentials", None): 1}


def test_admit_async_and_the_nonce_to_send() -> None:
    source = HMACNonceSource(os.urandom(32), period=3600)
    decide = core(dpop=DPoPVerifier(nonces=source))
    bound = token(ES.jkt)
    previous = source.current(time.time() - 3600)
    admitted = asyncio.run(decide.admit_async([f"DPoP {bound}"], [proof(bound, nonce=previous)], method="GET",
                                              path="/notes"))
    assert type(admitted) is Admission and admitted.nonce == source.current(time.time())
    # RFC 9449 §8.2: the response that carries the next nonce must not be cached.
    assert admitted.headers == (("cache-control", "no-store"), ("dpop-nonce", admitted.nonce))
    first = asyncio.run(decide.admit_async([f"DPoP {bound}"], [proof(bound)], method="GET", path="/notes"))
    assert type(first) is Answer and first.error == "use_dpop_nonce"
    assert first.auth_headers["dpop-nonce"] == source.current(time.time())
    assert first.auth_headers["www-authenticate"].startswith('DPoP error="use_dpop_nonce"')
    assert "content-length" not in first.auth_headers
    bearer = asyncio.run(decide.admit_async([f"Bearer {token()}"], method="GET", path="/notes"))
    assert type(bearer) is Admission and bearer.nonce is None


def test_verify_never_lets_dpop_credentials_in_without_their_proof(caplog: pytest.LogCaptureFixture) -> None:
    decide = core()
    bound = token(ES.jkt)
    for answer in (decide.verify(Credentials("dpop", bound)),
                   asyncio.run(decide.verify_async(Credentials("dpop", bound)))):
        assert type(answer) is Answer and answer.status == 401 and answer.error == "invalid_dpop_proof"
    assert "without their proof" in caplog.text


def test_dpop_options_need_a_resource_and_give_its_origin() -> None:
    verifier = JWTVerifier(KEYS, audience=AUD)
    with pytest.raises(ValueError, match="dpop= needs resource="):
        BearerOptions.build(verifier, dpop=DPoPVerifier())
    options = BearerOptions.build(verifier, resource="https://API.test:8443/mcp/", dpop=DPoPVerifier())
    assert options.origin == "https://API.test:8443"  # normalised when compared (RFC 3986 §6.2.2)
    assert BearerOptions.build(verifier, resource=AUD).origin is None


@pytest.mark.parametrize(("target", "path"), [
    ("/a/b", "/a/b"), ("/a%2Fb?x=1", "/a%2Fb"), ("/a#f", "/a"), ("https://h.example/a/b?q", "/a/b"),
    ("HTTP://h.example", "/"), ("*", None), ("h.example:443", None), ("ftp://h/x", None),
])
def test_the_path_of_a_request_target(target: str, path: str | None) -> None:
    assert request_target_path(target) == path  # RFC 9112 §3.2: origin-form and absolute-form


def test_the_raw_path_of_an_asgi_request() -> None:
    assert asgi_request_path({"raw_path": b"/a%20b/%C3%A9", "path": "/a b/é"}) == "/a%20b/%C3%A9"
    assert asgi_request_path({"raw_path": b"/a?x=1", "path": "/a"}) == "/a"
    # Without raw_path (optional in ASGI): the decoded path, encoded again as UTF-8.
    assert asgi_request_path({"path": "/a b/é;x"}) == "/a%20b/%C3%A9;x"
    assert asgi_request_path({"raw_path": b"", "path": ""}) == "/"


def test_the_raw_path_of_a_wsgi_request() -> None:
    both = {"RAW_URI": "/mount/a%2Fb?q", "REQUEST_URI": "/other", "SCRIPT_NAME": "/mount",
            "PATH_INFO": "/a/b"}
    assert wsgi_request_path(both) == "/mount/a%2Fb"  # gunicorn's RAW_URI first
    assert wsgi_request_path({"REQUEST_URI": "/x%20y", "PATH_INFO": "/x y"}) == "/x%20y"
    # wsgiref, waitress: PEP 3333 bytes-as-Latin-1, encoded again (a UTF-8 "é" was two octets).
    assert wsgi_request_path({"SCRIPT_NAME": "/m", "PATH_INFO": "/caf\xc3\xa9 x"}) == "/m/caf%C3%A9%20x"
    assert wsgi_request_path({"PATH_INFO": "/\u20ac"}) == "/%E2%82%AC"  # not Latin-1: taken as text
    assert wsgi_request_path({}) == "/"


def test_faces_that_see_only_the_token_refuse_bound_ones() -> None:
    refuse_bound({"sub": "a"})
    refuse_bound({"cnf": {"x5t#S256": "abc"}})  # another confirmation method: not DPoP
    with pytest.raises(DPoPBoundToken) as caught:
        refuse_bound({"cnf": {"jkt": ES.jkt}})
    assert caught.value.code == "dpop_bound_token" and caught.value.claim == "cnf"
    with pytest.raises(ClaimError):
        refuse_bound({"cnf": "malformed"})
    build = unbound_only(lambda access, claims: (access, claims["sub"]))
    assert build("t", {"sub": "a"}) == ("t", "a")
    with pytest.raises(DPoPBoundToken):
        build("t", {"sub": "a", "cnf": {"jkt": ES.jkt}})


def test_the_verified_token_carries_the_proofs_key() -> None:
    by_hand = VerifiedToken({"sub": "a"}, frozenset({"read"}), frozenset(), "t", ES.jkt)
    assert by_hand.dpop_jkt == ES.jkt and "dpop_jkt=" in repr(by_hand)
    assert pickle.loads(pickle.dumps(by_hand)).dpop_jkt == ES.jkt
    assert copy.deepcopy(by_hand) is by_hand
    assert VerifiedToken({"sub": "a"}, frozenset(), frozenset(), "t").dpop_jkt is None
    with pytest.raises(AttributeError):
        by_hand.dpop_jkt = None  # type: ignore[misc]
    copied = by_hand._proven_by(OTHER.jkt)  # one request's copy: the view itself is unchanged
    assert copied.dpop_jkt == OTHER.jkt and by_hand.dpop_jkt == ES.jkt and copied.claims is by_hand.claims


def test_what_the_proof_check_raises_is_answered_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    from jwkverify import MalformedToken
    from jwkverify.dpop import InvalidDPoPProof, ReplayStoreUnavailable

    counters = Counters()
    check = core(observer=counters).dpop
    assert check is not None
    with caplog.at_level(logging.DEBUG, logger="jwkverify.web"):
        replay = check.refused(InvalidDPoPProof("seen before", check="replay"))
        down = check.refused(ReplayStoreUnavailable("redis is down"))
    assert replay.status == 401 and replay.description == "the DPoP proof was used before"
    assert down.status == 503 and down.retry_after == 5 and down.challenge is None
    assert "refused a DPoP proof (replay)" in caplog.text and "cannot check DPoP proofs now" in caplog.text
    later = ReplayStoreUnavailable("redis is down")
    later.retry_after = 30  # type: ignore[attr-defined]  # a store that knows when to come back
    assert check.refused(later).retry_after == 30
    other = check.refused(MalformedToken("not a proof error"))  # no proof check raises it: still refused
    assert other.status == 401 and other.error == "invalid_dpop_proof"
    assert dict(counters.snapshot().verdicts) == {
        ("invalid_dpop_proof", "replay"): 1, ("unavailable", "replay_store_unavailable"): 2,
        ("invalid_dpop_proof", "malformed_token"): 1}


def test_admit_async_answers_before_any_verification() -> None:
    decide = core(require_dpop=True)
    none = asyncio.run(decide.admit_async([], method="GET", path="/"))
    assert type(none) is Answer and none.status == 401 and none.error is None
    refused = asyncio.run(decide.verify_async(Credentials("bearer", token(aud="https://other.test"))))
    assert type(refused) is Answer and refused.error == "invalid_token"
    bound = token(ES.jkt)
    downgraded = asyncio.run(decide.verify_async(Credentials("bearer", bound)))
    assert type(downgraded) is Answer and downgraded.error == "invalid_token"
