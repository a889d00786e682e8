"""Signature primitives in pure Python: the backend for zero-dependency mode.

Used when ``cryptography`` cannot be imported (see ``_crypto.choice.default_backend``),
or when chosen with ``backend_by_name("pure")``. Verification handles only public
values, so nothing here needs to run in constant time; the one comparison that
involves a secret, HMAC, lives in ``algorithms.hmac_verifier`` and uses ``hmac``.
"""

from __future__ import annotations

from ..algorithms import Algorithm, Family
from .pure_ec import WEIERSTRASS_CURVES, ECPublicKey, ecdsa_verify
from .pure_edwards import EDWARDS_CURVES, EdPublicKey, eddsa_verify
from .pure_rsa import RSAPublicKey, pkcs1v15_prefix, pkcs1v15_verify, pss_verify
from .seam import BackendKeyError, Verifier

__all__ = ["PureBackend"]


class PureBackend:
    """RSA (RFC 8017), ECDSA (SEC 1) and EdDSA (RFC 8032) written on Python integers."""

    name = "pure"

    def rsa_public_key(self, n: int, e: int) -> object:
        try:
            return RSAPublicKey(n, e)
        except ValueError as exc:
            raise BackendKeyError(str(exc)) from exc

    def ec_public_key(self, crv: str, x: bytes, y: bytes) -> object:
        curve = WEIERSTRASS_CURVES.get(crv)
        if curve is None:
            raise BackendKeyError(f"unsupported curve {crv}")
        try:
            return ECPublicKey(curve, int.from_bytes(x, "big"), int.from_bytes(y, "big"))
        except ValueError as exc:
            raise BackendKeyError("the point (x, y) is not on the curve") from exc

    def okp_public_key(self, crv: str, x: bytes) -> object:
        curve = EDWARDS_CURVES.get(crv)
        if curve is None:
            raise BackendKeyError(f"unsupported curve {crv}")
        try:
            return EdPublicKey(curve, x)
        except ValueError as exc:
            raise BackendKeyError(str(exc)) from exc

    def verifier(self, algorithm: Algorithm, key: object) -> Verifier:
        family = algorithm.family
        hash_name = algorithm.hash_name
        if family is Family.RSA_PKCS1 and isinstance(key, RSAPublicKey) and hash_name:
            prefix = pkcs1v15_prefix(key, hash_name)
            return lambda signature, data: pkcs1v15_verify(key, hash_name, prefix, signature, data)
        if family is Family.RSA_PSS and isinstance(key, RSAPublicKey) and hash_name:
            return lambda signature, data: pss_verify(key, hash_name, signature, data)
        if (family is Family.ECDSA and isinstance(key, ECPublicKey) and hash_name
                and key.curve.name in algorithm.curves):
            return lambda signature, data: ecdsa_verify(key, hash_name, signature, data)
        if family is Family.EDDSA and isinstance(key, EdPublicKey) and key.curve.name in algorithm.curves:
            return lambda signature, data: eddsa_verify(key, signature, data)
        raise BackendKeyError(f"{algorithm.name} cannot verify with a {type(key).__name__}")
