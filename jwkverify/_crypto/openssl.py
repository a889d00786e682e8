"""Signature primitives from pyca/cryptography (OpenSSL)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, cast

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

from ..algorithms import DIGEST_INFO_PREFIX, Algorithm, Family
from .seam import BackendKeyError, Verifier

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_EC_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
    "secp256k1": ec.SECP256K1,
}


class CryptographyBackend:
    """Builds ``cryptography`` public keys and verifiers with pre-built parameters."""

    name = "cryptography"

    def __init__(self) -> None:
        # Parameter objects are immutable: build them once, never per verification.
        self._hashes = {name: cls() for name, cls in _HASHES.items()}
        self._pkcs1 = padding.PKCS1v15()
        # RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash output.
        self._pss = {
            name: padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
            for name, h in self._hashes.items()
        }
        # The message is hashed with hashlib's one-shot functions and handed over
        # as Prehashed: the same signature check, without a digest context per call.
        self._prehashed = {name: Prehashed(h) for name, h in self._hashes.items()}
        self._ecdsa = {name: ec.ECDSA(p) for name, p in self._prehashed.items()}

    def rsa_public_key(self, n: int, e: int) -> object:
        try:
            return rsa.RSAPublicNumbers(e, n).public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise BackendKeyError(str(exc)) from exc

    def ec_public_key(self, crv: str, x: bytes, y: bytes) -> object:
        try:
            # from_encoded_point checks that the point lies on the curve.
            return ec.EllipticCurvePublicKey.from_encoded_point(
                _EC_CURVES[crv](), b"\x04" + x + y
            )
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise BackendKeyError("the point (x, y) is not on the curve") from exc

    def okp_public_key(self, crv: str, x: bytes) -> object:
        loader: Any = (
            ed25519.Ed25519PublicKey if crv == "Ed25519" else ed448.Ed448PublicKey
        )
        try:
            return loader.from_public_bytes(x)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise BackendKeyError(str(exc)) from exc

    def verifier(self, algorithm: Algorithm, key: object) -> Verifier:
        # The handle came from this backend's own *_public_key for the algorithm's
        # key type (the JWK layer guarantees it), so a cast replaces an ABC
        # isinstance check that costs more than building the closure.
        family = algorithm.family
        if family is Family.EDDSA:  # EdDSA hashes inside the algorithm (RFC 8032)
            return _eddsa_verifier(cast("ed25519.Ed25519PublicKey | ed448.Ed448PublicKey", key))
        name = _hash(algorithm)
        if family is Family.RSA_PKCS1:
            return _pkcs1_verifier(cast(rsa.RSAPublicKey, key), self._pkcs1, name)
        if family is Family.RSA_PSS:
            return _pss_verifier(cast(rsa.RSAPublicKey, key), self._pss[name], self._prehashed[name], name)
        if family is Family.ECDSA:
            return _ecdsa_verifier(cast(ec.EllipticCurvePublicKey, key), self._ecdsa[name], name)
        raise BackendKeyError(f"{algorithm.name} is not an asymmetric signature algorithm")


def _hash(algorithm: Algorithm) -> str:
    assert algorithm.hash_name is not None
    return algorithm.hash_name


def _pss_verifier(key: rsa.RSAPublicKey, pad: padding.PSS, prehashed: Prehashed, hash_name: str) -> Verifier:
    digest = getattr(hashlib, hash_name)  # the one-shot constructor: no lookup per call

    def verify(signature: bytes, signing_input: bytes) -> bool:
        try:
            key.verify(signature, digest(signing_input).digest(), pad, prehashed)
        except InvalidSignature:
            return False
        return True

    return verify


def _pkcs1_verifier(key: rsa.RSAPublicKey, pad: padding.PKCS1v15, hash_name: str) -> Verifier:
    """RSASSA-PKCS1-v1_5 verification as RFC 8017 §8.2.2 words it: encode, then compare.

    OpenSSL applies the public key and checks the ``00 01 FF..FF 00`` block
    (``recover_data_from_signature`` with no hash: nothing after the block is
    parsed); the rest must equal the DigestInfo of the expected hash byte for byte,
    so the padding length is fixed too. Same result as ``key.verify`` (the
    Wycheproof vectors check it), ~1.5 us less per RS256 token: hashlib's one-shot
    hash skips the digest context that ``verify`` sets up for every call.
    """
    prefix, digest = DIGEST_INFO_PREFIX[hash_name], getattr(hashlib, hash_name)

    def verify(signature: bytes, signing_input: bytes) -> bool:
        try:
            recovered = key.recover_data_from_signature(signature, pad, None)
        except InvalidSignature:
            return False
        return hmac.compare_digest(recovered, prefix + digest(signing_input).digest())

    return verify


def _ecdsa_verifier(key: ec.EllipticCurvePublicKey, scheme: ec.ECDSA, hash_name: str) -> Verifier:
    digest = getattr(hashlib, hash_name)  # the one-shot constructor: no lookup per call

    def verify(signature: bytes, signing_input: bytes) -> bool:
        # RFC 7518 §3.4: the JWS signature is R || S, each as long as the curve
        # order; the caller has checked the total length. OpenSSL wants DER.
        half = len(signature) // 2
        r = int.from_bytes(signature[:half], "big")
        s = int.from_bytes(signature[half:], "big")
        try:
            key.verify(encode_dss_signature(r, s), digest(signing_input).digest(), scheme)
        except InvalidSignature:
            return False
        return True

    return verify


def _eddsa_verifier(key: ed25519.Ed25519PublicKey | ed448.Ed448PublicKey) -> Verifier:
    def verify(signature: bytes, signing_input: bytes) -> bool:
        try:
            key.verify(signature, signing_input)
        except InvalidSignature:
            return False
        return True

    return verify
