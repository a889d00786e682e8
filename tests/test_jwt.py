"""The JWTVerifier / verify_jwt API of jwkverify.jwt (RFC 7519 §7.2).

Covers the public contract (signature, return value, option validation at
construction), reuse and thread-safety of one verifier, the async entry point,
the allow-list being checked before any key work, and "verify, then decode".
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from signing import b64, hs_token, make_key, segment

from jwkverify import (
    ANY_AUDIENCE,
    JWK,
    AlgorithmNotAllowed,
    ClaimError,
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    InvalidSignature,
    JOSEError,
    JWKSet,
    JWTVerifier,
    KeySource,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    verify_jwt,
)

KEY = make_key("ES256", kid="jwt-key")
PUBLIC = JWK.from_dict(KEY.jwk)
KEY_SET = JWKSet.from_dict({"keys": [KEY.jwk]})
NOW = 1_700_000_000
ISSUER = "https://issuer.example"


def forge(token: str) -> str:
    """``token`` with a well-formed signature of the right length made for other data."""
    other = KEY.token({"forged": token[-8:]}).rsplit(".", 1)[1]
    return token.rsplit(".", 1)[0] + "." + other


def signed(payload_segment: str) -> str:
    """A token whose payload segment is exactly ``payload_segment``, correctly signed."""
    signing_input = f"{segment({'alg': 'ES256', 'kid': 'jwt-key'})}.{payload_segment}"
    return f"{signing_input}.{b64(KEY.sign(signing_input.encode()))}"


class SpyKeys:
    """A key source that records every lookup and delegates to ``PUBLIC``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def keys_for(self, alg: str, kid: str | None) -> Sequence[JWK]:
        self.calls.append((alg, kid))
        return PUBLIC.keys_for(alg, kid)

    async def keys_for_async(self, alg: str, kid: str | None) -> Sequence[JWK]:
        self.calls.append((alg, kid))
        return PUBLIC.keys_for(alg, kid)


# -- the public contract -------------------------------------------------------------------

CONTRACT = {
    "algorithms": None,
    "issuer": None,
    "audience": None,
    "subject": None,
    "leeway": 0,
    "now": None,
    "required_claims": (),
    "max_age": None,
    "typ": None,
}


@pytest.mark.parametrize("function", [verify_jwt, JWTVerifier])
def test_signature_matches_the_contract(function: Any) -> None:
    parameters = inspect.signature(function).parameters
    positional = [p for p in parameters.values() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    expected_positional = ["token", "key"] if function is verify_jwt else ["key"]
    assert [p.name for p in positional] == expected_positional
    for name, default in CONTRACT.items():
        assert name in parameters, name
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert parameters[name].default == default, name
        assert type(parameters[name].default) is type(default), name


def test_verify_jwt_returns_the_claims_as_a_dict() -> None:
    claims = {"iss": ISSUER, "sub": "alice", "exp": NOW + 60, "scope": ["read", "write"], "n": {"a": 1}}
    result = verify_jwt(KEY.token(claims), PUBLIC, issuer=ISSUER, now=NOW)
    assert type(result) is dict
    assert result == claims


@pytest.mark.parametrize("key", [PUBLIC, KEY_SET], ids=["JWK", "JWKSet"])
def test_token_as_str_or_bytes(key: Any) -> None:
    token = KEY.token({"sub": "a"})
    assert verify_jwt(token, key) == {"sub": "a"}
    assert verify_jwt(token.encode("ascii"), key) == {"sub": "a"}
    assert JWTVerifier(key).verify(token.encode("ascii")) == {"sub": "a"}


# -- each keyword of verify_jwt takes effect -----------------------------------------------


def test_verify_jwt_algorithms() -> None:
    token = KEY.token({"sub": "a"})
    assert verify_jwt(token, PUBLIC, algorithms=["ES256"]) == {"sub": "a"}
    with pytest.raises(AlgorithmNotAllowed):
        verify_jwt(token, PUBLIC, algorithms=["ES384", "RS256"])


def test_verify_jwt_issuer() -> None:
    token = KEY.token({"iss": ISSUER})
    assert verify_jwt(token, PUBLIC, issuer=ISSUER) == {"iss": ISSUER}
    with pytest.raises(InvalidIssuer):
        verify_jwt(token, PUBLIC, issuer="https://other.example")


def test_verify_jwt_audience() -> None:
    token = KEY.token({"aud": ["api", "web"]})
    assert verify_jwt(token, PUBLIC, audience="web") == {"aud": ["api", "web"]}
    assert verify_jwt(token, PUBLIC, audience=ANY_AUDIENCE) == {"aud": ["api", "web"]}
    with pytest.raises(InvalidAudience):
        verify_jwt(token, PUBLIC, audience="admin")
    with pytest.raises(InvalidAudience):
        verify_jwt(token, PUBLIC)


def test_verify_jwt_subject() -> None:
    token = KEY.token({"sub": "alice"})
    assert verify_jwt(token, PUBLIC, subject="alice") == {"sub": "alice"}
    with pytest.raises(ClaimError) as info:
        verify_jwt(token, PUBLIC, subject="bob")
    assert info.value.claim == "sub"


def test_verify_jwt_leeway_and_now() -> None:
    token = KEY.token({"exp": NOW})
    assert verify_jwt(token, PUBLIC, now=NOW - 1) == {"exp": NOW}
    with pytest.raises(ExpiredToken):
        verify_jwt(token, PUBLIC, now=NOW)
    assert verify_jwt(token, PUBLIC, now=NOW + 9, leeway=10) == {"exp": NOW}


def test_verify_jwt_now_defaults_to_the_clock() -> None:
    with pytest.raises(ExpiredToken):
        verify_jwt(KEY.token({"exp": NOW}), PUBLIC)  # 2023 is in the past
    assert verify_jwt(KEY.token({"exp": 10**12}), PUBLIC) == {"exp": 10**12}


def test_verify_jwt_required_claims() -> None:
    token = KEY.token({"sub": "a", "jti": "1"})
    assert verify_jwt(token, PUBLIC, required_claims=["sub", "jti"]) == {"sub": "a", "jti": "1"}
    with pytest.raises(MissingClaim) as info:
        verify_jwt(token, PUBLIC, required_claims=["sub", "exp"])
    assert info.value.claim == "exp"


def test_verify_jwt_max_age() -> None:
    token = KEY.token({"iat": NOW - 100})
    assert verify_jwt(token, PUBLIC, max_age=100, now=NOW) == {"iat": NOW - 100}
    with pytest.raises(ExpiredToken):
        verify_jwt(token, PUBLIC, max_age=99, now=NOW)


def test_verify_jwt_typ() -> None:
    token = KEY.token({"sub": "a"}, header={"typ": "at+jwt"})
    assert verify_jwt(token, PUBLIC, typ="at+jwt") == {"sub": "a"}
    with pytest.raises(ClaimError) as info:
        verify_jwt(token, PUBLIC, typ="jwt")
    assert info.value.claim == "typ"


# -- option validation at construction -----------------------------------------------------


@pytest.mark.parametrize("algorithms", [["none"], ["None"], "none", ["ES256", "none"], [], (), ["RS257"],
                                        ["es256"], ["HS256", "ES257"]])
def test_bad_algorithms_are_a_value_error_at_construction(algorithms: Any) -> None:
    with pytest.raises(ValueError):
        JWTVerifier(PUBLIC, algorithms=algorithms)
    with pytest.raises(ValueError):
        verify_jwt("not even a token", PUBLIC, algorithms=algorithms)


def test_non_string_algorithm_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        JWTVerifier(PUBLIC, algorithms=[256])  # type: ignore[list-item]


def test_algorithms_as_a_str_is_one_algorithm() -> None:
    assert JWTVerifier(PUBLIC, algorithms="ES256").verify(KEY.token({"sub": "a"})) == {"sub": "a"}
    rs = make_key("RS256", kid="jwt-key")
    with pytest.raises(AlgorithmNotAllowed):
        JWTVerifier(PUBLIC, algorithms="RS256").verify(rs.token({"sub": "a"}))
    with pytest.raises(ValueError):  # not the letters of the string
        JWTVerifier(PUBLIC, algorithms="ES")


@pytest.mark.parametrize("option", ["issuer", "audience"])
def test_empty_issuer_or_audience_collection_is_a_value_error(option: str) -> None:
    with pytest.raises(ValueError):
        JWTVerifier(PUBLIC, **{option: []})
    with pytest.raises(ValueError):
        JWTVerifier(PUBLIC, **{option: set()})


@pytest.mark.parametrize("option", ["issuer", "audience", "subject", "typ"])
def test_non_string_option_is_a_type_error(option: str) -> None:
    with pytest.raises(TypeError):
        JWTVerifier(PUBLIC, **{option: [1]} if option in ("issuer", "audience") else {option: 1})


@pytest.mark.parametrize("key", [KEY.jwk, json.dumps(KEY.jwk), None, b"secret", [PUBLIC]],
                         ids=["dict", "json-str", "None", "bytes", "list-of-JWK"])
def test_key_that_is_not_a_jwk_or_key_set_is_a_type_error(key: object) -> None:
    with pytest.raises(TypeError):
        JWTVerifier(key)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verify_jwt(KEY.token({}), key)  # type: ignore[arg-type]


def test_a_custom_key_source_is_accepted() -> None:
    spy = SpyKeys()
    assert isinstance(spy, KeySource)
    assert JWTVerifier(spy).verify(KEY.token({"sub": "a"})) == {"sub": "a"}
    assert spy.calls == [("ES256", "jwt-key")]


# -- algorithms narrows, never widens (RFC 8725 §3.1) --------------------------------------


@pytest.mark.parametrize("key", [PUBLIC, KEY_SET], ids=["JWK", "JWKSet"])
def test_algorithms_never_widens_what_the_key_permits(key: Any) -> None:
    # The classic confusion: an HMAC token keyed with the public key's own text.
    for secret in (json.dumps(KEY.jwk).encode(), KEY.jwk["x"].encode(), b""):
        token = hs_token(secret, "HS256", {"kid": "jwt-key"}, {"sub": "admin"})
        with pytest.raises(AlgorithmNotAllowed):
            JWTVerifier(key, algorithms=["HS256"]).verify(token)
        with pytest.raises(AlgorithmNotAllowed):
            JWTVerifier(key, algorithms=["HS256", "ES256"]).verify(token)


def test_allow_list_is_checked_before_any_key_work() -> None:
    spy = SpyKeys()
    verifier = JWTVerifier(spy, algorithms=["ES384"])
    with pytest.raises(AlgorithmNotAllowed):
        verifier.verify(KEY.token({"sub": "a"}))
    with pytest.raises(AlgorithmNotAllowed):
        asyncio.run(verifier.verify_async(KEY.token({"sub": "a"})))
    assert spy.calls == []


# -- verify, then decode (RFC 7515 §5.2) ---------------------------------------------------


@pytest.mark.parametrize("payload", [b"not json", b'["array"]', b'{"a":1,"a":2}', b"\xff\xfe",
                                     b'{"exp": NaN}'])
def test_bad_payload_is_malformed_only_after_the_signature_passes(payload: bytes) -> None:
    token = KEY.token(payload=payload)
    with pytest.raises(MalformedToken):
        verify_jwt(token, PUBLIC)
    with pytest.raises(InvalidSignature):
        verify_jwt(forge(token), PUBLIC)


def test_payload_segment_is_not_decoded_before_the_signature() -> None:
    # Not base64url at all: only a valid signature may lead to decoding it.
    for bad_segment in ("!!!!", "eyJ*", "a"):
        token = signed(bad_segment)
        with pytest.raises(MalformedToken):
            verify_jwt(token, PUBLIC)
        with pytest.raises(InvalidSignature):
            verify_jwt(forge(token), PUBLIC)


def test_claims_are_not_checked_before_the_signature() -> None:
    token = forge(KEY.token({"exp": NOW - 1000, "iss": "evil"}))
    with pytest.raises(InvalidSignature):
        verify_jwt(token, PUBLIC, issuer=ISSUER, now=NOW)


# -- one verifier, many tokens -------------------------------------------------------------


def test_verifier_is_reusable_across_many_tokens() -> None:
    verifier = JWTVerifier(KEY_SET, issuer=ISSUER, audience="api", now=NOW)
    for i in range(50):
        claims = {"iss": ISSUER, "aud": "api", "sub": f"user-{i}", "exp": NOW + i + 1}
        assert verifier.verify(KEY.token(claims)) == claims
    with pytest.raises(ExpiredToken):
        verifier.verify(KEY.token({"iss": ISSUER, "aud": "api", "exp": NOW}))
    assert verifier.verify(KEY.token({"iss": ISSUER, "aud": "api"})) == {"iss": ISSUER, "aud": "api"}


def test_verify_returns_a_fresh_dict_each_call() -> None:
    verifier = JWTVerifier(PUBLIC, now=NOW)
    token = KEY.token({"sub": "alice", "roles": ["user"]})
    first = verifier.verify(token)
    first["sub"] = "mallory"
    first["roles"].append("admin")
    first["extra"] = True
    second = verifier.verify(token)
    assert second == {"sub": "alice", "roles": ["user"]}
    assert second is not first


def test_verifier_is_thread_safe() -> None:
    verifier = JWTVerifier(PUBLIC, issuer=ISSUER, audience="api", now=NOW)
    cases: list[tuple[str, Any]] = []
    for i in range(20):
        good = {"iss": ISSUER, "aud": "api", "sub": f"user-{i}", "exp": NOW + 60}
        cases.append((KEY.token(good), good))
        cases.append((KEY.token({**good, "exp": NOW - i}), ExpiredToken))
        cases.append((KEY.token({**good, "aud": "web"}), InvalidAudience))
        cases.append((KEY.token({**good, "nbf": NOW + 1 + i}), NotYetValid))
        cases.append((forge(KEY.token(good)), InvalidSignature))

    def outcome(token: str) -> Any:
        try:
            return verifier.verify(token)
        except JOSEError as exc:
            return type(exc)

    def worker(start: int) -> list[bool]:
        results = []
        for n in range(200):
            token, expected = cases[(start * 7 + n) % len(cases)]
            results.append(outcome(token) == expected)
        return results

    with ThreadPoolExecutor(max_workers=8) as pool:
        runs = list(pool.map(worker, range(8)))
    assert len(runs) == 8
    assert all(len(run) == 200 and all(run) for run in runs)


# -- verify_async --------------------------------------------------------------------------


@pytest.mark.parametrize("key", [PUBLIC, KEY_SET], ids=["JWK", "JWKSet"])
def test_verify_async_returns_the_same_claims(key: Any) -> None:
    verifier = JWTVerifier(key, issuer=ISSUER, now=NOW)
    token = KEY.token({"iss": ISSUER, "sub": "alice", "exp": NOW + 60})
    assert asyncio.run(verifier.verify_async(token)) == verifier.verify(token)


ASYNC_FAILURES: list[tuple[Any, type[JOSEError]]] = [
    ({"iss": ISSUER, "exp": NOW}, ExpiredToken),
    ({"iss": "https://evil.example"}, InvalidIssuer),
    ({"iss": ISSUER, "aud": "api"}, InvalidAudience),
    ({"sub": "no iss"}, MissingClaim),
    (b"[]", MalformedToken),
    ("forged", InvalidSignature),
    ("garbage", MalformedToken),
    ("hs256", AlgorithmNotAllowed),
]


@pytest.mark.parametrize(("case", "error"), ASYNC_FAILURES)
def test_verify_async_raises_the_same_error_classes(case: Any, error: type[JOSEError]) -> None:
    if case == "forged":
        token = forge(KEY.token({"iss": ISSUER}))
    elif case == "garbage":
        token = "a.b"
    elif case == "hs256":
        token = hs_token(b"k", "HS256", {"kid": "jwt-key"}, {"iss": ISSUER})
    elif isinstance(case, bytes):
        token = KEY.token(payload=case)
    else:
        token = KEY.token(case)
    verifier = JWTVerifier(KEY_SET, issuer=ISSUER, now=NOW)
    with pytest.raises(JOSEError) as sync_info:
        verifier.verify(token)
    with pytest.raises(JOSEError) as async_info:
        asyncio.run(verifier.verify_async(token))
    assert type(sync_info.value) is error
    assert type(async_info.value) is error
