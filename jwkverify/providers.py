"""Provider presets: a correctly configured verifier for Okta, Auth0, Entra ID, Keycloak, Cognito, Google.

Each function returns a :class:`ProviderVerifier`, usable wherever a
:class:`~jwkverify.JWTVerifier` is (``verify``, ``verify_async``, every adapter).
It verifies against the provider's key set (a :class:`~jwkverify.RemoteJWKSet` at
the provider's documented URL, fetched on first use), checks what the provider
documents beyond ``iss`` and ``aud``, and carries the provider's scope, role and
client-id claims to the adapters (an adapter's own ``role_claims`` still wins).

Every preset also takes, as keywords, the :class:`~jwkverify.RemoteJWKSet` options
(``fetch``, ``fetch_async``, ``timeout``, ``cache_ttl``, ``cooldown``, ``max_stale``,
``max_bytes``, ``headers``, ``allow_http``, ``ssl_context``, ``clock``, ``wall_clock``)
and the :class:`~jwkverify.JWTVerifier` ones (``algorithms``, ``leeway``, ``now``,
``cache_size``, ``max_age``, ``typ``, ``required_claims``, ``subject``,
``max_token_size``). Where the keys are fetched follows from what you pass (the
issuer, domain or base URL) or is the provider's fixed, documented host; there
is no separate key-set URL to get wrong. Tests point a preset at a loopback
server with an ``http://127.0.0.1`` issuer and ``allow_http=True``, or with a
``fetch=`` hook (which sees the documented URL).

Configuration mistakes raise ``TypeError``/``ValueError`` at once, saying what to pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from ._providers import auth0 as _auth0
from ._providers import cognito as _cognito
from ._providers import entra as _entra
from ._providers import google as _google
from ._providers import keycloak as _keycloak
from ._providers import okta as _okta
from ._providers.entra_tenant import ANY_TENANT, CONSUMERS, _AnyTenant
from ._providers.verifier import ProviderVerifier

__all__ = ["ANY_TENANT", "CONSUMERS", "ProviderVerifier", "auth0", "cognito", "entra", "google", "keycloak",
           "okta"]


def okta(issuer: str, *, audience: str | Iterable[str], **options: Any) -> ProviderVerifier:
    """Access tokens of an Okta custom authorization server.

    ``issuer`` is ``https://{domain}/oauth2/{id}`` (``id`` may be ``default``); keys
    come from ``{issuer}/v1/keys``. ``audience`` is the authorization server's
    audience (``api://default`` for the default server). Scopes are read from the
    ``scp`` array, the client from ``cid``; Okta's ``groups`` become roles only with
    ``role_claims=("groups",)`` on the adapter. ``algorithms`` defaults to RS256.

    Raises:
        ValueError: ``issuer`` is the org authorization server (``https://{domain}``),
            whose access tokens only Okta's own APIs can validate, or not an
            ``/oauth2/{id}`` issuer; an empty audience; ``ANY_AUDIENCE``.
        TypeError: an option of the wrong type, or one the preset sets itself.

    The verifier refuses a token without ``cid`` (an ID token) with ``MissingClaim``.
    """
    return _okta.build(issuer, audience, options)


def auth0(domain: str, *, audience: str | Iterable[str], roles_claim: str | None = None,
          **options: Any) -> ProviderVerifier:
    """Access tokens for an Auth0 API.

    ``domain`` is the tenant's domain or custom domain, with or without ``https://``
    and trailing slash. The issuer is ``https://{domain}/`` with the slash Auth0
    puts there: a token whose ``iss`` lacks it is refused. Keys come from
    ``https://{domain}/.well-known/jwks.json``. ``audience`` is the API identifier
    (``aud`` may be an array that also names ``/userinfo``). RBAC ``permissions``
    count as scopes; ``roles_claim`` names the namespaced claim an Action adds roles
    to (``"https://example.com/roles"``). ``algorithms`` defaults to RS256 and PS256.

    Raises:
        ValueError: an empty domain or one with a path, an ``http`` domain without
            ``allow_http=True``; an empty ``roles_claim``; an empty audience.
        TypeError: an option of the wrong type, or one the preset sets itself.
    """
    return _auth0.build(domain, audience, roles_claim, options)


def entra(tenant: str, *, audience: str | Iterable[str], version: Literal[1, 2] = 2,
          allowed_tenants: Iterable[str] | _AnyTenant | None = None,
          cloud: Literal["global", "usgov", "china"] = "global", **options: Any) -> ProviderVerifier:
    """Access tokens for an API registered in Microsoft Entra ID (Azure AD).

    ``tenant``: the tenant ID (a GUID), one of its verified domains (its ID is then
    read once from the cloud's OpenID configuration), ``"consumers"`` (personal
    accounts: :data:`CONSUMERS`), or ``"organizations"``/``"common"`` for a
    multi-tenant app, which requires ``allowed_tenants``: the tenant IDs accepted,
    or :data:`ANY_TENANT`. ``version``: 2 when the app registration's manifest sets
    ``accessTokenAcceptedVersion`` (``api.requestedAccessTokenVersion``) to 2; 1
    when it is null or 1. ``audience``: in version 2 the API's client ID; in
    version 1 its App ID URI or client ID. ``cloud``: ``"global"``, ``"usgov"``
    (login.microsoftonline.us) or ``"china"`` (login.partner.microsoftonline.cn).
    Scopes come from ``scp``, app roles from ``roles``. ``algorithms`` defaults to RS256.

    Raises:
        ValueError: a tenant that is none of the above; ``allowed_tenants`` missing
            for a multi-tenant app, given for a single tenant, empty or not GUIDs;
            a version other than 1 or 2; an unknown cloud; in version 2 an audience
            that is not a client ID; ``"consumers"`` with version 1.
        TypeError: an option of the wrong type, or one the preset sets itself.

    The verifier refuses, with an ``InvalidIssuer``/``InvalidAudience``/``MissingClaim``
    that says why: a token of the other version (naming ``version=`` and the
    manifest property), another tenant's or a tenant not allowed, a token whose
    ``iss`` and ``tid`` name different tenants, one signed by a key bound to
    another issuer, a Microsoft Graph token (its header has a ``nonce``), and a
    token with neither ``scp`` nor ``roles`` (an ID token).
    """
    return _entra.build(tenant, audience, options, version=version, allowed_tenants=allowed_tenants,
                        cloud=cloud)


def keycloak(base_url: str, realm: str, *, audience: str | Iterable[str], client_id: str | None = None,
             **options: Any) -> ProviderVerifier:
    """Access tokens of a Keycloak realm.

    The issuer is ``{base_url}/realms/{realm}``; a legacy server's base URL ends
    with ``/auth`` and keeps it. Keys come from
    ``{issuer}/protocol/openid-connect/certs``. ``audience`` must be what an
    audience mapper puts in ``aud`` for this API: it is always checked. Roles are
    ``realm_access.roles`` and, with ``client_id``, ``resource_access.{client_id}.roles``.

    Raises:
        ValueError: an empty base URL, one with ``/realms/``, an ``http`` one without
            ``allow_http=True``; a realm that is empty or has a ``/``; an empty audience.
        TypeError: an option of the wrong type, or one the preset sets itself.

    The verifier refuses a token whose ``typ`` claim is not ``Bearer`` (an ID or
    refresh token) with ``ClaimError``.
    """
    return _keycloak.build(base_url, realm, audience, client_id, options)


def cognito(region: str, user_pool_id: str, *, client_id: str | Iterable[str],
            token_use: Literal["access", "id"] = "access", **options: Any) -> ProviderVerifier:
    """Access (or ID) tokens of an Amazon Cognito user pool.

    The issuer is ``https://cognito-idp.{region}.amazonaws.com/{user_pool_id}``; keys
    come from ``{issuer}/.well-known/jwks.json``. Access tokens have no ``aud``:
    ``token_use`` must be ``"access"`` and ``client_id`` one of the given app
    clients, which stands in for the audience (``checks_recipient`` is ``True``, so
    adapters accept the verifier). With ``token_use="id"``, ``aud`` must name the
    client. Roles are ``cognito:groups``. ``algorithms`` defaults to RS256.

    Raises:
        ValueError: a region or pool ID of the wrong shape, a pool of another
            region, a ``token_use`` other than ``"access"``/``"id"``, no client ID.
        TypeError: an option of the wrong type, or ``audience=`` (pass ``client_id=``).

    The verifier refuses an ID token where an access token is expected, and the
    reverse (``ClaimError`` on ``token_use``), and another client's access token
    (``InvalidAudience`` on ``client_id``).
    """
    return _cognito.build(region, user_pool_id, client_id, token_use, options)


def google(client_id: str | Iterable[str], *, hosted_domain: str | None = None,
           **options: Any) -> ProviderVerifier:
    """Google ID tokens for your OAuth client.

    ``iss`` may be ``https://accounts.google.com`` or ``accounts.google.com`` (both
    are documented); ``aud`` must be ``client_id``. Keys come from
    ``https://www.googleapis.com/oauth2/v3/certs``. With ``hosted_domain``, ``hd``
    must equal it: a token without ``hd`` is refused, whatever its ``email``.
    ``algorithms`` defaults to RS256.

    Raises:
        ValueError: no client ID; a hosted domain that is empty or not lower case.
        TypeError: an option of the wrong type, or ``audience=`` (pass ``client_id=``).
    """
    return _google.build(client_id, hosted_domain, options)
