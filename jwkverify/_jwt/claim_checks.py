"""The itemised claim checks: each finds what fails and says why (RFC 7519 §4.1).

:class:`~jwkverify.claims.ClaimsPolicy` runs its one-pass check first; only when
that says no (or sees an unusual shape) do these run, so their messages cost
nothing on an accepted token.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Final

from ..errors import ClaimError, ExpiredToken, InvalidAudience, InvalidIssuer, MissingClaim, NotYetValid, clip
from .claim_options import media_type

__all__ = ["check_audience", "check_issuer", "check_required", "check_subject", "check_times", "check_typ"]

_ABSENT: Final = object()


def check_typ(expected: str, header: Mapping[str, Any]) -> None:
    """The header's ``typ`` is the media type ``expected`` (already compiled)."""
    # RFC 7515 §4.1.9: typ is a media type, compared case-insensitively, and
    # "application/" may be left out. RFC 8725 §3.11 explicit typing.
    value = header.get("typ")
    if value is None:
        raise MissingClaim(f"the header has no 'typ'; expected {expected!r}",
                           claim="typ", reason="missing")
    if not isinstance(value, str) or media_type(value) != expected:
        raise ClaimError(f"the header's typ {clip(value)} is not {expected!r}",
                         claim="typ", reason="mismatch")


def check_required(required: tuple[str, ...], claims: Mapping[str, Any]) -> None:
    """Every claim in ``required`` is present and not null."""
    for name in required:
        if claims.get(name) is None:  # a null value does not satisfy a requirement
            raise MissingClaim(f"the token has no {name!r} claim, which is required",
                               claim=name, reason="missing")


def check_issuer(issuers: frozenset[str] | None, claims: Mapping[str, Any]) -> None:
    value = claims.get("iss")
    if "iss" in claims and not isinstance(value, str):
        raise InvalidIssuer("the 'iss' claim must be a string", claim="iss", reason="invalid_type")
    if issuers is None:
        return
    if value is None:
        raise MissingClaim("the token has no 'iss' claim; an issuer is expected",
                           claim="iss", reason="missing")
    if value not in issuers:  # RFC 7519 §4.1.1: exact, case-sensitive match
        raise InvalidIssuer(f"issuer {clip(value, 80)} is not accepted "
                            f"(expected {_listing(issuers)})", claim="iss", reason="mismatch")


def check_subject(subject: str | None, claims: Mapping[str, Any]) -> None:
    value = claims.get("sub")
    if "sub" in claims and not isinstance(value, str):
        raise ClaimError("the 'sub' claim must be a string", claim="sub", reason="invalid_type")
    if subject is None:
        return
    if value is None:
        raise MissingClaim("the token has no 'sub' claim; a subject is expected",
                           claim="sub", reason="missing")
    if value != subject:
        raise ClaimError(f"subject {clip(value, 80)} is not {subject!r}",
                         claim="sub", reason="mismatch")


def check_audience(audiences: frozenset[str] | None, any_audience: bool, claims: Mapping[str, Any]) -> None:
    value = claims.get("aud")
    # RFC 7519 §4.1.3: a single string or an array of strings.
    if isinstance(value, str):
        named: tuple[str, ...] = (value,)
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        named = tuple(value)
    elif "aud" not in claims:
        named = ()
    else:
        raise InvalidAudience("the 'aud' claim must be a string or an array of strings",
                              claim="aud", reason="invalid_type")
    if any_audience:
        return
    if audiences is None:
        if "aud" in claims:
            raise InvalidAudience("the token names an audience but this verifier expects "
                                  "none; configure audience=... (or ANY_AUDIENCE)",
                                  claim="aud", reason="unexpected")
        return
    if value is None:
        raise MissingClaim(f"the token has no 'aud' claim; expected {_listing(audiences)}",
                           claim="aud", reason="missing")
    if audiences.isdisjoint(named):
        raise InvalidAudience(f"the token's audience {clip(value, 80)} names none of "
                              f"{_listing(audiences)}", claim="aud", reason="mismatch")


def check_times(claims: Mapping[str, Any], now: float, leeway: float, max_age: float | None) -> None:
    """``exp``, ``nbf``, ``iat`` and ``max_age`` at the clock reading ``now``."""
    exp = _numeric_date(claims, "exp")
    nbf = _numeric_date(claims, "nbf")
    iat = _numeric_date(claims, "iat")
    note = f" (leeway {leeway:g}s)" if leeway else ""
    # RFC 7519 §4.1.4: expired when now >= exp (plus leeway).
    if exp is not None and now - leeway >= exp:
        raise ExpiredToken(f"the token expired at {_when(exp)}; it is now {_when(now)}{note}",
                           claim="exp", reason="expired")
    # RFC 7519 §4.1.5: not valid before nbf (minus leeway).
    if nbf is not None and now + leeway < nbf:
        raise NotYetValid(f"the token is not valid before {_when(nbf)}; it is now {_when(now)}{note}",
                          claim="nbf", reason="not_yet_valid")
    if iat is not None and iat > now + leeway:
        raise NotYetValid(f"the token was issued in the future, at {_when(iat)}; it is now "
                          f"{_when(now)}{note}", claim="iat", reason="issued_in_future")
    if max_age is not None:
        if iat is None:
            raise MissingClaim("the token has no 'iat' claim, which max_age requires",
                               claim="iat", reason="missing")
        if iat < now - max_age - leeway:
            raise ExpiredToken(f"the token was issued at {_when(iat)}, more than "
                               f"{max_age:g}s ago", claim="iat", reason="too_old")


def _numeric_date(claims: Mapping[str, Any], name: str) -> float | int | None:
    value = claims.get(name, _ABSENT)
    if value is _ABSENT:
        return None
    # bool is an int in Python, and JSON true is not a NumericDate (RFC 7519 §2).
    # The strict JSON parser already refused NaN and Infinity.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ClaimError(f"the {name!r} claim must be a number (seconds since the epoch)",
                         claim=name, reason="invalid_type")
    return value


def _when(value: float) -> str:
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return f"{clip(value)} seconds after the epoch"


def _listing(values: frozenset[str]) -> str:
    return " or ".join(repr(v) for v in sorted(values))
