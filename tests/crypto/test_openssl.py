"""The cryptography backend's RSASSA-PKCS1-v1_5 verifier against ``cryptography``'s own.

jwkverify verifies PKCS#1 v1.5 by encode-and-compare (RFC 8017 §8.2.2): OpenSSL
recovers the ``00 01 FF..FF 00`` block, the rest must equal the expected DigestInfo
byte for byte. It must give exactly ``RSAPublicKey.verify``'s verdict, on every
Wycheproof vector (the malformed DigestInfo, BER and padding cases included) and on
tampered signatures of fresh keys.
"""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from test_wycheproof_signatures import FILES, backend, jwk_members, load

from jwkverify import JWK, InvalidKey

_HASHES = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}
PKCS1_FILES = sorted(name for name, alg in FILES.items() if alg in _HASHES)


def openssl_verdict(public: rsa.RSAPublicKey, alg: str, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message, padding.PKCS1v15(), _HASHES[alg])
    except (InvalidSignature, ValueError):
        return False
    return True


@pytest.mark.parametrize("name", PKCS1_FILES)
def test_every_wycheproof_pkcs1_vector_gets_cryptographys_own_verdict(name: str) -> None:
    alg, checked = FILES[name], 0
    for group in load(name)["testGroups"]:
        try:
            key = JWK.from_dict(jwk_members(group), backend=backend("cryptography"))
        except InvalidKey:
            continue
        public = key.public_key
        assert isinstance(public, rsa.RSAPublicKey)
        for test in group["tests"]:
            signature, message = bytes.fromhex(test["sig"]), bytes.fromhex(test["msg"])
            ours = key.verify_signature(alg, signature, message)
            assert ours == openssl_verdict(public, alg, signature, message), test["tcId"]
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("alg", sorted(_HASHES))
def test_tampered_signatures_get_cryptographys_own_verdict(alg: str) -> None:
    private = rsa.generate_private_key(65537, 2048)
    public = private.public_key()
    key = JWK.from_dict({"kty": "RSA", "n": _uint(public.public_numbers().n), "e": "AQAB"})
    for _ in range(20):
        message = os.urandom(64)
        signature = private.sign(message, padding.PKCS1v15(), _HASHES[alg])
        assert key.verify_signature(alg, signature, message)
        for position in (0, 1, len(signature) // 2, len(signature) - 1):
            bad = bytearray(signature)
            bad[position] ^= 1 << (position % 8)
            assert key.verify_signature(alg, bytes(bad), message) is openssl_verdict(
                public, alg, bytes(bad), message) is False
        assert not key.verify_signature(alg, signature, message + b"!")
        other = "RS384" if alg == "RS256" else "RS256"  # same key, other hash: refused
        assert not key.verify_signature(other, signature, message)


def _uint(value: int) -> str:
    octets = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(octets).rstrip(b"=").decode()
