"""A proof's JOSE header (RFC 9449 §4.2, §4.3 items 2 and 4-7): split the proof, check
``typ``, ``alg`` and the ``jwk`` it carries, and keep what follows from a header.

The ``jwk`` header member is the one key jwkverify ever takes from a token, and it
verifies only the proof that carries it. A client signs every proof with the same
key, so the header segment repeats: :class:`ProofKeyCache` keeps, per exact header
segment, the checked header, the parsed key and its RFC 7638 thumbprint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn

from .._codec.base64url import Base64Error, b64url_decode
from ..errors import InvalidDPoPProof, JOSEError, clip
from ..jwk import JWK
from ..jws import parse_compact
from .frozen import freeze

__all__ = ["ProofKey", "ProofKeyCache", "split_proof"]

#: RFC 7518 §6.2.2, §6.3.2, RFC 8037 §2 (private members); ``k``: a symmetric secret.
_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_ASYMMETRIC_KEY_TYPES: Final = frozenset({"RSA", "EC", "OKP"})


@dataclass(frozen=True, slots=True)
class ProofKey:
    """What one header segment yields once checked: the header (read-only), its
    ``alg``, the public key from ``jwk`` and that key's RFC 7638 thumbprint."""

    header: Mapping[str, Any]
    alg: str
    key: JWK
    thumbprint: str


class ProofKeyCache(dict[str, ProofKey]):
    """Checked headers by exact header segment, bounded: emptied when full, so a flood
    of distinct headers costs only their parsing. A ``dict`` so a lookup is ``dict.get``."""

    __slots__ = ("_size",)

    #: Longer header segments (RSA keys over 8192 bits) are checked every time.
    MAX_SEGMENT: Final = 2048

    def __init__(self, size: int = 256) -> None:
        super().__init__()
        self._size = size

    def put(self, segment: str, entry: ProofKey) -> None:
        if len(segment) > self.MAX_SEGMENT:
            return
        if len(self) >= self._size:
            self.clear()
        self[segment] = entry


def refuse(message: str, check: str, cause: BaseException | None = None) -> NoReturn:
    """Raise the DPoP error for a failed ``check``."""
    raise InvalidDPoPProof(message, check=check) from cause


def split_proof(proof: str, max_size: int) -> tuple[str, str, bytes, bytes]:
    """The header segment, the payload segment, the signing input and the signature.

    RFC 9449 §4.3 item 2: a single, well-formed compact JWS; RFC 9449 §4.1: token68.
    """
    if not proof.isascii():
        refuse("the DPoP proof is not a JWT: it has non-ASCII characters", "format")
    if len(proof) > max_size:
        refuse(f"the DPoP proof is longer than {max_size} characters", "format")
    dots = proof.count(".")
    if dots != 2:
        refuse(f"the DPoP proof is not a signed JWT: it has {dots + 1} segments, not 3", "format")
    signing_input, _, signature_segment = proof.rpartition(".")
    header_segment, _, payload_segment = signing_input.partition(".")
    try:
        signature = b64url_decode(signature_segment)
    except Base64Error as exc:
        refuse(f"the DPoP proof's signature segment is {exc}", "format", exc)
    return header_segment, payload_segment, signing_input.encode("ascii"), signature


def check_header(proof: str, max_size: int, allowed: frozenset[str]) -> ProofKey:
    """Decode and check the header of ``proof`` (already split once), parse its key.

    Raises:
        InvalidDPoPProof: the header is malformed (``"format"``), its ``typ`` is not
            ``dpop+jwt`` (``"typ"``), its ``alg`` is not accepted (``"alg"``), or its
            ``jwk`` is missing, private, symmetric, invalid or does not fit ``alg``
            (``"jwk"``).
    """
    try:
        parsed = parse_compact(proof, max_size)  # strict base64url and JSON; crit refused
    except JOSEError as exc:
        check = "alg" if exc.code == "unsupported_algorithm" else "format"
        refuse(f"the DPoP proof is malformed: {exc}", check, exc)
    header, alg = parsed.header, parsed.alg
    typ = header.get("typ")
    # RFC 9449 §4.3 item 4, §11.5; RFC 7515 §4.1.9: a media type, "application/" optional.
    if not isinstance(typ, str) or typ.lower() not in ("dpop+jwt", "application/dpop+jwt"):
        refuse(f"the DPoP proof's typ is {clip(typ)}, not 'dpop+jwt'", "typ")
    if alg not in allowed:  # RFC 9449 §4.3 item 5, before any work on the key
        refuse(f"the DPoP proof's alg {alg} is not accepted here (accepted: {', '.join(sorted(allowed))})",
               "alg")
    key = _header_key(header.get("jwk"), alg)
    return ProofKey(freeze(header), alg, key, key.thumbprint())


def _header_key(member: object, alg: str) -> JWK:
    if not isinstance(member, dict):
        refuse("the DPoP proof's header has no 'jwk' object (RFC 9449 §4.2)", "jwk")
    private = sorted(_PRIVATE_MEMBERS.intersection(member))
    if private:
        # RFC 9449 §4.3 item 7, checked on the raw member: parsing would drop them.
        refuse(f"the DPoP proof's jwk contains private key members {private}; it must be a public key",
               "jwk")
    kty = member.get("kty")
    if type(kty) is not str or kty not in _ASYMMETRIC_KEY_TYPES:
        refuse(f"the DPoP proof's jwk has kty {clip(kty)}; an asymmetric key (RSA, EC, OKP) is needed",
               "jwk")
    try:
        key = JWK.from_dict(member)
        key.keys_for(alg, None)  # the key's type, curve, size, alg, use and key_ops fit alg
    except JOSEError as exc:
        refuse(f"the DPoP proof's jwk cannot verify it: {exc}", "jwk", exc)
    return key
