"""Bearer-token authentication for any WSGI application (Flask, Django, ...), standard library only.

:class:`BearerAuthMiddleware` wraps a WSGI app (PEP 3333). Every request needs one
``Authorization: Bearer`` header whose token the verifier accepts and that grants
the scopes and roles the request needs; the app then finds the
:class:`~jwkverify.asgi.VerifiedToken` in ``environ["jwkverify.token"]`` (Flask:
``request.environ``, Django: ``request.META``; or call :func:`verified_token`). It
answers as the ASGI middleware does (RFC 6750 §3, RFC 9728 §5.1) and serves the
RFC 9728 metadata document; with ``dpop=`` it accepts DPoP-bound tokens with their
proofs (RFC 9449). Two lines put it in front of an app::

    app.wsgi_app = BearerAuthMiddleware(app.wsgi_app, verifier, resource=..., authorization_servers=[...])
    application = BearerAuthMiddleware(get_wsgi_application(), verifier, ...)   # Django's wsgi.py

Verification is synchronous (``verifier.verify``), as WSGI is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ._web.answers import Answer
from ._web.conventions import BearerVerifier, RoleClaim
from ._web.credentials import BEARER, Credentials, split_joined
from ._web.decision import BearerCore
from ._web.dpop import Admission, wsgi_request_path
from ._web.face import MetadataFace
from ._web.options import BearerOptions
from ._web.token import VerifiedToken

if TYPE_CHECKING:
    from .dpop import DPoPVerifier
    from .observe import Observer

__all__ = ["ENVIRON_KEY", "BearerAuthMiddleware", "verified_token"]

#: Where the app finds the request's :class:`~jwkverify.asgi.VerifiedToken`.
ENVIRON_KEY: Final = "jwkverify.token"

Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def verified_token(environ: Mapping[str, Any]) -> VerifiedToken | None:
    """The token the middleware verified for this request: pass the WSGI ``environ``
    (Flask's ``request.environ``, Django's ``request.META``)."""
    found = environ.get(ENVIRON_KEY)
    return found if isinstance(found, VerifiedToken) else None


class BearerAuthMiddleware(MetadataFace):
    """WSGI middleware: every request needs a valid Bearer JWT for ``resource``.

    The options are the ASGI middleware's that make sense without MCP
    (:class:`jwkverify.asgi.BearerAuthMiddleware` documents each): ``resource``,
    ``authorization_servers``, ``required_scopes``, ``required_roles``,
    ``route_scopes``, ``route_roles``, ``public_paths``, ``role_claims``,
    ``scopes_supported``, ``resource_name``, ``resource_documentation``, ``realm``,
    ``observer``, ``dpop``, ``require_dpop``. Paths are the request's full path
    (``SCRIPT_NAME`` + ``PATH_INFO``); a DPoP proof's ``htu`` is checked against the
    origin of ``resource`` and the raw path (``RAW_URI`` or ``REQUEST_URI`` when the
    server sets one, else ``SCRIPT_NAME`` + ``PATH_INFO`` percent-encoded again).

    Answers: no Bearer token → 401 with the challenge and no error code; malformed
    credentials, or two ``Authorization`` headers (which WSGI servers join with a
    comma) → 400 ``invalid_request``; a refused token → 401 ``invalid_token``, and so
    is a DPoP-bound token sent as Bearer (RFC 9449 §7.2); a missing scope → 403
    ``insufficient_scope`` with ``scope=``; a missing role → 403; the key set
    unavailable → 503 with ``Retry-After``; with DPoP on, the answers of the ASGI
    middleware. Nothing the verifier raises becomes a 500. A refused request never
    reaches the app; an accepted one gets the app's response iterable itself, which
    the server closes (PEP 3333).

    Raises ``TypeError``/``ValueError`` for invalid arguments, including a verifier
    without an audience.
    """

    __slots__ = ("_app", "_core", "_dpop", "_options", "_routes", "_views")

    def __init__(
        self,
        app: WSGIApp,
        verifier: BearerVerifier,
        *,
        resource: str,
        authorization_servers: Iterable[str],
        required_scopes: Iterable[str] = (),
        required_roles: Iterable[str] = (),
        route_scopes: Mapping[str, Iterable[str]] | None = None,
        route_roles: Mapping[str, Iterable[str]] | None = None,
        public_paths: Iterable[str] = (),
        role_claims: Iterable[RoleClaim] | None = None,
        scopes_supported: Iterable[str] | None = None,
        resource_name: str | None = None,
        resource_documentation: str | None = None,
        realm: str | None = None,
        observer: Observer | None = None,
        dpop: DPoPVerifier | None = None,
        require_dpop: bool = False,
    ) -> None:
        import logging

        if not callable(app):
            raise TypeError("app must be a WSGI application (for Flask: app.wsgi_app)")
        if not isinstance(resource, str):
            raise TypeError(f"resource must be a str, not {type(resource).__name__}")
        self._options = BearerOptions.build(
            verifier, resource=resource, authorization_servers=authorization_servers,
            required_scopes=required_scopes, required_roles=required_roles, route_scopes=route_scopes,
            route_roles=route_roles, role_claims=role_claims, scopes_supported=scopes_supported,
            resource_name=resource_name, resource_documentation=resource_documentation,
            public_paths=public_paths, realm=realm, observer=observer, require_servers=True, dpop=dpop,
            require_dpop=require_dpop,
        )
        self._core = BearerCore(self._options, log=logging.getLogger(__name__))
        self._routes = self._core.routes
        self._views = self._core.views
        self._dpop = self._core.dpop
        self._app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method: str = environ.get("REQUEST_METHOD") or "GET"
        path = (environ.get("SCRIPT_NAME") or "") + (environ.get("PATH_INFO") or "")
        route = self._routes.route(method, path or "/")
        if route.metadata:
            return _answer(self._core.answers.metadata(method), start_response)
        if route.public:
            return self._app(environ, start_response)
        found = self._credentials(environ.get("HTTP_AUTHORIZATION"), route.scopes)
        outcome: VerifiedToken | Answer
        nonce: str | None = None
        if type(found) is str:  # a Bearer token
            views = self._views
            try:
                claims, entry = views.entry(found)
                outcome = views.view(found, claims, entry)
            except Exception as exc:  # nothing the verifier raises may become a 500
                outcome = self._core.refused(exc, found)
            else:
                if outcome.dpop_jkt is not None:  # RFC 9449 §7.2: a DPoP-bound token is no Bearer token
                    outcome = self._core.downgraded()
        elif type(found) is Credentials:  # the DPoP scheme, with DPoP on
            assert self._dpop is not None
            admitted = self._dpop.verify(found, _proofs(environ.get("HTTP_DPOP")), method=method,
                                         path=wsgi_request_path(environ))
            if type(admitted) is Admission:
                outcome, nonce = admitted
            else:
                outcome = admitted  # type: ignore[assignment]
        else:
            outcome = found  # type: ignore[assignment]
        if type(outcome) is not VerifiedToken:
            assert isinstance(outcome, Answer)
            return _answer(outcome, start_response)
        refusal = self._core.authorize(outcome, route.scopes, route.roles)
        if refusal is not None:
            return _answer(refusal, start_response)
        environ[ENVIRON_KEY] = outcome
        if nonce is not None:  # RFC 9449 §8.2: the next nonce, with the response
            start_response = _with_nonce(start_response, nonce)
        return self._app(environ, start_response)

    def _credentials(self, value: str | None, scopes: tuple[str, ...]) -> str | Credentials | Answer:
        """The request's Bearer token, its DPoP credentials, or the answer to send."""
        if value is not None:
            token = self._core.quick_token(value)  # no comma in it: not two joined headers
            if token is not None:
                return token
            dpop = self._core.quick_dpop(value)
            if dpop is not None:
                return dpop
        found = self._core.read(split_joined(value), scopes)
        if type(found) is Credentials and found.scheme == BEARER:
            return found.token
        return found


def _proofs(value: str | None) -> list[str]:
    """Every ``DPoP`` header value: WSGI servers join repeated headers with a comma, which
    no proof holds (a JWT is base64url and dots), so each part is one header."""
    if value is None:
        return []
    return [part.strip(" \t") for part in value.split(",")]


def _with_nonce(start_response: StartResponse, nonce: str) -> StartResponse:
    """``start_response`` that adds ``DPoP-Nonce`` and ``Cache-Control: no-store`` (RFC 9449
    §8.2: a response with a nonce must not be served from a cache)."""
    added = [("Cache-Control", "no-store"), ("DPoP-Nonce", nonce)]

    def start_with_nonce(status: str, headers: list[tuple[str, str]],
                         *args: Any) -> Callable[[bytes], object]:
        kept = [(name, value) for name, value in headers
                if name.lower() not in ("cache-control", "dpop-nonce")]
        return start_response(status, kept + added, *args)

    return start_with_nonce


def _answer(answer: Answer, start_response: StartResponse) -> list[bytes]:
    start_response(answer.status_line, list(answer.headers))  # a list of its own (PEP 3333)
    return [answer.body]
