"""The opt-in verified-token cache: JWTVerifier(..., cache_size=N)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from signing import make_key

from jwkverify import (
    JWK,
    ExpiredToken,
    InvalidAudience,
    InvalidSignature,
    JWKSet,
    JWTVerifier,
    KeyNotFound,
    NotYetValid,
)

KEY = make_key("ES256", kid="k1")
OTHER = make_key("ES256", kid="k2")
NOW = 1_700_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class RotatingKeys:
    """A key source whose set can change, as a remote key set's does after a refresh."""

    def __init__(self, *jwks: dict[str, Any]) -> None:
        self.keys = JWKSet.from_dict({"keys": list(jwks)})

    def keys_for(self, alg: str, kid: str | None) -> Sequence[JWK]:
        return self.keys.keys_for(alg, kid)

    async def keys_for_async(self, alg: str, kid: str | None) -> Sequence[JWK]:
        return self.keys.keys_for(alg, kid)


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every signature verification the library performs."""
    calls: list[str] = []
    original = JWK.verify_signature

    def counting(self: JWK, alg: str, signature: bytes, signing_input: bytes) -> bool:
        calls.append(alg)
        return original(self, alg, signature, signing_input)

    monkeypatch.setattr(JWK, "verify_signature", counting)
    return calls


def verifier(source: Any = None, size: int = 8, **options: Any) -> JWTVerifier:
    options.setdefault("now", Clock())
    return JWTVerifier(source or JWK.from_dict(KEY.jwk), cache_size=size, **options)


def test_a_repeated_token_is_not_verified_again(signature_checks: list[str]) -> None:
    v = verifier()
    token = KEY.token({"sub": "a", "exp": NOW + 60})
    assert [v.verify(token) for _ in range(5)] == [{"sub": "a", "exp": NOW + 60}] * 5
    assert signature_checks == ["ES256"]


def test_without_cache_size_every_call_verifies(signature_checks: list[str]) -> None:
    v = JWTVerifier(JWK.from_dict(KEY.jwk), now=NOW)
    token = KEY.token({"exp": NOW + 60})
    for _ in range(3):
        v.verify(token)
    assert signature_checks == ["ES256"] * 3


def test_only_fully_verified_tokens_are_stored(signature_checks: list[str]) -> None:
    v = verifier(audience="me")
    wrong_audience = KEY.token({"aud": "someone-else"})
    forged = OTHER.token({"aud": "me"}, header={"kid": "k1"})
    for _ in range(2):
        with pytest.raises(InvalidAudience):
            v.verify(wrong_audience)
        with pytest.raises(InvalidSignature):
            v.verify(forged)
    assert signature_checks == ["ES256"] * 4


def test_the_cache_is_bounded_and_evicts_the_least_recently_used(signature_checks: list[str]) -> None:
    v = verifier(size=2)
    first, second, third = (KEY.token({"n": n}) for n in range(3))
    v.verify(first)
    v.verify(second)
    v.verify(first)  # hit: first is now the most recent
    v.verify(third)  # evicts second
    assert len(signature_checks) == 3
    v.verify(first)
    assert len(signature_checks) == 3
    v.verify(second)
    assert len(signature_checks) == 4


def test_expiry_is_re_evaluated_on_every_hit(signature_checks: list[str]) -> None:
    clock = Clock()
    v = verifier(now=clock, leeway=5)
    token = KEY.token({"exp": NOW + 60})
    v.verify(token)
    clock.now = NOW + 64
    assert v.verify(token) == {"exp": NOW + 60}
    clock.now = NOW + 65
    with pytest.raises(ExpiredToken):
        v.verify(token)
    assert signature_checks == ["ES256"]
    # The expired entry was dropped: a clock moved back verifies from scratch.
    clock.now = NOW
    v.verify(token)
    assert signature_checks == ["ES256"] * 2


def test_max_age_is_re_evaluated_on_every_hit() -> None:
    clock = Clock()
    v = verifier(now=clock, max_age=100)
    token = KEY.token({"iat": NOW})
    v.verify(token)
    clock.now = NOW + 101
    with pytest.raises(ExpiredToken):
        v.verify(token)


def test_not_before_is_checked_on_hits_too() -> None:
    clock = Clock()
    v = verifier(now=clock)
    token = KEY.token({"nbf": NOW - 1, "exp": NOW + 100})
    v.verify(token)
    clock.now = NOW - 2  # a clock stepped back
    with pytest.raises(NotYetValid):
        v.verify(token)


def test_an_entry_whose_key_left_the_set_is_dropped(signature_checks: list[str]) -> None:
    source = RotatingKeys(KEY.jwk, OTHER.jwk)
    v = verifier(source)
    token = KEY.token({"sub": "a"})
    v.verify(token)
    v.verify(token)
    assert signature_checks == ["ES256"]
    source.keys = JWKSet.from_dict({"keys": [OTHER.jwk]})  # k1 rotated out
    with pytest.raises(KeyNotFound):
        v.verify(token)


def test_an_equal_key_after_a_refresh_keeps_the_entry(signature_checks: list[str]) -> None:
    source = RotatingKeys(KEY.jwk)
    v = verifier(source)
    token = KEY.token({"sub": "a"})
    v.verify(token)
    source.keys = JWKSet.from_dict({"keys": [KEY.jwk, OTHER.jwk]})  # same k1, new objects
    assert v.verify(token) == {"sub": "a"}
    assert signature_checks == ["ES256"]


def test_a_key_replaced_under_the_same_kid_forces_a_fresh_verification() -> None:
    source = RotatingKeys(KEY.jwk)
    v = verifier(source)
    token = KEY.token({"sub": "a"})
    v.verify(token)
    impostor = make_key("ES256", kid="k1")
    source.keys = JWKSet.from_dict({"keys": [impostor.jwk]})
    with pytest.raises(InvalidSignature):
        v.verify(token)


def test_callers_cannot_change_what_the_next_caller_gets() -> None:
    v = verifier()
    claims = {"sub": "a", "roles": ["reader"], "ctx": {"tenant": "t1", "groups": ["g"]}}
    token = KEY.token(claims)
    first = v.verify(token)  # the miss that filled the cache
    first["sub"] = "mallory"
    first["roles"].append("admin")
    second = v.verify(token)  # a hit
    second["ctx"]["groups"].append("admins")
    second["ctx"]["tenant"] = "t2"
    assert v.verify(token) == claims


def test_str_and_bytes_tokens_and_unhashable_input() -> None:
    v = verifier()
    token = KEY.token({"sub": "a"})
    assert v.verify(token.encode()) == v.verify(token) == v.verify(token.encode())
    assert v.verify(bytearray(token.encode())) == {"sub": "a"}


def test_async_hits_behave_like_sync_hits(signature_checks: list[str]) -> None:
    clock = Clock()
    v = verifier(now=clock)
    token = KEY.token({"exp": NOW + 10})

    async def run() -> None:
        assert await v.verify_async(token) == {"exp": NOW + 10}
        assert await v.verify_async(token) == {"exp": NOW + 10}
        clock.now = NOW + 10
        with pytest.raises(ExpiredToken):
            await v.verify_async(token)

    asyncio.run(run())
    assert signature_checks == ["ES256"]


@pytest.mark.parametrize(("size", "error"), [(-1, ValueError), ("8", TypeError), (True, TypeError)])
def test_cache_size_is_validated(size: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        JWTVerifier(JWK.from_dict(KEY.jwk), cache_size=size)


def test_threads_share_one_cache_safely() -> None:
    from concurrent.futures import ThreadPoolExecutor

    v = verifier(size=4)
    tokens = [KEY.token({"n": n}) for n in range(10)]

    def work(i: int) -> bool:
        token = tokens[i % len(tokens)]
        return v.verify(token) == {"n": i % len(tokens)}

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(2000)))
