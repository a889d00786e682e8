"""Bearer-token authentication for any ASGI 3 application, with the standard library only.

:class:`BearerAuthMiddleware` wraps an app (Starlette, FastAPI, the MCP SDK's
streamable HTTP app, raw ASGI). For every HTTP and WebSocket request it reads the
one ``Authorization: Bearer`` header, verifies the token with a
:class:`~jwkverify.JWTVerifier` (or :class:`~jwkverify.MultiIssuerVerifier`), checks
scopes and roles, and hands the app a :class:`VerifiedToken` in ``scope["auth"]``
and ``scope["user"]``, where Starlette's ``request.auth`` and ``request.user`` find
it. Refusals follow RFC 6750 §3 and RFC 9728 §5.1, so a client (an MCP client, for
one) learns from the ``WWW-Authenticate`` header where to get a valid token. It also
serves the resource's RFC 9728 metadata document. With ``dpop=`` it accepts
DPoP-bound tokens with their proofs (RFC 9449). Every rule lives in the shared core
(:mod:`jwkverify._web`); this module only translates ASGI messages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Final

from ._web.answers import Answer
from ._web.bearer import www_authenticate
from ._web.conventions import DEFAULT_ROLE_CLAIMS, BearerVerifier, RoleClaim
from ._web.credentials import BEARER, Credentials
from ._web.decision import BearerCore
from ._web.dpop import Admission, asgi_request_path
from ._web.face import MetadataFace
from ._web.options import BearerOptions
from ._web.token import VerifiedToken

if TYPE_CHECKING:
    from .dpop import DPoPVerifier
    from .observe import Observer

__all__ = [
    "DEFAULT_ROLE_CLAIMS",
    "BearerAuthMiddleware",
    "VerifiedToken",
    "verified_token",
    "www_authenticate",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Verifier = BearerVerifier

#: Largest request body read to find the tool of an MCP ``tools/call`` (1 MiB).
DEFAULT_MAX_BODY_SIZE: Final = 1 << 20

_AUTHORIZATION = b"authorization"
_DPOP = b"dpop"


def verified_token(scope: Mapping[str, Any]) -> VerifiedToken | None:
    """The :class:`VerifiedToken` the middleware put in an ASGI ``scope``, if any."""
    auth = scope.get("auth")
    return auth if isinstance(auth, VerifiedToken) else None


class BearerAuthMiddleware(MetadataFace):
    """ASGI middleware: every request needs a valid Bearer JWT for ``resource``.

    Arguments (all keyword-only after ``app`` and ``verifier``):

    - ``verifier``: a :class:`JWTVerifier`, :class:`MultiIssuerVerifier` or provider
      preset with an audience: the resource's canonical URI (RFC 8707), or what your
      provider puts in ``aud``. Build it with ``cache_size=`` so that a token seen
      again skips the signature check and reuses everything derived from it.
    - ``resource``: this resource's URI, e.g. ``"https://api.example.com/mcp"``:
      ``https``, or ``http`` on a loopback host; no query or fragment.
    - ``authorization_servers``: issuer URLs of the authorization servers a client
      may get tokens from (RFC 9728 §2).
    - ``required_scopes`` / ``required_roles``: what every request needs (all of them).
    - ``route_scopes`` / ``route_roles``: ``{"/path": [...]}`` or
      ``{"METHOD /path": [...]}``. An entry applies to its path and everything under
      it (``"/admin"`` covers ``/admin/x``, not ``/administrator``); all entries that
      apply add up, with the app-wide requirements.
    - ``tool_scopes``: ``{"tool name": [...]}``: scopes an MCP ``tools/call`` of that
      tool needs. POST bodies at ``mcp_path`` (default: the resource's path, and below
      it) are read, up to ``max_body_size`` bytes, to find the tool; a body that is
      not one strict JSON object is refused (400), a larger one too (413).
    - ``role_claims``: where roles are read: claim names, or tuples for nested claims
      (default: the verifier's ``conventions``, else ``("roles", ("realm_access",
      "roles"))``; add ``"groups"`` if your provider's groups are assigned by
      administrators only).
    - ``scopes_supported``: advertised in the metadata (default: every scope named in
      the requirements).
    - ``resource_name``, ``resource_documentation``: metadata fields (RFC 9728 §2).
    - ``public_paths``: paths served without a token: an exact path, or a prefix when
      it ends with ``/``. The metadata document is always public.
    - ``realm``: the ``realm`` of the challenges, if wanted.
    - ``make_user``: builds ``scope["user"]`` from the :class:`VerifiedToken` (default:
      the token itself), for frameworks that expect their own user class there.
    - ``observer``: told each decided request's verdict (``verdict(outcome, code)``,
      :mod:`jwkverify.observe`), e.g. a :class:`~jwkverify.observe.Counters`.
    - ``dpop``: a :class:`~jwkverify.dpop.DPoPVerifier` turns DPoP on (RFC 9449):
      ``Authorization: DPoP <token>`` with one ``DPoP`` proof, checked against the
      method, ``resource``'s origin plus the raw path, the token and its ``cnf.jkt``.
      ``require_dpop``: only DPoP-bound tokens are accepted.

    Outcomes: no Bearer token → 401 with ``resource_metadata`` and no error code;
    malformed credentials or two ``Authorization`` headers → 400 ``invalid_request``;
    refused token → 401 ``invalid_token``, and so is a DPoP-bound token sent as
    Bearer, DPoP on or off (RFC 9449 §7.2); missing scope or role → 403
    ``insufficient_scope`` (with ``scope=`` for scopes); key set unavailable → 503
    with ``Retry-After``; with DPoP on, the answers of the DPoP docs. Tokens in a
    query string or form body are never read. Nothing raised escapes as a 500.

    Raises ``TypeError``/``ValueError`` for invalid arguments, including a verifier
    without an audience.
    """

    __slots__ = ("_app", "_core", "_dpop", "_make_user", "_max_body", "_options", "_routes", "_views")

    def __init__(
        self,
        app: ASGIApp,
        verifier: Verifier,
        *,
        resource: str,
        authorization_servers: Iterable[str],
        required_scopes: Iterable[str] = (),
        required_roles: Iterable[str] = (),
        route_scopes: Mapping[str, Iterable[str]] | None = None,
        route_roles: Mapping[str, Iterable[str]] | None = None,
        tool_scopes: Mapping[str, Iterable[str]] | None = None,
        mcp_path: str | None = None,
        role_claims: Iterable[RoleClaim] | None = None,
        scopes_supported: Iterable[str] | None = None,
        resource_name: str | None = None,
        resource_documentation: str | None = None,
        public_paths: Iterable[str] = (),
        realm: str | None = None,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        make_user: Callable[[VerifiedToken], object] | None = None,
        observer: Observer | None = None,
        dpop: DPoPVerifier | None = None,
        require_dpop: bool = False,
    ) -> None:
        import logging

        if not callable(app):
            raise TypeError("app must be an ASGI application")
        if make_user is not None and not callable(make_user):
            raise TypeError("make_user must be a callable")
        if isinstance(max_body_size, bool) or not isinstance(max_body_size, int) or max_body_size < 1:
            raise ValueError("max_body_size must be a positive int")
        if not isinstance(resource, str):
            raise TypeError(f"resource must be a str, not {type(resource).__name__}")
        self._options = BearerOptions.build(
            verifier, resource=resource, authorization_servers=authorization_servers,
            required_scopes=required_scopes, required_roles=required_roles, route_scopes=route_scopes,
            route_roles=route_roles, tool_scopes=tool_scopes, mcp_path=mcp_path, role_claims=role_claims,
            scopes_supported=scopes_supported, resource_name=resource_name,
            resource_documentation=resource_documentation, public_paths=public_paths, realm=realm,
            observer=observer, require_servers=True, dpop=dpop, require_dpop=require_dpop,
        )
        self._core = BearerCore(self._options, log=logging.getLogger(__name__))
        self._routes = self._core.routes
        self._views = self._core.views
        self._dpop = self._core.dpop
        self._app = app
        self._make_user = make_user
        self._max_body = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "http":
            method: str = scope.get("method") or "GET"
        elif kind == "websocket":
            method = "GET"
        else:
            await self._app(scope, receive, send)  # lifespan and others: not ours
            return
        core = self._core
        route = self._routes.route(method, scope.get("path") or "/")
        if route.metadata and kind == "http":
            await _respond(send, core.answers.metadata(method))
            return
        if route.public:
            await self._app(scope, receive, send)
            return
        found = self._credentials(scope.get("headers") or (), route.scopes)
        outcome: VerifiedToken | Answer
        nonce: str | None = None
        if type(found) is str:  # a Bearer token
            views = self._views
            try:  # a local key set, or a fresh remote one, does no I/O: verified without a coroutine
                view = views.now(found)
                if view is None:
                    view = await views.waiting(found)
            except Exception as exc:  # nothing the verifier raises may become a 500
                outcome = core.refused(exc, found)
            else:  # RFC 9449 §7.2: a DPoP-bound token is no Bearer token
                outcome = view if view.dpop_jkt is None else core.downgraded()
        elif type(found) is Credentials:  # the DPoP scheme, with DPoP on
            outcome, nonce = await self._proven(found, scope, method)
        else:
            outcome = found  # type: ignore[assignment]
        if type(outcome) is not VerifiedToken:
            assert isinstance(outcome, Answer)
            await self._refuse(kind, outcome, receive, send)
            return
        scopes = route.scopes
        if route.reads_tools:
            read = await self._tool_scopes(scope, receive, scopes)
            if isinstance(read, Answer):
                await self._refuse(kind, read, receive, send)
                return
            scopes, receive = read
        refusal = core.authorize(outcome, scopes, route.roles)
        if refusal is not None:
            await self._refuse(kind, refusal, receive, send)
            return
        inner = dict(scope)  # the server's scope stays as it was
        inner["auth"] = outcome
        inner["user"] = outcome if self._make_user is None else self._make_user(outcome)
        if nonce is not None and kind == "http":  # RFC 9449 §8.2: the next nonce, with the response
            send = _with_nonce(send, nonce)
        await self._app(inner, receive, send)

    async def _proven(self, credentials: Credentials, scope: Scope,
                      method: str) -> tuple[VerifiedToken | Answer, str | None]:
        """The token of a DPoP request and the nonce to send, or the answer (and ``None``)."""
        assert self._dpop is not None
        admitted = await self._dpop.verify_async(credentials, _proofs(scope.get("headers") or ()),
                                                 method=method, path=asgi_request_path(scope))
        if isinstance(admitted, Admission):
            return admitted.token, admitted.nonce
        return admitted, None

    def _credentials(self, headers: Iterable[tuple[bytes, bytes]],
                     scopes: tuple[str, ...]) -> str | Credentials | Answer:
        """The request's Bearer token, its DPoP credentials, or the answer to send."""
        first: bytes | None = None
        second: bytes | None = None
        for name, value in headers:
            if name == _AUTHORIZATION or (len(name) == 13 and name.lower() == _AUTHORIZATION):
                if first is None:
                    first = value
                else:
                    second = value
        if first is None:
            values: tuple[str, ...] = ()
        elif second is None:
            text = first.decode("latin-1")
            token = self._core.quick_token(text)
            if token is not None:
                return token
            dpop = self._core.quick_dpop(text)
            if dpop is not None:
                return dpop
            values = (text,)
        else:  # RFC 6750 §3.1: one method only
            values = (first.decode("latin-1"), second.decode("latin-1"))
        found = self._core.read(values, scopes)
        if type(found) is Credentials and found.scheme == BEARER:
            return found.token
        return found

    async def _tool_scopes(self, scope: Scope, receive: Receive,
                           scopes: tuple[str, ...]) -> tuple[tuple[str, ...], Receive] | Answer:
        """Read the body of an MCP POST and add the scopes of the tool it calls."""
        declared = [value for name, value in scope.get("headers") or () if name.lower() == b"content-length"]
        if declared and declared[0].isdigit() and int(declared[0]) > self._max_body:
            return self._core.bad_body(413, "the request body is too large")
        body = await _read_body(receive, self._max_body)
        if body is None:
            return self._core.bad_body(413, "the request body is too large")
        needed = self._routes.tool_scopes(body, scopes)
        if isinstance(needed, str):
            return self._core.bad_body(400, needed)
        return needed, _replay(body, receive)

    async def _refuse(self, kind: str, answer: Answer, receive: Receive, send: Send) -> None:
        if kind == "websocket":
            # Before the handshake is accepted, a close is answered with HTTP 403.
            message = await receive()
            if message.get("type") == "websocket.connect":
                await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        await _respond(send, answer)


async def _respond(send: Send, answer: Answer) -> None:
    # A fresh list: the server or an outer middleware may change the headers it is sent.
    await send({"type": "http.response.start", "status": answer.status, "headers": list(answer.raw_headers)})
    await send({"type": "http.response.body", "body": answer.body})


def _proofs(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """Every ``DPoP`` header value (RFC 9449 §4.3 item 1: the verifier wants exactly one)."""
    return [value.decode("latin-1") for name, value in headers
            if name == _DPOP or (len(name) == 4 and name.lower() == _DPOP)]


def _with_nonce(send: Send, nonce: str) -> Send:
    """``send`` that adds ``DPoP-Nonce`` and ``Cache-Control: no-store`` to the response
    (RFC 9449 §8.2: a response with a nonce must not be served from a cache)."""
    added = [(b"cache-control", b"no-store"), (b"dpop-nonce", nonce.encode("ascii"))]

    async def send_with_nonce(message: Message) -> None:
        if message.get("type") == "http.response.start":
            kept = [(name, value) for name, value in message.get("headers") or ()
                    if name.lower() not in (b"cache-control", b"dpop-nonce")]
            message = {**message, "headers": kept + added}
        await send(message)

    return send_with_nonce


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or ``None`` once it exceeds ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message.get("type") != "http.request":  # http.disconnect: nothing more will come
            break
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then defers to the server."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
