"""Microsoft Entra ID (Azure AD): access tokens for an API, one tenant or many.

The issuer names the tenant: ``https://login.microsoftonline.com/{tid}/v2.0`` in
version 2.0 tokens, ``https://sts.windows.net/{tid}/`` in version 1.0 (the default
of app registrations whose manifest names no version). Keys carry no ``alg``, and
some an ``issuer`` that binds them to one issuer (``{tenantid}`` stands for the
token's ``tid``). For several tenants, ``iss`` is checked against the template
with the token's own ``tid`` put in, and ``tid`` against ``allowed_tenants``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from .._web.conventions import TokenConventions
from ..errors import (
    ClaimError,
    InvalidAudience,
    InvalidIssuer,
    InvalidSignature,
    JOSEError,
    KeyNotFound,
    MissingClaim,
    clip,
)
from ..jwk import JWK
from ..jws import DEFAULT_MAX_TOKEN_SIZE, CheckedHeader, HeaderCache, split_compact
from ..keyset import KeySource
from .entra_tenant import ANY_TENANT, CLOUDS, CONSUMERS, Cloud, TenantLookup, is_domain
from .options import audience_option, is_guid, split_options
from .verifier import ProviderVerifier, Rules, payload_of, remote_verifier, segment_of

__all__ = ["CONVENTIONS", "EntraRules", "build", "version_error"]

#: Scopes from ``scp`` (a space-separated string), app roles from ``roles``.
CONVENTIONS: Final = TokenConventions(role_claims=("roles",))
_MANIFEST: Final = {1: "null or 1", 2: "2"}
_MEMO_SIZE: Final = 256  # (issuer, tenant, key) combinations remembered as checked


def version_error(found: int, wanted: int, iss: object) -> InvalidIssuer:
    """The refusal of a token of the other version, saying what to change."""
    return InvalidIssuer(
        f"this is a version {found}.0 Entra ID token (iss {clip(iss, 80)}) and this verifier takes version "
        f"{wanted}.0 tokens: pass version={found} to entra(), or set the API app registration's manifest "
        f"property accessTokenAcceptedVersion (api.requestedAccessTokenVersion in the Microsoft Graph "
        f"manifest) to {_MANIFEST[wanted]} so that Entra ID issues version {wanted}.0 tokens",
        claim="iss", reason="version")


class EntraRules(Rules):
    """The checks of one :func:`~jwkverify.providers.entra` configuration."""

    __slots__ = ("_allowed", "_cloud", "_headers", "_lookup", "_max_size", "_no_consumers", "_passed",
                 "_source", "_tenant", "_version")

    def __init__(self, *, cloud: Cloud, version: int, tenant: str | None, lookup: TenantLookup | None,
                 allowed: frozenset[str] | None, no_consumers: bool, source: KeySource,
                 max_token_size: int = DEFAULT_MAX_TOKEN_SIZE) -> None:
        self._cloud = cloud
        self._version = version
        self._tenant = tenant  # one tenant's ID; None: many, or a domain not yet resolved
        self._lookup = lookup
        self._allowed = allowed  # None: any tenant (ANY_TENANT) or a single tenant
        self._no_consumers = no_consumers
        self._source = source
        self._max_size = max_token_size
        self._headers = HeaderCache(16)
        self._passed: dict[tuple[str, str, int], Sequence[JWK]] = {}

    # -- checks of verified claims --------------------------------------------------

    def check(self, claims: Mapping[str, Any], token: str | bytes) -> None:
        tenant = self._tenant if self._lookup is None else self._lookup.resolve()
        header = self._header(token)
        self._check(claims, tenant, self._source.keys_for(header.alg, header.kid))

    async def check_async(self, claims: Mapping[str, Any], token: str | bytes) -> None:
        tenant = self._tenant if self._lookup is None else await self._lookup.resolve_async()
        header = self._header(token)
        self._check(claims, tenant, await self._source.keys_for_async(header.alg, header.kid))

    def _header(self, token: str | bytes) -> CheckedHeader:
        """The verified token's header: from the small cache of header segments, else decoded."""
        text = token if isinstance(token, str) else token.decode("ascii")
        found = self._headers.get(text[: text.find(".")])
        return found if found is not None else split_compact(text, self._max_size, self._headers)[0]

    def _check(self, claims: Mapping[str, Any], tenant: str | None, candidates: Sequence[JWK]) -> None:
        # A service sees few (issuer, tenant, key) combinations: each is checked once
        # and remembered (by the identity of the key set's answer, which a refetch replaces).
        iss, tid = claims.get("iss"), claims.get("tid")
        memo = (iss, tid, id(candidates)) if type(iss) is str and type(tid) is str else None
        if memo is None or self._passed.get(memo) is not candidates:
            self._check_claims(claims, tenant)
            self._check_key(claims, candidates)
            if memo is not None:
                if len(self._passed) >= _MEMO_SIZE:
                    self._passed.clear()
                self._passed[memo] = candidates
        if claims.get("scp") is None and claims.get("roles") is None:
            raise MissingClaim("the token has neither 'scp' nor 'roles': an Entra ID access token carries "
                               "one of them (an ID token is not an access token)", claim="scp",
                               reason="missing")

    def _check_claims(self, claims: Mapping[str, Any], tenant: str | None) -> None:
        tid = claims.get("tid")
        if tid is None:
            raise MissingClaim("the token has no 'tid' claim; Entra ID tokens name their tenant there",
                               claim="tid", reason="missing")
        if not isinstance(tid, str) or not is_guid(tid):
            raise ClaimError(f"the token's tid {clip(tid)} is not a tenant ID (a GUID in lower case)",
                             claim="tid", reason="invalid_type")
        iss = claims.get("iss")
        if iss is None:
            raise MissingClaim("the token has no 'iss' claim", claim="iss", reason="missing")
        if iss != self._cloud.issuer(self._version, tid):
            raise self._issuer_error(iss, tid)
        if tenant is not None and tid != tenant:  # iss and tid agree, on another tenant
            raise InvalidIssuer(f"the token was issued by tenant {tid}, not by this API's tenant {tenant}",
                                claim="iss", reason="mismatch")
        if self._allowed is not None and tid not in self._allowed:
            raise InvalidIssuer(f"tenant {tid} is not one of the {len(self._allowed)} allowed_tenants",
                                claim="tid", reason="not_allowed")
        if self._no_consumers and tid == CONSUMERS:
            raise InvalidIssuer("tenant='organizations' takes work and school accounts; this token is a "
                                "personal Microsoft account's (use tenant='common' to accept those)",
                                claim="tid", reason="not_allowed")

    def _issuer_error(self, iss: object, tid: str) -> InvalidIssuer:
        other = 3 - self._version
        if iss == self._cloud.issuer(other, tid):
            return version_error(other, self._version, iss)
        named = self._cloud.tenant_of(iss, self._version)
        if named is not None:
            return InvalidIssuer(f"the token's iss names tenant {named} but its tid names tenant {tid}",
                                 claim="iss", reason="mismatch")
        return InvalidIssuer(f"issuer {clip(iss, 80)} is not Entra ID's version {self._version}.0 issuer "
                             f"{self._cloud.issuer(self._version, tid)!r}", claim="iss", reason="mismatch")

    def _check_key(self, claims: Mapping[str, Any], candidates: Sequence[JWK]) -> None:
        # The keys' own "issuer" binds them: a key of one issuer never vouches for another.
        iss, tid = claims["iss"], claims["tid"]
        for key in candidates:
            bound = key.issuer
            if bound is not None and bound.replace("{tenantid}", tid) != iss:
                raise InvalidIssuer(f"key {clip(key.kid)} signs only for issuer {clip(bound, 80)}, "
                                    f"and this token names {clip(iss, 80)}", claim="iss", reason="key_issuer")

    # -- explaining refusals ----------------------------------------------------------

    def explain(self, token: str | bytes, error: JOSEError) -> JOSEError | None:
        if isinstance(error, InvalidSignature | KeyNotFound):
            return _graph_token(token)
        if isinstance(error, ClaimError) and error.claim in ("iss", "aud"):
            claims = payload_of(token) or {}  # the signature verified: these claims are authentic
            iss, version = claims.get("iss"), self._version
            other = 3 - version
            if claims.get("ver") == f"{other}.0" or self._cloud.tenant_of(iss, other) is not None:
                return version_error(other, version, iss)
        return None


def _graph_token(token: str | bytes) -> JOSEError | None:
    """The refusal of a Microsoft Graph token (its header has a ``nonce``), or ``None``."""
    header = segment_of(token, 0)
    if header is None or "nonce" not in header:
        return None
    return InvalidAudience("this token was minted for Microsoft Graph (its header has a 'nonce'): only "
                           "Graph can verify it. The client must request a token for this API (a scope "
                           "such as 'api://<client-id>/.default'), not a Graph scope such as User.Read",
                           claim="aud", reason="graph_token")


def build(tenant: object, audience: object, options: Mapping[str, Any], *, version: object,
          allowed_tenants: object, cloud: object) -> ProviderVerifier:
    """See :func:`jwkverify.providers.entra`."""
    parsed = split_options("entra", options, defaults={"algorithms": ("RS256",)})
    if isinstance(version, bool) or version not in (1, 2):
        raise ValueError(f"entra(): version={clip(version)} must be 2 (the manifest's "
                         "accessTokenAcceptedVersion is 2) or 1 (it is null or 1)")
    if not isinstance(cloud, str) or cloud not in CLOUDS:
        raise ValueError(f"entra(): cloud={clip(cloud)} must be one of {', '.join(map(repr, CLOUDS))}")
    where = CLOUDS[cloud]
    audiences = audience_option("entra", audience)
    if version == 2 and not all(is_guid(item.lower()) for item in audiences):
        raise ValueError("entra(): in version 2.0 tokens aud is always the API's application (client) ID, "
                         "a GUID; pass that as audience=, or version=1 for tokens whose aud is the App ID "
                         "URI (api://...)")
    if version == 2:
        audiences = tuple(item.lower() for item in audiences)  # tokens write GUIDs in lower case
    if not isinstance(tenant, str):
        raise TypeError(f"entra() takes tenant= as a str, not {type(tenant).__name__}")
    name = tenant.lower()
    multi = name in ("organizations", "common")
    allowed = _allowed(allowed_tenants, multi, name)
    lookup: TenantLookup | None = None
    if name in ("consumers", CONSUMERS):
        if version == 1:
            raise ValueError("entra(): personal Microsoft accounts get version 2.0 tokens only: pass "
                             "version=2 with tenant='consumers'")
        name = CONSUMERS
    elif not multi and not is_guid(name):
        if not is_domain(name):
            raise ValueError(f"entra(): tenant={clip(tenant)} must be your tenant ID (a GUID), one of its "
                             "verified domains (contoso.onmicrosoft.com), 'consumers', or 'organizations'/"
                             "'common' with allowed_tenants= for a multi-tenant app")
        lookup = TenantLookup(name, where, parsed.remote)
    single = not multi and lookup is None
    issuer = where.issuer(version, name if single else "{tenantid}")
    inner = remote_verifier(where.keys_url(version, name if version == 2 or not multi else "common"),
                            parsed, issuer=issuer if single else None, audience=audiences)
    rules = EntraRules(cloud=where, version=version, tenant=name if single else None, lookup=lookup,
                       allowed=None if allowed is ANY_TENANT else allowed,  # type: ignore[arg-type]
                       no_consumers=name == "organizations", source=inner.key_source,
                       max_token_size=parsed.verifier.get("max_token_size", DEFAULT_MAX_TOKEN_SIZE))
    return ProviderVerifier(inner, rules, provider="entra", issuers=(issuer,), conventions=CONVENTIONS)


def _allowed(allowed_tenants: object, multi: bool, tenant: str) -> frozenset[str] | object:
    if not multi:
        if allowed_tenants is not None:
            raise ValueError(f"entra(): allowed_tenants= is for tenant='organizations' or 'common'; "
                             f"tenant={tenant!r} accepts that tenant only")
        return None
    if allowed_tenants is None:
        raise ValueError(f"entra(): tenant={tenant!r} accepts tokens of other tenants: pass allowed_tenants= "
                         "the tenant IDs you accept, or allowed_tenants=ANY_TENANT for a public multi-tenant "
                         "app (and authorize each tenant yourself)")
    if allowed_tenants is ANY_TENANT:
        return ANY_TENANT
    if isinstance(allowed_tenants, str | bytes) or not hasattr(allowed_tenants, "__iter__"):
        raise TypeError("entra() takes allowed_tenants= as a collection of tenant IDs, or ANY_TENANT")
    found = frozenset(allowed_tenants)
    if not found:
        raise ValueError("entra(): allowed_tenants= must name at least one tenant ID (or be ANY_TENANT)")
    for item in found:
        if not isinstance(item, str) or not is_guid(item.lower()):
            raise ValueError(f"entra(): allowed_tenants holds {clip(item)}, not a tenant ID (a GUID)")
    return frozenset(item.lower() for item in found)
