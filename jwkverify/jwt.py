"""JWT verification (RFC 7519): a verified JWS whose payload is a claims object.

:class:`JWTVerifier` is what a server builds once: it validates and compiles every
option in its constructor, holds nothing mutable, and so is safe to share across
threads and tasks. :func:`verify_jwt` is the one-shot form.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ._codec.strict_json import JSONError, loads_object
from ._jwt.token_cache import CachedToken, VerifiedTokenCache, copy_claims
from .claims import ClaimsPolicy, Duration, TimeSpec, _AnyAudience
from .errors import ClaimError, MalformedToken
from .jwk import JWK
from .jws import (
    DEFAULT_MAX_TOKEN_SIZE,
    CheckedHeader,
    HeaderCache,
    JWSPolicy,
    decode_payload,
    key_source,
    refuse_algorithm,
    split_compact,
    verifying_key,
)
from .keyset import JWKSet, KeySource

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
    - ``cache_size``: how many fully verified tokens to remember (default 0: off).
      A repeated token then costs a lookup plus the time-based claim checks, which
      are re-evaluated on every hit; see the README for the rules.

    Raises ``TypeError``/``ValueError`` for invalid options.
    """

    __slots__ = ("_allowed", "_cache", "_claims", "_headers", "_local", "_max_token_size", "_ready",
                 "_source")

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
        cache_size: int = 0,
    ) -> None:
        if isinstance(cache_size, bool) or not isinstance(cache_size, int):
            raise TypeError("cache_size must be an int")
        if cache_size < 0:
            raise ValueError("cache_size must be at least 0 (0 turns the cache off)")
        self._cache = VerifiedTokenCache(cache_size) if cache_size else None
        self._source = key_source(key)
        # a remote set's answer when it has one without waiting (see _verify_entry_now)
        self._ready = getattr(self._source, "_keys_ready", None)
        self._local = type(self._source) is JWKSet or type(self._source) is JWK
        policy = JWSPolicy.build(algorithms, max_token_size)
        self._allowed = policy.algorithms
        self._max_token_size = policy.max_token_size
        self._headers = HeaderCache()
        self._claims = ClaimsPolicy.build(
            issuer=issuer, audience=audience, subject=subject, leeway=leeway, now=now,
            required_claims=required_claims, max_age=max_age, typ=typ,
        )

    @property
    def audiences(self) -> frozenset[str]:
        """The audiences a token must name; empty when the verifier checks none
        (``audience=None`` or ``ANY_AUDIENCE``)."""
        return self._claims.audiences or frozenset()

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
        cache = self._cache
        if cache is not None:
            entry = cache.get(token) if isinstance(token, str | bytes) else None
            if entry is not None:
                hit = self._reuse(token, entry, self._source.keys_for(entry.alg, entry.kid))
                if hit is not None:
                    return hit
        # One flat path, no per-call objects: this is the microseconds that count.
        header, signing_input, payload_segment, signature = split_compact(
            token, self._max_token_size, self._headers)
        allowed = self._allowed
        if allowed is not None and header.alg not in allowed:
            refuse_algorithm(header.alg, allowed)
        key = verifying_key(header, signature, signing_input, self._source.keys_for(header.alg, header.kid))
        return self._claims_of(token, header, key, payload_segment)

    async def verify_async(self, token: str | bytes) -> dict[str, Any]:
        """Like :meth:`verify`; a remote key set fetches without blocking the loop."""
        cache = self._cache
        if cache is not None:
            entry = cache.get(token) if isinstance(token, str | bytes) else None
            if entry is not None:
                current = await self._source.keys_for_async(entry.alg, entry.kid)
                hit = self._reuse(token, entry, current)
                if hit is not None:
                    return hit
        header, signing_input, payload_segment, signature = split_compact(
            token, self._max_token_size, self._headers)
        allowed = self._allowed
        if allowed is not None and header.alg not in allowed:
            refuse_algorithm(header.alg, allowed)
        candidates = await self._source.keys_for_async(header.alg, header.kid)
        key = verifying_key(header, signature, signing_input, candidates)
        return self._claims_of(token, header, key, payload_segment)

    def _claims_of(
        self, token: str | bytes, header: CheckedHeader, key: JWK, payload_segment: str
    ) -> dict[str, Any]:
        try:
            # RFC 7519 §7.2: the payload is a UTF-8 JSON object; duplicates refused (§4).
            claims = loads_object(decode_payload(payload_segment), "the JWT claims set")
        except JSONError as exc:
            raise MalformedToken(str(exc)) from exc
        self._claims.check(claims, header.header)
        if self._cache is not None and isinstance(token, str | bytes):
            window = self._claims.validity_window(claims)
            self._cache.put(token, claims, window, alg=header.alg, kid=header.kid, key=key)
        return claims

    def _reuse(self, token: str | bytes, entry: CachedToken, current: Sequence[JWK]) -> dict[str, Any] | None:
        """The claims of a cached token, or ``None`` to verify it again from scratch."""
        return copy_claims(entry.claims, entry.nested) if self._still_valid(token, entry, current) else None

    def _still_valid(self, token: str | bytes, entry: CachedToken, current: Sequence[JWK]) -> bool:
        """Whether a cached token still verifies; ``False`` drops it (verify it again).

        Raises:
            ClaimError: its time-based claims fail now (the entry is dropped).
        """
        cache = self._cache
        assert cache is not None
        if entry.key not in current:  # rotated out of a remote set since it was cached
            cache.discard(token)
            return False
        if not entry.valid_from < self._claims.clock() < entry.valid_until:
            try:  # near or past an edge of the window: the exact checks decide
                self._claims.check_times(entry.claims)
            except ClaimError:
                cache.discard(token)
                raise
        return True

    # -- the web adapters' seam (private) ----------------------------------------------------
    # An adapter derives what it needs from a token (scopes, roles, its request objects) once
    # and reuses it while this verifier's cache holds the token: these hand back the cache
    # entry, whose identity says "the same verified token", and on a hit the cache's own
    # claims dict (read it, never change it) instead of a copy.

    @property
    def _token_cache_size(self) -> int:
        return self._cache.size if self._cache is not None else 0

    @property
    def _never_waits(self) -> bool:
        """A local JWK or JWKSet: :meth:`verify` does no I/O, so async code may call it directly."""
        return self._local

    def _verify_entry(self, token: str) -> tuple[dict[str, Any], object | None]:
        """:meth:`verify`, with the cache entry the claims are held in (``None``: not cached)."""
        cache = self._cache
        if cache is None:
            return self.verify(token), None
        entry = cache.get(token)
        if entry is not None:
            # A local JWK or JWKSet never changes: its key is still there, nothing to ask.
            current = (entry.key,) if self._local else self._source.keys_for(entry.alg, entry.kid)
            if self._still_valid(token, entry, current):
                return entry.claims, entry
        claims = self.verify(token)
        return claims, cache.get(token)

    def _verify_entry_now(self, token: str) -> tuple[dict[str, Any], object] | None:
        """:meth:`_verify_entry` of a cached token whose key source answers without waiting
        (a fresh remote set), else ``None``: then :meth:`_verify_entry_async`. An async face
        tries it first, saving the coroutines of a repeated token.

        Raises:
            ClaimError: the cached token's time-based claims fail now.
        """
        cache, ready = self._cache, self._ready
        if cache is None or ready is None:
            return None
        entry = cache.get(token)
        if entry is None:
            return None
        current = ready(entry.alg, entry.kid)
        if current is None or not self._still_valid(token, entry, current):
            return None
        return entry.claims, entry

    async def _verify_entry_async(self, token: str) -> tuple[dict[str, Any], object | None]:
        """:meth:`_verify_entry` without blocking the event loop."""
        cache = self._cache
        if cache is None:
            return await self.verify_async(token), None
        entry = cache.get(token)
        if entry is not None and self._still_valid(
                token, entry, await self._source.keys_for_async(entry.alg, entry.kid)):
            return entry.claims, entry
        claims = await self.verify_async(token)
        return claims, cache.get(token)


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
