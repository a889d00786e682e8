"""Bearer-token authentication for any ASGI 3 application, with the standard library only.

:class:`BearerAuthMiddleware` wraps an app (Starlette, FastAPI, the MCP SDK's
streamable HTTP app, raw ASGI). For every HTTP and WebSocket request it reads the
one ``Authorization: Bearer`` header, verifies the token with a
:class:`~jwkverify.JWTVerifier` (or :class:`~jwkverify.MultiIssuerVerifier`), checks
scopes and roles, and hands the app a :class:`VerifiedToken` in ``scope["auth"]``
and ``scope["user"]``, where Starlette's ``request.auth`` and ``request.user`` find
it. Refusals follow RFC 6750 §3 and RFC 9728 §5.1, so a client (an MCP client, for
one) learns from the ``WWW-Authenticate`` header where to get a valid token. It also
serves the resource's RFC 9728 metadata document.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Final

from ._codec.strict_json import JSONError, loads_object
from ._web.bearer import (
    BearerProblem,
    bearer_token,
    describe_refusal,
    metadata_paths,
    metadata_url,
    resource_problem,
    scope_problem,
    www_authenticate,
)
from ._web.conventions import (
    CLIENT_ID_CLAIMS,
    DEFAULT_ROLE_CLAIMS,
    BearerVerifier,
    RoleClaim,
    conventions_of,
    require_audience,
    role_claims_option,
)
from .errors import JOSEError

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

_JSON = (b"content-type", b"application/json")
_NO_STORE = (b"cache-control", b"no-store")


@dataclass(frozen=True, slots=True, eq=False)
class VerifiedToken:
    """A request's verified access token: what the app reads in ``scope["auth"]``.

    The same object is ``scope["user"]``: it has the ``is_authenticated``,
    ``display_name`` and ``identity`` of Starlette's ``BaseUser``, and ``scopes``
    as Starlette's ``AuthCredentials`` has them, so ``@requires("scope")`` works.
    ``claims`` is this request's own copy of the verified claims. Compared and hashed
    by identity.
    """

    claims: dict[str, Any]
    scopes: frozenset[str]
    roles: frozenset[str]
    token: str = field(repr=False)

    @property
    def subject(self) -> str | None:
        """The ``sub`` claim: the user (or client) the token was issued for."""
        value = self.claims.get("sub")
        return value if isinstance(value, str) else None

    @property
    def issuer(self) -> str | None:
        """The ``iss`` claim."""
        value = self.claims.get("iss")
        return value if isinstance(value, str) else None

    @property
    def client_id(self) -> str | None:
        """The OAuth client: ``client_id`` (RFC 9068 §2.2), ``azp``, ``appid`` (Entra v1), ``cid``."""
        for name in CLIENT_ID_CLAIMS:
            value = self.claims.get(name)
            if isinstance(value, str) and value:
                return value
        return None

    @property
    def is_authenticated(self) -> bool:
        """Always true: Starlette's ``BaseUser`` interface."""
        return True

    @property
    def display_name(self) -> str:
        """``sub``, else the client id, else the empty string (Starlette's ``BaseUser``)."""
        return self.subject or self.client_id or ""

    @property
    def identity(self) -> str:
        """Same as :attr:`display_name` (Starlette's ``BaseUser``)."""
        return self.display_name


def verified_token(scope: Mapping[str, Any]) -> VerifiedToken | None:
    """The :class:`VerifiedToken` the middleware put in an ASGI ``scope``, if any."""
    auth = scope.get("auth")
    return auth if isinstance(auth, VerifiedToken) else None


@dataclass(frozen=True, slots=True)
class _Rule:
    """Scopes and roles one route entry requires."""

    method: str | None
    prefix: str
    scopes: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    def applies(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.prefix in ("/", path) or path.startswith(self.prefix + "/")


@dataclass(frozen=True, slots=True)
class _Refusal:
    status: int
    error: str | None
    description: str
    scope: tuple[str, ...] = ()
    challenge: bool = True  # False: not about the token (body problems, 503)


class BearerAuthMiddleware:
    """ASGI middleware: every request needs a valid Bearer JWT for ``resource``.

    Arguments (all keyword-only after ``app`` and ``verifier``):

    - ``verifier``: a :class:`JWTVerifier`, :class:`MultiIssuerVerifier` or provider
      preset with an audience: the resource's canonical URI (RFC 8707), or what your provider puts
      in ``aud``. Build it with ``cache_size=`` to skip the signature check of a token
      seen again.
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

    Outcomes: no Bearer token → 401 with ``resource_metadata`` and no error code;
    malformed credentials or two ``Authorization`` headers → 400 ``invalid_request``;
    refused token → 401 ``invalid_token``; missing scope or role → 403
    ``insufficient_scope`` (with ``scope=`` for scopes); key set unavailable → 503.
    Tokens in a query string or form body are never read. Nothing the verifier
    raises escapes as a 500.

    Raises ``TypeError``/``ValueError`` for invalid arguments, including a verifier
    without an audience.
    """

    __slots__ = (
        "_app",
        "_conventions",
        "_log",
        "_make_user",
        "_max_body",
        "_mcp_path",
        "_metadata",
        "_metadata_paths",
        "_metadata_url",
        "_public",
        "_realm",
        "_required_roles",
        "_required_scopes",
        "_role_claims",
        "_rules",
        "_tool_scopes",
        "_verifier",
    )

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
    ) -> None:
        import logging
        from urllib.parse import urlsplit

        if not callable(app):
            raise TypeError("app must be an ASGI application")
        if make_user is not None and not callable(make_user):
            raise TypeError("make_user must be a callable")
        require_audience(verifier)
        problem = resource_problem(resource)
        if problem is not None:
            raise (ValueError if isinstance(resource, str) else TypeError)(problem)
        servers = _strings("authorization_servers", authorization_servers)
        if not servers:
            raise ValueError("authorization_servers must name at least one issuer URL")
        if resource_documentation is not None and resource_problem(resource_documentation) is not None:
            raise ValueError("resource_documentation must be an https URL")
        if isinstance(max_body_size, bool) or not isinstance(max_body_size, int) or max_body_size < 1:
            raise ValueError("max_body_size must be a positive int")
        self._app = app
        self._make_user = make_user
        self._verifier = verifier
        self._required_scopes = _scopes("required_scopes", required_scopes)
        self._required_roles = _strings("required_roles", required_roles)
        self._rules = _rules(route_scopes, route_roles)
        self._tool_scopes = {name: _scopes(f"tool_scopes[{name!r}]", scopes)
                             for name, scopes in (tool_scopes or {}).items()}
        self._mcp_path = _path("mcp_path", mcp_path if mcp_path is not None
                               else urlsplit(resource).path.rstrip("/") or "/")
        self._conventions = conventions_of(verifier)
        self._role_claims = (self._conventions.role_claims if role_claims is None
                             else role_claims_option(role_claims))
        self._public = _strings("public_paths", public_paths)
        for path in self._public:
            _path("public_paths", path)
        self._realm = realm
        self._max_body = max_body_size
        self._metadata_paths = metadata_paths(resource)
        self._metadata_url = metadata_url(resource)
        advertised = (_scopes("scopes_supported", scopes_supported) if scopes_supported is not None
                      else self._named_scopes())
        document: dict[str, Any] = {  # RFC 9728 §2
            "resource": resource,
            "authorization_servers": list(servers),
            "bearer_methods_supported": ["header"],
        }
        if advertised:
            document["scopes_supported"] = list(advertised)
        if resource_name is not None:
            document["resource_name"] = str(resource_name)
        if resource_documentation is not None:
            document["resource_documentation"] = resource_documentation
        self._metadata = json.dumps(document, indent=2).encode()
        www_authenticate(resource_metadata=self._metadata_url, realm=realm)  # fail now, not per request
        self._log = logging.getLogger(__name__)

    @property
    def metadata(self) -> dict[str, Any]:
        """The RFC 9728 metadata document this middleware serves."""
        document: dict[str, Any] = json.loads(self._metadata)
        return document

    @property
    def metadata_url(self) -> str:
        """Where the metadata is (RFC 9728 §3.1): the ``resource_metadata`` of challenges."""
        return self._metadata_url

    def _named_scopes(self) -> tuple[str, ...]:
        named = [*self._required_scopes]
        for rule in self._rules:
            named += rule.scopes
        for scopes in self._tool_scopes.values():
            named += scopes
        return tuple(dict.fromkeys(named))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self._app(scope, receive, send)  # lifespan and others: not ours
            return
        path: str = scope.get("path") or "/"
        method: str = scope.get("method", "GET") if kind == "http" else "GET"
        canonical = _canonical(path)
        if kind == "http" and path in self._metadata_paths:
            await self._serve_metadata(method, send)
            return
        if path == canonical and self._is_public(path):
            await self._app(scope, receive, send)
            return
        scopes, roles = self._requirements(method, path, canonical)
        outcome = await self._authenticate(scope, scopes)
        if isinstance(outcome, _Refusal):
            await self._refuse(kind, outcome, receive, send)
            return
        if kind == "http" and method == "POST" and self._tool_scopes and (
                _under(path, self._mcp_path) or _under(canonical, self._mcp_path)):
            read = await self._tool_requirements(scope, receive, scopes)
            if isinstance(read, _Refusal):
                await self._refuse(kind, read, receive, send)
                return
            scopes, receive = read
        refusal = self._authorize(outcome, scopes, roles)
        if refusal is not None:
            await self._refuse(kind, refusal, receive, send)
            return
        inner = dict(scope)
        inner["auth"] = outcome
        inner["user"] = outcome if self._make_user is None else self._make_user(outcome)
        await self._app(inner, receive, send)

    # -- deciding ------------------------------------------------------------------

    def _is_public(self, path: str) -> bool:
        return any(path == entry or (entry.endswith("/") and path.startswith(entry))
                   for entry in self._public)

    def _requirements(self, method: str, path: str,
                      canonical: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        scopes, roles = list(self._required_scopes), list(self._required_roles)
        for rule in self._rules:
            if rule.applies(method, path) or rule.applies(method, canonical):
                scopes += rule.scopes
                roles += rule.roles
        return tuple(dict.fromkeys(scopes)), tuple(dict.fromkeys(roles))

    async def _authenticate(self, scope: Scope, needed: tuple[str, ...]) -> VerifiedToken | _Refusal:
        values = [value.decode("latin-1") for name, value in scope.get("headers") or ()
                  if name.lower() == b"authorization"]
        token = bearer_token(values)
        if isinstance(token, BearerProblem):
            if token.error is None:  # RFC 6750 §3.1: no credentials, no error code
                return _Refusal(401, None, token.description, needed)
            return _Refusal(400, token.error, token.description)
        try:
            claims = await self._verifier.verify_async(token)
        except JOSEError as exc:
            if exc.status_hint >= 500:  # the key set, not the token: not the client's fault
                self._log.warning("cannot verify Bearer tokens now: %s: %s", type(exc).__name__, exc)
                return _Refusal(503, "temporarily_unavailable",
                                "the token cannot be verified now; retry later", challenge=False)
            self._log.info("refused a Bearer token: %s: %s", type(exc).__name__, exc)
            return _Refusal(401, "invalid_token", describe_refusal(exc))
        except Exception:  # a verifier bug must still end in a refusal, never a 500
            self._log.exception("the verifier failed on a Bearer token")
            return _Refusal(401, "invalid_token", "the token could not be verified")
        conventions = self._conventions
        return VerifiedToken(claims, conventions.scopes(claims), conventions.roles(claims, self._role_claims),
                             token)

    def _authorize(self, token: VerifiedToken, scopes: tuple[str, ...],
                   roles: tuple[str, ...]) -> _Refusal | None:
        if not token.scopes.issuperset(scopes):
            # RFC 6750 §3.1 and the MCP step-up flow: name every scope this request needs.
            return _Refusal(403, "insufficient_scope", "the token lacks a scope this request needs", scopes)
        if not token.roles.issuperset(roles):
            return _Refusal(403, "insufficient_scope", "the token lacks a role this request needs")
        return None

    async def _tool_requirements(
        self, scope: Scope, receive: Receive, scopes: tuple[str, ...]
    ) -> tuple[tuple[str, ...], Receive] | _Refusal:
        """Read the body of an MCP POST and add the scopes of the tool it calls."""
        declared = [value for name, value in scope.get("headers") or () if name.lower() == b"content-length"]
        if declared and declared[0].isdigit() and int(declared[0]) > self._max_body:
            return _Refusal(413, "invalid_request", "the request body is too large", challenge=False)
        body = await _read_body(receive, self._max_body)
        if body is None:
            return _Refusal(413, "invalid_request", "the request body is too large", challenge=False)
        try:
            # Strict parse (duplicate names refused): no other parser may see another tool name.
            message = loads_object(body, "the JSON-RPC message")
        except JSONError:
            return _Refusal(400, "invalid_request", "the body is not one JSON-RPC message", challenge=False)
        if message.get("method") == "tools/call":
            params = message.get("params")
            name = params.get("name") if isinstance(params, dict) else None
            if not isinstance(name, str):
                return _Refusal(400, "invalid_request", "tools/call without a tool name", challenge=False)
            scopes = tuple(dict.fromkeys((*scopes, *self._tool_scopes.get(name, ()))))
        return scopes, _replay(body, receive)

    # -- answering -----------------------------------------------------------------

    async def _serve_metadata(self, method: str, send: Send) -> None:
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, [(b"allow", b"GET, HEAD"), _JSON],
                           b'{"error": "method_not_allowed"}')
            return
        headers = [_JSON, (b"cache-control", b"max-age=3600"), (b"access-control-allow-origin", b"*")]
        await _respond(send, 200, headers, self._metadata, head=method == "HEAD")

    async def _refuse(self, kind: str, refusal: _Refusal, receive: Receive, send: Send) -> None:
        if kind == "websocket":
            # Before the handshake is accepted, a close is answered with HTTP 403.
            message = await receive()
            if message.get("type") == "websocket.connect":
                await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        headers = [_JSON, _NO_STORE]
        if refusal.challenge:
            challenge = www_authenticate(
                realm=self._realm, error=refusal.error,
                error_description=refusal.description if refusal.error is not None else None,
                scope=refusal.scope, resource_metadata=self._metadata_url,
            )
            headers.append((b"www-authenticate", challenge.encode("ascii")))
        body = {"error": refusal.error or "unauthorized", "error_description": refusal.description}
        await _respond(send, refusal.status, headers, json.dumps(body).encode())


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes,
                   *, head: bool = False) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


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


def _canonical(path: str) -> str:
    """``path`` without empty and dot segments, as a framework that normalizes sees it."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    return "/" + "/".join(segments) + ("/" if path.endswith("/") and segments else "")


def _under(path: str, prefix: str) -> bool:
    return prefix == "/" or path.rstrip("/") == prefix or path.startswith(prefix + "/")



def _strings(option: str, values: Iterable[str]) -> tuple[str, ...]:
    items = (values,) if isinstance(values, str) else tuple(values)
    if not all(isinstance(item, str) and item for item in items):
        raise TypeError(f"{option} takes non-empty strings")
    return tuple(dict.fromkeys(items))


def _scopes(option: str, values: Iterable[str]) -> tuple[str, ...]:
    items = _strings(option, values)
    for item in items:
        problem = scope_problem(item)
        if problem is not None:
            raise ValueError(f"{option}: {problem}")
    return items


def _path(option: str, path: str) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"{option} must be paths starting with '/', not {path!r}")
    return path


def _rules(route_scopes: Mapping[str, Iterable[str]] | None,
           route_roles: Mapping[str, Iterable[str]] | None) -> tuple[_Rule, ...]:
    rules: list[_Rule] = []
    for option, mapping in (("route_scopes", route_scopes), ("route_roles", route_roles)):
        for key, values in (mapping or {}).items():
            method, _, path = key.rpartition(" ")
            if method and (not method.isalpha() or not method.isupper()):
                raise ValueError(f"{option}: {key!r} is not '/path' or 'METHOD /path'")
            prefix = _path(option, path).rstrip("/") or "/"
            if option == "route_scopes":
                rules.append(_Rule(method or None, prefix, scopes=_scopes(f"{option}[{key!r}]", values)))
            else:
                rules.append(_Rule(method or None, prefix, roles=_strings(f"{option}[{key!r}]", values)))
    return tuple(rules)

