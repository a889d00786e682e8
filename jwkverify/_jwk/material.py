"""Per-key-type validation and the backend key each type builds (RFC 7518 §6, RFC 8037 §2).

A builder takes a key's defining members, checks the material (sizes, ranges, known
weak keys) and returns the key handle, the algorithms that fit the key and the
signature size.
"""

from __future__ import annotations

from collections.abc import Callable

from .._crypto.roca import is_roca_modulus
from .._crypto.seam import BackendKeyError, SignatureBackend
from ..algorithms import ALGORITHMS, CURVES
from ..errors import AlgorithmNotAllowed, KeyNotFound, clip
from .members import curve, fail, fixed_octets, octets, uint

__all__ = [
    "BUILDERS", "NOTHING", "RSA_BITS_FLOOR", "Built", "narrow_to_own_alg", "refusal", "refusal_error",
]

RSA_BITS_FLOOR = 1024  # ``min_rsa_bits`` cannot go below this: 512-bit RSA is factored
_RSA_MAX_BITS = 16384  # OpenSSL's own limit; bounds the cost of one verification
_RSA_MAX_EXPONENT_BITS = 64  # real keys use 65537; a huge e only makes verification slow
_F4 = 65537

#: The algorithms an RSA key, or a key on a given curve, can verify; and each
#: algorithm alone, for a key whose ``alg`` narrows it. Shared by every key.
_FITTING = {
    "RSA": frozenset(a.name for a in ALGORITHMS.values() if a.kty == "RSA"),
    **{crv: frozenset(a.name for a in ALGORITHMS.values() if crv in a.curves) for crv in CURVES},
}
_ONLY = {name: frozenset({name}) for name in ALGORITHMS}
NOTHING: frozenset[str] = frozenset()

#: A builder's result: the key handle, the algorithms that fit the key, and the
#: signature size in octets (``None`` for ``oct``: it depends on the algorithm).
Built = tuple[object, frozenset[str], int | None]


def _build_rsa(
    members: dict[str, str], kid: str | None, min_rsa_bits: int, backend: SignatureBackend
) -> Built:
    n = uint(members, "n", kid)
    # Nearly every key's e is 65537, which is AQAB (RFC 7518 §6.3.1.2's example).
    e = _F4 if members["e"] == "AQAB" else uint(members, "e", kid)
    bits = n.bit_length()
    if bits < min_rsa_bits:
        fail("n", f"is a {bits}-bit modulus; at least {min_rsa_bits} bits are required", kid)
    if bits > _RSA_MAX_BITS:
        fail("n", f"is a {bits}-bit modulus; at most {_RSA_MAX_BITS} bits are supported", kid)
    if not n & 1:  # not n % 2, which divides all of a 2048-bit n (0.4 us)
        fail("n", "is even, which no RSA modulus is", kid)
    # RFC 8017 §3.1: 3 <= e < n and e odd; a huge e only makes verification slow.
    if e < 3 or e % 2 == 0 or e.bit_length() > _RSA_MAX_EXPONENT_BITS:
        fail("e", "must be an odd exponent of at least 3 and at most 64 bits (usually AQAB)", kid)
    if is_roca_modulus(n):
        fail("n", "has the ROCA fingerprint (CVE-2017-15361): its private key is recoverable", kid)
    try:
        handle = backend.rsa_public_key(n, e)
    except BackendKeyError as exc:
        fail("n", f"does not form a usable RSA key with e: {exc}", kid)
    # RFC 8017 §8.2.2: the signature is exactly k octets, k the modulus length.
    return handle, _FITTING["RSA"], (bits + 7) // 8


def _build_ec(
    members: dict[str, str], kid: str | None, min_rsa_bits: int, backend: SignatureBackend
) -> Built:
    found = curve(members["crv"], "EC", kid)
    x = fixed_octets(members, "x", found.size, kid)
    y = fixed_octets(members, "y", found.size, kid)
    prime = found.field_prime
    assert prime is not None
    for name, coordinate in (("x", x), ("y", y)):
        if int.from_bytes(coordinate, "big") >= prime:
            fail(name, f"is not a coordinate of {found.name} (not below the field prime)", kid)
    try:
        handle = backend.ec_public_key(found.name, x, y)
    except BackendKeyError as exc:
        fail("x", f"and 'y': {exc} {found.name}", kid)
    return handle, _FITTING[found.name], found.signature_size


def _build_okp(
    members: dict[str, str], kid: str | None, min_rsa_bits: int, backend: SignatureBackend
) -> Built:
    found = curve(members["crv"], "OKP", kid)
    x = fixed_octets(members, "x", found.size, kid)
    try:
        handle = backend.okp_public_key(found.name, x)
    except BackendKeyError as exc:
        fail("x", f"is not a valid {found.name} public key: {exc}", kid)
    return handle, _FITTING[found.name], found.signature_size


def _build_oct(
    members: dict[str, str], kid: str | None, min_rsa_bits: int, backend: SignatureBackend
) -> Built:
    secret = octets(members, "k", kid)
    # RFC 7518 §3.2: a key of the same size as the hash output or larger MUST be used.
    fitting = frozenset(a.name for a in ALGORITHMS.values()
                        if a.kty == "oct" and len(secret) >= a.digest_size)
    if not fitting:
        fail("k", f"is {len(secret)} octets; HMAC keys need at least 32 (RFC 7518 §3.2)", kid)
    return secret, fitting, None


BUILDERS: dict[str, Callable[[dict[str, str], str | None, int, SignatureBackend], Built]] = {
    "RSA": _build_rsa,
    "EC": _build_ec,
    "OKP": _build_okp,
    "oct": _build_oct,
}


def narrow_to_own_alg(
    alg: str, fitting: frozenset[str], kty: str, crv: str | None, kid: str | None
) -> frozenset[str]:
    """The key's algorithms narrowed to its own ``alg``, which must fit the key."""
    if alg not in fitting:
        kind = f"{kty} {crv}" if crv else kty
        problem = f"{alg} does not fit this {kind} key"
        if kty == "oct":
            problem = f"{alg} needs a key of at least {ALGORITHMS[alg].digest_size} octets"
        fail("alg", problem, kid)
    return _ONLY[alg]


def refusal(use: str | None, key_ops: tuple[str, ...] | None) -> str | None:
    """Why the key may not verify at all, or ``None``."""
    # RFC 7517 §4.2-4.3: a key marked for another use or operation never verifies.
    if use is not None and use != "sig":
        return f"its use is {clip(use)}, not 'sig'"
    if key_ops is not None and "verify" not in key_ops:
        return f"its key_ops {clip(list(key_ops))} do not include 'verify'"
    return None


def refusal_error(
    alg: str, *, kty: str, kid: str | None, own_alg: str | None, why_not: str | None,
    algorithms: frozenset[str],
) -> KeyNotFound | AlgorithmNotAllowed:
    """The error that says why a key (``own_alg`` its ``alg`` member, ``why_not`` why it
    may not verify at all) does not verify ``alg``."""
    name = f"key {clip(kid)}" if kid is not None else f"the {kty} key"
    if why_not is not None:
        return KeyNotFound(f"{name} cannot verify signatures: {why_not}")
    if own_alg is not None:
        return AlgorithmNotAllowed(f"{name} is restricted to alg {own_alg}, the token uses {alg}")
    accepted = ", ".join(sorted(algorithms))
    return AlgorithmNotAllowed(f"{name} cannot verify {alg}; it verifies {accepted}")
