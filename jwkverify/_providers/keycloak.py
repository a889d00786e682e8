"""Keycloak: access tokens of one realm.

The issuer is ``{base_url}/realms/{realm}`` (a legacy base URL ending in
``/auth`` keeps that prefix); keys are at ``{issuer}/protocol/openid-connect/certs``,
next to an encryption key that is skipped. ``aud`` names the clients the user has
a role on (hence ``account``), or nothing, unless an audience mapper adds this
API: the audience is always checked. A Keycloak token says what it is in its
``typ`` claim: an ID or refresh token is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .._web.conventions import RoleClaim, TokenConventions
from ..errors import ClaimError, clip
from .options import audience_option, base_url, split_options
from .verifier import ProviderVerifier, Rules, remote_verifier

__all__ = ["build"]

#: What Keycloak writes in an access token's ``typ`` claim (``DPoP`` for a bound one).
_ACCESS_TYPES: Final = frozenset({"Bearer", "DPoP"})
_REALM: Final = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@-]+")  # one URL path segment, unescaped


class _KeycloakRules(Rules):
    __slots__ = ()

    def check(self, claims: Mapping[str, Any], token: str | bytes) -> None:
        kind = claims.get("typ")
        if kind is not None and kind not in _ACCESS_TYPES:
            raise ClaimError(f"the token's typ claim is {clip(kind)}: a Keycloak access token says "
                             "'Bearer' (an ID or refresh token is not an access token)",
                             claim="typ", reason="mismatch")


def build(base: object, realm: object, audience: object, client_id: object,
          options: Mapping[str, Any]) -> ProviderVerifier:
    """See :func:`jwkverify.providers.keycloak`."""
    parsed = split_options("keycloak", options)
    origin = base_url("keycloak", "base_url", base, allow_http=parsed.allow_http, path=True)
    if origin.endswith("/realms") or "/realms/" in origin:
        raise ValueError(f"keycloak(): base_url={clip(base, 80)} must be the server's URL, without "
                         "/realms/...; pass the realm as realm=")
    if not isinstance(realm, str):
        raise TypeError(f"keycloak() takes realm= as a str, not {type(realm).__name__}")
    if _REALM.fullmatch(realm) is None:
        raise ValueError(f"keycloak(): realm={clip(realm)} must be a realm's name: not empty, one path "
                         "segment (no '/', '?', '#', '%' or spaces)")
    if client_id is not None and (not isinstance(client_id, str) or not client_id):
        raise TypeError("keycloak() takes client_id= as the client whose roles to read (a non-empty str)")
    issuer = f"{origin}/realms/{realm}"
    audiences = audience_option("keycloak", audience)
    inner = remote_verifier(f"{issuer}/protocol/openid-connect/certs", parsed, issuer=issuer,
                            audience=audiences)
    roles: tuple[RoleClaim, ...] = (("realm_access", "roles"),)
    if client_id is not None:
        roles += (("resource_access", client_id, "roles"),)
    return ProviderVerifier(inner, _KeycloakRules(), provider="keycloak", issuers=(issuer,),
                            conventions=TokenConventions(role_claims=roles))
