"""A JWK mapping, validated member by member, as the fields of a key (RFC 7517 §4).

:func:`parse_fields` does every check :meth:`JWK.from_dict <jwkverify.JWK.from_dict>`
promises and builds the backend key; :mod:`jwkverify.jwk` seals the result into an
immutable :class:`~jwkverify.JWK`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._crypto.seam import SignatureBackend
from ..algorithms import ALGORITHMS
from ..errors import clip
from .material import BUILDERS, NOTHING, narrow_to_own_alg, refusal
from .members import REQUIRED_MEMBERS, fail, key_ops, optional_str, required_str

__all__ = ["Fields", "parse_fields"]

_KTY_NAMES = ", ".join(sorted(REQUIRED_MEMBERS))

#: What a parsed key is made of, in the order :func:`parse_fields` returns it:
#: kty, kid, alg, use, key_ops, crv, issuer (not RFC 7517: the member by which Entra ID
#: binds a key to an issuer), the defining members, the public key (``None``
#: for ``oct``), the algorithms it may verify, why it may not verify at all (or
#: ``None``), and what verifiers are built from: the backend (``None`` for
#: ``oct``), the key handle and the signature size. A plain tuple: building a
#: NamedTuple would cost more than the rest of an ``oct`` key's parse.
Fields = tuple[
    str, str | None, str | None, str | None, tuple[str, ...] | None, str | None, str | None,
    dict[str, str], object | None, frozenset[str], str | None,
    tuple[SignatureBackend | None, object, int | None],
]


def parse_fields(mapping: Mapping[str, Any], min_rsa_bits: int, backend: SignatureBackend) -> Fields:
    """Validate ``mapping`` and build its key.

    Raises:
        InvalidKey: as :meth:`JWK.from_dict <jwkverify.JWK.from_dict>`.
    """
    kid = optional_str(mapping, "kid", None)
    kty = mapping.get("kty")
    if not isinstance(kty, str):
        fail("kty", "is required and must be a string", kid)
    if kty not in REQUIRED_MEMBERS:
        fail("kty", f"{clip(kty)} is not supported (supported: {_KTY_NAMES})", kid)
    alg = optional_str(mapping, "alg", kid)
    if alg is not None and alg not in ALGORITHMS:
        fail("alg", f"{clip(alg)} is not a JWS algorithm jwkverify verifies", kid)
    use = optional_str(mapping, "use", kid)
    issuer = optional_str(mapping, "issuer", kid)  # not RFC 7517: Entra ID binds keys to issuers
    ops = key_ops(mapping, kid)
    members = {name: required_str(mapping, name, kid) for name in REQUIRED_MEMBERS[kty]}
    handle, fitting, size = BUILDERS[kty](members, kid, min_rsa_bits, backend)
    crv = members.get("crv")
    if alg is not None:
        fitting = narrow_to_own_alg(alg, fitting, kty, crv, kid)
    why_not = refusal(use, ops)
    if kty == "oct":
        return (kty, kid, alg, use, ops, crv, issuer, members, None, fitting if why_not is None else NOTHING,
                why_not, (None, handle, size))
    return (kty, kid, alg, use, ops, crv, issuer, members, handle, fitting if why_not is None else NOTHING,
            why_not, (backend, handle, size))
