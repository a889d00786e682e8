"""Project Wycheproof raw-signature vectors, through the JWK layer, on both backends.

The files in ``vectors/wycheproof/`` (sources in vectors/README.md) test the signature
primitives themselves: ECDSA with IEEE P1363 (``r || s``) signatures, which is the JWS
form (RFC 7518 §3.4), Ed25519 and Ed448 (RFC 8032), RSASSA-PKCS1-v1_5 and RSASSA-PSS
with MGF1 over the same hash and a salt as long as the hash (RFC 7518 §3.5). Each
group's public key is loaded as a JWK and each test's signature checked with
``JWK.verify_signature``, as the JWS core does it (length check first).

``valid`` must verify and ``invalid`` must not, on both backends. ``acceptable``
(small-order Ed25519 keys, a DigestInfo without its NULL) may go either way, but the
pure backend must give the same verdict as OpenSSL.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from jwkverify import JWK, InvalidKey
from jwkverify._crypto.choice import backend_by_name
from jwkverify._crypto.seam import SignatureBackend

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "wycheproof"

#: file -> JWS algorithm whose primitive the file tests.
FILES = {
    "ecdsa_secp256r1_sha256_p1363_test.json": "ES256",
    "ecdsa_secp384r1_sha384_p1363_test.json": "ES384",
    "ecdsa_secp521r1_sha512_p1363_test.json": "ES512",
    "ecdsa_secp256k1_sha256_p1363_test.json": "ES256K",
    "ed25519_test.json": "Ed25519",
    "ed448_test.json": "Ed448",
    "rsa_signature_2048_sha256_test.json": "RS256",
    "rsa_signature_2048_sha384_test.json": "RS384",
    "rsa_signature_2048_sha512_test.json": "RS512",
    "rsa_signature_3072_sha256_test.json": "RS256",
    "rsa_signature_4096_sha512_test.json": "RS512",
    "rsa_pss_2048_sha256_mgf1_32_test.json": "PS256",
    "rsa_pss_2048_sha384_mgf1_48_test.json": "PS384",
    "rsa_pss_3072_sha256_mgf1_32_test.json": "PS256",
    "rsa_pss_4096_sha512_mgf1_64_test.json": "PS512",
}
CURVES = {"secp256r1": ("P-256", 32), "secp384r1": ("P-384", 48), "secp521r1": ("P-521", 66),
          "secp256k1": ("secp256k1", 32)}
BACKENDS = ("cryptography", "pure")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def uint(hex_text: str) -> str:
    value = int(hex_text, 16)
    return b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def jwk_members(group: dict[str, Any]) -> dict[str, str]:
    """The group's public key as JWK members, built from the raw key fields."""
    key = group["publicKey"]
    if "modulus" in key:
        return {"kty": "RSA", "n": uint(key["modulus"]), "e": uint(key["publicExponent"])}
    if "uncompressed" in key:
        crv, size = CURVES[key["curve"]]
        point = bytes.fromhex(key["uncompressed"])
        assert point[0] == 4 and len(point) == 1 + 2 * size
        return {"kty": "EC", "crv": crv, "x": b64(point[1:1 + size]), "y": b64(point[1 + size:])}
    crv = {"edwards25519": "Ed25519", "edwards448": "Ed448"}[key["curve"]]
    return {"kty": "OKP", "crv": crv, "x": b64(bytes.fromhex(key["pk"]))}


@cache
def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return document


@cache
def backend(name: str) -> SignatureBackend:
    return backend_by_name(name)


def verdicts(name: str, backend_name: str) -> dict[int, bool]:
    """tcId -> whether the signature verifies; a key that does not load verifies nothing."""
    alg = FILES[name]
    out: dict[int, bool] = {}
    for group in load(name)["testGroups"]:
        if "sLen" in group:  # RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash
            assert group["mgfSha"] == group["sha"] and group["mgf"] == "MGF1"
        try:
            key: JWK | None = JWK.from_dict(jwk_members(group), backend=backend(backend_name))
        except InvalidKey:
            key = None
        for test in group["tests"]:
            signature, message = bytes.fromhex(test["sig"]), bytes.fromhex(test["msg"])
            out[test["tcId"]] = key is not None and key.verify_signature(alg, signature, message)
    return out


def expected(name: str) -> dict[int, str]:
    return {t["tcId"]: t["result"] for g in load(name)["testGroups"] for t in g["tests"]}


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", sorted(FILES))
def test_wycheproof_signature_file(name: str, backend_name: str) -> None:
    results = verdicts(name, backend_name)
    wanted = expected(name)
    assert results.keys() == wanted.keys()
    assert len(results) == load(name)["numberOfTests"]
    wrong = sorted(tc for tc, result in wanted.items()
                   if result != "acceptable" and results[tc] != (result == "valid"))
    assert not wrong, f"{backend_name} disagrees with Wycheproof on tcId {wrong}"
    if backend_name == "pure":
        # acceptable: the pure backend decides as OpenSSL does.
        reference = verdicts(name, "cryptography")
        differ = sorted(tc for tc, result in wanted.items()
                        if result == "acceptable" and results[tc] != reference[tc])
        assert not differ, f"pure and cryptography differ on acceptable tcId {differ}"


def test_every_file_is_counted() -> None:
    """The totals docs/zero-dependency.md reports: every test of every file, per upstream label."""
    totals = Counter(result for name in FILES for result in expected(name).values())
    assert sum(totals.values()) == sum(load(name)["numberOfTests"] for name in FILES)
    assert totals == {"valid": 1290, "invalid": 1915, "acceptable": 34}
