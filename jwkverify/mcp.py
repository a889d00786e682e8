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

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._web.conventions import conventions_of, require_audience
from .asgi import ASGIApp, BearerAuthMiddleware, VerifiedToken, Verifier
from .errors import JOSEError

if TYPE_CHECKING:
    from mcp.server.auth.provider import AccessToken  # type: ignore[import-not-found, unused-ignore]

__all__ = ["MCPTokenVerifier", "access_token", "protect_mcp_app", "request_token"]

_INSTALL_HINT = 'the MCP adapter needs the MCP SDK: pip install "jwkverify[mcp]"'


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
    resource URL. ``resource`` (optional) is that URL: when ``aud`` is an array it is
    the entry reported as ``AccessToken.resource`` (what the SDK's
    ``validate_token_resource`` compares). A refused token gives ``None``, which the
    SDK answers with ``401``; so does an unavailable key set (the protocol has no way
    to say ``503``; :func:`protect_mcp_app` has). The SDK is imported here.

    Raises:
        ImportError: the ``mcp`` package is not installed.
        TypeError, ValueError: as :class:`~jwkverify.asgi.BearerAuthMiddleware` for
            the verifier (an audience is required).
    """

    __slots__ = ("_audiences", "_conventions", "_log", "_resource", "_verifier")

    def __init__(self, verifier: Verifier, *, resource: str | None = None) -> None:
        import logging

        _access_token_class()
        self._audiences = require_audience(verifier)
        if resource is not None and not isinstance(resource, str):
            raise TypeError("resource must be a str")
        self._verifier = verifier
        self._conventions = conventions_of(verifier)
        self._resource = resource
        self._log = logging.getLogger(__name__)

    async def verify_token(self, token: str) -> AccessToken | None:
        """The ``AccessToken`` for a valid ``token``, ``None`` for any refusal."""
        try:
            claims = await self._verifier.verify_async(token)
        except JOSEError as exc:
            level = self._log.warning if exc.status_hint >= 500 else self._log.info
            level("refused a Bearer token: %s: %s", type(exc).__name__, exc)
            return None
        except Exception:  # the SDK turns an exception here into a 500
            self._log.exception("the verifier failed on a Bearer token")
            return None
        verified = VerifiedToken(claims, self._conventions.scopes(claims), frozenset(), token)
        result: AccessToken = access_token(verified, resource=self._resource, audiences=self._audiences)
        return result


def access_token(verified: VerifiedToken, *, resource: str | None = None,
                 audiences: Iterable[str] = ()) -> AccessToken:
    """The SDK's ``AccessToken`` for a verified token.

    Fills ``token``, ``client_id`` (``client_id``, ``azp``, ``appid`` or ``cid``;
    ``""`` when the token names no client), ``scopes`` (``scope`` and ``scp``),
    ``expires_at`` (``exp``), ``resource`` (the ``aud`` entry equal to ``resource``,
    else the first one among ``audiences``, else the first), and, where the installed
    SDK has them, ``subject`` (``sub``) and ``claims`` (all of them).

    Raises:
        ImportError: the ``mcp`` package is not installed.
    """
    cls = _access_token_class()
    claims = verified.claims
    exp = claims.get("exp")
    fields: dict[str, Any] = {
        "token": verified.token,
        "client_id": verified.client_id or "",
        "scopes": sorted(verified.scopes),
        "expires_at": int(exp) if isinstance(exp, int | float) and not isinstance(exp, bool)
        and math.isfinite(exp) else None,
        "resource": _resource(claims.get("aud"), resource, frozenset(audiences)),
        "subject": verified.subject,
        "claims": claims,
    }
    known = getattr(cls, "model_fields", fields)  # mcp 1.x has neither subject nor claims
    return cls(**{name: value for name, value in fields.items() if name in known})  # type: ignore[no-any-return, unused-ignore]


def _resource(aud: object, resource: str | None, audiences: frozenset[str]) -> str | None:
    if isinstance(aud, str):
        return aud
    if not isinstance(aud, list) or not aud:
        return None
    named = [item for item in aud if isinstance(item, str)]
    if resource is not None and resource in named:
        return resource
    return next((item for item in named if item in audiences), named[0] if named else None)


def protect_mcp_app(app: ASGIApp, verifier: Verifier, *, resource: str,
                    authorization_servers: Iterable[str], **options: Any) -> BearerAuthMiddleware:
    """The SDK's ASGI ``app`` behind :class:`~jwkverify.asgi.BearerAuthMiddleware`.

    Build the server without SDK auth (no ``auth=``/``token_verifier=``) and wrap
    ``server.streamable_http_app()``. ``options`` are the middleware's (for example
    ``required_scopes=``, ``tool_scopes={"delete_note": ["notes:write"]}``). On top of
    the middleware, ``scope["user"]`` is the SDK's ``AuthenticatedUser``, so the SDK
    binds each session to the user that opened it, and tools call
    ``mcp.server.auth.middleware.auth_context.get_access_token()`` as with SDK auth.
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
    audiences = require_audience(verifier)

    def make_user(verified: VerifiedToken) -> object:
        return AuthenticatedUser(access_token(verified, resource=resource, audiences=audiences))

    inner: ASGIApp = AuthContextMiddleware(app)
    return BearerAuthMiddleware(inner, verifier, resource=resource,
                                authorization_servers=authorization_servers, make_user=make_user, **options)


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
