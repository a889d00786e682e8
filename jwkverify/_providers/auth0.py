"""Auth0: access tokens for an API of a tenant (or its custom domain).

The issuer is ``https://{domain}/`` *with* the trailing slash, compared exactly,
so a token whose ``iss`` lacks it is refused. Keys are at
``https://{domain}/.well-known/jwks.json``. ``aud`` may be an array (the API
identifier and the ``/userinfo`` URL). RBAC ``permissions`` count as scopes;
roles come only from a namespaced claim an Action adds, when it is named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._web.conventions import TokenConventions
from ..errors import InvalidIssuer, JOSEError, clip
from .options import audience_option, base_url, split_options
from .verifier import ProviderVerifier, Rules, payload_of, remote_verifier

__all__ = ["build"]


class _Auth0Rules(Rules):
    __slots__ = ("_issuer",)

    def __init__(self, issuer: str) -> None:
        self._issuer = issuer

    def explain(self, token: str | bytes, error: JOSEError) -> JOSEError | None:
        if not isinstance(error, InvalidIssuer):
            return None
        claims = payload_of(token)
        if claims is not None and claims.get("iss") == self._issuer.rstrip("/"):
            return InvalidIssuer(f"the token's iss {clip(claims['iss'], 80)} lacks the trailing slash "
                                 f"of Auth0's issuer {self._issuer!r}; Auth0 never issues such a token",
                                 claim="iss", reason="mismatch")
        return None


def build(domain: object, audience: object, roles_claim: object,
          options: Mapping[str, Any]) -> ProviderVerifier:
    """See :func:`jwkverify.providers.auth0`."""
    parsed = split_options("auth0", options, defaults={"algorithms": ("RS256", "PS256")})
    origin = base_url("auth0", "domain", domain, allow_http=parsed.allow_http, path=False)
    if roles_claim is not None and not isinstance(roles_claim, str):
        raise TypeError("auth0() takes roles_claim= as the name of a claim, such as "
                        "'https://example.com/roles'")
    if roles_claim == "":
        raise ValueError("auth0(): roles_claim= must name a claim, such as 'https://example.com/roles'")
    issuer = f"{origin}/"  # Auth0's iss ends with a slash
    audiences = audience_option("auth0", audience)
    inner = remote_verifier(f"{origin}/.well-known/jwks.json", parsed, issuer=issuer, audience=audiences)
    conventions = TokenConventions(role_claims=(roles_claim,) if roles_claim else (),
                                   permission_claims=("permissions",))
    return ProviderVerifier(inner, _Auth0Rules(issuer), provider="auth0", issuers=(issuer,),
                            conventions=conventions)
