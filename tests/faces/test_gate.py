"""The request gate the framework faces share: credentials, verification, authorization, headers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from signing import make_key

from jwkverify import JWKSet, JWTVerifier
from jwkverify._faces.gate import RETRY_AFTER, Gate, Refusal, authorize
from jwkverify._web.bearer import parse_challenge

KEY = make_key("ES256", kid="k1")
GATE = Gate.build(JWTVerifier(JWKSet.from_dict({"keys": [KEY.jwk]}), audience="api"), None, "test")


def test_credentials_no_token_malformed_two_headers() -> None:
    assert GATE.credentials(["Bearer abc"]) == "abc"
    assert GATE.credentials([], ("read",)) == Refusal(401, None, "no Authorization header", ("read",))
    assert GATE.credentials(["Basic YTpi"]).status == 401  # type: ignore[union-attr]
    assert GATE.credentials(["Bearer a b"]) == Refusal(400, "invalid_request",
                                                       "the Bearer credentials are not a single token")
    assert GATE.credentials(["Bearer a", "Bearer a"]).status == 400  # type: ignore[union-attr]


def test_verify_reads_scopes_and_roles_and_refuses_with_a_reason(caplog: pytest.LogCaptureFixture) -> None:
    token = KEY.token({"aud": "api", "scope": "a b", "realm_access": {"roles": ["admin"]}})
    verified = asyncio.run(GATE.verify(token))
    assert not isinstance(verified, Refusal)
    assert verified.scopes == {"a", "b"} and verified.roles == {"admin"} and verified.token == token
    with caplog.at_level(logging.INFO, "test"):
        refused = asyncio.run(GATE.verify(KEY.token({"aud": "other"})))
    assert refused == Refusal(401, "invalid_token", "the token was not issued for this resource")
    assert "refused a Bearer token: InvalidAudience" in caplog.text  # the full reason, for operators


def test_a_verifier_bug_is_a_401_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    class Buggy:
        audiences = frozenset({"api"})

        def verify(self, token: str) -> dict[str, Any]:
            raise KeyError("bug")

        async def verify_async(self, token: str) -> dict[str, Any]:
            raise KeyError("bug")

    with caplog.at_level(logging.ERROR, "test"):
        refusal = asyncio.run(Gate.build(Buggy(), None, "test").verify("t"))
    assert refusal == Refusal(401, "invalid_token", "the token could not be verified")
    assert "the verifier failed" in caplog.text


def test_authorize_scopes_then_roles() -> None:
    token = GATE.view({"scope": "a", "roles": ["r"]}, "t")
    assert authorize(token, ("a",), ("r",)) is None
    lacking = Refusal(403, "insufficient_scope", "the token lacks a scope this request needs", ("a", "b"))
    assert authorize(token, ("a", "b"), ()) == lacking
    missing_role = authorize(token, (), ("admin",))
    assert missing_role is not None and missing_role.status == 403 and missing_role.scope == ()


def test_headers_challenge_or_retry_after() -> None:
    headers = Refusal(403, "insufficient_scope", "no", ("a",)).headers(resource_metadata="https://x/m")
    assert parse_challenge(headers["WWW-Authenticate"]) == (
        "Bearer", {"error": "insufficient_scope", "error_description": "no", "scope": "a",
                   "resource_metadata": "https://x/m"})
    assert Refusal(401, None, "no Authorization header").headers()["WWW-Authenticate"] == "Bearer"
    assert Refusal(503, "temporarily_unavailable", "later").headers() == {"Retry-After": RETRY_AFTER,
                                                                          "Cache-Control": "no-store"}
