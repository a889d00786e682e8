"""FastMCP on jwkverify: a ``TokenVerifier`` for ``FastMCP(auth=...)`` and ``RemoteAuthProvider``.

:class:`FastMCPTokenVerifier` is a subclass of FastMCP's own ``TokenVerifier``
(``fastmcp.server.auth``, FastMCP 4; ``pip install "jwkverify[fastmcp]"``), so it
goes where FastMCP takes one::

    mcp = FastMCP("notes", auth=FastMCPTokenVerifier(verifier, base_url="https://notes.example"))

or, to serve the RFC 9728 metadata document that MCP clients start from, as the
``token_verifier`` of FastMCP's ``RemoteAuthProvider``. FastMCP is imported with
this module, never by the rest of jwkverify.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ._faces.gate import Gate, Refusal
from ._web.bearer import resource_problem
from ._web.conventions import BearerVerifier, RoleClaim
from .asgi import VerifiedToken, _scopes
from .mcp import _resource

try:
    from fastmcp.server.auth import AccessToken, AuthCheck, TokenVerifier, require_roles
    from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
    from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.requests import HTTPConnection
    from starlette.responses import JSONResponse, Response
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without FastMCP
    raise ImportError('the FastMCP adapter needs FastMCP 4: pip install "jwkverify[fastmcp]"') from exc

__all__ = ["FastMCPTokenVerifier"]


class FastMCPTokenVerifier(TokenVerifier):  # type: ignore[misc, unused-ignore]
    """FastMCP's ``TokenVerifier`` on a jwkverify verifier.

    - ``verifier``: a :class:`~jwkverify.JWTVerifier`, :class:`~jwkverify.MultiIssuerVerifier`
      or provider preset built with ``audience=`` this server's resource URL (RFC 8707).
      Build it with ``cache_size=`` so that an agent's repeated token skips the signature.
    - ``base_url``: this server's public URL, as FastMCP's ``base_url``.
    - ``resource``: this server's resource URL; when ``aud`` is an array, the entry
      reported as ``AccessToken.resource`` (default: the entry the verifier accepts).
    - ``required_scopes``: scopes every request needs. A token without them is not
      refused here: FastMCP answers ``403 insufficient_scope`` with ``scope=``, so the
      client can ask for more (a ``401`` would make it start over).
    - ``role_claims``: where roles are read (default: the verifier's ``conventions``,
      else ``roles`` and Keycloak's ``realm_access.roles``); see :meth:`extract_roles`.

    :meth:`verify_token` gives FastMCP an ``AccessToken`` with ``client_id`` (``client_id``,
    ``azp``, ``appid`` or ``cid``; ``""`` when the token names no client, never ``sub``),
    ``subject`` (``sub``), ``scopes``, ``expires_at``, ``resource`` and all the claims,
    or ``None`` for any refused token.

    Given as ``FastMCP(auth=...)`` it also reads the ``Authorization`` header itself,
    with jwkverify's rules, at the MCP endpoint: malformed credentials or two
    ``Authorization`` headers are ``400 invalid_request``, a refused token is ``401
    invalid_token`` saying why (``"the token has expired"``), an unavailable key set
    is ``503`` with ``Retry-After`` (where FastMCP would answer ``401``, and a client
    would throw its token away). Without credentials FastMCP answers ``401`` with its
    challenge; a missing ``required_scopes`` scope is FastMCP's ``403``. Inside a
    ``RemoteAuthProvider`` FastMCP reads the header itself: those cases are all ``401``.

    Raises:
        TypeError, ValueError: a verifier without an audience, an invalid scope name,
            resource or role claim.
    """

    def __init__(
        self,
        verifier: BearerVerifier,
        *,
        base_url: str | None = None,
        resource: str | None = None,
        required_scopes: Iterable[str] = (),
        role_claims: Iterable[RoleClaim] | None = None,
    ) -> None:
        gate = Gate.build(verifier, role_claims, __name__, read_roles=False)  # FastMCP reads the claims
        if resource is not None and resource_problem(resource) is not None:
            raise (ValueError if isinstance(resource, str) else TypeError)(resource_problem(resource))
        scopes = _scopes("required_scopes", required_scopes)
        super().__init__(base_url=base_url, required_scopes=list(scopes))
        self._gate = gate
        self._resource = resource

    async def verify_token(self, token: str) -> AccessToken | None:
        """FastMCP's ``AccessToken`` for a valid ``token``; ``None`` for any refusal.

        A missing scope never refuses a token here (FastMCP answers ``403``). An
        unavailable key set gives ``None`` too: FastMCP's own middleware, around a
        ``RemoteAuthProvider``, has no way to answer ``503``.
        """
        outcome = await self._gate.verify(token)
        return None if isinstance(outcome, Refusal) else self._access_token(outcome)

    def extract_roles(self, claims: dict[str, Any]) -> frozenset[str]:
        """The roles in ``claims``, read from ``role_claims``: the ``extract`` of FastMCP's ``require_roles``.

        ``require_roles("admin", extract=auth.extract_roles)`` (or :meth:`require_roles`).
        """
        return self._gate.roles(claims)

    def require_roles(self, *roles: str) -> AuthCheck:
        """FastMCP's ``require_roles(*roles, extract=self.extract_roles)``, for ``@mcp.tool(auth=...)``.

        Raises:
            ValueError: no role given (FastMCP's rule).
        """
        return require_roles(*roles, extract=self.extract_roles)

    def get_routes(self, mcp_path: str | None = None) -> list[Any]:
        """No routes of its own; learns the MCP endpoint's path, as FastMCP's providers do."""
        self.set_mcp_path(mcp_path)
        routes: list[Any] = super().get_routes(mcp_path)
        return routes

    def get_middleware(self) -> list[Any]:
        """FastMCP's authentication middleware, reading the header with jwkverify's rules."""
        return [
            Middleware(AuthenticationMiddleware, backend=_Backend(self), on_error=_answer),  # type: ignore[arg-type, unused-ignore]
            Middleware(AuthContextMiddleware),  # type: ignore[arg-type, unused-ignore]
        ]

    def _access_token(self, verified: VerifiedToken) -> AccessToken:
        """FastMCP's ``AccessToken`` for a verified token: the one place it is built.

        ``client_id`` from the verifier's client-id claims (``client_id``, ``azp``,
        ``appid``, ``cid``; ``""`` when there is none, never ``sub``); ``subject`` is
        ``sub`` (the SDK binds a session to client, issuer and subject); ``scopes``
        sorted; ``expires_at`` from ``exp``; ``resource`` the ``aud`` entry equal to
        ``resource``, else the first the verifier accepts, else the first; ``claims``
        all of them. Nothing here depends on the request.
        """
        claims = verified.claims
        gate = self._gate
        exp = claims.get("exp")
        expires_at = None
        if isinstance(exp, int | float) and not isinstance(exp, bool) and math.isfinite(exp):
            expires_at = int(exp)
        return AccessToken(
            token=verified.token,
            client_id=gate.conventions.client_id(claims) or "",
            scopes=sorted(verified.scopes),
            expires_at=expires_at,
            resource=_resource(claims.get("aud"), self._resource, gate.audiences),
            subject=verified.subject,
            claims=claims,
        )

    async def _authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, AuthenticatedUser] | None:
        token = self._gate.credentials(conn.headers.getlist("authorization"))
        outcome = await self._gate.verify(token) if isinstance(token, str) else token
        if isinstance(outcome, VerifiedToken):
            access = self._access_token(outcome)
            return AuthCredentials(access.scopes), AuthenticatedUser(access)
        if outcome.error is not None and self._guards(conn):
            raise _Refused(outcome)
        # Unauthenticated: without credentials (or away from the MCP endpoint) FastMCP's
        # RequireAuthMiddleware answers, with its challenge.
        return None

    def _guards(self, conn: HTTPConnection) -> bool:
        """Whether the request is for the MCP endpoint (elsewhere FastMCP's rules stay)."""
        path, root = conn.scope.get("path", ""), conn.scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        mcp_path = self._mcp_path
        return mcp_path is not None and path.rstrip("/") == mcp_path.rstrip("/")


class _Refused(AuthenticationError):  # type: ignore[misc, unused-ignore]
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.description)
        self.refusal = refusal


class _Backend(AuthenticationBackend):  # type: ignore[misc, unused-ignore]
    def __init__(self, owner: FastMCPTokenVerifier) -> None:
        self._owner = owner

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, AuthenticatedUser] | None:
        return await self._owner._authenticate(conn)


def _answer(conn: HTTPConnection, exc: AuthenticationError) -> Response:
    refusal = exc.refusal if isinstance(exc, _Refused) else Refusal(400, "invalid_request", str(exc))
    body = {"error": refusal.error or "unauthorized", "error_description": refusal.description}
    return JSONResponse(body, status_code=refusal.status, headers=refusal.headers())
