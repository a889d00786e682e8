"""Google ID tokens (Sign in with Google, Google Identity Services).

``iss`` is ``https://accounts.google.com`` or ``accounts.google.com``: Google
documents both. ``aud`` is the OAuth client ID. Keys are at
``https://www.googleapis.com/oauth2/v3/certs``. With ``hosted_domain``, ``hd`` must
name that Google Workspace domain; a token without ``hd`` (a consumer account) is
refused whatever its ``email`` says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .._web.conventions import TokenConventions
from ..errors import ClaimError, MissingClaim, clip
from .options import split_options, strings_option
from .verifier import ProviderVerifier, Rules, remote_verifier

__all__ = ["ISSUERS", "KEYS_URL", "build"]

ISSUERS: Final = ("https://accounts.google.com", "accounts.google.com")
KEYS_URL: Final = "https://www.googleapis.com/oauth2/v3/certs"
#: An ID token grants no scopes and carries no roles; ``azp`` names the client.
CONVENTIONS: Final = TokenConventions(role_claims=(), client_id_claims=("azp",))


class _GoogleRules(Rules):
    __slots__ = ("_domain",)

    def __init__(self, domain: str | None) -> None:
        self._domain = domain

    def check(self, claims: Mapping[str, Any], token: str | bytes) -> None:
        domain = self._domain
        if domain is None:
            return
        hd = claims.get("hd")
        if hd is None:
            raise MissingClaim(f"the token has no 'hd' claim: it is not from the Google Workspace domain "
                               f"{domain!r} (its email does not count)", claim="hd", reason="missing")
        if hd != domain:
            raise ClaimError(f"the token's hosted domain {clip(hd, 80)} is not {domain!r}",
                             claim="hd", reason="mismatch")


def build(client_id: object, hosted_domain: object, options: Mapping[str, Any]) -> ProviderVerifier:
    """See :func:`jwkverify.providers.google`."""
    parsed = split_options("google", options, defaults={"algorithms": ("RS256",)},
                           fixed={"audience": "a Google ID token's audience is your OAuth client ID: "
                                              "pass client_id="})
    clients = strings_option("google", "client_id", client_id)
    if hosted_domain is not None:
        if not isinstance(hosted_domain, str):
            raise TypeError("google() takes hosted_domain= as a domain name, such as 'example.com'")
        if not hosted_domain or hosted_domain != hosted_domain.strip().lower() or "@" in hosted_domain:
            raise ValueError(f"google(): hosted_domain={clip(hosted_domain)} must be a Workspace domain "
                             "in lower case, such as 'example.com'")
    inner = remote_verifier(KEYS_URL, parsed, issuer=ISSUERS, audience=clients)
    return ProviderVerifier(inner, _GoogleRules(hosted_domain), provider="google", issuers=ISSUERS,
                            conventions=CONVENTIONS)
