"""Which candidate key verifies a JWS signature, and why none did (RFC 7515 §5.2)."""

from __future__ import annotations

from collections.abc import Sequence

from ..algorithms import ALGORITHMS, Family
from ..errors import InvalidSignature, KeyNotFound, clip
from ..jwk import JWK
from .header import CheckedHeader

__all__ = ["MAX_KIDLESS_CANDIDATES", "verifying_key"]

#: A token without ``kid`` is tried against at most this many fitting keys.
MAX_KIDLESS_CANDIDATES = 4

_EMBEDDED_KEY_HEADERS = frozenset({"jwk", "jku", "x5u", "x5c"})


def verifying_key(
    header: CheckedHeader, signature: bytes, signing_input: bytes, candidates: Sequence[JWK]
) -> JWK:
    """The candidate key whose signature over ``signing_input`` verifies.

    Raises:
        KeyNotFound: several distinct keys share the token's ``kid``, or too many
            keys fit a token without ``kid``.
        InvalidSignature: no candidate verifies the signature.
    """
    alg = header.alg
    if len(candidates) == 1:
        key = candidates[0]
        if key.verify_signature(alg, signature, signing_input):
            return key
        raise InvalidSignature(_signature_failure(header, len(signature), key))
    if not candidates:
        raise KeyNotFound(f"no key can verify {alg}")
    if header.kid is not None:
        # RFC 7517 §4.5: kid should identify one key; two different keys answering
        # to it make the choice ambiguous, so refuse rather than guess.
        raise KeyNotFound(f"{len(candidates)} different keys have kid {clip(header.kid)}; "
                          "refusing an ambiguous key choice")
    if len(candidates) > MAX_KIDLESS_CANDIDATES:
        raise KeyNotFound(f"the token has no kid and {len(candidates)} keys could verify {alg}; "
                          f"at most {MAX_KIDLESS_CANDIDATES} are tried: the issuer should set kid")
    for key in candidates:
        if key.verify_signature(alg, signature, signing_input):
            return key
    raise InvalidSignature(f"the {alg} signature verifies with none of {len(candidates)} keys")


def _signature_failure(header: CheckedHeader, actual: int, key: JWK) -> str:
    """Why a signature of ``actual`` octets failed, in words that point at the usual mistakes."""
    alg = header.alg
    name = f"key {clip(key.kid)}" if key.kid is not None else f"the {key.kty} key"
    message = f"the {alg} signature does not verify with {name}"
    size = key.signature_size(alg)
    if size != actual:
        message += f": it is {actual} octets, {alg} signatures are {size}"
        if ALGORITHMS[alg].family is Family.ECDSA:
            message += " (R || S, RFC 7518 §3.4; not DER)"
    embedded = sorted(_EMBEDDED_KEY_HEADERS.intersection(header.header))
    if embedded:
        message += f"; keys carried in the token ({', '.join(embedded)}) are never used"
    return message
