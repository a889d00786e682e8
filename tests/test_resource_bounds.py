"""Hostile input costs little: each refusal is quick, small in memory and says what was wrong.

tests/test_robustness.py proves *that* oversized tokens, huge headers, thousands of
keys, deep nesting and 100,000-digit numbers are refused, with the right error class.
This file measures the *cost* of each refusal, through every entry point that takes
untrusted input (tokens, JWKs, JWK Sets, and a remote key set's HTTP response):

- time: CPU seconds of the call, against a budget ~50x what it takes on a laptop;
- memory: the peak of Python allocations during the call (``tracemalloc``), the
  input itself excluded, against a budget proportional to the input;
- the error: its class, a message naming the bound, and a message short enough to
  log, that never echoes the input.

It also bounds the work a key set that is hostile but within every limit can cause:
the largest set accepted (``max_keys`` RSA keys, or a ``max_bytes`` remote body).
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from signing import b64, make_key

from jwkverify import (
    JWK,
    InvalidKey,
    InvalidKeySet,
    JOSEError,
    JWKSet,
    JWTVerifier,
    KeyNotFound,
    KeySetFetchError,
    MalformedToken,
    RemoteJWKSet,
    verify_jws,
    verify_jwt,
)
from jwkverify.keyset import DEFAULT_MAX_KEYS

HS = make_key("HS256", kid="hs")
KEY = JWK.from_dict(HS.jwk)
RSA = make_key("RS256", kid="rsa")
UNBOUNDED = 1 << 26
MiB = 1 << 20
#: Longest message a refusal may carry: enough to explain, short enough to log.
MESSAGE_LIMIT = 400


def signed(header: bytes, payload: bytes) -> str:
    signing_input = f"{b64(header)}.{b64(payload)}"
    return f"{signing_input}.{b64(HS.sign(signing_input.encode()))}"


@dataclass(frozen=True)
class Cost:
    error: BaseException | None
    seconds: float
    peak: int


def measure(call: Callable[[], object]) -> Cost:
    """Run ``call`` once, with its CPU time and its peak of new Python allocations."""
    tracemalloc.start()
    started = time.process_time()
    try:
        call()
        error = None
    except JOSEError as exc:
        error = exc
    finally:
        seconds = time.process_time() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return Cost(error, seconds, peak)


def served(body: bytes, headers: dict[str, str] | None = None) -> RemoteJWKSet:
    """A remote set whose endpoint answers ``body`` (no socket: a ``fetch`` function)."""
    answer = (200, headers or {"content-type": "application/json"}, body)
    return RemoteJWKSet("https://idp.example/jwks", fetch=lambda url, sent, timeout: answer)


@dataclass(frozen=True)
class Hostile:
    """An input, the call that takes it, and what the refusal must look like."""

    make: Callable[[], Any]
    call: Callable[[Any], object]
    error: type[JOSEError]
    says: str
    seconds: float = 0.5
    #: Peak memory may be this many times the input (JSON objects cost more than their text).
    memory: int = 8


def refresh(body: bytes) -> None:
    served(body).refresh()


def _deep(depth: int, kind: str = "[") -> str:
    return kind * depth if kind == "[" else '{"a":' * depth


def _nested_token(depth: int) -> str:
    return signed(b'{"alg":"HS256","x":' + b"[" * depth + b"]" * depth + b"}", b"{}")


HOSTILE: dict[str, Hostile] = {
    # -- tokens --
    "16-MiB-token": Hostile(lambda: "A" * (16 * MiB), lambda t: verify_jws(t, KEY), MalformedToken,
                            "longer than 16384"),
    "16-MiB-token-bytes": Hostile(lambda: b"A." * (8 * MiB), lambda t: verify_jwt(t, KEY), MalformedToken,
                                  "longer than 16384"),
    "16-MiB-token-verifier": Hostile(lambda: "e." * (8 * MiB), lambda t: JWTVerifier(KEY).verify(t),
                                     MalformedToken, "longer than 16384"),
    "1-MiB-header-unbounded": Hostile(
        lambda: signed(b'{"alg":"HS256","pad":"' + b"x" * MiB + b'","crit":["x"]}', b"{}"),
        lambda t: verify_jws(t, KEY, max_token_size=UNBOUNDED), MalformedToken, "'crit'"),
    "100k-deep-header-unbounded": Hostile(lambda: _nested_token(100_000),
                                          lambda t: verify_jws(t, KEY, max_token_size=UNBOUNDED),
                                          MalformedToken, "nested too deeply"),
    "100k-deep-claims-unbounded": Hostile(
        lambda: signed(b'{"alg":"HS256"}', b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        lambda t: verify_jwt(t, KEY, max_token_size=UNBOUNDED), MalformedToken, "nested too deeply"),
    "100k-digit-exp": Hostile(lambda: signed(b'{"alg":"HS256"}', b'{"exp":' + b"9" * 100_000 + b"}"),
                              lambda t: verify_jwt(t, KEY, max_token_size=UNBOUNDED), MalformedToken,
                              "longer than 128 characters"),
    "100k-digit-header-member": Hostile(
        lambda: signed(b'{"alg":"HS256","n":' + b"1" * 100_000 + b".5}", b"{}"),
        lambda t: verify_jws(t, KEY, max_token_size=UNBOUNDED), MalformedToken, "longer than 128 characters"),
    "10k-character-kid": Hostile(lambda: signed(b'{"alg":"HS256","kid":"' + b"k" * 10_000 + b'"}', b"{}"),
                                 lambda t: verify_jws(t, JWKSet([KEY])), KeyNotFound,
                                 "no key in the set has kid"),
    # -- JWKs --
    "1-MiB-modulus": Hostile(lambda: {"kty": "RSA", "n": b64(b"\xff" * MiB), "e": "AQAB"}, JWK.from_dict,
                             InvalidKey, "at most 16384 bits"),
    "1-MiB-exponent": Hostile(lambda: {**RSA.jwk, "e": b64(b"\x01" * MiB)}, JWK.from_dict, InvalidKey,
                              "at most 64 bits"),
    "100k-digit-number-in-jwk": Hostile(lambda: f'{{"kty":"oct","k":"{HS.jwk["k"]}","n":{"9" * 100_000}}}',
                                        JWK.from_json, InvalidKey, "longer than 128 characters"),
    "100k-deep-jwk": Hostile(lambda: '{"kty":"oct","x":' + _deep(100_000) + "}", JWK.from_json, InvalidKey,
                             "nested too deeply"),
    # -- JWK Sets --
    "10k-keys": Hostile(lambda: json.dumps({"keys": [HS.jwk] * 10_000}), JWKSet.from_json, InvalidKeySet,
                        "at most 1000 are accepted", memory=32),
    "1M-null-keys": Hostile(lambda: {"keys": [None] * 1_000_000}, JWKSet.from_dict, InvalidKeySet,
                            "at most 1000 are accepted"),
    "512k-deep-jwks": Hostile(lambda: _deep(512 * 1024), JWKSet.from_json, InvalidKeySet,
                              "nested too deeply"),
    "512k-deep-objects-jwks": Hostile(lambda: _deep(100_000, "{"), JWKSet.from_json, InvalidKeySet,
                                      "nested too deeply"),
    "100k-digit-number-in-jwks": Hostile(lambda: '{"keys":[],"n":' + "9" * 100_000 + "}", JWKSet.from_json,
                                         InvalidKeySet, "longer than 128 characters"),
    # -- a remote key set's response (within max_bytes, so the parser sees it) --
    "remote-512k-deep": Hostile(lambda: b"[" * (512 * 1024), refresh, KeySetFetchError, "nested too deeply"),
    "remote-100k-digit-number": Hostile(lambda: b'{"keys":[],"n":' + b"9" * 100_000 + b"}", refresh,
                                        KeySetFetchError, "longer than 128 characters"),
    "remote-10k-keys": Hostile(lambda: json.dumps({"keys": [{"kty": "EC"}] * 10_000}).encode(), refresh,
                               KeySetFetchError, "at most 1000 are accepted", memory=32),
    # The worst body within max_bytes: ~0.25 s of JSON parsing here, once per cooldown.
    "remote-130k-empty-keys": Hostile(lambda: b'{"keys":[' + b",".join([b"{}"] * 130_000) + b"]}", refresh,
                                      KeySetFetchError, "at most 1000 are accepted", seconds=3, memory=32),
    "remote-over-max-bytes": Hostile(lambda: b" " * (512 * 1024 + 1), refresh, KeySetFetchError,
                                     "at most 524288 are accepted"),
    "remote-1000-unusable-keys": Hostile(
        lambda: json.dumps({"keys": [{"kty": "AKP", "kid": str(i)} for i in range(1000)]}).encode(), refresh,
        KeySetFetchError, "no usable key (1000 entries skipped", memory=32),
}


def _size(value: Any) -> int:
    if isinstance(value, str | bytes):
        return len(value)
    return len(json.dumps(value)) if isinstance(value, dict) else 0


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_is_refused_quickly_in_bounded_memory(name: str) -> None:
    case = HOSTILE[name]
    hostile = case.make()
    cost = measure(lambda: case.call(hostile))
    assert isinstance(cost.error, case.error), cost.error
    message = str(cost.error)
    assert case.says in message
    assert len(message) <= MESSAGE_LIMIT, message
    assert "x" * 100 not in message and "9" * 100 not in message and "[" * 100 not in message
    assert cost.seconds < case.seconds, f"{name}: {cost.seconds:.3f} s"
    # The input is already allocated; the refusal may copy it a few times (decode,
    # parse), never more: memory follows the input, not what the input describes.
    budget = case.memory * _size(hostile) + MiB
    assert cost.peak < budget, f"{name}: peak {cost.peak} bytes, budget {budget}"


def test_a_remote_response_over_max_bytes_is_not_parsed() -> None:
    """The size check comes before the parse: a 64 MiB body of nesting costs no parse at all."""
    remote = served(b"[" * (64 * MiB))
    cost = measure(remote.refresh)
    assert isinstance(cost.error, KeySetFetchError)
    assert "at most 524288 are accepted" in str(cost.error)
    assert cost.peak < MiB
    assert cost.seconds < 0.5


# -- the most a set within every limit can cost ------------------------------------------------


def _rsa_entries(count: int) -> list[dict[str, Any]]:
    """``count`` entries of one real 2048-bit RSA key under distinct kids (all distinct JWKs)."""
    return [{**RSA.jwk, "kid": f"k{index}"} for index in range(count)]


def test_the_largest_key_set_accepted_loads_in_bounded_time_and_memory() -> None:
    text = json.dumps({"keys": _rsa_entries(DEFAULT_MAX_KEYS)})  # ~400 KB: under max_bytes too
    cost = measure(lambda: JWKSet.from_json(text))
    assert cost.error is None
    assert cost.seconds < 10, f"{cost.seconds:.2f} s"  # ~0.25 s here
    assert cost.peak < 64 * MiB, cost.peak  # ~8 MB here
    keys = JWKSet.from_json(text)
    token = RSA.token({"sub": "a"}, header={"kid": f"k{DEFAULT_MAX_KEYS - 1}"})
    started = time.process_time()
    assert verify_jwt(token, keys) == {"sub": "a"}
    assert time.process_time() - started < 0.1  # one dictionary lookup, not a scan of the set


def test_the_largest_remote_set_accepted_loads_in_bounded_time() -> None:
    body = json.dumps({"keys": _rsa_entries(DEFAULT_MAX_KEYS)}).encode()
    assert len(body) <= 512 * 1024
    remote = served(body, {"content-type": "application/jwk-set+json", "cache-control": "max-age=600"})
    cost = measure(remote.refresh)
    assert cost.error is None
    assert cost.seconds < 10, f"{cost.seconds:.2f} s"
    assert remote.state.key_count == DEFAULT_MAX_KEYS


def test_a_token_without_kid_tries_a_bounded_number_of_keys() -> None:
    """Without kid, at most 4 keys are tried: a 1000-key set does not cost 1000 verifications."""
    keys = JWKSet.from_dict({"keys": [{k: v for k, v in entry.items() if k != "kid"}
                                      for entry in _rsa_entries(2)]
                             + [make_key("RS256", kid=None).jwk for _ in range(4)]})
    token = RSA.token({"sub": "a"}, header={"kid": None})
    cost = measure(lambda: verify_jwt(token, keys))
    assert isinstance(cost.error, KeyNotFound)
    assert "at most 4 are tried" in str(cost.error)
    assert cost.seconds < 0.1


# -- messages never echo untrusted input at length ---------------------------------------------

BIG = "x" * 5000


def _token_with_header(header: dict[str, Any] | str) -> str:
    text = header if isinstance(header, str) else json.dumps(header)
    return signed(text.encode(), b"{}")


# Regression: these four used !r instead of errors.clip() until d3b953f (found by this file).
ECHOES: dict[str, Callable[[], object]] = {
    "token-kid-vs-jwkset": lambda: verify_jws(_token_with_header({"alg": "HS256", "kid": BIG}),
                                              JWKSet([KEY])),
    "token-kid-vs-jwk": lambda: verify_jws(_token_with_header({"alg": "HS256", "kid": BIG}), KEY),
    "token-typ": lambda: verify_jwt(_token_with_header({"alg": "HS256", "typ": BIG}), KEY, typ="JWT"),
    "token-crit": lambda: verify_jws(_token_with_header({"alg": "HS256", "crit": [BIG]}), KEY),
    "token-alg": lambda: verify_jws(_token_with_header({"alg": BIG}), KEY),
    "duplicate-member-in-header": lambda: verify_jws(
        _token_with_header(f'{{"alg":"HS256","{BIG}":1,"{BIG}":1}}'), KEY),
    "duplicate-member-in-jwks": lambda: JWKSet.from_json(f'{{"keys":[],"{BIG}":1,"{BIG}":1}}'),
    "jwk-kty": lambda: JWK.from_dict({"kty": BIG}),
    "jwk-use": lambda: JWKSet.from_dict({"keys": [{**HS.jwk, "use": BIG}]}).keys_for("HS256", "hs"),
    "key-kid-in-refusal": lambda: verify_jws(_token_with_header({"alg": "HS512"}),
                                             JWK.from_dict({**HS.jwk, "kid": BIG})),
    "key-ops-in-refusal": lambda: verify_jws(_token_with_header({"alg": "HS256"}), JWK.from_dict(
        {**HS.jwk, "key_ops": [f"op{n}" for n in range(1000)]})),
}


@pytest.mark.parametrize("cause", list(ECHOES.values()), ids=list(ECHOES))
def test_messages_never_echo_untrusted_input_at_length(cause: Callable[[], object]) -> None:
    with pytest.raises(JOSEError) as caught:
        cause()
    assert len(str(caught.value)) <= MESSAGE_LIMIT, f"{len(str(caught.value))} characters"
