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

from ._web.conventions import DEFAULT_CONVENTIONS, TokenConventions, require_audience
from ._web.decision import BearerCore
from ._web.frozen import ReadOnlyList, freeze
from ._web.options import BearerOptions
from ._web.token import VerifiedToken
from ._web.views import Derived, TokenViews
from .asgi import ASGIApp, BearerAuthMiddleware, Verifier

if TYPE_CHECKING:
    from mcp.server.auth.provider import AccessToken  # type: ignore[import-not-found, unused-ignore]

    from .observe import Observer

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
    resource URL (and ``cache_size=``, so that a repeated token costs a cache hit).
    ``resource`` (optional) is that URL: when ``aud`` is an array it is the entry
    reported as ``AccessToken.resource`` (what the SDK's ``validate_token_resource``
    compares). A refused token gives ``None``, which the SDK answers with ``401``; so
    does an unavailable key set (the protocol has no way to say ``503``;
    :func:`protect_mcp_app` has). ``observer`` is told each verdict. The SDK is
    imported here.

    The ``AccessToken`` of a token is built once and returned again while the
    verifier's token cache holds the token: it is read-only (setting a field raises;
    its ``scopes`` and ``claims`` are a read-only list and dict).

    Raises:
        ImportError: the ``mcp`` package is not installed.
        TypeError, ValueError: as :class:`~jwkverify.asgi.BearerAuthMiddleware` for
            the verifier (an audience is required).
    """

    __slots__ = ("_core", "_tokens")

    def __init__(self, verifier: Verifier, *, resource: str | None = None,
                 observer: Observer | None = None) -> None:
        import logging

        cls = _access_token_class()
        if resource is not None and not isinstance(resource, str):
            raise TypeError("resource must be a str")
        options = BearerOptions.build(verifier, observer=observer)
        self._core = BearerCore(options, log=logging.getLogger(__name__))
        shared = SharedAccessTokens(cls, resource=resource, audiences=options.audiences,
                                    conventions=options.conventions)
        # The AccessToken is the view itself: built from the claims once per cached token.
        self._tokens: TokenViews[Any] = TokenViews(verifier, shared.from_claims)

    async def verify_token(self, token: str) -> AccessToken | None:
        """The ``AccessToken`` for a valid ``token``, ``None`` for any refusal."""
        try:
            access: AccessToken = await self._tokens.verify_async(token)
        except Exception as exc:  # the SDK turns an exception here into a 500
            self._core.refused(exc)
            return None
        if self._core.observer is not None:
            self._core.report("accepted", None)
        return access


def _expiry(exp: object) -> int | None:
    if isinstance(exp, int | float) and not isinstance(exp, bool) and math.isfinite(exp):
        return int(exp)
    return None


def _fields(verified: VerifiedToken, resource: str | None, audiences: frozenset[str]) -> dict[str, Any]:
    claims = verified.claims
    return {
        "token": verified.token,
        "client_id": verified.client_id or "",
        "scopes": sorted(verified.scopes),
        "expires_at": _expiry(claims.get("exp")),
        "resource": _resource(claims.get("aud"), resource, audiences),
        "subject": verified.subject,
        "claims": claims,
    }


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
    fields = _fields(verified, resource, frozenset(audiences))
    known = getattr(cls, "model_fields", fields)  # mcp 1.x has neither subject nor claims
    return cls(**{name: value for name, value in fields.items() if name in known})  # type: ignore[no-any-return, unused-ignore]


class SharedAccessTokens:
    """Builds the read-only ``AccessToken`` of a verified token, to share among its requests.

    ``cls`` is the MCP SDK's ``AccessToken`` or a subclass (FastMCP's): a frozen
    subclass of it is made once here, and each token's instance gets the fields of
    :func:`access_token`, with ``scopes`` a read-only list and ``claims`` the token's
    read-only claims themselves (no copy). Setting a field raises pydantic's
    ``ValidationError``. Call it with a :class:`~jwkverify.asgi.VerifiedToken` (through
    :class:`~jwkverify._web.views.Derived`), or give :meth:`from_claims` to a
    :class:`~jwkverify._web.views.TokenViews` as its ``build``: either way it runs once
    per cached token. ``conventions`` read the scopes and client id for :meth:`from_claims`.

    Raises:
        ImportError: pydantic is not installed (it comes with the MCP SDK).
    """

    __slots__ = ("_audiences", "_claims", "_conventions", "_resource", "_subject", "_validate")

    def __init__(self, cls: Any, *, resource: str | None = None, audiences: Iterable[str] = (),
                 conventions: TokenConventions = DEFAULT_CONVENTIONS) -> None:
        from pydantic import ConfigDict

        model: Any = type(f"ReadOnly{cls.__name__}", (cls,), {
            "model_config": ConfigDict(frozen=True), "__module__": __name__,
            "__doc__": f"{cls.__name__}, read-only: one per verified token, shared by its requests.",
        })
        # pydantic-core's validator itself: what the model's __init__ calls, less a Python frame.
        self._validate = model.__pydantic_validator__.validate_python
        fields = getattr(cls, "model_fields", {})
        self._subject = "subject" in fields  # mcp 1.x has neither subject nor claims
        self._claims = "claims" in fields
        self._resource = resource
        self._audiences = frozenset(audiences)
        self._conventions = conventions

    def __call__(self, verified: VerifiedToken) -> Any:
        """The shared ``AccessToken`` of ``verified``."""
        return self._make(verified.token, verified.claims, sorted(verified.scopes), verified.client_id,
                          verified.subject)

    def from_claims(self, token: str, claims: dict[str, Any]) -> Any:
        """The shared ``AccessToken`` of ``token``, whose verified claims are ``claims`` (not changed)."""
        frozen = freeze(claims)
        conventions = self._conventions
        subject = frozen.get("sub")
        return self._make(token, frozen, sorted(conventions.scopes(frozen)), conventions.client_id(frozen),
                          subject if isinstance(subject, str) else None)

    def _make(self, token: str, claims: Mapping[str, Any], scopes: list[str], client_id: str | None,
              subject: str | None) -> Any:
        values = {"token": token, "client_id": client_id or "", "scopes": scopes,
                  "expires_at": _expiry(claims.get("exp")),
                  "resource": _resource(claims.get("aud"), self._resource, self._audiences)}
        if self._subject:
            values["subject"] = subject
        if self._claims:
            values["claims"] = None  # set below, without the copy validation would make
        made = self._validate(values)
        stored = vars(made)  # a frozen model's fields, set once here before anyone sees it
        stored["scopes"] = ReadOnlyList(scopes)
        if self._claims:
            stored["claims"] = claims
        return made


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
    ``required_scopes=``, ``tool_scopes={"delete_note": ["notes:write"]}``,
    ``observer=``). On top of the middleware, ``scope["user"]`` is the SDK's
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
