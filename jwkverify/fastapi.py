"""FastAPI on jwkverify: a security dependency that hands endpoints a verified token.

:class:`BearerAuth` is built on FastAPI's own security classes (like ``HTTPBearer``),
so the OpenAPI document shows an HTTP bearer scheme on exactly the operations that
use it (``pip install "jwkverify[fastapi]"``; FastAPI is imported with this module,
never by the rest of jwkverify)::

    auth = BearerAuth(verifier, resource="https://api.example.com",
                      authorization_servers=["https://issuer.example.com/"])
    app.include_router(auth.router)  # the RFC 9728 metadata document

    @app.post("/notes")
    async def add_note(token: Annotated[VerifiedToken, Security(auth, scopes=["notes:write"])]): ...

Every rule is the shared web core's (:mod:`jwkverify._web`); this module translates
FastAPI's dependency and its ``HTTPException`` to it.
"""

# No "from __future__ import annotations" here: FastAPI reads the signature of
# BearerAuth.__call__ at runtime to find its Request and SecurityScopes parameters.

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ._web.answers import Answer
from ._web.conventions import BearerVerifier, RoleClaim
from ._web.credentials import Credentials
from ._web.decision import BearerCore
from ._web.dpop import asgi_request_path
from ._web.options import BearerOptions, scopes_option
from ._web.token import VerifiedToken
from .observe import Observer

if TYPE_CHECKING:
    from .dpop import DPoPVerifier

try:
    from fastapi import APIRouter, HTTPException
    from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
    from fastapi.security import SecurityScopes
    from fastapi.security.base import SecurityBase
    from starlette.requests import HTTPConnection, Request
    from starlette.responses import Response
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without FastAPI
    raise ImportError('the FastAPI adapter needs FastAPI: pip install "jwkverify[fastapi]"') from exc

__all__ = ["BearerAuth", "VerifiedToken"]

#: Distinct ``Security(scopes=...)`` sets remembered (an app has one per protected path, at most).
_KEPT_SCOPES = 256

#: The headers of a refusal an ``HTTPException`` carries (FastAPI writes the body and its length).
_REFUSAL_HEADERS = frozenset(("www-authenticate", "retry-after", "cache-control", "dpop-nonce"))


class BearerAuth(SecurityBase):  # type: ignore[misc, unused-ignore]
    """A FastAPI security dependency: ``Depends(auth)`` or ``Security(auth, scopes=[...])``.

    - ``verifier``: a :class:`~jwkverify.JWTVerifier`, :class:`~jwkverify.MultiIssuerVerifier`
      or provider preset built with ``audience=`` (RFC 8707: this API's resource URI).
      Build it with ``cache_size=`` so that a repeated token skips the signature and
      reuses its :class:`~jwkverify.VerifiedToken`.
    - ``resource``: this API's resource URI (``https``, or ``http`` on a loopback host).
    - ``authorization_servers``: issuer URLs clients get tokens from (RFC 9728 §2).
    - ``required_scopes`` / ``required_roles``: what every protected operation needs;
      the ``scopes`` of ``Security(auth, scopes=[...])`` (FastAPI's ``SecurityScopes``)
      add to them.
    - ``role_claims``: where roles are read (default: the verifier's ``conventions``,
      else ``roles`` and Keycloak's ``realm_access.roles``).
    - ``observer``: told each decided request's verdict (``verdict(outcome, code)``,
      :mod:`jwkverify.observe`).
    - ``dpop``: a :class:`~jwkverify.dpop.DPoPVerifier` turns DPoP on (RFC 9449):
      ``Authorization: DPoP <token>`` with one ``DPoP`` proof, checked against the
      method, the origin of ``resource`` plus the raw path, the token and its
      ``cnf.jkt``; ``require_dpop``: only DPoP-bound tokens are accepted. A DPoP-bound
      token is never accepted as a Bearer token, DPoP on or off (RFC 9449 §7.2).

    The endpoint receives the :class:`~jwkverify.VerifiedToken` (read-only, the same
    object for every request with the token while the verifier's cache holds it).
    Answers: no Bearer credentials → ``401`` with the challenge (RFC 6750 §3.1, with
    the RFC 9728 ``resource_metadata``) and no error code; malformed credentials or
    two ``Authorization`` headers → ``400 invalid_request``; a refused token → ``401
    invalid_token``; a missing scope → ``403 insufficient_scope`` with ``scope=``; a
    missing role → ``403``; the key set unavailable → ``503`` with ``Retry-After``.
    Each is an ``HTTPException`` (``detail`` says why), so the app's exception handlers
    see it. :attr:`router` serves the metadata document at the URL the challenges name.
    Verification never blocks the event loop (``verify_async``).

    Raises:
        TypeError, ValueError: a verifier without an audience, an invalid resource,
            authorization server, scope, role, role claim or observer.
    """

    def __init__(
        self,
        verifier: BearerVerifier,
        *,
        resource: str,
        authorization_servers: Iterable[str] = (),
        required_scopes: Iterable[str] = (),
        required_roles: Iterable[str] = (),
        role_claims: Iterable[RoleClaim] | None = None,
        observer: Observer | None = None,
        dpop: "DPoPVerifier | None" = None,
        require_dpop: bool = False,
    ) -> None:
        if not isinstance(resource, str):
            raise TypeError(f"resource must be a str, not {type(resource).__name__}")
        self._options = BearerOptions.build(
            verifier, resource=resource, authorization_servers=authorization_servers,
            required_scopes=required_scopes, required_roles=required_roles, role_claims=role_claims,
            observer=observer, dpop=dpop, require_dpop=require_dpop)
        self._core = BearerCore(self._options, log=logging.getLogger(__name__))
        self._needed: dict[tuple[str, ...], tuple[str, ...]] = {(): self._options.required_scopes}
        # What FastAPI's OpenAPI generation reads (as of HTTPBearer).
        self.model = HTTPBearerModel(bearerFormat="JWT", description="An OAuth 2.0 access token (RFC 6750)")
        self.scheme_name = type(self).__name__
        self.router = self._metadata_router()

    @property
    def metadata_url(self) -> str:
        """Where :attr:`router` serves the metadata (RFC 9728 §3.1): the challenges' ``resource_metadata``."""
        url = self._options.metadata_url
        assert url is not None
        return url

    async def __call__(self, request: HTTPConnection, security_scopes: SecurityScopes,
                       response: Response) -> VerifiedToken:
        """The request's verified token, or the ``HTTPException`` that refuses it."""
        core = self._core
        scopes = security_scopes.scopes
        needed = self._needed.get(tuple(scopes)) or self._scopes(scopes)  # remembered, else checked once
        if core.dpop is not None:
            return await self._admit(request, needed, response)
        # The ASGI headers as they are (names lower case, as ASGI servers send them): building
        # Starlette's Headers for one lookup would cost more than the rest of a cached request.
        values = []  # a loop, not a comprehension: no frame of its own before Python 3.12
        for name, value in request.scope["headers"]:
            if name == b"authorization" or (len(name) == 13 and name.lower() == b"authorization"):
                values.append(value.decode("latin-1"))
        token = core.quick_token(values[0]) if len(values) == 1 else None
        outcome: VerifiedToken | Answer
        if token is not None:  # plainly "Bearer <token>"
            views = core.views
            try:  # a local key set, or a fresh remote one, does no I/O: verified without a coroutine
                view = views.now(token)
                if view is None:
                    view = await views.waiting(token)
            except Exception as exc:  # nothing the verifier raises may become a 500
                outcome = core.refused(exc, token)
            else:  # RFC 9449 §7.2: a DPoP-bound token is no Bearer token
                outcome = view if view.dpop_jkt is None else core.downgraded()
        else:
            found = core.read(values, needed)
            outcome = await core.verify_async(found) if isinstance(found, Credentials) else found
        if isinstance(outcome, VerifiedToken):
            refusal = core.authorize(outcome, needed, self._options.required_roles)
            if refusal is None:
                return outcome
            outcome = refusal
        raise _refusal(outcome)

    async def _admit(self, request: HTTPConnection, needed: tuple[str, ...],
                     response: Response) -> VerifiedToken:
        """DPoP on: the token and its proof (RFC 9449 §7), the next ``DPoP-Nonce`` on the response."""
        scope = request.scope
        authorization: list[str] = []
        proofs: list[str] = []
        for name, value in scope["headers"]:
            lowered = name.lower()
            if lowered == b"authorization":
                authorization.append(value.decode("latin-1"))
            elif lowered == b"dpop":
                proofs.append(value.decode("latin-1"))
        admitted = await self._core.admit_async(
            authorization, proofs, method=scope.get("method") or "GET", path=asgi_request_path(scope),
            scopes=needed, roles=self._options.required_roles)
        if isinstance(admitted, Answer):
            raise _refusal(admitted)
        for name, value in admitted.headers:  # DPoP-Nonce, when it rotated, never cached (§8.2)
            response.headers[name] = value
        return admitted.token

    def _scopes(self, scopes: list[str]) -> tuple[str, ...]:
        """``required_scopes`` and the operation's ``SecurityScopes``, remembered per set.

        Raises:
            ValueError: a ``Security(scopes=...)`` entry is not a scope name (RFC 6749 §3.3),
                which FastAPI gives only with the first request.
        """
        key = tuple(scopes)
        needed = self._needed.get(key)
        if needed is None:
            checked = scopes_option("Security(scopes=...)", key)
            needed = tuple(dict.fromkeys((*self._options.required_scopes, *checked)))
            if len(self._needed) < _KEPT_SCOPES:
                self._needed[key] = needed
        return needed

    def _metadata_router(self) -> APIRouter:
        """An ``APIRouter`` serving the RFC 9728 document (left out of the OpenAPI document)."""
        answers = self._core.answers

        async def protected_resource_metadata(request: Request) -> Response:
            answer = answers.metadata(request.method)
            return Response(answer.body, status_code=answer.status, headers=dict(answer.headers))

        router = APIRouter()
        for path in self._options.metadata_paths:
            router.add_api_route(path, protected_resource_metadata, methods=["GET", "HEAD"],
                                 include_in_schema=False)
        return router


def _refusal(answer: Answer) -> HTTPException:
    """The core's answer as FastAPI's exception: its status, why, and its challenge headers."""
    return HTTPException(answer.status, detail=answer.description, headers={
        name: value for name, value in answer.headers if name in _REFUSAL_HEADERS})
