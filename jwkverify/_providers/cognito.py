"""Amazon Cognito user pools: access tokens (no ``aud``) or ID tokens.

The issuer is ``https://cognito-idp.{region}.amazonaws.com/{user_pool_id}``, keys
at ``{issuer}/.well-known/jwks.json``. An access token names its app client in
``client_id`` and has no ``aud``: ``token_use`` must be ``access`` and
``client_id`` the given client, which stands in for the audience check. An ID
token's ``aud`` is the client and ``token_use`` is ``id``. ``cognito:groups`` are
the roles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .._web.conventions import CLIENT_ID_CLAIMS, TokenConventions
from ..claims import ANY_AUDIENCE
from ..errors import ClaimError, InvalidAudience, JOSEError, MissingClaim, clip
from .options import split_options, strings_option
from .verifier import ProviderVerifier, Rules, payload_of, remote_verifier

__all__ = ["build"]

_REGION: Final = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}")
_POOL_ID: Final = re.compile(r"([a-z]{2}(?:-[a-z]+)+-[0-9]{1,2})_[A-Za-z0-9]+")
_OTHER_USE: Final = {"access": "id", "id": "access"}
CONVENTIONS: Final = TokenConventions(role_claims=("cognito:groups",),
                                      client_id_claims=("client_id", *CLIENT_ID_CLAIMS[1:], "aud"))


class _CognitoRules(Rules):
    __slots__ = ("_clients", "_use")

    def __init__(self, use: str, clients: frozenset[str]) -> None:
        self._use = use
        self._clients = clients

    def explain(self, token: str | bytes, error: JOSEError) -> JOSEError | None:
        # An access token has no aud, so an ID-token verifier refuses it for that:
        # say what the token is instead.
        if not isinstance(error, ClaimError) or error.claim != "aud":
            return None
        claims = payload_of(token)
        try:
            self.check(claims or {}, token)
        except ClaimError as better:
            return better if better.claim == "token_use" else None
        return None

    def check(self, claims: Mapping[str, Any], token: str | bytes) -> None:
        use = claims.get("token_use")
        if use is None:
            raise MissingClaim(f"the token has no 'token_use' claim; Cognito {self._use} tokens say "
                               f"{self._use!r} there", claim="token_use", reason="missing")
        if use != self._use:
            shown = f"an {use} token" if use in _OTHER_USE else f"a token_use {clip(use)} token"
            raise ClaimError(f"{shown} is not accepted where a Cognito {self._use} token is expected "
                             f"(token_use={self._use!r})", claim="token_use", reason="mismatch")
        if self._use == "access":
            client = claims.get("client_id")
            if client is None:
                raise MissingClaim("the access token has no 'client_id' claim", claim="client_id",
                                   reason="missing")
            if client not in self._clients:  # RFC 9068 §4: stands in for aud, which Cognito omits
                raise InvalidAudience(f"the access token was issued to app client {clip(client, 80)}, "
                                      "not to this API's client_id", claim="client_id", reason="mismatch")


def build(region: object, user_pool_id: object, client_id: object, token_use: object,
          options: Mapping[str, Any]) -> ProviderVerifier:
    """See :func:`jwkverify.providers.cognito`."""
    parsed = split_options("cognito", options, defaults={"algorithms": ("RS256",)},
                           fixed={"audience": "Cognito's recipient is the app client: pass client_id="})
    if not isinstance(region, str) or not isinstance(user_pool_id, str):
        raise TypeError("cognito() takes region= and user_pool_id= as str, such as 'eu-west-1' and "
                        "'eu-west-1_AbCdEf123'")
    if _REGION.fullmatch(region) is None:
        raise ValueError(f"cognito(): region={clip(region)} is not an AWS region such as 'eu-west-1'")
    pool = _POOL_ID.fullmatch(user_pool_id)
    if pool is None:
        raise ValueError(f"cognito(): user_pool_id={clip(user_pool_id)} is not a user pool ID such as "
                         f"'{region}_AbCdEf123'")
    if pool.group(1) != region:
        raise ValueError(f"cognito(): the user pool {user_pool_id!r} is in region {pool.group(1)!r}, "
                         f"not {region!r}; pass region={pool.group(1)!r}")
    if token_use not in _OTHER_USE:
        raise ValueError(f"cognito(): token_use={clip(token_use)} must be 'access' (for an API) or 'id'")
    clients = strings_option("cognito", "client_id", client_id)
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
    url = f"{issuer}/.well-known/jwks.json"
    if token_use == "access":  # no aud in a Cognito access token: client_id is checked instead
        inner = remote_verifier(url, parsed, issuer=issuer, audience=ANY_AUDIENCE)
        return ProviderVerifier(inner, _CognitoRules("access", frozenset(clients)), provider="cognito",
                                issuers=(issuer,), conventions=CONVENTIONS, audiences=frozenset(),
                                checks_recipient=True)
    inner = remote_verifier(url, parsed, issuer=issuer, audience=clients)
    return ProviderVerifier(inner, _CognitoRules("id", frozenset(clients)), provider="cognito",
                            issuers=(issuer,), conventions=CONVENTIONS)
