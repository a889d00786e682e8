"""What a key gives out: its RFC 7638 thumbprint and its public JWK mapping."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .._codec.base64url import b64url_encode
from .members import REQUIRED_MEMBERS

__all__ = ["THUMBPRINT_HASHES", "as_mapping", "thumbprint"]

THUMBPRINT_HASHES = frozenset({"sha256", "sha384", "sha512"})


def thumbprint(kty: str, members: Mapping[str, str], hash_name: str) -> str:
    """The RFC 7638 thumbprint of a ``kty`` key with ``members``, base64url-encoded.

    Raises:
        ValueError: ``hash_name`` is not one of :data:`THUMBPRINT_HASHES`.
    """
    if hash_name not in THUMBPRINT_HASHES:
        raise ValueError(f"hash_name must be one of {sorted(THUMBPRINT_HASHES)}")
    # RFC 7638 §3.2-3.3: required members only, sorted, no whitespace. The
    # members are base64url or registered names, so the JSON is pure ASCII.
    required = {name: members[name] for name in REQUIRED_MEMBERS[kty]}
    required["kty"] = kty
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":"))
    return b64url_encode(hashlib.new(hash_name, canonical.encode("ascii")).digest())


def as_mapping(
    kty: str, members: Mapping[str, str], *, kid: str | None, alg: str | None, use: str | None,
    key_ops: tuple[str, ...] | None, issuer: str | None = None,
) -> dict[str, Any]:
    """A JWK mapping of the public members (``k`` for ``oct`` keys) and the metadata present."""
    out: dict[str, Any] = {"kty": kty, **members}
    for name, value in (("kid", kid), ("alg", alg), ("use", use), ("issuer", issuer)):
        if value is not None:
            out[name] = value
    if key_ops is not None:
        out["key_ops"] = list(key_ops)
    return out
