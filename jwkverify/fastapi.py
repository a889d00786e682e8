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
"""

# No "from __future__ import annotations" here: FastAPI reads the signature of
# BearerAuth.__call__ at runtime to find its Request and SecurityScopes parameters.

import json
from collections.abc import Iterable
from typing import Any

from ._faces.gate import Gate, Refusal, authorize
from ._web.bearer import metadata_paths, metadata_url, resource_problem
from ._web.conventions import BearerVerifier, RoleClaim
from .asgi import VerifiedToken, _scopes, _strings

try:
    from fastapi import APIRouter, HTTPException
    from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
    from fastapi.security import SecurityScopes
    from fastapi.security.base import SecurityBase
    from starlette.requests import HTTPConnection
    from starlette.responses import Response
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without FastAPI
    raise ImportError('the FastAPI adapter needs FastAPI: pip install "jwkverify[fastapi]"') from exc

__all__ = ["BearerAuth", "VerifiedToken"]


class BearerAuth(SecurityBase):  # type: ignore[misc, unused-ignore]
    """A FastAPI security dependency: ``Depends(auth)`` or ``Security(auth, scopes=[...])``.

    - ``verifier``: a :class:`~jwkverify.JWTVerifier`, :class:`~jwkverify.MultiIssuerVerifier`
      or provider preset built with ``audience=`` (RFC 8707: this API's resource URI).
      Build it with ``cache_size=`` so that a repeated token skips the signature.
    - ``resource``: this API's resource URI (``https``, or ``http`` on a loopback host).
    - ``authorization_servers``: issuer URLs clients get tokens from (RFC 9728 §2).
    - ``required_scopes`` / ``required_roles``: what every protected operation needs;
      the ``scopes`` of ``Security(auth, scopes=[...])`` (FastAPI's ``SecurityScopes``)
      add to them.
    - ``role_claims``: where roles are read (default: the verifier's ``conventions``,
      else ``roles`` and Keycloak's ``realm_access.roles``).

    The endpoint receives the :class:`~jwkverify.VerifiedToken`. Answers: no Bearer
    credentials → ``401`` with the challenge (RFC 6750 §3.1, with the RFC 9728
    ``resource_metadata``) and no error code; malformed credentials or two
    ``Authorization`` headers → ``400 invalid_request``; a refused token → ``401
    invalid_token``; a missing scope → ``403 insufficient_scope`` with ``scope=``; a
    missing role → ``403``; the key set unavailable → ``503`` with ``Retry-After``.
    Each is an ``HTTPException`` (``detail`` says why), so the app's exception handlers
    see it. :attr:`router` serves the metadata document at the URL the challenges name.
    Verification never blocks the event loop.

    Raises:
        TypeError, ValueError: a verifier without an audience, an invalid resource,
            authorization server, scope, role or role claim.
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
    ) -> None:
        self._gate = Gate.build(verifier, role_claims, __name__)
        problem = resource_problem(resource)
        if problem is not None:
            raise (ValueError if isinstance(resource, str) else TypeError)(problem)
        servers = _strings("authorization_servers", authorization_servers)
        self._required_scopes = _scopes("required_scopes", required_scopes)
        self._required_roles = _strings("required_roles", required_roles)
        self._metadata_url = metadata_url(resource)
        # What FastAPI's OpenAPI generation reads (as of HTTPBearer).
        self.model = HTTPBearerModel(bearerFormat="JWT", description="An OAuth 2.0 access token (RFC 6750)")
        self.scheme_name = type(self).__name__
        self.router = _metadata_router(resource, servers, self._required_scopes)

    @property
    def metadata_url(self) -> str:
        """Where :attr:`router` serves the metadata (RFC 9728 §3.1): the challenges' ``resource_metadata``."""
        return self._metadata_url

    async def __call__(self, request: HTTPConnection, security_scopes: SecurityScopes) -> VerifiedToken:
        """The request's verified token, or the ``HTTPException`` that refuses it."""
        needed = self._required_scopes
        if security_scopes.scopes:
            needed = tuple(dict.fromkeys((*needed, *security_scopes.scopes)))
        gate = self._gate
        token = gate.credentials(request.headers.getlist("authorization"), needed)
        outcome = await gate.verify(token) if isinstance(token, str) else token
        if isinstance(outcome, Refusal):
            raise self._refuse(outcome)
        refusal = authorize(outcome, needed, self._required_roles)
        if refusal is not None:
            raise self._refuse(refusal)
        return outcome

    def _refuse(self, refusal: Refusal) -> HTTPException:
        return HTTPException(refusal.status, detail=refusal.description,
                             headers=refusal.headers(resource_metadata=self._metadata_url))


def _metadata_router(resource: str, servers: tuple[str, ...], scopes: tuple[str, ...]) -> APIRouter:
    """An ``APIRouter`` serving the resource's RFC 9728 metadata, left out of the OpenAPI document."""
    document: dict[str, Any] = {"resource": resource}  # RFC 9728 §2
    if servers:
        document["authorization_servers"] = list(servers)
    document["bearer_methods_supported"] = ["header"]
    if scopes:
        document["scopes_supported"] = list(scopes)
    body = json.dumps(document, indent=2).encode()
    headers = {"Cache-Control": "max-age=3600", "Access-Control-Allow-Origin": "*"}

    async def protected_resource_metadata() -> Response:
        return Response(body, media_type="application/json", headers=headers)

    router = APIRouter()
    for path in metadata_paths(resource):
        router.add_api_route(path, protected_resource_metadata, methods=["GET"], include_in_schema=False)
    return router

