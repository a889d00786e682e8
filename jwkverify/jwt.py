"""JWT verification (RFC 7519): a verified JWS whose payload is a claims object.

:class:`JWTVerifier` is what a server builds once: it validates and compiles every
option in its constructor, holds nothing mutable, and so is safe to share across
threads and tasks. :func:`verify_jwt` is the one-shot form.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._json import JSONError, loads_object
from .claims import ClaimsPolicy, Duration, TimeSpec, _AnyAudience
from .errors import MalformedToken
from .jws import (
    DEFAULT_MAX_TOKEN_SIZE,
    HeaderCache,
    JWSPolicy,
    ParsedJWS,
    check_allowed,
    key_source,
    parse_compact,
    verify_parsed,
)
from .keyset import KeySource

__all__ = ["JWTVerifier", "verify_jwt"]


class JWTVerifier:
    """A reusable, thread-safe JWT verifier bound to a key source and options.

    Options (all keyword-only, all validated here, once):

    - ``algorithms``: names that narrow what the keys permit (never widen it).
    - ``issuer``: a str or collection of str; ``iss`` must equal one exactly.
    - ``audience``: a str or collection of str; ``aud`` must name one of them. With
      ``None`` (default) a token that carries ``aud`` is refused; pass
      ``ANY_AUDIENCE`` to accept any.
    - ``subject``: ``sub`` must equal it.
    - ``leeway``: seconds (or timedelta) of clock skew allowed for exp/nbf/iat.
    - ``now``: the time to check against: a number, aware datetime or a callable
      returning seconds since the epoch (default ``time.time``).
    - ``required_claims``: claim names that must be present.
    - ``max_age``: seconds; ``iat`` is required and may be at most this old.
    - ``typ``: the expected header ``typ`` (e.g. ``"at+jwt"``).
    - ``max_token_size``: longest token accepted, in characters.

    Raises ``TypeError``/``ValueError`` for invalid options.
    """

    __slots__ = ("_claims", "_headers", "_jws", "_source")

    def __init__(
        self,
        key: KeySource,
        *,
        algorithms: Iterable[str] | str | None = None,
        issuer: str | Iterable[str] | None = None,
        audience: str | Iterable[str] | _AnyAudience | None = None,
        subject: str | None = None,
        leeway: Duration = 0,
        now: TimeSpec = None,
        required_claims: Iterable[str] = (),
        max_age: Duration | None = None,
        typ: str | None = None,
        max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
    ) -> None:
        self._source = key_source(key)
        self._jws = JWSPolicy.build(algorithms, max_token_size)
        self._headers = HeaderCache()
        self._claims = ClaimsPolicy.build(
            issuer=issuer, audience=audience, subject=subject, leeway=leeway, now=now,
            required_claims=required_claims, max_age=max_age, typ=typ,
        )

    @property
    def key_source(self) -> KeySource:
        """The JWK, JWK Set or remote key set this verifier reads keys from."""
        return self._source

    def verify(self, token: str | bytes) -> dict[str, Any]:
        """Verify ``token`` and return its claims.

        Raises:
            MalformedToken: not a compact JWS, or the payload is not a JSON object.
            UnsupportedAlgorithm: ``alg`` is ``none`` or unknown.
            AlgorithmNotAllowed: ``alg`` is outside the allow-list or the key refuses it.
            KeyNotFound: no usable key for the token's ``kid``.
            InvalidSignature: the signature does not verify.
            ClaimError: a claim check failed (``ExpiredToken``, ``NotYetValid``,
                ``InvalidIssuer``, ``InvalidAudience``, ``MissingClaim``, ...).
            KeySetFetchError: a remote key set has no usable keys.
        """
        parsed = self._parse(token)
        _, payload = verify_parsed(parsed, self._source.keys_for(parsed.alg, parsed.kid))
        return self._claims_of(parsed, payload)

    async def verify_async(self, token: str | bytes) -> dict[str, Any]:
        """Like :meth:`verify`; a remote key set fetches without blocking the loop."""
        parsed = self._parse(token)
        candidates = await self._source.keys_for_async(parsed.alg, parsed.kid)
        _, payload = verify_parsed(parsed, candidates)
        return self._claims_of(parsed, payload)

    def _parse(self, token: str | bytes) -> ParsedJWS:
        parsed = parse_compact(token, self._jws.max_token_size, self._headers)
        check_allowed(parsed, self._jws)
        return parsed

    def _claims_of(self, parsed: ParsedJWS, payload: bytes) -> dict[str, Any]:
        try:
            # RFC 7519 §7.2: the payload is a UTF-8 JSON object; duplicates refused (§4).
            claims = loads_object(payload, "the JWT claims set")
        except JSONError as exc:
            raise MalformedToken(str(exc)) from exc
        self._claims.check(claims, parsed.header)
        return claims


def verify_jwt(
    token: str | bytes,
    key: KeySource,
    *,
    algorithms: Iterable[str] | str | None = None,
    issuer: str | Iterable[str] | None = None,
    audience: str | Iterable[str] | _AnyAudience | None = None,
    subject: str | None = None,
    leeway: Duration = 0,
    now: TimeSpec = None,
    required_claims: Iterable[str] = (),
    max_age: Duration | None = None,
    typ: str | None = None,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
) -> dict[str, Any]:
    """Verify a JWT once and return its claims; see :class:`JWTVerifier` for options.

    A server verifying many tokens should build a :class:`JWTVerifier` once instead.

    Raises:
        JOSEError: the subclasses listed on :meth:`JWTVerifier.verify`.
    """
    verifier = JWTVerifier(
        key, algorithms=algorithms, issuer=issuer, audience=audience, subject=subject,
        leeway=leeway, now=now, required_claims=required_claims, max_age=max_age, typ=typ,
        max_token_size=max_token_size,
    )
    return verifier.verify(token)
