"""FastMCP on jwkverify: a ``TokenVerifier`` for ``FastMCP(auth=...)`` and ``RemoteAuthProvider``.

:class:`FastMCPTokenVerifier` is a subclass of FastMCP's own ``TokenVerifier``
(``fastmcp.server.auth``, FastMCP 4; ``pip install "jwkverify[fastmcp]"``), so it
goes where FastMCP takes one::

    mcp = FastMCP("notes", auth=FastMCPTokenVerifier(verifier, base_url="https://notes.example"))

or, to serve the RFC 9728 metadata document that MCP clients start from, as the
``token_verifier`` of FastMCP's ``RemoteAuthProvider``. Every rule is the shared web
core's (:mod:`jwkverify._web`); this module translates FastMCP's hooks to it.
FastMCP is imported with this module, never by the rest of jwkverify.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._web.access_tokens import SharedAccessTokens
from ._web.answers import Answer
from ._web.bearer import resource_problem
from ._web.conventions import BearerVerifier, RoleClaim
from ._web.credentials import Credentials, read_credentials
from ._web.decision import BearerCore
from ._web.options import BearerOptions
from ._web.token import VerifiedToken
from ._web.token_verifier import AccessTokenVerifier
from ._web.views import Derived

try:
    from fastmcp.server.auth import AccessToken, AuthCheck, TokenVerifier, require_roles
    from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
    from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.requests import HTTPConnection
    from starlette.responses import Response
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without FastMCP
    raise ImportError('the FastMCP adapter needs FastMCP 4: pip install "jwkverify[fastmcp]"') from exc

if TYPE_CHECKING:
    from .observe import Observer

__all__ = ["FastMCPTokenVerifier"]


class FastMCPTokenVerifier(TokenVerifier):  # type: ignore[misc, unused-ignore]
    """FastMCP's ``TokenVerifier`` on a jwkverify verifier.

    - ``verifier``: a :class:`~jwkverify.JWTVerifier`, :class:`~jwkverify.MultiIssuerVerifier`
      or provider preset built with ``audience=`` this server's resource URL (RFC 8707).
      Build it with ``cache_size=`` so that an agent's repeated token skips the signature
      and reuses its ``AccessToken``.
    - ``base_url``: this server's public URL, as FastMCP's ``base_url``.
    - ``resource``: this server's resource URL; when ``aud`` is an array, the entry
      reported as ``AccessToken.resource`` (default: the entry the verifier accepts).
    - ``required_scopes``: scopes every request needs. :meth:`verify_token` never
      refuses a token without them: the answer is ``403 insufficient_scope`` with
      ``scope=``, so the client can ask for more (a ``401`` would make it start over).
    - ``role_claims``: where roles are read (default: the verifier's ``conventions``,
      else ``roles`` and Keycloak's ``realm_access.roles``); see :meth:`extract_roles`.
    - ``observer``: told each decided request's verdict (``verdict(outcome, code)``,
      :mod:`jwkverify.observe`).

    :meth:`verify_token` gives FastMCP an ``AccessToken`` with ``client_id`` (``client_id``,
    ``azp``, ``appid`` or ``cid``; ``""`` when the token names no client, never ``sub``),
    ``subject`` (``sub``), ``scopes``, ``expires_at``, ``resource`` and all the claims,
    or ``None`` for any refused token. It is built once per token and shared by every
    request with it while the verifier's token cache holds the token: it is read-only
    (setting a field raises; its ``scopes`` and ``claims`` are a read-only list and dict).

    Given as ``FastMCP(auth=...)`` it also reads the ``Authorization`` header itself at
    the MCP endpoint, and answers there as jwkverify's other adapters do: malformed
    credentials or two ``Authorization`` headers → ``400 invalid_request``; a refused
    token → ``401 invalid_token`` saying why (``"the token has expired"``); a missing
    ``required_scopes`` scope → ``403 insufficient_scope`` with ``scope=``; the key set
    unavailable → ``503`` with ``Retry-After`` (where FastMCP would answer ``401``, and
    a client would throw its token away). Without credentials FastMCP answers ``401``
    with its challenge. Other routes keep FastMCP's behaviour. Inside a
    ``RemoteAuthProvider`` FastMCP reads the header and only asks :meth:`verify_token`.

    Raises:
        TypeError, ValueError: a verifier without an audience, an invalid scope name,
            resource, role claim or observer.
    """

    def __init__(
        self,
        verifier: BearerVerifier,
        *,
        base_url: str | None = None,
        resource: str | None = None,
        required_scopes: Iterable[str] = (),
        role_claims: Iterable[RoleClaim] | None = None,
        observer: Observer | None = None,
    ) -> None:
        options = BearerOptions.build(verifier, required_scopes=required_scopes, role_claims=role_claims,
                                      observer=observer)
        problem = None if resource is None else resource_problem(resource)
        if problem is not None:
            raise (ValueError if isinstance(resource, str) else TypeError)(problem)
        super().__init__(base_url=base_url, required_scopes=list(options.required_scopes))
        self._core = BearerCore(options, log=logging.getLogger(__name__))
        shared = SharedAccessTokens(AccessToken, resource=resource, audiences=options.audiences,
                                    conventions=options.conventions)
        self._verify = AccessTokenVerifier(self._core, shared)
        #: At the MCP endpoint (FastMCP(auth=...)): the AccessToken of each VerifiedToken, once per token.
        self._access: Derived[AccessToken] = Derived(shared, self._core.views.size)

    async def verify_token(self, token: str) -> AccessToken | None:
        """FastMCP's ``AccessToken`` for a valid ``token``; ``None`` for any refusal.

        A missing scope never refuses a token here. An unavailable key set gives
        ``None`` too: FastMCP's own middleware, around a ``RemoteAuthProvider``, has no
        way to answer ``503``.
        """
        access: AccessToken | None = await self._verify.verify_token(token)
        return access

    def extract_roles(self, claims: dict[str, Any]) -> frozenset[str]:
        """The roles in ``claims``, read from ``role_claims``: the ``extract`` of FastMCP's ``require_roles``.

        ``require_roles("admin", extract=auth.extract_roles)`` (or :meth:`require_roles`).
        """
        options = self._core.options
        return options.conventions.roles(claims, options.role_claims)

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
        backend = _Backend(self)
        return [
            Middleware(AuthenticationMiddleware, backend=backend, on_error=backend.respond),  # type: ignore[arg-type, unused-ignore]
            Middleware(AuthContextMiddleware),  # type: ignore[arg-type, unused-ignore]
        ]

    def _guards(self, conn: HTTPConnection) -> bool:
        """Whether the request is for the MCP endpoint (elsewhere FastMCP's rules stay)."""
        path, root = conn.scope.get("path", ""), conn.scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        mcp_path = self._mcp_path
        return mcp_path is not None and path.rstrip("/") == mcp_path.rstrip("/")


_Authenticated = tuple[AuthCredentials, AuthenticatedUser]


class _Refused(AuthenticationError):  # type: ignore[misc, unused-ignore]
    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.description)
        self.answer = answer


class _Backend(AuthenticationBackend):  # type: ignore[misc, unused-ignore]
    """Starlette's authentication backend on the core: a user, ``None``, or the answer to send."""

    def __init__(self, owner: FastMCPTokenVerifier) -> None:
        self._owner = owner
        self._core: BearerCore = owner._core

    async def authenticate(self, conn: HTTPConnection) -> _Authenticated | None:
        values = conn.headers.getlist("authorization")
        if not self._owner._guards(conn):
            return await self._quietly(values)
        core = self._core
        found = core.credentials(values, core.options.required_scopes)
        outcome = await core.verify_async(found) if type(found) is Credentials else found
        if type(outcome) is VerifiedToken:
            refusal = core.authorize(outcome, core.options.required_scopes, ())
            if refusal is None:
                return self._user(outcome)
            outcome = refusal
        assert isinstance(outcome, Answer)
        if outcome.error is None:  # no credentials: FastMCP answers 401 with its challenge
            return None
        raise _Refused(outcome)

    async def _quietly(self, values: list[str]) -> _Authenticated | None:
        """Away from the MCP endpoint (a public custom route): a user if the token verifies, else
        ``None``, as FastMCP's own backend; the request is not decided here, so nothing is reported."""
        found = read_credentials(values)
        if type(found) is not Credentials:
            return None
        try:
            verified = await self._core.views.verify_async(found.token)
        except Exception:  # not ours to refuse
            return None
        return self._user(verified)

    def _user(self, verified: VerifiedToken) -> _Authenticated:
        access = self._owner._access(verified)
        return AuthCredentials(access.scopes), AuthenticatedUser(access)

    def respond(self, conn: HTTPConnection, exc: AuthenticationError) -> Response:
        """The answer to a request :meth:`authenticate` refused."""
        answer = exc.answer if isinstance(exc, _Refused) else self._core.answers.invalid_request(str(exc))
        return Response(answer.body, status_code=answer.status, headers=dict(answer.headers))
