"""jwkverify._web.decision: the one request decision, its reports, its logs and its Retry-After."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from signing import make_key

from jwkverify import JOSEError, JWKSet, JWTVerifier, KeySetFetchError
from jwkverify._web.answers import Answer
from jwkverify._web.credentials import Credentials
from jwkverify._web.decision import DEFAULT_RETRY_AFTER, BearerCore
from jwkverify._web.options import BearerOptions
from jwkverify._web.views import VerifiedToken
from jwkverify.observe import Counters

KEY = make_key("ES256", kid="k1")
KEYS = JWKSet.from_dict({"keys": [KEY.jwk]})
AUD = "https://api.test/mcp"


def core(verifier: Any = None, **options: Any) -> BearerCore:
    verifier = verifier or JWTVerifier(KEYS, audience=AUD, cache_size=8)
    return BearerCore(BearerOptions.build(verifier, resource=AUD, **options))


def token(**changes: Any) -> str:
    claims = {"aud": AUD, "sub": "alice", "exp": int(time.time()) + 60, "scope": "read"}
    return str(KEY.token({**claims, **changes}))


def test_the_steps_of_one_request() -> None:
    counters = Counters()
    decide = core(observer=counters, required_scopes=["read"], route_roles={"/admin": ["admin"]})
    route = decide.route("GET", "/notes")
    found = decide.credentials([f"Bearer {token()}"], route.scopes)
    assert isinstance(found, Credentials)
    verified = decide.verify(found)
    assert isinstance(verified, VerifiedToken) and asyncio.run(decide.verify_async(found)) is verified
    assert decide.credentials([f"Bearer {verified.token}"]) == found  # known: the regex is skipped
    assert decide.authorize(verified, route.scopes, route.roles) is None
    admin = decide.route("GET", "/admin")
    denied = decide.authorize(verified, admin.scopes, admin.roles)
    assert denied is not None and denied.status == 403
    missing = decide.credentials([], route.scopes)
    assert isinstance(missing, Answer) and missing.status == 401
    assert 'scope="read"' in (missing.challenge or "")
    assert isinstance(decide.verify(Credentials("bearer", token(exp=1))), Answer)
    assert dict(counters.snapshot().verdicts) == {
        ("accepted", None): 1, ("insufficient_role", None): 1, ("no_credentials", None): 1,
        ("invalid_token", "expired_token"): 1}


class Costly(JOSEError):
    """A refusal that counts how often its message is formatted."""

    formatted = 0

    def __str__(self) -> str:
        Costly.formatted += 1
        return "costly"


def test_a_refusal_is_formatted_only_when_its_log_level_is_on(caplog: pytest.LogCaptureFixture) -> None:
    decide = core()
    Costly.formatted = 0
    with caplog.at_level(logging.INFO, logger="jwkverify.web"):  # an INFO handler (the MCP SDK's)
        assert decide.refused(Costly("x")).status == 401
    assert Costly.formatted == 0 and caplog.text == ""
    with caplog.at_level(logging.DEBUG, logger="jwkverify.web"):
        decide.refused(Costly("x"))
    assert Costly.formatted >= 1 and "refused a Bearer token: Costly: costly" in caplog.text


def test_a_failing_observer_is_logged_once_and_never_changes_the_answer(
        caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def verdict(self, outcome: str, code: str | None) -> None:
            raise RuntimeError("observer down")

        def keyset_event(self, event: str, source: str) -> None:
            raise RuntimeError("observer down")

    decide = core(observer=Broken())
    for _ in range(3):
        assert decide.refused(Costly("x")).status == 401
    assert caplog.text.count("the observer failed") == 1


def test_a_verifier_bug_is_a_logged_401(caplog: pytest.LogCaptureFixture) -> None:
    counters = Counters()
    answer = core(observer=counters).refused(RuntimeError("bug"))
    assert answer.status == 401 and answer.description == "the token could not be verified"
    assert "the verifier failed" in caplog.text and "RuntimeError: bug" in caplog.text
    assert dict(counters.snapshot().verdicts) == {("invalid_token", "verifier_error"): 1}


def test_retry_after_comes_from_the_error_then_the_key_set_then_the_default() -> None:
    decide = core()
    hinted = KeySetFetchError("down")
    hinted.retry_after = 42  # type: ignore[attr-defined]
    answer = decide.refused(hinted)
    assert answer.status == 503 and answer.retry_after == 42
    assert decide.refused(KeySetFetchError("down")).retry_after == DEFAULT_RETRY_AFTER  # a local set

    class State:
        retry_at = time.time() + 9.2

    class Source:
        state = State()

    class Verifier(JWTVerifier):
        @property
        def key_source(self) -> Any:
            return Source()

    assert core(Verifier(KEYS, audience=AUD)).refused(KeySetFetchError("down")).retry_after == 10

    class Broken:
        @property
        def state(self) -> Any:
            raise RuntimeError("no state")

    class BrokenVerifier(JWTVerifier):
        @property
        def key_source(self) -> Any:
            return Broken()

    assert core(BrokenVerifier(KEYS, audience=AUD)).retry_after(KeySetFetchError("x")) == DEFAULT_RETRY_AFTER


def test_an_observer_that_raises_is_logged_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def verdict(self, outcome: str, code: str | None) -> None:
            raise RuntimeError("observer bug")

    decide = core(observer=Broken())
    verified = decide.verify(Credentials("bearer", token()))
    assert isinstance(verified, VerifiedToken) and decide.authorize(verified, (), ()) is None
    assert "the observer failed" in caplog.text


@pytest.mark.parametrize(("value", "quick"), [
    ("Bearer abc.def.ghi", "abc.def.ghi"),
    ("Bearer  abc", None),           # two spaces: the full reading strips them
    ("Bearer abc ", None),
    ("Bearer abc\t", None),
    ("Bearer a, Bearer b", None),    # a WSGI server's two joined headers
    ("bearer abc", None),            # another spelling of the scheme: the full reading
    ("Bearer ", None),
    ("Basic abc", None),
    ("Bearer " + "a" * 70_000, None),
])
def test_the_quick_path_takes_only_the_plain_form(value: str, quick: str | None) -> None:
    decide = core()
    assert decide.quick_token(value) == quick
    read = decide.credentials([value])
    if quick is not None:
        assert read == Credentials("bearer", quick)


def test_a_strict_verifier_sees_malformed_tokens_and_their_refusal_is_400() -> None:
    decide = core()
    for value in ("Bearer a b", "Bearer a\"b.c.d", "Bearer ab=c.d.e"):
        found = decide.credentials([value])
        assert isinstance(found, Credentials)  # left to the verifier, which refuses it
        answer = decide.verify(found)
        assert isinstance(answer, Answer) and answer.status == 400 and answer.error == "invalid_request"

    class Lenient:  # not one of jwkverify's verifiers: the syntax is checked first
        audiences = frozenset({AUD})

        def verify(self, token: str) -> dict[str, Any]:
            return {"sub": "anyone"}

        async def verify_async(self, token: str) -> dict[str, Any]:
            return {"sub": "anyone"}

    lenient = core(Lenient())
    refused = lenient.credentials(["Bearer a b"])
    assert isinstance(refused, Answer) and refused.status == 400
    assert lenient.quick_token("Bearer abc") is None  # not verified before
