"""MultiIssuerVerifier: each issuer's tokens verify with that issuer's keys only."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from jwks_server import Clock, JWKSServer
from signing import b64, make_key, segment

from jwkverify import (
    AlgorithmNotAllowed,
    InvalidAudience,
    InvalidIssuer,
    InvalidSignature,
    JWKSet,
    KeyNotFound,
    MalformedToken,
    MissingClaim,
    MultiIssuerVerifier,
    RemoteJWKSet,
)

ISSUER_A = "https://a.example"
ISSUER_B = "https://b.example/tenant"
# Both issuers use the kid "k1": common in practice, and the case that matters.
KEY_A = make_key("ES256", kid="k1")
KEY_B = make_key("ES256", kid="k1")
KEY_B2 = make_key("EdDSA", kid="k2")


@pytest.fixture
def server() -> Iterator[JWKSServer]:
    running = JWKSServer()
    running.serve_keys(KEY_B.jwk, KEY_B2.jwk)
    yield running
    running.close()


@pytest.fixture
def verifier(server: JWKSServer) -> MultiIssuerVerifier:
    remote_b = RemoteJWKSet(server.url(), allow_http=True, clock=Clock())
    return MultiIssuerVerifier({ISSUER_A: JWKSet.from_dict({"keys": [KEY_A.jwk]}), ISSUER_B: remote_b},
                               audience="api")


def test_each_issuer_verifies_with_its_own_keys(verifier: MultiIssuerVerifier, server: JWKSServer) -> None:
    claims_a = {"iss": ISSUER_A, "aud": "api"}
    claims_b = {"iss": ISSUER_B, "aud": "api"}
    assert verifier.verify(KEY_A.token(claims_a)) == claims_a
    assert verifier.verify(KEY_B.token(claims_b)) == claims_b
    assert asyncio.run(verifier.verify_async(KEY_B2.token(claims_b))) == claims_b
    assert verifier.issuers == (ISSUER_A, ISSUER_B)
    assert server.count == 1


@pytest.mark.parametrize(("signer", "claimed", "error"), [
    (KEY_A, ISSUER_B, InvalidSignature),   # A's key, same kid, claiming to be B
    (KEY_B, ISSUER_A, InvalidSignature),   # B's key claiming to be A
    (KEY_B2, ISSUER_A, KeyNotFound),       # a kid only B has
])
def test_a_token_signed_by_another_issuers_key_is_refused(
        verifier: MultiIssuerVerifier, signer: Any, claimed: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        verifier.verify(signer.token({"iss": claimed, "aud": "api"}))


def test_an_unknown_issuer_is_refused_without_any_request(verifier: MultiIssuerVerifier,
                                                          server: JWKSServer) -> None:
    for issuer in ("https://evil.example", ISSUER_A + "/", ISSUER_B.upper(), ""):
        with pytest.raises(InvalidIssuer, match="not one of the 2 trusted issuers"):
            verifier.verify(KEY_B.token({"iss": issuer, "aud": "api"}))
        with pytest.raises(InvalidIssuer):
            asyncio.run(verifier.verify_async(KEY_B.token({"iss": issuer, "aud": "api"})))
    assert server.count == 0


def test_the_issuer_must_be_a_string_in_a_well_formed_payload(verifier: MultiIssuerVerifier) -> None:
    with pytest.raises(MissingClaim, match="iss"):
        verifier.verify(KEY_A.token({"aud": "api"}))
    with pytest.raises(InvalidIssuer, match="must be a string"):
        verifier.verify(KEY_A.token({"iss": ["https://a.example"], "aud": "api"}))
    with pytest.raises(MalformedToken):
        verifier.verify(KEY_A.token(payload=b"not json"))
    header = segment({"alg": "ES256", "kid": "k1"})
    with pytest.raises(MalformedToken, match="payload segment"):
        verifier.verify(f"{header}.e30=.{b64(b'x' * 64)}")


def test_the_allow_list_comes_before_the_issuer(server: JWKSServer) -> None:
    strict = MultiIssuerVerifier({ISSUER_A: JWKSet.from_dict({"keys": [KEY_A.jwk]})}, algorithms="EdDSA")
    with pytest.raises(AlgorithmNotAllowed):
        strict.verify(KEY_A.token({"iss": "https://unknown.example"}))


def test_the_shared_options_apply_to_every_issuer(verifier: MultiIssuerVerifier) -> None:
    with pytest.raises(InvalidAudience):
        verifier.verify(KEY_A.token({"iss": ISSUER_A, "aud": "other"}))
    with pytest.raises(InvalidAudience):
        verifier.verify(KEY_B.token({"iss": ISSUER_B, "aud": "other"}))


def test_a_token_cache_per_issuer_still_checks_the_issuer(server: JWKSServer) -> None:
    cached = MultiIssuerVerifier({ISSUER_A: JWKSet.from_dict({"keys": [KEY_A.jwk]}),
                                  ISSUER_B: JWKSet.from_dict({"keys": [KEY_B.jwk]})}, cache_size=8)
    token = KEY_A.token({"iss": ISSUER_A})
    assert cached.verify(token) == cached.verify(token) == {"iss": ISSUER_A}
    with pytest.raises(InvalidSignature):
        cached.verify(KEY_A.token({"iss": ISSUER_B}))


def test_options_are_checked() -> None:
    keys = JWKSet.from_dict({"keys": [KEY_A.jwk]})
    with pytest.raises(ValueError, match="at least one"):
        MultiIssuerVerifier({})
    with pytest.raises(TypeError):
        MultiIssuerVerifier([(ISSUER_A, keys)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        MultiIssuerVerifier({"": keys})
    with pytest.raises(TypeError):
        MultiIssuerVerifier({ISSUER_A: keys}, issuer=ISSUER_A)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="none"):
        MultiIssuerVerifier({ISSUER_A: keys}, algorithms="none")
    with pytest.raises(TypeError):
        MultiIssuerVerifier({ISSUER_A: "keys"})  # type: ignore[dict-item]
