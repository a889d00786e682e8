"""The official MCP Python SDK on jwkverify: a ``TokenVerifier`` and a protected app.

Two ways to put jwkverify in front of an MCP server built with the SDK (the
``mcp`` package, ``pip install "jwkverify[mcp]"``, imported only when this module
is used):

- :class:`MCPTokenVerifier`, the SDK's ``TokenVerifier`` protocol: pass it as
  ``MCPServer(token_verifier=..., auth=AuthSettings(...))`` and the SDK's own
  middleware does the HTTP side.
- :func:`protect_mcp_app`, jwkverify's :class:`~jwkverify.asgi.BearerAuthMiddleware`
  around the SDK's app: adds per-tool scopes with a ``403`` step-up challenge, a
  ``503`` while the key set is unavailable, and role checks, and still gives tools
  the SDK's ``get_access_token()`` and binds each session to its user.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._web.access_tokens import SharedAccessTokens, access_token_fields
from ._web.conventions import require_audience
from ._web.decision import BearerCore
from ._web.options import BearerOptions
from ._web.token import VerifiedToken
from ._web.token_verifier import AccessTokenVerifier
from ._web.views import Derived
from .asgi import ASGIApp, BearerAuthMiddleware, Verifier

if TYPE_CHECKING:
    from mcp.server.auth.provider import AccessToken  # type: ignore[import-not-found, unused-ignore]

    from .observe import Observer

__all__ = ["MCPTokenVerifier", "access_token", "protect_mcp_app", "request_token"]

_INSTALL_HINT = 'the MCP adapter needs the MCP SDK: pip install "jwkverify[mcp]"'
_NOT_FASTMCP = ("MCPTokenVerifier is the official MCP SDK's TokenVerifier (MCPServer(token_verifier=...)); "
                "for FastMCP(auth=...) or RemoteAuthProvider(token_verifier=...) use "
                "jwkverify.fastmcp.FastMCPTokenVerifier(verifier, base_url=...) "
                '(pip install "jwkverify[fastmcp]")')


def _access_token_class() -> Any:
    try:
        from mcp.server.auth.provider import AccessToken
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return AccessToken


class MCPTokenVerifier:
    """The MCP SDK's ``TokenVerifier`` (``async verify_token(token) -> AccessToken | None``).

    ``verifier`` is a :class:`~jwkverify.JWTVerifier` or
    :class:`~jwkverify.MultiIssuerVerifier` built with ``audience=`` the server's
    resource URL (and ``cache_size=``, so that a repeated token costs a cache hit).
    ``resource`` (optional) is that URL: when ``aud`` is an array it is the entry
    reported as ``AccessToken.resource`` (what the SDK's ``validate_token_resource``
    compares). A refused token gives ``None``, which the SDK answers with ``401``; so
    does an unavailable key set (the protocol has no way to say ``503``;
    :func:`protect_mcp_app` has). So does a token bound to a DPoP key (``cnf.jkt``,
    RFC 9449): a token verifier sees no proof, and accepting the token without one
    would undo the binding; put :func:`protect_mcp_app` with ``dpop=`` in front of such
    a server instead. ``observer`` is told each verdict. The SDK is imported here.

    The ``AccessToken`` of a token is built once and returned again while the
    verifier's token cache holds the token: it is read-only (setting a field raises;
    its ``scopes`` and ``claims`` are a read-only list and dict).

    Raises:
        ImportError: the ``mcp`` package is not installed.
        TypeError, ValueError: as :class:`~jwkverify.asgi.BearerAuthMiddleware` for
            the verifier (an audience is required).
    """

    __slots__ = ("_verify",)

    def __init__(self, verifier: Verifier, *, resource: str | None = None,
                 observer: Observer | None = None) -> None:
        import logging

        cls = _access_token_class()
        if resource is not None and not isinstance(resource, str):
            raise TypeError("resource must be a str")
        options = BearerOptions.build(verifier, observer=observer)
        shared = SharedAccessTokens(cls, resource=resource, audiences=options.audiences,
                                    conventions=options.conventions)
        self._verify = AccessTokenVerifier(BearerCore(options, log=logging.getLogger(__name__)), shared)

    async def verify_token(self, token: str) -> AccessToken | None:
        """The ``AccessToken`` for a valid ``token``, ``None`` for any refusal."""
        access: AccessToken | None = await self._verify.verify_token(token)
        return access

    @property
    def required_scopes(self) -> list[str]:
        """What FastMCP's ``RemoteAuthProvider(token_verifier=...)`` reads first: this is the SDK's
        verifier, not FastMCP's (the SDK itself never asks for it).

        Raises:
            TypeError: always; FastMCP takes :class:`jwkverify.fastmcp.FastMCPTokenVerifier`.
        """
        raise TypeError(_NOT_FASTMCP)

    def get_middleware(self) -> list[Any]:
        """What ``FastMCP(auth=...)`` asks its auth first: this is the SDK's verifier, not FastMCP's.

        Raises:
            TypeError: always; FastMCP takes :class:`jwkverify.fastmcp.FastMCPTokenVerifier`.
        """
        raise TypeError(_NOT_FASTMCP)

    def get_routes(self, mcp_path: str | None = None) -> list[Any]:
        """As :meth:`get_middleware`.

        Raises:
            TypeError: always.
        """
        raise TypeError(_NOT_FASTMCP)


def access_token(verified: VerifiedToken, *, resource: str | None = None,
                 audiences: Iterable[str] = ()) -> AccessToken:
    """The SDK's ``AccessToken`` for a verified token: a new one, yours to change.

    Fills ``token``, ``client_id`` (``client_id``, ``azp``, ``appid`` or ``cid``;
    ``""`` when the token names no client), ``scopes`` (``scope``, else ``scp``),
    ``expires_at`` (``exp``), ``resource`` (the ``aud`` entry equal to ``resource``,
    else the first one among ``audiences``, else the first), and, where the installed
    SDK has them, ``subject`` (``sub``) and ``claims`` (all of them; a plain ``dict``
    whose nested arrays and objects are the token's read-only ones).

    Raises:
        ImportError: the ``mcp`` package is not installed.
    """
    cls = _access_token_class()
    fields = access_token_fields(verified, resource, frozenset(audiences))
    known = getattr(cls, "model_fields", fields)  # mcp 1.x has neither subject nor claims
    return cls(**{name: value for name, value in fields.items() if name in known})  # type: ignore[no-any-return, unused-ignore]


def protect_mcp_app(app: ASGIApp, verifier: Verifier, *, resource: str,
                    authorization_servers: Iterable[str], **options: Any) -> BearerAuthMiddleware:
    """The SDK's ASGI ``app`` behind :class:`~jwkverify.asgi.BearerAuthMiddleware`.

    Build the server without SDK auth (no ``auth=``/``token_verifier=``) and wrap
    ``server.streamable_http_app()``. ``options`` are the middleware's (for example
    ``required_scopes=``, ``tool_scopes={"delete_note": ["notes:write"]}``,
    ``observer=``, ``dpop=DPoPVerifier(...)`` and ``require_dpop=`` for DPoP-bound
    tokens, RFC 9449). On top of the middleware, ``scope["user"]`` is the SDK's
    ``AuthenticatedUser``, so the SDK binds each session to the user that opened it,
    and tools call ``mcp.server.auth.middleware.auth_context.get_access_token()`` as
    with SDK auth (a read-only ``AccessToken``, built once per cached token).
    ``request.auth`` stays the :class:`~jwkverify.asgi.VerifiedToken`.

    Raises:
        ImportError: the ``mcp`` package is not installed.
        TypeError, ValueError: as :class:`~jwkverify.asgi.BearerAuthMiddleware`.
    """
    try:
        from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
        from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    build = SharedAccessTokens(_access_token_class(), resource=resource, audiences=require_audience(verifier))
    shared: list[Derived[Any]] = []  # made once the middleware says how many views it keeps

    def make_user(verified: VerifiedToken) -> object:
        return AuthenticatedUser(shared[0](verified))

    inner: ASGIApp = AuthContextMiddleware(app)
    middleware = BearerAuthMiddleware(inner, verifier, resource=resource,
                                      authorization_servers=authorization_servers, make_user=make_user,
                                      **options)
    shared.append(Derived(build, middleware._views.size))
    return middleware


def request_token(context: object) -> VerifiedToken | None:
    """The :class:`VerifiedToken` of the HTTP request behind an MCP tool call, if any.

    ``context`` is the tool's SDK ``Context`` (its ``request_context.request`` is the
    HTTP request), for servers behind :func:`protect_mcp_app`.
    """
    try:
        request = getattr(getattr(context, "request_context", None), "request", None)
    except ValueError:  # the SDK raises it outside a request
        return None
    scope = getattr(request, "scope", None)
    auth = scope.get("auth") if isinstance(scope, Mapping) else None
    return auth if isinstance(auth, VerifiedToken) else None
