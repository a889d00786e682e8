"""One request's verdict for a framework face: a :class:`VerifiedToken`, or a :class:`Refusal`.

The FastMCP and FastAPI faces translate their framework's request and response to
this; every rule comes from :mod:`.._web` (credentials, challenges, refusal texts,
scopes, roles, the audience requirement). Which answer a failure gets:

- no Bearer credentials: ``401`` with the challenge and no error code (RFC 6750 §3.1);
- malformed credentials or two ``Authorization`` headers: ``400 invalid_request``;
- a refused token: ``401 invalid_token``;
- a missing scope: ``403 insufficient_scope`` with ``scope=``; a missing role: ``403``;
- the key set unavailable: ``503`` with ``Retry-After`` (RFC 9110 §10.2.3).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .._remote.cache_policy import DEFAULT_COOLDOWN
from .._web.bearer import BearerProblem, bearer_token, describe_refusal, www_authenticate
from .._web.conventions import (
    BearerVerifier,
    RoleClaim,
    TokenConventions,
    conventions_of,
    require_audience,
    role_claims_option,
)
from ..asgi import VerifiedToken
from ..errors import JOSEError

__all__ = ["RETRY_AFTER", "Gate", "Refusal", "authorize"]

#: Seconds a client is asked to wait before retrying while no key set is usable: the
#: remote key set's default cooldown between fetches.
RETRY_AFTER: Final = str(int(DEFAULT_COOLDOWN))


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused, and the status that says it."""

    status: int
    error: str | None
    description: str
    scope: tuple[str, ...] = ()

    def headers(self, *, resource_metadata: str | None = None, realm: str | None = None) -> dict[str, str]:
        """The response headers: the ``WWW-Authenticate`` challenge, or ``Retry-After`` for a ``503``.

        Raises:
            ValueError: a scope of the refusal is not a scope name (RFC 6749 §3.3).
        """
        if self.status >= 500:  # not about the token: no challenge (RFC 9110 §10.2.3)
            return {"Retry-After": RETRY_AFTER, "Cache-Control": "no-store"}
        challenge = www_authenticate(  # RFC 6750 §3, RFC 9728 §5.1
            realm=realm, error=self.error,
            error_description=self.description if self.error is not None else None,
            scope=self.scope, resource_metadata=resource_metadata,
        )
        return {"WWW-Authenticate": challenge, "Cache-Control": "no-store"}


@dataclass(frozen=True, slots=True, eq=False)
class Gate:
    """A verifier, and how one face reads scopes and roles from the tokens it accepts."""

    verifier: BearerVerifier
    audiences: frozenset[str]
    conventions: TokenConventions
    role_claims: tuple[RoleClaim, ...]
    log: logging.Logger
    read_roles: bool = True

    @classmethod
    def build(cls, verifier: BearerVerifier, role_claims: Iterable[RoleClaim] | None, logger: str,
              *, read_roles: bool = True) -> Gate:
        """Check the verifier (an audience is required) and the role claims, once.

        ``read_roles=False``: :meth:`view` leaves ``roles`` empty, for a face whose
        framework reads roles from the claims itself (FastMCP's ``require_roles``).

        Raises:
            TypeError: ``verifier`` is not a verifier, or ``role_claims`` is malformed.
            ValueError: the verifier checks no audience.
        """
        audiences = require_audience(verifier)
        conventions = conventions_of(verifier)
        claims = conventions.role_claims if role_claims is None else role_claims_option(role_claims)
        return cls(verifier, audiences, conventions, claims, logging.getLogger(logger), read_roles)

    def credentials(self, values: Sequence[str], needed: tuple[str, ...] = ()) -> str | Refusal:
        """The Bearer token of a request's ``Authorization`` header values, or its refusal."""
        token = bearer_token(values)
        if not isinstance(token, BearerProblem):
            return token
        if token.error is None:  # RFC 6750 §3.1: no credentials, no error code
            return Refusal(401, None, token.description, needed)
        return Refusal(400, token.error, token.description)

    async def verify(self, token: str) -> VerifiedToken | Refusal:
        """The verified token, or why not; nothing the verifier raises escapes."""
        try:
            claims = await self.verifier.verify_async(token)
        except JOSEError as exc:
            if exc.status_hint >= 500:  # the key set, not the token: not the client's fault
                self.log.warning("cannot verify Bearer tokens now: %s: %s", type(exc).__name__, exc)
                return Refusal(503, "temporarily_unavailable",
                               "the token cannot be verified now; retry later")
            if self.log.isEnabledFor(logging.INFO):
                self.log.info("refused a Bearer token: %s: %s", type(exc).__name__, exc)
            return Refusal(401, "invalid_token", describe_refusal(exc))
        except Exception:  # a verifier bug must still end in a refusal, never a 500
            self.log.exception("the verifier failed on a Bearer token")
            return Refusal(401, "invalid_token", "the token could not be verified")
        return self.view(claims, token)

    def view(self, claims: dict[str, Any], token: str) -> VerifiedToken:
        """The :class:`VerifiedToken` of verified ``claims``: scopes and roles read once."""
        conventions = self.conventions
        roles = conventions.roles(claims, self.role_claims) if self.read_roles else frozenset()
        return VerifiedToken(claims, conventions.scopes(claims), roles, token)

    def roles(self, claims: Mapping[str, Any]) -> frozenset[str]:
        """The roles ``claims`` grant under this gate's role claims."""
        return self.conventions.roles(claims, self.role_claims)


def authorize(token: VerifiedToken, scopes: tuple[str, ...], roles: tuple[str, ...]) -> Refusal | None:
    """``None`` when ``token`` has every scope and role, else the ``403`` refusal."""
    if not token.scopes.issuperset(scopes):
        # RFC 6750 §3.1 and the MCP step-up flow: name every scope this request needs.
        return Refusal(403, "insufficient_scope", "the token lacks a scope this request needs", scopes)
    if not token.roles.issuperset(roles):
        return Refusal(403, "insufficient_scope", "the token lacks a role this request needs")
    return None
