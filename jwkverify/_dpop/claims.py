"""A proof's claims (RFC 9449 §4.2, §4.3 items 3 and 8-12), read after its signature verified."""

from __future__ import annotations

import hashlib
from typing import Any, Final, NamedTuple, NoReturn, cast

from .._codec.base64url import Base64Error, b64url_decode, b64url_encode
from .._codec.strict_json import JSONError, loads_object
from ..errors import clip
from .header import refuse
from .htu import same_htu

__all__ = ["MAX_JTI_LENGTH", "ProofClaims", "access_token_hash", "read_claims"]

#: RFC 9449 §11.1: "reject DPoP proof JWTs with unnecessarily large jti values".
#: 96 random bits need 16 characters, a UUID 36; clients use at most 64 or so.
MAX_JTI_LENGTH: Final = 256


class ProofClaims(NamedTuple):
    """The claims of a proof, with the types RFC 9449 §4.2 requires."""

    claims: dict[str, Any]
    jti: str
    htm: str
    htu: str
    iat: float
    ath: str | None
    nonce: str | None


def read_claims(payload_segment: str) -> ProofClaims:
    """Decode the payload (only once the signature has verified) and check each claim's type.

    Raises:
        InvalidDPoPProof: ``"format"`` for a payload that is not a JSON object,
            ``"claims"`` for a required claim missing or of the wrong type.
    """
    try:
        claims = loads_object(b64url_decode(payload_segment), "the DPoP proof's claims")
    except (Base64Error, JSONError) as exc:
        refuse(f"the DPoP proof's payload is malformed: {exc}", "format", exc)
    jti, htm, htu, iat = claims.get("jti"), claims.get("htm"), claims.get("htu"), claims.get("iat")
    if type(jti) is not str or type(htm) is not str or type(htu) is not str or type(iat) not in (int, float):
        _explain_types(claims)
    if not jti or len(jti) > MAX_JTI_LENGTH:
        refuse(f"the DPoP proof's jti must have 1 to {MAX_JTI_LENGTH} characters, not {len(jti)}", "claims")
    ath, nonce = claims.get("ath"), claims.get("nonce")
    if ath is not None and type(ath) is not str:
        refuse("the DPoP proof's 'ath' must be a string", "claims")
    if nonce is not None and type(nonce) is not str:
        refuse("the DPoP proof's 'nonce' must be a string", "claims")
    return ProofClaims(claims, jti, htm, htu, cast(float, iat), ath, nonce)


def _explain_types(claims: dict[str, Any]) -> NoReturn:
    # RFC 9449 §4.3 item 3: every claim of §4.2 present, each of its type.
    for name, kind in (("jti", "string"), ("htm", "string"), ("htu", "string"), ("iat", "number")):
        value = claims.get(name)
        if value is None:
            refuse(f"the DPoP proof has no {name!r} claim (RFC 9449 §4.2)", "claims")
        wanted = (int, float) if kind == "number" else (str,)
        if type(value) not in wanted:
            refuse(f"the DPoP proof's {name!r} must be a {kind}, not {clip(value)}", "claims")
    raise AssertionError("unreachable: a claim of the wrong type was found above")  # pragma: no cover


def check_request(found: ProofClaims, method: str, url: str) -> None:
    """RFC 9449 §4.3 items 8 and 9: the proof was made for this request."""
    if found.htm != method:  # case-sensitive, as methods are (RFC 9110 §9.1)
        refuse(f"the DPoP proof is for method {clip(found.htm)}, the request is {clip(method)}", "htm")
    if not same_htu(found.htu, url):
        refuse(f"the DPoP proof is for {clip(found.htu, 80)}, not for this request's URI", "htu")


def check_time(iat: float, now: float, max_age: float, leeway: float) -> None:
    """RFC 9449 §4.3 item 11, §11.1: at most ``max_age`` old, in the future by ``leeway`` at most."""
    if iat > now + leeway:
        refuse(f"the DPoP proof's iat lies {iat - now:.0f} s in the future; its clock runs ahead", "iat")
    if iat < now - max_age:
        refuse(f"the DPoP proof was made {now - iat:.0f} s ago; at most {max_age:g} s are accepted", "iat")


def check_token(ath: str | None, token_hash: str) -> None:
    """RFC 9449 §4.3 item 12, §7: ``ath`` is the hash (:func:`access_token_hash`) of the
    access token it comes with."""
    if ath is None:
        refuse("the DPoP proof has no 'ath' claim; a proof sent with an access token must (RFC 9449 §7)",
               "ath")
    if ath != token_hash:
        refuse("the DPoP proof's 'ath' is not the hash of this access token", "ath")


def access_token_hash(access_token: str) -> str:
    """``ath`` (RFC 9449 §4.2): base64url of the SHA-256 of the token's ASCII octets.

    Raises:
        InvalidDPoPProof: the token is not ASCII (``check="ath"``): no proof can match it.
    """
    try:
        octets = access_token.encode("ascii")
    except UnicodeEncodeError as exc:
        refuse("the access token is not ASCII, so no proof can carry its hash", "ath", exc)
    return b64url_encode(hashlib.sha256(octets).digest())
