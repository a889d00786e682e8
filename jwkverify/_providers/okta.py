"""Okta: access tokens of a custom authorization server.

Only a custom authorization server (``https://{domain}/oauth2/{id}``, ``default``
included) mints access tokens a resource server may validate; the org
authorization server's (``https://{domain}``) are for Okta's own APIs. The keys
are at ``{issuer}/v1/keys``; scopes are the ``scp`` array, the client is ``cid``;
``groups`` becomes roles only when the adapter is told (``role_claims=("groups",)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .._web.conventions import CLIENT_ID_CLAIMS, TokenConventions
from ..errors import MissingClaim, clip
from .options import audience_option, base_url, split_options
from .verifier import ProviderVerifier, Rules, remote_verifier

__all__ = ["CONVENTIONS", "build"]

#: Okta has no roles claim of its own; ``groups`` only if the adapter opts in.
CONVENTIONS: Final = TokenConventions(role_claims=(), client_id_claims=("cid", *CLIENT_ID_CLAIMS))

_ORG_SERVER = ("is Okta's org authorization server, whose access tokens are meant for Okta's own APIs "
               "and cannot be validated by a resource server: create a custom authorization server "
               "(Security > API > Authorization Servers) and pass its issuer, for example ")


class _OktaRules(Rules):
    __slots__ = ()

    def check(self, claims: Mapping[str, Any], token: str | bytes) -> None:
        # Every access token of a custom authorization server names its client in cid;
        # an ID token (aud = the client) never does.
        if not isinstance(claims.get("cid"), str):
            raise MissingClaim("the token has no 'cid' claim: Okta access tokens name their client "
                               "there (an ID token is not an access token)", claim="cid", reason="missing")


def build(issuer: object, audience: object, options: Mapping[str, Any]) -> ProviderVerifier:
    """See :func:`jwkverify.providers.okta`."""
    parsed = split_options("okta", options, defaults={"algorithms": ("RS256",)})
    url = base_url("okta", "issuer", issuer, allow_http=parsed.allow_http, path=True)
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    origin = f"{scheme}://{host}"
    parts = path.split("/") if path else []
    if len(parts) != 2 or parts[0] != "oauth2" or parts[1] in ("", "v1"):
        example = f"{origin}/oauth2/default"
        if not parts or parts[:2] == ["oauth2", "v1"] or parts == ["oauth2"]:
            raise ValueError(f"okta(): {clip(issuer, 80)} {_ORG_SERVER}{example!r}")
        raise ValueError(f"okta(): the issuer {clip(issuer, 80)} is not a custom authorization server's "
                         f"issuer https://{{domain}}/oauth2/{{id}}, such as {example!r}")
    audiences = audience_option("okta", audience)
    inner = remote_verifier(f"{url}/v1/keys", parsed, issuer=url, audience=audiences)
    return ProviderVerifier(inner, _OktaRules(), provider="okta", issuers=(url,), conventions=CONVENTIONS)
