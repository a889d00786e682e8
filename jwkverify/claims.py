"""JWT claim validation (RFC 7519 §4.1, RFC 8725), compiled once into a policy.

All arithmetic happens on the verifier's side (``now``, ``leeway``, ``max_age``):
a claim value is only ever compared, never added to, so a huge but valid number
such as ``1e20`` or a 100-digit integer cannot overflow.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ._jwt.claim_checks import (
    check_audience,
    check_issuer,
    check_required,
    check_subject,
    check_times,
    check_typ,
)
from ._jwt.claim_options import Clock, Duration, TimeSpec, clock_of, media_type, seconds, string_set, strings

__all__ = ["ANY_AUDIENCE", "ClaimsPolicy", "Duration", "TimeSpec"]


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
        audiences = None if any_audience else string_set("audience", audience)  # type: ignore[arg-type]
        if subject is not None and not isinstance(subject, str):
            raise TypeError("subject must be a str")
        if typ is not None and not isinstance(typ, str):
            raise TypeError("typ must be a str")
        required = tuple(dict.fromkeys(strings("required_claims", required_claims) or ()))
        return cls(
            issuers=string_set("issuer", issuer),
            audiences=audiences,
            any_audience=any_audience,
            subject=subject,
            leeway=seconds("leeway", leeway),
            required=required,
            max_age=None if max_age is None else seconds("max_age", max_age),
            typ=None if typ is None else media_type(typ),
            clock=clock_of(now),
        )

    def check(self, claims: Mapping[str, Any], header: Mapping[str, Any]) -> None:
        """Validate ``claims`` (and the header's ``typ``) at the policy's current time.

        Raises:
            ClaimError: one of its subclasses, naming the claim and the reason.
        """
        if self.typ is not None:
            check_typ(self.typ, header)
        if self._passes(claims, self.clock()):
            return
        # Something fails (or is unusual): the itemised checks find it and say why.
        check_required(self.required, claims)
        check_issuer(self.issuers, claims)
        check_subject(self.subject, claims)
        check_audience(self.audiences, self.any_audience, claims)
        check_times(claims, self.clock(), self.leeway, self.max_age)

    def _passes(self, claims: Mapping[str, Any], now: float) -> bool:
        """Whether every claim check passes at ``now``, in one pass with no messages.

        The hot path, in one frame (a Python call costs as much as several checks).
        It may say ``False`` for claims that pass (an unusual shape, such as an
        array ``aud`` under ``ANY_AUDIENCE``): :meth:`check` then runs the itemised
        checks, which decide. It never says ``True`` for claims that the itemised
        checks refuse. ``type()`` is exact: bool (an int subclass) and anything odd
        go the long way.
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
        aud, audiences = get("aud", _ABSENT), self.audiences
        if type(aud) is str:
            if not (self.any_audience or (audiences is not None and aud in audiences)):
                return False
        elif aud is _ABSENT:
            if not (self.any_audience or audiences is None):
                return False
        elif (audiences is None or type(aud) is not list
              or not all(type(item) is str for item in aud) or audiences.isdisjoint(aud)):
            return False
        leeway = self.leeway
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
        check_times(claims, self.clock(), self.leeway, self.max_age)

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
