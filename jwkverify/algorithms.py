"""The algorithm and curve tables: what jwkverify verifies, as data.

There is deliberately no ``none`` entry (RFC 8725 §3.1): an unsecured JWS has
nothing to verify, so it cannot be looked up, allowed or selected. The signature
primitives live behind the :class:`~jwkverify._crypto.seam.SignatureBackend` seam;
this module only describes algorithms and implements HMAC, which needs nothing
but the standard library.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any

__all__ = ["ALGORITHMS", "CURVES", "Algorithm", "Curve", "Family"]


class Family(Enum):
    """How an algorithm verifies; selects the primitive in a backend."""

    RSA_PKCS1 = "RSASSA-PKCS1-v1_5"  # RFC 7518 §3.3
    RSA_PSS = "RSASSA-PSS"  # RFC 7518 §3.5
    ECDSA = "ECDSA"  # RFC 7518 §3.4, RFC 8812 §3.2
    EDDSA = "EdDSA"  # RFC 8037 §3.1, RFC 9864
    HMAC = "HMAC"  # RFC 7518 §3.2


@dataclass(frozen=True, slots=True)
class Curve:
    """A named curve: its key type, coordinate length and, for EC, field prime."""

    name: str
    kty: str
    #: Length in octets of one coordinate (EC ``x``/``y``) or of the OKP ``x``.
    size: int
    #: Length in octets of a signature made on this curve.
    signature_size: int
    #: EC field prime: a coordinate must be below it. ``None`` for OKP curves.
    field_prime: int | None = None


@dataclass(frozen=True, slots=True)
class Algorithm:
    """One JWS algorithm: the key type and curves it takes and the hash it uses."""

    name: str
    family: Family
    kty: str
    #: hashlib name of the hash (``None`` for EdDSA, whose hash is fixed by the curve).
    hash_name: str | None
    #: Hash output length in octets (0 for EdDSA).
    digest_size: int = 0
    #: Curves this algorithm verifies with (EC and OKP only).
    curves: frozenset[str] = frozenset()


def _algorithm_table() -> dict[str, Algorithm]:
    table: dict[str, Algorithm] = {}
    for bits in (256, 384, 512):
        hash_name, size = f"sha{bits}", bits // 8
        table[f"RS{bits}"] = Algorithm(f"RS{bits}", Family.RSA_PKCS1, "RSA", hash_name, size)
        table[f"PS{bits}"] = Algorithm(f"PS{bits}", Family.RSA_PSS, "RSA", hash_name, size)
        table[f"HS{bits}"] = Algorithm(f"HS{bits}", Family.HMAC, "oct", hash_name, size)
    ecdsa = {"ES256": ("P-256", 256), "ES384": ("P-384", 384),
             "ES512": ("P-521", 512), "ES256K": ("secp256k1", 256)}
    for name, (curve, bits) in ecdsa.items():
        table[name] = Algorithm(
            name, Family.ECDSA, "EC", f"sha{bits}", bits // 8, frozenset({curve})
        )
    # "EdDSA" is the polymorphic name of RFC 8037; RFC 9864 adds fully-specified names.
    table["EdDSA"] = Algorithm(
        "EdDSA", Family.EDDSA, "OKP", None, 0, frozenset({"Ed25519", "Ed448"})
    )
    table["Ed25519"] = Algorithm("Ed25519", Family.EDDSA, "OKP", None, 0, frozenset({"Ed25519"}))
    table["Ed448"] = Algorithm("Ed448", Family.EDDSA, "OKP", None, 0, frozenset({"Ed448"}))
    return table


#: Every algorithm jwkverify verifies, by its JOSE name (case-sensitive, RFC 7515 §4.1.1).
ALGORITHMS: MappingProxyType[str, Algorithm] = MappingProxyType(_algorithm_table())

#: Curves for EC (RFC 7518 §6.2.1.1, RFC 8812 §3.1) and OKP signature keys (RFC 8037 §2).
CURVES: MappingProxyType[str, Curve] = MappingProxyType({
    "P-256": Curve("P-256", "EC", 32, 64, 2**256 - 2**224 + 2**192 + 2**96 - 1),
    "P-384": Curve("P-384", "EC", 48, 96, 2**384 - 2**128 - 2**96 + 2**32 - 1),
    "P-521": Curve("P-521", "EC", 66, 132, 2**521 - 1),
    "secp256k1": Curve("secp256k1", "EC", 32, 64, 2**256 - 2**32 - 977),
    "Ed25519": Curve("Ed25519", "OKP", 32, 64),
    "Ed448": Curve("Ed448", "OKP", 57, 114),
})

#: DER of the DigestInfo that precedes the hash in an RSASSA-PKCS1-v1_5 encoded
#: message (RFC 8017 §9.2, note 1), by hashlib name. Both backends compare against it.
DIGEST_INFO_PREFIX: MappingProxyType[str, bytes] = MappingProxyType({
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
})

#: Curves that exist in JOSE but cannot sign (RFC 8037 §3.2: ECDH-ES only).
KEY_AGREEMENT_CURVES = frozenset({"X25519", "X448"})


def hmac_verifier(algorithm: Algorithm, secret: bytes) -> Callable[[bytes, bytes], bool]:
    """A verifier for an HS* algorithm with ``secret``, comparing in constant time.

    HMAC exactly as RFC 2104 defines it, H((K ^ opad) || H((K ^ ipad) || m)), with the
    two keyed hash states computed here, once: a verification copies them instead of
    setting up a keyed context (``hmac.digest`` does that on every call), which halves
    the cost of an HS256 verify. The states are only ever copied, never updated, so
    threads can share them.
    """
    hash_name = algorithm.hash_name
    assert hash_name is not None
    inner, outer = _keyed_states(getattr(hashlib, hash_name), secret)

    def verify(signature: bytes, signing_input: bytes) -> bool:
        state = inner.copy()
        state.update(signing_input)
        result = outer.copy()
        result.update(state.digest())
        return hmac.compare_digest(result.digest(), signature)

    return verify


def _keyed_states(constructor: Callable[..., Any], secret: bytes) -> tuple[Any, Any]:
    """The hash states after absorbing K ^ ipad and K ^ opad (RFC 2104 §2)."""
    block_size = constructor().block_size
    key = constructor(secret).digest() if len(secret) > block_size else secret  # RFC 2104: hash a long key
    key = key.ljust(block_size, b"\0")
    return (constructor(bytes(octet ^ 0x36 for octet in key)),
            constructor(bytes(octet ^ 0x5C for octet in key)))
