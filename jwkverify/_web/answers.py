"""The answers of the bearer core: status, headers and JSON body, built once and reused.

Each answer a face can send (a refusal with its ``WWW-Authenticate`` challenges,
RFC 6750 §3, RFC 9449 §7 and RFC 9728 §5.1; the ``503`` with ``Retry-After``; the
RFC 9728 metadata document) is an immutable :class:`Answer` made the first time it
is needed and kept (boundedly), so a refused request costs a dictionary lookup,
never a challenge built again. An :class:`Answer` carries its headers both as text
(WSGI, frameworks) and as bytes (ASGI); faces copy the list they send, since the
server or an outer middleware may change it.

With DPoP on, a refusal names every scheme the resource accepts, in one
``WWW-Authenticate`` value (RFC 9110 §11.6.1, RFC 9449 §7.2): the scheme the
request used comes first and carries the error, the others are bare; with no
credentials none carries an error (``Bearer`` first, then ``DPoP``); when it is
unclear which scheme was meant (two ``Authorization`` headers), each does. A ``403``
names only the request's scheme.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from .bearer import www_authenticate

__all__ = ["MAX_RETRY_AFTER", "Answer", "Answers"]

_BEARER, _DPOP = "bearer", "dpop"
_SCHEME_NAMES: Final = {_BEARER: "Bearer", _DPOP: "DPoP"}

K = TypeVar("K")

#: The longest ``Retry-After`` a ``503`` names (seconds).
MAX_RETRY_AFTER: Final = 300

_KEPT = 2048  # answers kept; what is rarer is built each time
_JSON = ("content-type", "application/json")
_NO_STORE = ("cache-control", "no-store")


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP response the core decided.

    ``error``/``description`` are the OAuth error code and text (``None``/``""`` for
    an answer that is no refusal), ``challenge`` the ``WWW-Authenticate`` value if
    any, ``retry_after`` the seconds of a ``503``'s ``Retry-After``; ``headers``
    (with them, ``content-type`` and ``content-length``) and ``body`` are the whole
    response; ``raw_headers`` the same as bytes; ``status_line`` the WSGI status.
    """

    status: int
    error: str | None
    description: str
    challenge: str | None
    retry_after: int | None
    headers: tuple[tuple[str, str], ...]
    body: bytes
    status_line: str
    raw_headers: tuple[tuple[bytes, bytes], ...]

    @classmethod
    def make(cls, status: int, headers: list[tuple[str, str]], body: bytes, *, error: str | None = None,
             description: str = "", challenge: str | None = None, retry_after: int | None = None,
             length: int | None = None) -> Answer:
        """An answer whose ``content-length`` is ``length`` (default: the body's)."""
        from http import HTTPStatus

        if challenge is not None:
            headers.append(("www-authenticate", challenge))
        if retry_after is not None:
            headers.append(("retry-after", str(retry_after)))  # RFC 9110 §10.2.3
        headers.append(("content-length", str(len(body) if length is None else length)))
        return cls(status, error, description, challenge, retry_after, tuple(headers), body,
                   f"{status} {HTTPStatus(status).phrase}",
                   tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers))

    def plus(self, *headers: tuple[str, str]) -> Answer:
        """This answer with more ``headers`` (lower-case names): a new one, for what
        changes per request (a ``DPoP-Nonce``), so the kept answer stays as it was."""
        raw = tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers)
        return Answer(self.status, self.error, self.description, self.challenge, self.retry_after,
                      self.headers + headers, self.body, self.status_line, self.raw_headers + raw)

    @property
    def auth_headers(self) -> dict[str, str]:
        """The headers that say why (``www-authenticate``, ``retry-after``, ``dpop-nonce``,
        ``cache-control``, ...) without ``content-type`` and ``content-length``: for a
        framework that builds the response itself (``HTTPException(headers=...)``)."""
        return {name: value for name, value in self.headers if name not in ("content-type", "content-length")}


class Answers:
    """Every answer of one face's configuration, made on first use and kept.

    ``algs``: the algorithms of DPoP proofs (``DPoPVerifier.algorithms``) when DPoP is
    on, else empty; ``bearer``: whether the ``Bearer`` scheme is accepted (not with
    ``require_dpop``). ``scheme`` arguments are ``"bearer"``, ``"dpop"`` or ``None``.
    """

    __slots__ = ("_algs", "_document", "_kept", "_metadata_url", "_realm", "_schemes")

    def __init__(self, *, metadata_url: str | None = None, realm: str | None = None,
                 document: bytes = b"", algs: tuple[str, ...] = (), bearer: bool = True) -> None:
        self._metadata_url = metadata_url
        self._realm = realm
        self._document = document
        self._algs = algs
        # The schemes the challenges name: Bearer first, as RFC 9449's Figure 17 has it (MCP
        # clients read resource_metadata only from a value that starts with a Bearer challenge).
        self._schemes = ((_BEARER,) if bearer or not algs else ()) + ((_DPOP,) if algs else ())
        self._kept: dict[tuple[str, object], Answer] = {}

    def _kept_or(self, kind: str, key: K, make: Callable[[K], Answer]) -> Answer:
        found = self._kept.get((kind, key))
        if found is None:
            found = make(key)
            if len(self._kept) < _KEPT:
                self._kept[(kind, key)] = found
        return found

    def _challenge(self, scheme: str, error: str | None, description: str | None,
                   scope: tuple[str, ...]) -> str:
        return www_authenticate(
            scheme=_SCHEME_NAMES[scheme], realm=self._realm, error=error, error_description=description,
            scope=scope, algs=self._algs if scheme == _DPOP else (), resource_metadata=self._metadata_url)

    def _refusal(self, status: int, error: str | None, description: str, scope: tuple[str, ...] = (), *,
                 scheme: str | None = None, others: bool = True) -> Answer:
        schemes = self._schemes
        if scheme not in schemes:
            scheme = None  # a scheme this resource does not accept: speak of all of them
        elif len(schemes) > 1:
            schemes = (scheme, *(each for each in schemes if each != scheme))  # the request's first
        challenges = []
        for each in schemes:
            if error is None:  # RFC 6750 §3.1: no credentials, no error code in any challenge
                challenges.append(self._challenge(each, None, None, scope))
            elif scheme is None or each == scheme:
                challenges.append(self._challenge(each, error, description, scope))
            elif others:  # RFC 9449 §7.2: the scheme not used, bare
                challenges.append(self._challenge(each, None, None, ()))
        body = json.dumps({"error": error or "unauthorized", "error_description": description}).encode()
        return Answer.make(status, [_JSON, _NO_STORE], body, error=error, description=description,
                           challenge=", ".join(challenges))

    def no_credentials(self, scopes: tuple[str, ...], description: str) -> Answer:
        """``401`` with the challenges, no error code (RFC 6750 §3.1), ``scope=`` the request's needs."""
        return self._kept_or("none", (scopes, description),
                             lambda key: self._refusal(401, None, key[1], key[0]))

    def invalid_request(self, description: str, scheme: str | None = None) -> Answer:
        """``400 invalid_request``: malformed credentials, two ``Authorization`` headers."""
        return self._kept_or("request", (description, scheme),
                             lambda key: self._refusal(400, "invalid_request", key[0], scheme=key[1]))

    def invalid_token(self, description: str, scheme: str | None = _BEARER) -> Answer:
        """``401 invalid_token``: the token was refused; ``description`` reveals nothing secret."""
        return self._kept_or("token", (description, scheme),
                             lambda key: self._refusal(401, "invalid_token", key[0], scheme=key[1]))

    def invalid_dpop_proof(self, description: str) -> Answer:
        """``401 invalid_dpop_proof`` (RFC 9449 §7.1): the request's DPoP proof was refused."""
        return self._kept_or("proof", description,
                             lambda text: self._refusal(401, "invalid_dpop_proof", text, scheme=_DPOP))

    def use_dpop_nonce(self, description: str) -> Answer:
        """``401 use_dpop_nonce`` (RFC 9449 §9), without the ``DPoP-Nonce`` header: add it
        per request with :meth:`Answer.plus`, since the nonce changes."""
        return self._kept_or("nonce", description,
                             lambda text: self._refusal(401, "use_dpop_nonce", text, scheme=_DPOP))

    def insufficient_scope(self, scopes: tuple[str, ...], scheme: str = _BEARER) -> Answer:
        """``403 insufficient_scope`` naming every scope the request needs (the MCP step-up flow)."""
        return self._kept_or("scope", (scopes, scheme), lambda key: self._refusal(
            403, "insufficient_scope", "the token lacks a scope this request needs", key[0], scheme=key[1],
            others=False))

    def insufficient_role(self, scheme: str = _BEARER) -> Answer:
        """``403 insufficient_scope`` without ``scope=``: a role is no OAuth scope."""
        return self._kept_or("role", scheme, lambda key: self._refusal(
            403, "insufficient_scope", "the token lacks a role this request needs", scheme=key, others=False))

    def unavailable(self, retry_after: int) -> Answer:
        """``503`` with ``Retry-After`` and no challenge: the key set, not the client, is at fault."""
        def make(seconds: int) -> Answer:
            text = "the token cannot be verified now; retry later"
            body = json.dumps({"error": "temporarily_unavailable", "error_description": text}).encode()
            return Answer.make(503, [_JSON, _NO_STORE], body, error="temporarily_unavailable",
                               description=text, retry_after=seconds)

        return self._kept_or("unavailable", max(1, min(MAX_RETRY_AFTER, retry_after)), make)

    def bad_body(self, status: int, description: str) -> Answer:
        """``400``/``413 invalid_request`` about the body, not the token: no challenge."""
        def make(key: tuple[int, str]) -> Answer:
            body = json.dumps({"error": "invalid_request", "error_description": key[1]}).encode()
            return Answer.make(key[0], [_JSON, _NO_STORE], body, error="invalid_request", description=key[1])

        return self._kept_or("body", (status, description), make)

    def metadata(self, method: str) -> Answer:
        """The RFC 9728 document for ``GET`` and ``HEAD`` (no body), ``405`` otherwise."""
        def make(verb: str) -> Answer:
            if verb not in ("GET", "HEAD"):
                return Answer.make(405, [("allow", "GET, HEAD"), _JSON], b'{"error": "method_not_allowed"}')
            headers = [_JSON, ("cache-control", "max-age=3600"), ("access-control-allow-origin", "*")]
            body = self._document
            return Answer.make(200, headers, b"" if verb == "HEAD" else body, length=len(body))

        return self._kept_or("metadata", method if method in ("GET", "HEAD") else "other", make)
