"""The optional pybase64 accelerator (``jwkverify[speedups]``) of ``_codec/base64url.py``.

The accelerated and the standard-library decoders must accept and refuse exactly the
same texts, with the same bytes and the same messages: both are run here, in one
process, on the same inputs. Without pybase64 these tests skip locally (saying what to
install) and fail in CI, where ``JWKVERIFY_REQUIRE_INTEROP=1`` and the ``speedups-test``
extra installs it.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from signing import b64, make_key

from jwkverify import JOSEError, JWKSet, JWTVerifier
from jwkverify._codec import base64url as _b64
from jwkverify._codec.base64url import ACCELERATOR_SWITCH, Base64Error, b64url_decode

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = os.environ.get("JWKVERIFY_REQUIRE_INTEROP") == "1"
LONG = _b64._ACCELERATE_FROM  # texts from this length go to the accelerator


@pytest.fixture(scope="module", autouse=True)
def _needs_pybase64() -> None:
    if _b64._accelerator() is None:
        reason = (f"pybase64 is not installed or {ACCELERATOR_SWITCH} is off: "
                  'pip install "jwkverify[speedups-test]"')
        if REQUIRED:
            pytest.fail(f"{reason} (JWKVERIFY_REQUIRE_INTEROP=1)")
        pytest.skip(reason)


def stdlib_only(call: Callable[[], object]) -> object:
    """:func:`outcome` of a call with the accelerator switched off (the standard library decodes)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_b64, "_accelerator", lambda: None)
        return outcome(call)


def outcome(call: Callable[[], object]) -> object:
    """What a call gave: its result, or the JOSEError's class and message."""
    try:
        return call()
    except JOSEError as exc:
        return (type(exc).__name__, str(exc))


# Texts that reach the accelerator: long enough, built from the base64url alphabet with
# the characters a lax decoder would take ('+', '/', '=', whitespace, NUL, non-ASCII).
_NEAR = st.sampled_from("ABCQUwxyz019-_" * 6 + "+/= \n\x00\u00e9")
_LONG_TEXTS = st.builds(lambda body, tail: body + tail,
                        st.text(alphabet=st.sampled_from("AZaz09-_"), min_size=LONG, max_size=LONG + 64),
                        st.text(alphabet=_NEAR, max_size=6))


@settings(max_examples=500, deadline=None)
@given(st.one_of(_LONG_TEXTS,
                 st.text(alphabet=_NEAR, min_size=LONG - 4, max_size=LONG + 40),
                 st.binary(min_size=LONG, max_size=LONG + 200).map(b64),
                 st.binary(min_size=LONG, max_size=LONG + 200).map(
                     lambda data: base64.b64encode(data).decode())))
def test_the_accelerator_accepts_and_refuses_exactly_what_the_standard_library_does(text: str) -> None:
    assert len(text) < LONG or _b64._accelerator() is not None
    assert outcome(lambda: b64url_decode(text)) == stdlib_only(lambda: b64url_decode(text))


def test_known_lax_inputs_are_refused_with_the_accelerator() -> None:
    body = b64(bytes(range(256)) * 2)  # 683 characters: accelerated
    assert b64url_decode(body) == bytes(range(256)) * 2
    for bad in (body + "=", body[:-1] + "+", "/" + body[1:], body[:100] + " " + body[100:],
                body[:-1] + "B",  # non-canonical trailing bits (683 % 4 == 3)
                body + "AA"):  # impossible length (4n + 1)
        with pytest.raises(Base64Error):
            b64url_decode(bad)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_tokens_are_accepted_and_refused_alike(data: st.DataObject) -> None:
    """Through JWTVerifier: the same verdict and message for mutated long-payload tokens."""
    token = _TOKEN
    index = data.draw(st.integers(0, len(token) - 1))
    char = data.draw(st.sampled_from("AQgw-_+/=.~ \u00e9"))
    mutated = token[:index] + char + token[index + 1:]
    assert outcome(lambda: _VERIFIER.verify(mutated)) == stdlib_only(lambda: _VERIFIER.verify(mutated))


_KEY = make_key("HS256", kid="k1")
_CLAIMS = {"iss": "https://issuer.test/", "aud": "api", "exp": 4_000_000_000,
           "groups": [f"group-{n}" for n in range(40)]}
_TOKEN = _KEY.token(payload=json.dumps(_CLAIMS).encode(), alg="HS256")
_VERIFIER = JWTVerifier(JWKSet.from_dict({"keys": [_KEY.jwk]}), issuer="https://issuer.test/",
                        audience="api")
assert len(_TOKEN.split(".")[1]) > LONG


def test_the_switch_turns_the_accelerator_off() -> None:
    code = "from jwkverify._codec.base64url import accelerator_name; print(accelerator_name())"
    for value, expected in (("", "pybase64"), ("off", "None"), ("0", "None"), ("on", "pybase64")):
        env = {**os.environ, ACCELERATOR_SWITCH: value}
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True, cwd=ROOT, env=env)
        assert result.stdout.strip() == expected, value
