"""Property tests: the pure backend's verdict equals ``cryptography``'s, always.

For every algorithm, random keys (made by ``signing.py`` with ``cryptography``),
random messages, and signatures that are valid, corrupted, random, or built from the
edge values an implementation gets wrong (0, 1, n - 1, n, S + L, a non-canonical R,
s >= the modulus ...). Each key is loaded twice from the same JWK, once per backend,
and both must agree; a valid signature must verify. Budgets keep the file to a few
seconds: pure-Python RSA and EC are slow, so keys come from small per-algorithm
pools (a pure key builds its point table on its first verification).
"""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from signing import ALL_ALGORITHMS, SigningKey, b64, make_key

from jwkverify import JWK, JOSEError, verify_jws
from jwkverify._crypto.choice import backend_by_name
from jwkverify._crypto.pure_ec import WEIERSTRASS_CURVES
from jwkverify._crypto.pure_edwards import EDWARDS_CURVES, encode_point
from jwkverify._crypto.seam import SignatureBackend

POOL = 3  # keys per algorithm
#: Algorithm -> (curve name, scalar size) for the edge values of ECDSA and EdDSA.
EC_CURVE = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ES256K": "secp256k1"}
ED_CURVE = {"EdDSA": "Ed25519", "Ed25519": "Ed25519", "Ed448": "Ed448"}


def budget(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@cache
def backend(name: str) -> SignatureBackend:
    return backend_by_name(name)


@cache
def signer(alg: str, index: int) -> SigningKey:
    return make_key(alg, kid=f"{alg}-{index}")


@cache
def keys(alg: str, index: int) -> tuple[JWK, JWK]:
    """The same JWK loaded by ``cryptography`` and by the pure backend."""
    jwk = signer(alg, index).jwk
    return (JWK.from_dict(jwk, backend=backend("cryptography")),
            JWK.from_dict(jwk, backend=backend("pure")))


def edge_values(alg: str) -> list[int]:
    """Integers that make good halves (or wholes) of a hostile signature."""
    if alg in EC_CURVE:
        curve = WEIERSTRASS_CURVES[EC_CURVE[alg]]
        n, p = curve.n, curve.p
        return [0, 1, 2, n - 1, n, n + 1, p - 1, p, (n - 1) // 2, (1 << (8 * curve.size)) - 1]
    if alg in ED_CURVE:
        curve = EDWARDS_CURVES[ED_CURVE[alg]]
        order = curve.order
        return [0, 1, order - 1, order, order + 1, 2 * order, (1 << (8 * curve.size - 1)) - 1]
    return [0, 1, 2]


@st.composite
def signatures(draw: st.DrawFn, alg: str, valid: bytes, modulus: int = 0) -> bytes:
    """A signature for a cross-check: the valid one, changed, random or hostile.

    ``modulus`` is the RSA key's n (the edge values of an RSA signature).
    """
    size = len(valid)
    kind = draw(st.sampled_from(("valid", "bitflip", "random", "edges", "malleate", "length")))
    if kind == "valid":
        return valid
    if kind == "bitflip":
        at = draw(st.integers(0, 8 * len(valid) - 1))
        changed = bytearray(valid)
        changed[at // 8] ^= 1 << (at % 8)
        return bytes(changed)
    if kind == "random":
        return draw(st.binary(min_size=size, max_size=size))
    if kind == "length":
        return draw(st.sampled_from((valid[:-1], valid + b"\x00", b"\x00" + valid, b"")))
    values = edge_values(alg)
    if alg.startswith(("RS", "PS")):  # s >= n must be refused, never reduced
        pick = draw(st.sampled_from((0, 1, 2, modulus - 1, modulus, modulus + 1, (1 << (8 * size)) - 1)))
        return (pick % (1 << (8 * size))).to_bytes(size, "big")
    half = size // 2
    if alg in EC_CURVE:
        r = int.from_bytes(valid[:half], "big")
        s = int.from_bytes(valid[half:], "big")
        curve = WEIERSTRASS_CURVES[EC_CURVE[alg]]
        if kind == "malleate":  # (r, n - s) is ECDSA's other valid signature; JOSE takes both
            s = curve.n - s
        else:
            r = draw(st.sampled_from([*values, r]))
            s = draw(st.sampled_from([*values, s]))
        limit = 1 << (8 * half)
        return (r % limit).to_bytes(half, "big") + (s % limit).to_bytes(half, "big")
    if alg in ED_CURVE:
        curve = EDWARDS_CURVES[ED_CURVE[alg]]
        r_octets = valid[:half]
        s = int.from_bytes(valid[half:], "little")
        if kind == "malleate":  # S + L, or R with y + p (non-canonical), must both fail
            if draw(st.booleans()):
                s += curve.order
            else:
                y = int.from_bytes(r_octets, "little") & ((1 << (8 * half - 1)) - 1)
                sign = r_octets[-1] & 0x80
                if y + curve.p < 1 << (8 * half - 1):
                    raw = bytearray((y + curve.p).to_bytes(half, "little"))
                    raw[-1] |= sign
                    r_octets = bytes(raw)
        else:
            s = draw(st.sampled_from([*values, s]))
            if draw(st.booleans()):
                r_octets = encode_point(curve, *draw(st.sampled_from(_small_points(curve.name))))
        limit = 1 << (8 * half)
        return r_octets + (s % limit).to_bytes(half, "little")
    return draw(st.binary(min_size=size, max_size=size))  # HMAC


@cache
def _small_points(name: str) -> list[tuple[int, int]]:
    """The identity, the point of order 2 and two of order 4 (low-order R values)."""
    curve = EDWARDS_CURVES[name]
    p = curve.p
    if name == "Ed25519":
        i = pow(2, (p - 1) // 4, p)  # sqrt(-1): (i, 0) has order 4 on -x^2 + y^2 = ...
        return [(0, 1), (0, p - 1), (i, 0), (p - i, 0)]
    return [(0, 1), (0, p - 1), (1, 0), (p - 1, 0)]


@pytest.mark.parametrize("alg", ALL_ALGORITHMS)
@budget(100)
@given(data=st.data())
def test_pure_and_cryptography_agree(alg: str, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, POOL - 1), label="key")
    reference, pure = keys(alg, index)
    message = data.draw(st.binary(max_size=200), label="message")
    valid = signer(alg, index).sign(message)
    assert reference.signature_size(alg) == pure.signature_size(alg) == len(valid)
    modulus = _uint(reference.to_dict()["n"]) if reference.kty == "RSA" else 0
    signature = data.draw(signatures(alg, valid, modulus), label="signature")
    changed = data.draw(st.integers(0, 7), label="change the message") == 0
    if changed:
        message += b"."
    expected = reference.verify_signature(alg, signature, message)
    assert pure.verify_signature(alg, signature, message) is expected
    if signature == valid and not changed:
        assert expected, "a valid signature must verify"


def _uint(text: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


@pytest.mark.parametrize("alg", [a for a in ALL_ALGORITHMS if not a.startswith(("RS", "PS"))])
@budget(10)
@given(data=st.data())
def test_fresh_keys_agree(alg: str, data: st.DataObject) -> None:
    """A new key per example (RSA key generation is too slow for this; it has its pool)."""
    key = make_key(alg, kid=None)
    reference = JWK.from_dict(key.jwk, backend=backend("cryptography"))
    pure = JWK.from_dict(key.jwk, backend=backend("pure"))
    message = data.draw(st.binary(max_size=64))
    signature = key.sign(message)
    assert reference.verify_signature(alg, signature, message)
    assert pure.verify_signature(alg, signature, message)
    other = data.draw(signatures(alg, signature))
    assert pure.verify_signature(alg, other, message) is reference.verify_signature(alg, other, message)


def outcome(token: str, key: JWK) -> Any:
    try:
        return json.loads(verify_jws(token, key).payload)
    except JOSEError as exc:
        return type(exc).__name__


@pytest.mark.parametrize("alg", ("RS256", "PS384", "ES256", "ES512", "ES256K", "Ed25519", "Ed448"))
@budget(20)
@given(data=st.data())
def test_tokens_get_the_same_verdict(alg: str, data: st.DataObject) -> None:
    """Whole compact tokens, valid or with one character changed, through verify_jws."""
    reference, pure = keys(alg, 0)
    claims = data.draw(st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
    token = signer(alg, 0).token(claims)
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(token) - 1))
        token = token[:at] + data.draw(st.sampled_from("AQgw-_.x")) + token[at + 1:]
    else:
        assert outcome(token, pure) == claims
    assert outcome(token, pure) == outcome(token, reference)


def test_a_signature_for_another_key_fails_on_both() -> None:
    for alg in ("ES256", "Ed25519", "RS256"):
        signature = signer(alg, 1).sign(b"m")
        for key in keys(alg, 0):
            assert not key.verify_signature(alg, signature, b"m")
        assert all(key.verify_signature(alg, signature, b"m") for key in keys(alg, 1))


def test_helpers_build_well_formed_values() -> None:
    assert b64(b"\xff") == "_w"
    assert len(_small_points("Ed448")) == 4
