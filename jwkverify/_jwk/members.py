"""Reading a JWK's members (RFC 7517 §4, RFC 7518 §6): types, encodings, sizes.

Every failure is an :class:`~jwkverify.errors.InvalidKey` naming the member.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from .._codec.base64url import Base64Error, b64url_decode
from ..algorithms import CURVES, KEY_AGREEMENT_CURVES, Curve
from ..errors import InvalidKey, clip

__all__ = [
    "REQUIRED_MEMBERS",
    "curve",
    "fail",
    "fixed_octets",
    "key_ops",
    "octets",
    "optional_str",
    "required_str",
    "uint",
]

#: Public members, per key type, that define the key (RFC 7638 §3.2, RFC 8037 §2).
REQUIRED_MEMBERS = {
    "RSA": ("e", "n"),
    "EC": ("crv", "x", "y"),
    "OKP": ("crv", "x"),
    "oct": ("k",),
}


def fail(member: str, problem: str, kid: str | None = None) -> NoReturn:
    """Raise the :class:`InvalidKey` for ``member`` of the key ``kid``."""
    where = f"JWK {clip(kid)}" if kid is not None else "JWK"
    raise InvalidKey(f"{where}: member {member!r} {problem}")


def curve(name: str, kty: str, kid: str | None) -> Curve:
    """The signature curve ``name`` of a ``kty`` key, or the error that says why not."""
    found = CURVES.get(name)
    if found is not None and found.kty == kty:
        return found
    if kty == "OKP" and name in KEY_AGREEMENT_CURVES:
        fail("crv", f"{name} is a key-agreement curve; it cannot verify signatures", kid)
    supported = ", ".join(c.name for c in CURVES.values() if c.kty == kty)
    fail("crv", f"{clip(name)} is not supported for {kty} keys (supported: {supported})", kid)


def optional_str(mapping: Mapping[str, Any], name: str, kid: str | None) -> str | None:
    value = mapping.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        fail(name, "must be a string", kid if name != "kid" else None)
    return value


def required_str(mapping: Mapping[str, Any], name: str, kid: str | None) -> str:
    value = mapping.get(name)
    if value is None:
        fail(name, "is required", kid)
    if not isinstance(value, str):
        fail(name, "must be a string", kid)
    return value


def key_ops(mapping: Mapping[str, Any], kid: str | None) -> tuple[str, ...] | None:
    value = mapping.get("key_ops")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(op, str) for op in value):
        fail("key_ops", "must be an array of strings", kid)
    if len(set(value)) != len(value):
        fail("key_ops", "must not repeat a value (RFC 7517 §4.3)", kid)
    return tuple(value)


def octets(members: Mapping[str, str], name: str, kid: str | None) -> bytes:
    try:
        return b64url_decode(members[name])
    except Base64Error as exc:
        fail(name, f"is {exc}", kid)


def fixed_octets(members: Mapping[str, str], name: str, size: int, kid: str | None) -> bytes:
    value = octets(members, name, kid)
    if len(value) != size:
        # RFC 7518 §6.2.1.2 / RFC 8037 §2: exactly the curve's length, leading zeros kept.
        fail(name, f"must be {size} octets for this curve, not {len(value)}", kid)
    return value


def uint(members: Mapping[str, str], name: str, kid: str | None) -> int:
    value = octets(members, name, kid)
    # RFC 7518 §6.3.1: Base64urlUInt uses the minimum number of octets.
    if not value or value[0] == 0:
        fail(name, "must be a non-zero integer in the fewest octets (no leading zero)", kid)
    return int.from_bytes(value, "big")
