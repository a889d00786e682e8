"""The verifier a provider preset returns: a :class:`JWTVerifier` plus the provider's own rules.

:class:`ProviderVerifier` runs its inner verifier (signature, ``iss``, ``aud``,
times, the token cache) and then the provider's :class:`Rules` on the verified
claims, on every call: a token cache hit skips the signature, never the rules.
When the inner verifier refuses a token, the rules may replace the error with
one that names the provider's cause (a Microsoft Graph token, the other Entra
token version, a Cognito ID token).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from .._codec.base64url import Base64Error, b64url_decode
from .._codec.strict_json import JSONError, loads_object
from .._web.conventions import TokenConventions
from ..errors import JOSEError
from ..jwt import JWTVerifier
from ..keyset import KeySource
from ..remote import RemoteJWKSet
from .options import Options

__all__ = ["ProviderVerifier", "Rules", "payload_of", "remote_verifier", "segment_of"]


class Rules:
    """A provider's checks beyond :class:`JWTVerifier`'s; the base checks nothing."""

    __slots__ = ()

    def check(self, claims: Mapping[str, Any], token: str | bytes) -> None:
        """Refuse verified ``claims`` that break the provider's rules (a ``ClaimError``)."""

    async def check_async(self, claims: Mapping[str, Any], token: str | bytes) -> None:
        """As :meth:`check`, for rules that may need I/O (the default does none)."""
        self.check(claims, token)

    def explain(self, token: str | bytes, error: JOSEError) -> JOSEError | None:
        """A clearer error for a refusal of the inner verifier, or ``None`` to keep it."""
        return None


class ProviderVerifier:
    """A provider preset's verifier: usable wherever a :class:`~jwkverify.JWTVerifier` is.

    Built by the functions of :mod:`jwkverify.providers`, never directly. It has
    ``verify``/``verify_async`` and ``audiences`` (what adapters need), and
    carries its provider's habits for them: :attr:`conventions` (which claims hold
    scopes, roles and the client id) and :attr:`checks_recipient` (``True`` when a
    check other than ``aud`` refuses tokens minted for another client, as Amazon
    Cognito's ``client_id`` check). Thread-safe; build once per process.
    """

    __slots__ = ("_audiences", "_checks_recipient", "_conventions", "_inner", "_issuers", "_provider",
                 "_rules")

    def __init__(self, inner: JWTVerifier, rules: Rules, *, provider: str, issuers: tuple[str, ...],
                 conventions: TokenConventions, audiences: frozenset[str] | None = None,
                 checks_recipient: bool = False) -> None:
        self._inner = inner
        self._rules = rules
        self._audiences = inner.audiences if audiences is None else audiences
        self._conventions = conventions
        self._checks_recipient = checks_recipient
        self._issuers = issuers
        self._provider = provider

    @property
    def conventions(self) -> TokenConventions:
        """Which claims hold the scopes, roles and client id, for the adapters."""
        return self._conventions

    @property
    def checks_recipient(self) -> bool:
        """``True`` when a check other than ``aud`` refuses another client's tokens (Cognito)."""
        return self._checks_recipient

    @property
    def issuers(self) -> tuple[str, ...]:
        """The issuers accepted, as the provider writes them (``{tenantid}`` where Entra ID
        puts the token's tenant): what to list as ``authorization_servers``."""
        return self._issuers

    @property
    def provider(self) -> str:
        """The provider's name: ``"okta"``, ``"auth0"``, ``"entra"``, ``"keycloak"``, ..."""
        return self._provider

    @property
    def audiences(self) -> frozenset[str]:
        """The audiences a token must name (empty for Cognito access tokens, which have none)."""
        return self._audiences

    @property
    def key_source(self) -> KeySource:
        """The remote key set the keys come from (``RemoteJWKSet``: ``state``, ``refresh``...)."""
        return self._inner.key_source

    def verify(self, token: str | bytes) -> dict[str, Any]:
        """Verify ``token`` and the provider's rules; return its claims.

        Raises:
            JOSEError: any refusal of :meth:`JWTVerifier.verify`, or of the provider's
                rules: ``InvalidIssuer``, ``InvalidAudience``, ``MissingClaim`` or
                ``ClaimError`` naming the claim (see each preset).
            KeySetFetchError: the provider's keys could not be fetched.
        """
        try:
            claims = self._inner.verify(token)
        except JOSEError as exc:
            self._explain(token, exc)
        self._rules.check(claims, token)
        return claims

    async def verify_async(self, token: str | bytes) -> dict[str, Any]:
        """Like :meth:`verify`; fetches without blocking the event loop.

        Raises:
            JOSEError: as :meth:`verify`.
        """
        try:
            claims = await self._inner.verify_async(token)
        except JOSEError as exc:
            self._explain(token, exc)
        await self._rules.check_async(claims, token)
        return claims

    def _explain(self, token: str | bytes, error: JOSEError) -> NoReturn:
        """Raise the rules' clearer error for the inner verifier's ``error`` (chained), else ``error``."""
        better = self._rules.explain(token, error)
        if better is None:
            raise error
        raise better from error

    # -- the web adapters' seam (private): see JWTVerifier._verify_entry ------------------------
    # The inner verifier's cache entry says "the same verified token", so an adapter reuses what
    # it derived from the claims; the provider's rules still run on every call, cache hits
    # included (an Entra tenant check must hold for each request, not only the first). The
    # rules get the cache's own claims: they read them, never change them.

    @property
    def _token_cache_size(self) -> int:
        return self._inner._token_cache_size

    def _verify_entry(self, token: str) -> tuple[dict[str, Any], object | None]:
        """:meth:`verify`, with the inner verifier's cache entry (``None``: not cached)."""
        try:
            claims, entry = self._inner._verify_entry(token)
        except JOSEError as exc:
            self._explain(token, exc)
        self._rules.check(claims, token)
        return claims, entry

    async def _verify_entry_async(self, token: str) -> tuple[dict[str, Any], object | None]:
        """:meth:`_verify_entry` without blocking the event loop."""
        try:
            claims, entry = await self._inner._verify_entry_async(token)
        except JOSEError as exc:
            self._explain(token, exc)
        await self._rules.check_async(claims, token)
        return claims, entry

    def __repr__(self) -> str:
        shown = ", ".join(self.issuers)
        return f"ProviderVerifier({self.provider}: {shown})"


def payload_of(token: str | bytes) -> dict[str, Any] | None:
    """The claims of a token whose signature has already verified, or ``None`` if unreadable.

    Only for explaining a refusal: a claim error is raised after the signature
    check, so the payload it read is authentic.
    """
    return segment_of(token, 1)


def segment_of(token: str | bytes, index: int) -> dict[str, Any] | None:
    """Segment ``index`` of a compact JWS (0: header, 1: payload) as a JSON object, or ``None``."""
    try:
        text = token.decode("ascii") if isinstance(token, bytes) else token
        segments = text.split(".")
        if len(segments) != 3:
            return None
        return loads_object(b64url_decode(segments[index]), "a JWS segment")
    except (UnicodeDecodeError, Base64Error, JSONError):
        return None


def remote_verifier(url: str, options: Options, *, issuer: str | tuple[str, ...] | None,
                    audience: object) -> JWTVerifier:
    """The inner verifier: a :class:`JWTVerifier` over a :class:`RemoteJWKSet` at ``url``.

    Raises:
        TypeError, ValueError: an option is invalid (as the two classes say).
    """
    source = RemoteJWKSet(url, **options.remote)
    return JWTVerifier(source, issuer=issuer, audience=audience, **options.verifier)  # type: ignore[arg-type]
