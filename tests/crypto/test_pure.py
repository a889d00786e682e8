"""The pure-Python backend: selection, zero-dependency mode, key checks, edge cases.

Verdicts are cross-checked against ``cryptography`` in crypto/test_pure_properties.py
and against Wycheproof in test_wycheproof_signatures.py; this file covers the parts
those do not: how the backend is chosen, that ``import jwkverify`` works with
``cryptography`` missing, what keys are refused at load, the curve constants, and
the arithmetic's exceptional cases.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from hypothesis import given
from hypothesis import strategies as st
from signing import b64, make_key

import jwkverify
from jwkverify import JWK, InvalidKey, backend_name
from jwkverify._crypto.choice import BACKEND_NAMES, backend_by_name, default_backend
from jwkverify._crypto.pure import PureBackend
from jwkverify._crypto.pure_ec import WEIERSTRASS_CURVES, ECPublicKey, _sum, _sum_p521, ecdsa_verify
from jwkverify._crypto.pure_edwards import (
    EDWARDS_CURVES,
    EdPublicKey,
    decode_point,
    eddsa_verify,
    encode_point,
)
from jwkverify._crypto.pure_edwards_points import add as _add
from jwkverify._crypto.pure_rsa import RSAPublicKey, pkcs1v15_prefix, pkcs1v15_verify, pss_verify
from jwkverify._crypto.pure_window import positions, signed_digits
from jwkverify._crypto.seam import BackendKeyError
from jwkverify.algorithms import ALGORITHMS, CURVES

REPO = Path(__file__).resolve().parents[2]
PURE = PureBackend()
EC_CLASSES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1,
              "secp256k1": ec.SECP256K1}

# -- choosing a backend ------------------------------------------------------------------------


def test_the_default_is_cryptography_when_it_is_installed() -> None:
    assert backend_name() == "cryptography" == default_backend().name
    assert default_backend() is default_backend()  # decided once
    assert "backend_name" in jwkverify.__all__


def test_backends_by_name() -> None:
    assert BACKEND_NAMES == ("cryptography", "pure")
    for name in BACKEND_NAMES:
        assert backend_by_name(name).name == name
    with pytest.raises(ValueError, match="unknown backend 'openssl'"):
        backend_by_name("openssl")


def test_keys_take_the_backend_they_are_given() -> None:
    key = JWK.from_dict(make_key("ES256").jwk, backend=backend_by_name("pure"))
    assert isinstance(key.public_key, ECPublicKey)


def test_importing_jwkverify_loads_no_backend() -> None:
    code = ("import sys, jwkverify; print(sorted(m for m in sys.modules "
            "if m.startswith(('jwkverify._crypto.pure', 'jwkverify._crypto.openssl'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=REPO)
    assert result.stdout.strip() == "[]"


# -- zero-dependency mode: cryptography cannot be imported -----------------------------------

ZERO_DEPENDENCY_ALGS = (("RS256", "RS256"), ("PS256", "PS256"), ("ES256", "ES256"),
                        ("ES384", "ES384"), ("ES512", "ES512"), ("ES256K", "ES256K"),
                        ("Ed25519", "EdDSA"), ("Ed448", "EdDSA"), ("Ed25519", "Ed25519"),
                        ("Ed448", "Ed448"), ("HS256", "HS256"))

CHILD = textwrap.dedent("""
    import json, sys

    class BlockCryptography:
        def find_spec(self, name, path=None, target=None):
            if name == "cryptography" or name.startswith("cryptography."):
                raise ImportError(f"{name} is blocked for this test")
            return None

    sys.meta_path.insert(0, BlockCryptography())
    sys.path.insert(0, sys.argv[1])
    for name in [m for m in sys.modules if m.startswith(("cryptography", "jwkverify"))]:
        del sys.modules[name]

    import jwkverify
    from jwkverify import JWK, InvalidSignature, JWKSet, JWTVerifier, backend_name, verify_jws

    cases = json.load(sys.stdin)
    assert backend_name() == "pure", backend_name()
    for case in cases:
        key = JWK.from_dict(case["jwk"])
        assert verify_jws(case["token"], key).payload == case["payload"].encode(), case["alg"]
        try:
            verify_jws(case["bad"], key)
        except InvalidSignature:
            pass
        else:
            raise AssertionError(f"a tampered {case['alg']} token verified")
    public = [c for c in cases if c["jwk"]["kty"] != "oct"]
    keys = JWKSet.from_dict({"keys": [c["jwk"] for c in public]})
    verifier = JWTVerifier(keys, audience="me")
    for case in public:
        assert verifier.verify(case["token"]) == json.loads(case["payload"]), case["alg"]
    assert not [m for m in sys.modules if m.startswith("cryptography")]
    print("verified", len(cases), backend_name())
""")


def test_zero_dependency_mode_verifies_every_algorithm() -> None:
    cases = []
    for index, (key_alg, token_alg) in enumerate(ZERO_DEPENDENCY_ALGS):
        key = make_key(key_alg, kid=f"k{index}")
        payload = json.dumps({"aud": "me", "n": index})
        token = key.token(payload=payload.encode(), alg=token_alg)
        head, _, signature = token.split(".")
        bad_body = b64(json.dumps({"aud": "me", "n": index + 1}).encode())
        cases.append({"alg": token_alg, "jwk": key.jwk, "token": token, "payload": payload,
                      "bad": f"{head}.{bad_body}.{signature}"})
    result = subprocess.run([sys.executable, "-c", CHILD, str(REPO)], input=json.dumps(cases),
                            capture_output=True, text=True, check=False, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"verified {len(cases)} pure"


# -- key checks at load ---------------------------------------------------------------------


@pytest.mark.parametrize("crv", sorted(WEIERSTRASS_CURVES))
def test_ec_points_off_the_curve_are_refused(crv: str) -> None:
    curve = WEIERSTRASS_CURVES[crv]
    size = curve.size
    gx, gy = curve.gx.to_bytes(size, "big"), curve.gy.to_bytes(size, "big")
    assert isinstance(PURE.ec_public_key(crv, gx, gy), ECPublicKey)
    for x, y in ((gx, (curve.gy + 1).to_bytes(size, "big")),  # off the curve
                 (bytes(size), bytes(size)),  # the usual encoding of "infinity"
                 (gx, (curve.gy + curve.p).to_bytes(size + 1, "big")[-size:]
                  if curve.gy + curve.p < 1 << (8 * size) else bytes(size))):
        with pytest.raises(BackendKeyError):
            PURE.ec_public_key(crv, x, y)
    with pytest.raises(ValueError, match="below the field prime"):
        ECPublicKey(curve, curve.gx, curve.gy + curve.p)
    jwk = {"kty": "EC", "crv": crv, "x": b64(gx), "y": b64((curve.gy + 1).to_bytes(size, "big"))}
    with pytest.raises(InvalidKey, match="not on the curve"):
        JWK.from_dict(jwk, backend=PURE)


def _off_curve_y(name: str) -> int:
    curve = EDWARDS_CURVES[name]
    return next(y for y in range(2, 100)
                if decode_point(curve, y.to_bytes(curve.size, "little")) is None)


@pytest.mark.parametrize("name", ["Ed25519", "Ed448"])
def test_okp_keys_are_decoded_strictly_at_load(name: str) -> None:
    """RFC 8032 §5.1.3 / §5.2.3. cryptography (OpenSSL) loads any octets of the right
    length and fails at verification instead; under both backends such a key never
    verifies a token, but the pure backend says so at load (InvalidKey)."""
    curve = EDWARDS_CURVES[name]
    size, p = curve.size, curve.p
    top = 1 << (8 * size - 1)
    refused = {
        "y >= p": (p + 1).to_bytes(size, "little"),
        "off the curve": _off_curve_y(name).to_bytes(size, "little"),
        "x = 0 with the sign bit": (1 | top).to_bytes(size, "little"),
    }
    if name == "Ed448":
        refused["Ed448 unused bits"] = (curve.by | (1 << 448)).to_bytes(size, "little")
        refused["Ed448 x = 0 (as OpenSSL)"] = (1).to_bytes(size, "little")
    for why, octets in refused.items():
        with pytest.raises(BackendKeyError):
            PURE.okp_public_key(name, octets)
        with pytest.raises(InvalidKey, match="not a valid"):
            JWK.from_dict({"kty": "OKP", "crv": name, "x": b64(octets)}, backend=PURE)
        assert JWK.from_dict({"kty": "OKP", "crv": name, "x": b64(octets)}), why  # cryptography loads it
    assert isinstance(PURE.okp_public_key(name, encode_point(curve, curve.bx, curve.by)), EdPublicKey)


def test_rsa_keys_follow_cryptographys_rules() -> None:
    assert RSAPublicKey(3233, 17).k == 2  # the textbook key: n = 61 * 53
    for n, e in ((3234, 17), (1, 3), (3233, 3233), (3233, 4), (3233, 1)):
        with pytest.raises(BackendKeyError):
            PURE.rsa_public_key(n, e)
    key = RSAPublicKey(3233, 17)
    with pytest.raises(AttributeError):
        key.n = 5


# -- curve constants --------------------------------------------------------------------------


@pytest.mark.parametrize("crv", sorted(WEIERSTRASS_CURVES))
def test_weierstrass_constants_match_openssl(crv: str) -> None:
    curve = WEIERSTRASS_CURVES[crv]
    assert curve.p == CURVES[crv].field_prime and curve.size == CURVES[crv].size
    g = ec.derive_private_key(1, EC_CLASSES[crv]()).public_key().public_numbers()
    assert (g.x, g.y) == (curve.gx, curve.gy)
    minus_g = ec.derive_private_key(curve.n - 1, EC_CLASSES[crv]()).public_key().public_numbers()
    assert (minus_g.x, minus_g.y) == (curve.gx, curve.p - curve.gy)  # so n is G's order
    with pytest.raises(ValueError):
        ec.derive_private_key(curve.n, EC_CLASSES[crv]())
    assert (curve.gy**2 - curve.gx**3 - curve.a * curve.gx - curve.b) % curve.p == 0


@pytest.mark.parametrize("name", ["Ed25519", "Ed448"])
def test_edwards_constants(name: str) -> None:
    curve = EDWARDS_CURVES[name]
    p, x, y = curve.p, curve.bx, curve.by
    assert (curve.a * x * x + y * y - 1 - curve.d * x * x * y * y) % p == 0
    point = (0, 1, 1, 0)
    base = (x, y, 1, x * y % p)
    for bit in bin(curve.order)[2:]:  # [L]B is the identity
        point = _add(curve, point, point)
        if bit == "1":
            point = _add(curve, point, base)
    assert point[0] == 0 and point[1] == point[2]
    if name == "Ed25519":  # RFC 8032 §5.1: d = -121665/121666, B = (x, 4/5)
        assert curve.d == -121665 * pow(121666, -1, p) % p
        assert y == 4 * pow(5, -1, p) % p
        assert encode_point(curve, x, y).hex() == "58" + "66" * 31
    else:  # RFC 8032 §5.2: d = -39081
        assert curve.d == p - 39081
    assert decode_point(curve, encode_point(curve, x, y)) == (x, y)


# -- arithmetic edge cases ------------------------------------------------------------------


@pytest.mark.parametrize("crv", sorted(WEIERSTRASS_CURVES))
def test_point_sums_handle_doubling_and_cancelling(crv: str) -> None:
    curve = WEIERSTRASS_CURVES[crv]
    p = curve.p
    g, minus_g = (curve.gx, curve.gy), (curve.gx, p - curve.gy)
    two = ec.derive_private_key(2, EC_CLASSES[crv]()).public_key().public_numbers()
    for total in (_sum, _sum_p521) if crv == "P-521" else (_sum,):
        x, z = total([g, g], p, curve.a)
        assert x * pow(z * z, -1, p) % p == two.x
        assert total([g, minus_g], p, curve.a)[1] == 0
        x, z = total([g, minus_g, g], p, curve.a)
        assert x * pow(z * z, -1, p) % p == curve.gx
        assert total([], p, curve.a)[1] == 0


@pytest.mark.parametrize("crv", sorted(WEIERSTRASS_CURVES))
def test_ecdsa_range_checks(crv: str) -> None:
    curve = WEIERSTRASS_CURVES[crv]
    alg = next(a for a in ALGORITHMS.values() if crv in a.curves)
    assert alg.hash_name is not None
    private = ec.generate_private_key(EC_CLASSES[crv]())
    numbers = private.public_key().public_numbers()
    key = ECPublicKey(curve, numbers.x, numbers.y)
    size, n = curve.size, curve.n

    def sig(r: int, s: int) -> bytes:
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    for r, s in ((0, 1), (1, 0), (n, 1), (1, n), (0, 0), (n - 1, n)):
        assert not ecdsa_verify(key, alg.hash_name, sig(r, s), b"m")
    assert not ecdsa_verify(key, alg.hash_name, b"\x01" * (2 * size + 1), b"m")


def _secret_scalar(name: str, seed: bytes) -> int:
    """RFC 8032 §5.1.5 / §5.2.5: the private scalar of a seed (test-side signer)."""
    if name == "Ed25519":
        raw = bytearray(hashlib.sha512(seed).digest()[:32])
        raw[0] &= 248
        raw[31] = (raw[31] & 127) | 64
    else:
        raw = bytearray(hashlib.shake_256(seed).digest(114)[:57])
        raw[0] &= 252
        raw[56] = 0
        raw[55] |= 128
    return int.from_bytes(raw, "little")


def _multiply(name: str, k: int, point: tuple[int, int]) -> tuple[int, int]:
    curve = EDWARDS_CURVES[name]
    p = curve.p
    out = (0, 1, 1, 0)
    for bit in bin(k)[2:]:
        out = _add(curve, out, out)
        if bit == "1":
            out = _add(curve, out, (point[0], point[1], 1, point[0] * point[1] % p))
    inverse = pow(out[2], -1, p)
    return out[0] * inverse % p, out[1] * inverse % p


def _plus(name: str, one: tuple[int, int], two: tuple[int, int]) -> tuple[int, int]:
    curve = EDWARDS_CURVES[name]
    p = curve.p
    x, y, z, _ = _add(curve, (*one, 1, one[0] * one[1] % p), (*two, 1, two[0] * two[1] % p))
    return x * pow(z, -1, p) % p, y * pow(z, -1, p) % p


@pytest.mark.parametrize("name", ["Ed25519", "Ed448"])
def test_signatures_with_a_low_order_part_get_openssls_verdict(name: str) -> None:
    """R = [r]B + T for a low-order T, and R itself of low order, signed with the real
    private key. OpenSSL's Ed25519 is cofactorless (it refuses every one whose T is not
    the identity); its Ed448 is cofactored and refuses R with x = 0. The pure backend
    must decide each one the same way."""
    curve = EDWARDS_CURVES[name]
    p = curve.p
    private: Any = (ed25519.Ed25519PrivateKey if name == "Ed25519" else ed448.Ed448PrivateKey).generate()
    public_octets = private.public_key().public_bytes_raw()
    a = _secret_scalar(name, private.private_bytes_raw())
    base = (curve.bx, curve.by)
    assert encode_point(curve, *_multiply(name, a, base)) == public_octets
    quarter = pow(2, (p - 1) // 4, p) if name == "Ed25519" else 1
    low_order = [(0, 1), (0, p - 1), (quarter, 0), (p - quarter, 0)]
    key = EdPublicKey(curve, public_octets)
    verdicts = []
    for r in (0, 7, 123456789):
        for torsion in low_order:
            nonce = _multiply(name, r, base) if r else (0, 1)
            point = _plus(name, nonce, torsion)
            r_octets = encode_point(curve, *point)
            k = int.from_bytes(curve.challenge(r_octets + public_octets + b"m"), "little") % curve.order
            signature = r_octets + ((r + k * a) % curve.order).to_bytes(curve.size, "little")
            try:
                private.public_key().verify(signature, b"m")
                openssl = True
            except CryptoInvalidSignature:
                openssl = False
            assert eddsa_verify(key, signature, b"m") is openssl, (r, torsion)
            verdicts.append(openssl)
    assert any(verdicts)  # at least the torsion-free (T = identity) ones verify


# -- RSA: a modulus whose bit length is 1 mod 8 (EM one octet shorter than k) ---------------


def _rsa_2049() -> rsa.RSAPrivateKey:
    # OpenSSL rounds odd key sizes down, so build one from a 1025- and a 1024-bit prime
    # (OpenSSL sets the top two bits of each prime, so n has 2049 bits).
    p = rsa.generate_private_key(65537, 2050).private_numbers().p
    q = rsa.generate_private_key(65537, 2048).private_numbers().q
    e = 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(e, p * q)
    return rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), public).private_key()


def test_pss_and_pkcs1_with_a_2049_bit_modulus() -> None:
    private = _rsa_2049()
    numbers = private.public_key().public_numbers()
    key = RSAPublicKey(numbers.n, numbers.e)
    assert (key.k, key.mod_bits) == (257, 2049)
    for name, algorithm in (("sha256", hashes.SHA256()), ("sha512", hashes.SHA512())):
        pss = padding.PSS(padding.MGF1(algorithm), algorithm.digest_size)
        signature = private.sign(b"msg", pss, algorithm)
        assert pss_verify(key, name, signature, b"msg")
        assert not pss_verify(key, name, signature, b"msg!")
        signature = private.sign(b"msg", padding.PKCS1v15(), algorithm)
        prefix = pkcs1v15_prefix(key, name)
        assert pkcs1v15_verify(key, name, prefix, signature, b"msg")
        too_big = numbers.n.to_bytes(257, "big")
        assert not pkcs1v15_verify(key, name, prefix, too_big, b"msg")
        assert not pss_verify(key, name, too_big, b"msg")


def test_pkcs1_needs_room_for_the_digest_info() -> None:
    assert pkcs1v15_prefix(RSAPublicKey(3233, 17), "sha256") is None


# -- signed windows -------------------------------------------------------------------------


@given(scalar=st.integers(0, 2**521), width=st.integers(2, 8))
def test_signed_digits_rebuild_the_scalar(scalar: int, width: int) -> None:
    count = positions(max(scalar.bit_length(), 1), width)
    digits = signed_digits(scalar, width, count)
    assert sum(d << (width * j) for j, d in enumerate(digits)) == scalar
    assert all(-(1 << (width - 1)) < d <= 1 << (width - 1) for d in digits)


def test_signed_digits_refuse_a_scalar_too_large() -> None:
    with pytest.raises(ValueError):
        signed_digits(1 << 16, 4, 4)


# -- the corners the vectors do not reach ---------------------------------------------------


def test_the_default_falls_back_to_pure_when_cryptography_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from jwkverify._crypto import choice

    def without_cryptography(name: str) -> Any:
        if name == "cryptography":
            raise ImportError("No module named 'cryptography'")
        return backend_by_name(name)

    monkeypatch.setattr(choice, "backend_by_name", without_cryptography)
    assert choice._default_backend.__wrapped__().name == "pure"  # the uncached function


def test_the_pure_backend_refuses_what_it_does_not_know() -> None:
    with pytest.raises(BackendKeyError, match="unsupported curve"):
        PURE.ec_public_key("P-224", b"\x01" * 28, b"\x01" * 28)
    with pytest.raises(BackendKeyError, match="unsupported curve"):
        PURE.okp_public_key("X25519", b"\x09" + bytes(31))
    rsa_key = PURE.rsa_public_key(3233, 17)
    ec_key = PURE.ec_public_key("P-256", *(v.to_bytes(32, "big") for v in (
        WEIERSTRASS_CURVES["P-256"].gx, WEIERSTRASS_CURVES["P-256"].gy)))
    for alg, key in (("ES256", rsa_key), ("RS256", ec_key), ("ES384", ec_key), ("EdDSA", ec_key),
                     ("HS256", rsa_key)):
        with pytest.raises(BackendKeyError, match="cannot verify"):
            PURE.verifier(ALGORITHMS[alg], key)


def test_primitives_refuse_wrong_lengths_themselves() -> None:
    """The JWK layer checks the length first; the primitives do not rely on it."""
    for name in ("Ed25519", "Ed448"):
        curve = EDWARDS_CURVES[name]
        key = EdPublicKey(curve, encode_point(curve, curve.bx, curve.by))
        assert not eddsa_verify(key, bytes(2 * curve.size - 1), b"m")
        assert decode_point(curve, bytes(curve.size + 1)) is None
    key = RSAPublicKey(3233, 17)
    assert key.recover(b"\x00") is None and key.recover(b"\x00\x02") == 2**17 % 3233
    assert not pss_verify(key, "sha256", b"\x00", b"m")


def test_pss_refuses_what_emsa_pss_verify_refuses() -> None:
    private = _rsa_2049()
    numbers = private.public_key().public_numbers()
    key = RSAPublicKey(numbers.n, numbers.e)
    # A signature whose s^e mod n needs all 2049 bits does not fit emLen = 256 octets.
    s = next(s for s in range(2, 1000) if pow(s, numbers.e, numbers.n) >> 2048)
    assert not pss_verify(key, "sha256", s.to_bytes(257, "big"), b"m")
    # A 1024-bit key is too short for SHA-512 with a 64-octet salt (§9.1.2 step 3).
    small = rsa.generate_private_key(65537, 1024).public_key().public_numbers()
    assert not pss_verify(RSAPublicKey(small.n, small.e), "sha512", (2).to_bytes(128, "big"), b"m")


def test_doubling_a_point_of_order_two_gives_infinity() -> None:
    from jwkverify._crypto.pure_ec import _double

    assert _double(5, 0, 1, 7, 0) == (0, 0, 0)
    assert _double(5, 3, 0, 7, 0) == (0, 0, 0)
