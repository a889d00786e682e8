"""JWT claim validation (RFC 7519 §4.1, RFC 8725), compiled once into a policy.

All arithmetic happens on the verifier's side (``now``, ``leeway``, ``max_age``):
a claim value is only ever compared, never added to, so a huge but valid number
such as ``1e20`` or a 100-digit integer cannot overflow.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from .errors import (
    ClaimError,
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    JOSEError,
    MissingClaim,
    NotYetValid,
    clip,
)

__all__ = ["ANY_AUDIENCE", "ClaimsPolicy"]


class _AnyAudience:
    """Type of :data:`ANY_AUDIENCE`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ANY_AUDIENCE"


#: Pass as ``audience=ANY_AUDIENCE`` to accept tokens whatever their ``aud`` says.
#: Without it, a token that carries ``aud`` is refused when no audience is configured
#: (RFC 7519 §4.1.3: a recipient that does not identify itself with ``aud`` rejects).
ANY_AUDIENCE: Final = _AnyAudience()

_ABSENT: Final = object()
_NUMBER_TYPES: Final = frozenset({int, float})

Clock = Callable[[], float]
TimeSpec = float | int | datetime | Clock | None
Duration = float | int | timedelta


@dataclass(frozen=True, slots=True)
class ClaimsPolicy:
    """The claim checks of one verifier, with every option already validated."""

    issuers: frozenset[str] | None
    audiences: frozenset[str] | None
    any_audience: bool
    subject: str | None
    leeway: float
    required: tuple[str, ...]
    max_age: float | None
    typ: str | None
    clock: Clock

    @classmethod
    def build(
        cls,
        *,
        issuer: str | Iterable[str] | None = None,
        audience: str | Iterable[str] | _AnyAudience | None = None,
        subject: str | None = None,
        leeway: Duration = 0,
        now: TimeSpec = None,
        required_claims: Iterable[str] = (),
        max_age: Duration | None = None,
        typ: str | None = None,
    ) -> ClaimsPolicy:
        """Check the options (``TypeError``/``ValueError`` on misuse) and compile them."""
        any_audience = audience is ANY_AUDIENCE
        audiences = None if any_audience else _string_set("audience", audience)  # type: ignore[arg-type]
        if subject is not None and not isinstance(subject, str):
            raise TypeError("subject must be a str")
        if typ is not None and not isinstance(typ, str):
            raise TypeError("typ must be a str")
        required = tuple(dict.fromkeys(_strings("required_claims", required_claims) or ()))
        return cls(
            issuers=_string_set("issuer", issuer),
            audiences=audiences,
            any_audience=any_audience,
            subject=subject,
            leeway=_seconds("leeway", leeway),
            required=required,
            max_age=None if max_age is None else _seconds("max_age", max_age),
            typ=None if typ is None else _media_type(typ),
            clock=_clock(now),
        )

    def check(self, claims: Mapping[str, Any], header: Mapping[str, Any]) -> None:
        """Validate ``claims`` (and the header's ``typ``) at the policy's current time.

        Raises:
            ClaimError: one of its subclasses, naming the claim and the reason.
        """
        if self.typ is not None:
            self._check_typ(header)
        if self._passes(claims, self.clock()):
            return
        # Something fails (or is unusual): the checks below find it and say why.
        for name in self.required:
            if claims.get(name) is None:  # a null value does not satisfy a requirement
                raise MissingClaim(f"the token has no {name!r} claim, which is required",
                                   claim=name, reason="missing")
        self._check_issuer(claims)
        self._check_subject(claims)
        self._check_audience(claims)
        self._check_times(claims, self.clock())

    def _passes(self, claims: Mapping[str, Any], now: float) -> bool:
        """Whether every claim check passes at ``now``, in one pass with no messages.

        The hot path. It may say ``False`` for claims that pass (an unusual
        shape, such as an array ``aud`` under ``ANY_AUDIENCE``): :meth:`check`
        then runs the itemised checks, which decide. It never says ``True`` for
        claims that the itemised checks refuse.
        """
        get = claims.get
        for name in self.required:
            if get(name) is None:
                return False
        iss = get("iss", _ABSENT)
        if iss is _ABSENT:
            if self.issuers is not None:
                return False
        elif type(iss) is not str or (self.issuers is not None and iss not in self.issuers):
            return False
        sub = get("sub", _ABSENT)
        if sub is _ABSENT:
            if self.subject is not None:
                return False
        elif type(sub) is not str or (self.subject is not None and sub != self.subject):
            return False
        return self._audience_passes(get("aud", _ABSENT)) and self._times_pass(claims, now)

    def _audience_passes(self, aud: object) -> bool:
        audiences = self.audiences
        if type(aud) is str:
            return self.any_audience or (audiences is not None and aud in audiences)
        if aud is _ABSENT:
            return self.any_audience or audiences is None
        return (audiences is not None and type(aud) is list
                and all(type(item) is str for item in aud) and not audiences.isdisjoint(aud))

    def _times_pass(self, claims: Mapping[str, Any], now: float) -> bool:
        get, leeway = claims.get, self.leeway
        # type() is exact: bool (an int subclass) and anything odd go the long way.
        exp = get("exp", _ABSENT)
        if exp is not _ABSENT and (type(exp) not in _NUMBER_TYPES or now - leeway >= exp):
            return False
        nbf = get("nbf", _ABSENT)
        if nbf is not _ABSENT and (type(nbf) not in _NUMBER_TYPES or now + leeway < nbf):
            return False
        iat = get("iat", _ABSENT)
        if iat is _ABSENT:
            return self.max_age is None
        if type(iat) not in _NUMBER_TYPES or iat > now + leeway:
            return False
        return self.max_age is None or iat >= now - self.max_age - leeway

    def check_times(self, claims: Mapping[str, Any]) -> None:
        """Re-check only the time-based claims (``exp``, ``nbf``, ``iat``/``max_age``) now.

        Raises:
            ExpiredToken, NotYetValid, MissingClaim, ClaimError: as :meth:`check`.
        """
        self._check_times(claims, self.clock())

    def validity_window(self, claims: Mapping[str, Any]) -> tuple[float, float]:
        """The open interval of clock readings in which ``claims`` pass the time checks.

        For claims that already passed :meth:`check`. A cache may trust a reading
        strictly inside the interval; at or outside its edges it must call
        :meth:`check_times`, which is exact. The edges are moved inwards by a
        millisecond so that float rounding can never widen the window.
        """
        leeway, margin = self.leeway, 1e-3
        start, end = -math.inf, math.inf
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        # The parser bounds number literals to 128 characters, so these fit a float.
        if exp is not None:
            end = float(exp) + leeway
        if nbf is not None:
            start = float(nbf) - leeway
        if iat is not None:
            start = max(start, float(iat) - leeway)
            if self.max_age is not None:
                end = min(end, float(iat) + self.max_age + leeway)
        return start + margin, end - margin

    def _check_typ(self, header: Mapping[str, Any]) -> None:
        # RFC 7515 §4.1.9: typ is a media type, compared case-insensitively, and
        # "application/" may be left out. RFC 8725 §3.11 explicit typing.
        value = header.get("typ")
        if value is None:
            raise MissingClaim(f"the header has no 'typ'; expected {self.typ!r}",
                               claim="typ", reason="missing")
        if not isinstance(value, str) or _media_type(value) != self.typ:
            raise ClaimError(f"the header's typ {clip(value)} is not {self.typ!r}",
                             claim="typ", reason="mismatch")

    def _check_issuer(self, claims: Mapping[str, Any]) -> None:
        value = claims.get("iss")
        if "iss" in claims and not isinstance(value, str):
            raise InvalidIssuer("the 'iss' claim must be a string", claim="iss", reason="invalid_type")
        if self.issuers is None:
            return
        if value is None:
            raise MissingClaim("the token has no 'iss' claim; an issuer is expected",
                               claim="iss", reason="missing")
        if value not in self.issuers:  # RFC 7519 §4.1.1: exact, case-sensitive match
            raise InvalidIssuer(f"issuer {clip(value, 80)} is not accepted "
                                f"(expected {_listing(self.issuers)})", claim="iss", reason="mismatch")

    def _check_subject(self, claims: Mapping[str, Any]) -> None:
        value = claims.get("sub")
        if "sub" in claims and not isinstance(value, str):
            raise ClaimError("the 'sub' claim must be a string", claim="sub", reason="invalid_type")
        if self.subject is None:
            return
        if value is None:
            raise MissingClaim("the token has no 'sub' claim; a subject is expected",
                               claim="sub", reason="missing")
        if value != self.subject:
            raise ClaimError(f"subject {clip(value, 80)} is not {self.subject!r}",
                             claim="sub", reason="mismatch")

    def _check_audience(self, claims: Mapping[str, Any]) -> None:
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
        if self.any_audience:
            return
        if self.audiences is None:
            if "aud" in claims:
                raise InvalidAudience("the token names an audience but this verifier expects "
                                      "none; configure audience=... (or ANY_AUDIENCE)",
                                      claim="aud", reason="unexpected")
            return
        if value is None:
            raise MissingClaim(f"the token has no 'aud' claim; expected {_listing(self.audiences)}",
                               claim="aud", reason="missing")
        if self.audiences.isdisjoint(named):
            raise InvalidAudience(f"the token's audience {clip(value, 80)} names none of "
                                  f"{_listing(self.audiences)}", claim="aud", reason="mismatch")

    def _leeway_note(self) -> str:
        return _leeway_note_for(self.leeway)

    def _check_times(self, claims: Mapping[str, Any], now: float) -> None:
        exp = _numeric_date(claims, "exp")
        nbf = _numeric_date(claims, "nbf")
        iat = _numeric_date(claims, "iat")
        leeway = self.leeway
        # RFC 7519 §4.1.4: expired when now >= exp (plus leeway).
        if exp is not None and now - leeway >= exp:
            raise ExpiredToken(f"the token expired at {_when(exp)}; it is now {_when(now)}"
                               f"{self._leeway_note()}", claim="exp", reason="expired")
        # RFC 7519 §4.1.5: not valid before nbf (minus leeway).
        if nbf is not None and now + leeway < nbf:
            raise NotYetValid(f"the token is not valid before {_when(nbf)}; it is now {_when(now)}"
                              f"{self._leeway_note()}", claim="nbf", reason="not_yet_valid")
        if iat is not None and iat > now + leeway:
            raise NotYetValid(f"the token was issued in the future, at {_when(iat)}; it is now "
                              f"{_when(now)}{self._leeway_note()}", claim="iat", reason="issued_in_future")
        if self.max_age is not None:
            if iat is None:
                raise MissingClaim("the token has no 'iat' claim, which max_age requires",
                                   claim="iat", reason="missing")
            if iat < now - self.max_age - leeway:
                raise ExpiredToken(f"the token was issued at {_when(iat)}, more than "
                                   f"{self.max_age:g}s ago", claim="iat", reason="too_old")


def _leeway_note_for(leeway: float) -> str:
    return f" (leeway {leeway:g}s)" if leeway else ""


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


def _strings(option: str, value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise TypeError(f"{option} takes a str or a collection of str")
    if not items and option != "required_claims":
        raise ValueError(f"{option} must name at least one value (or be None)")
    return items


def _string_set(option: str, value: str | Iterable[str] | None) -> frozenset[str] | None:
    items = _strings(option, value)
    return None if items is None else frozenset(items)


def _seconds(option: str, value: Duration) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{option} must be a number of seconds or a timedelta")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{option} must be a finite number of seconds, at least 0")
    return float(value)


def _clock(now: TimeSpec) -> Clock:
    if now is None:
        return time.time
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime")
        fixed = now.timestamp()
        return lambda: fixed
    if isinstance(now, int | float) and not isinstance(now, bool):
        if not math.isfinite(now):
            raise ValueError("now must be finite")
        fixed_number = float(now)
        return lambda: fixed_number
    if callable(now):
        return _checked(now)
    raise TypeError("now must be None, a number, an aware datetime or a callable")


def _checked(clock: Clock) -> Clock:
    """Wrap a caller's clock so that a bad reading refuses the token, never passes it.

    Every comparison with NaN is false, so an unchecked NaN would pass every time check.
    """

    def now() -> float:
        value = clock()
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise JOSEError(f"the now= clock returned {clip(value)}, not a finite number of seconds")
        return value

    return now


def _media_type(value: str) -> str:
    lowered = value.lower()
    return lowered[len("application/"):] if lowered.startswith("application/") else lowered
