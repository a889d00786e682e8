"""The verified-token cache (``JWTVerifier(..., cache_size=N)``) and how hits copy claims.

- ``hit``: the same token again and again (an agent's Bearer token on every tool
  call of a turn); compared in the report with the uncached ``jwkverify`` column and
  the fastest peer of the hot-path table of the same run.
- ``miss``: a stream of 2,000 distinct valid tokens cycled through a cache of 1,024,
  so every call misses (and, once the cache is full, evicts); against the same stream
  with the cache off, which shows what a miss adds.
- ``nested``: a hit on a token whose claims hold an array (``roles``, 5 strings) and
  an object, against a hit on the flat claims: the library copies nested values on
  every hit so that no caller can change what the next one gets.
- ``claims copy``: the three ways a hit could hand out claims, side by side on the
  parsed claims dicts (flat and nested): the library's ``copy_claims``,
  ``types.MappingProxyType`` (read-only top level, nested lists still shared) and
  ``copy.deepcopy``.

Each benchmark is checked first: right claims, refusals as in the hot path, and the
number of signature verifications per call (0 for a hit, 1 for a miss).
"""

from __future__ import annotations

import copy
import itertools
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from bench_columns import Column, _rejects, check_column
from bench_tokens import AUDIENCE, ISSUER, Case, compact, token_stream, with_nested

import jwkverify.jwt
from jwkverify import JWKSet, JWTVerifier
from jwkverify._jwt.token_cache import Nested, copy_claims, nested_claims

CACHE_SIZE = 1024
STREAM = 2000  # > CACHE_SIZE: cycling through it, every token was evicted before it returns
HIT_LABELS = ("RS256-2048", "ES256", "EdDSA", "HS256")
MISS_LABELS = ("RS256-2048", "HS256")
NESTED_LABEL = "RS256-2048"


def make_verifier(case: Case, cache_size: int) -> JWTVerifier:
    """The hot path's ``jwkverify`` column, with the cache on or off."""
    return JWTVerifier(JWKSet.from_json(case.jwks_json), algorithms=[case.alg], issuer=ISSUER,
                       audience=AUDIENCE, cache_size=cache_size)


@contextmanager
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Count the signature verifications ``JWTVerifier`` does inside the block.

    Wraps ``verifying_key`` (the one call that checks a signature) in jwkverify's jwt
    module; a cache hit must not reach it, a miss must reach it once.
    """
    calls = [0]
    real = jwkverify.jwt.verifying_key

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(jwkverify.jwt, "verifying_key", counting)
        yield calls


def check_cached(verifier: JWTVerifier, case: Case) -> None:
    """Everything the hot-path columns are checked for, with the cache on."""
    check_column(Column("jwkverify (cache)", verifier.verify, lambda t: (t,), _rejects("jwkverify")), case)


@pytest.mark.parametrize("label", HIT_LABELS)
def test_cache_hit(benchmark: Any, monkeypatch: pytest.MonkeyPatch, cases: dict[str, Case],
                   label: str) -> None:
    case = cases[label]
    verifier = make_verifier(case, CACHE_SIZE)
    check_cached(verifier, case)  # stores the good token; refused ones are never stored
    with signature_checks(monkeypatch) as calls:
        for _ in range(3):
            claims = verifier.verify(case.token)
            assert claims == case.claims
    assert calls[0] == 0, "a repeated token was verified again: the cache missed"
    benchmark.group = "token-cache hit"
    benchmark.extra_info.update(kind="cache-hit", algorithm=label, column="hit")
    benchmark(verifier.verify, case.token)


def cycling(verifier: JWTVerifier, tokens: list[str]) -> Callable[[], dict[str, Any]]:
    stream = itertools.cycle(tokens)

    def call() -> dict[str, Any]:
        return verifier.verify(next(stream))

    return call


@pytest.fixture(scope="module")
def streams(cases: dict[str, Case]) -> dict[str, tuple[Case, list[str]]]:
    """Per miss algorithm, its case and 2,000 distinct valid tokens, signed once (a few
    seconds for RSA)."""
    return {label: (cases[label], token_stream(cases[label], STREAM)) for label in MISS_LABELS}


@pytest.mark.parametrize("mode", ["cache off", "cache on"])
@pytest.mark.parametrize("label", MISS_LABELS)
def test_cache_miss(benchmark: Any, monkeypatch: pytest.MonkeyPatch,
                    streams: dict[str, tuple[Case, list[str]]], label: str, mode: str) -> None:
    case, tokens = streams[label]
    assert len(set(tokens)) == STREAM > CACHE_SIZE
    verifier = make_verifier(case, CACHE_SIZE if mode == "cache on" else 0)
    check_cached(verifier, case)
    call = cycling(verifier, tokens)
    # Two passes: the first fills the cache, the second is the steady state the
    # benchmark times (each call misses, stores, and evicts the oldest entry).
    with signature_checks(monkeypatch) as calls:
        for index in range(2 * STREAM):
            claims = call()
            if index % 500 == 0:
                assert claims["jti"].endswith(f"{index % STREAM:06d}")
                assert claims["iss"] == ISSUER
    assert calls[0] == 2 * STREAM, f"{calls[0]} signature checks for {2 * STREAM} distinct-token calls"
    benchmark.group = f"token-cache miss {label}"
    benchmark.extra_info.update(kind="cache-miss", algorithm=label, column=mode)
    benchmark(call)


@pytest.mark.parametrize("shape", ["flat", "nested"])
def test_cache_hit_nested(benchmark: Any, monkeypatch: pytest.MonkeyPatch, cases: dict[str, Case],
                          shape: str) -> None:
    case = cases[NESTED_LABEL]
    token, expected = case.token, case.claims
    if shape == "nested":
        expected = with_nested(case.claims)
        token = compact(case.alg, case.signer.private, case.kid, expected)
    verifier = make_verifier(case, CACHE_SIZE)
    first = verifier.verify(token)
    with signature_checks(monkeypatch) as calls:
        second = verifier.verify(token)
    assert calls[0] == 0 and first == second == expected
    if shape == "nested":  # each hit hands out its own nested values
        second["roles"].append("admin")
        second["https://example.com/org"]["tier"] = "free"
        assert verifier.verify(token) == expected
    benchmark.group = f"token-cache hit {NESTED_LABEL} flat vs nested"
    benchmark.extra_info.update(kind="cache-nested", algorithm=NESTED_LABEL, column=shape)
    benchmark(verifier.verify, token)


def _nested_names(claims: dict[str, Any]) -> Nested:
    """What the cache computes once when it stores a token (``VerifiedTokenCache.put``)."""
    return nested_claims(claims)


COPIES: dict[str, Callable[[dict[str, Any], Nested], Any]] = {
    "copy_claims": copy_claims,
    "MappingProxyType": lambda claims, nested: types.MappingProxyType(claims),
    "copy.deepcopy": lambda claims, nested: copy.deepcopy(claims),
}


@pytest.mark.parametrize("option", list(COPIES))
@pytest.mark.parametrize("shape", ["flat", "nested"])
def test_claims_copy(benchmark: Any, cases: dict[str, Case], shape: str, option: str) -> None:
    """Micro-benchmark: hand out the cached claims as a copy or as a read-only view."""
    case = cases[NESTED_LABEL]
    payload = case.claims if shape == "flat" else with_nested(case.claims)
    # The dict as jwkverify parsed it (the thing a cache entry holds).
    claims = JWTVerifier(JWKSet.from_json(case.jwks_json), issuer=ISSUER, audience=AUDIENCE).verify(
        compact(case.alg, case.signer.private, case.kid, payload))
    nested = _nested_names(claims)
    assert len(nested) == (0 if shape == "flat" else 2)
    make = COPIES[option]
    handed = make(claims, nested)
    assert dict(handed) == claims
    if option == "MappingProxyType":
        with pytest.raises(TypeError):  # the top level is read-only ...
            handed["sub"] = "mallory"  # type: ignore[index]
        if nested:  # ... but nested values are the cached objects themselves
            assert handed["roles"] is claims["roles"]
    else:
        assert handed is not claims and all(handed[name] is not claims[name] for name, _ in nested)
    benchmark.group = f"claims copy {shape}"
    benchmark.extra_info.update(kind="claims-copy", shape=shape, column=option, nested=len(nested))
    benchmark(make, claims, nested)
