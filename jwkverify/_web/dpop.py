"""DPoP at the web faces (RFC 9449 §7): a DPoP request's token binding and proof, sans I/O.

A face with ``dpop=`` hands :class:`ProofCheck` what it read from the request: the
``DPoP``-scheme credentials, every ``DPoP`` header value, the method and the raw,
still percent-encoded path (:func:`asgi_request_path`, :func:`wsgi_request_path`).
It gets back an :class:`Admission` (the token, and the nonce to send when it
rotates) or the :class:`~.answers.Answer` to send:

1. the access token is verified as any token (its view, built once per cached
   token, holds its ``cnf.jkt``): a refused token is ``401 invalid_token``;
2. a token bound to no key is refused when only DPoP-bound tokens are accepted
   (``require_dpop``; RFC 9728's ``dpop_bound_access_tokens_required``);
3. the proof is checked, every time (RFC 9449 §4.3): against the method, the
   ``htu`` built from the origin of ``resource`` (never the request's ``Host``) and
   the raw path, the token (``ath``) and its ``cnf.jkt``. A refused proof is ``401
   invalid_dpop_proof``; one made with another key than the token's is ``401
   invalid_token`` (RFC 9449 §7.1, Figure 16); a missing or old nonce ``401
   use_dpop_nonce`` with ``DPoP-Nonce``; an unreachable replay store ``503``.

With nonces on, every ``401`` of a DPoP request (and the no-credentials one) carries
the current ``DPoP-Nonce`` (RFC 9449 §8, §9), so a client need not fail once more.

Faces that see only the token (the MCP SDK's and FastMCP's token verifiers) cannot
check a proof: :func:`unbound_only` makes their views refuse DPoP-bound tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple, Protocol, TypeVar

from .._dpop.verifier import DPoPVerifier, ProofInput, VerifiedProof, token_jkt
from ..errors import ClaimError, InvalidDPoPProof, JOSEError, UseDPoPNonce
from .answers import Answer, Answers
from .credentials import DPOP, Credentials
from .token import VerifiedToken
from .views import TokenViews

__all__ = [
    "Admission",
    "CoreParts",
    "DPoPBoundToken",
    "ProofCheck",
    "asgi_request_path",
    "refuse_bound",
    "request_target_path",
    "unbound_only",
    "wsgi_request_path",
]

V = TypeVar("V")

#: Characters kept as they are when a decoded path is percent-encoded again: RFC 3986 §3.3
#: ``pchar`` and ``/`` (unreserved characters are never encoded).
_PATH_SAFE: Final = "/:@!$&'()*+,;="

#: ``error_description`` of a refused proof, by failed check: short, fixed, nothing secret.
_PROOF_REFUSALS: Final = {
    "count": "the request needs exactly one DPoP header",
    "format": "the DPoP proof is not a well-formed JWT",
    "typ": "the DPoP proof's typ is not dpop+jwt",
    "alg": "the DPoP proof's algorithm is not accepted",
    "jwk": "the DPoP proof's jwk is not an acceptable public key",
    "signature": "the DPoP proof's signature does not verify",
    "claims": "the DPoP proof lacks a claim or has one of the wrong type",
    "htm": "the DPoP proof was made for another method",
    "htu": "the DPoP proof was made for another URI",
    "iat": "the DPoP proof is too old, or made in the future",
    "ath": "the DPoP proof was made for another access token",
    "nonce": "the DPoP proof's nonce is not accepted",
    "replay": "the DPoP proof was used before",
}


class Admission(NamedTuple):
    """A request let in: its verified token, and ``nonce``, the next ``DPoP-Nonce`` to send
    with the response when the nonce rotated (RFC 9449 §8.2), else ``None``."""

    token: VerifiedToken
    nonce: str | None = None

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """The headers to add to the app's response: ``DPoP-Nonce`` and, since a nonce
        must not be served from a cache (RFC 9449 §8.2), ``Cache-Control: no-store``."""
        if self.nonce is None:
            return ()
        return (("cache-control", "no-store"), ("dpop-nonce", self.nonce))


class DPoPBoundToken(ClaimError):
    """A DPoP-bound token (``cnf.jkt``) where no proof is checked: never accepted."""

    code = "dpop_bound_token"


class CoreParts(Protocol):
    """What :class:`ProofCheck` uses of the :class:`~.decision.BearerCore` it belongs to
    (named here so that this module needs nothing from the decision above it)."""

    answers: Answers
    log: logging.Logger
    views: TokenViews[VerifiedToken]

    def refused(self, exc: Exception, token: str | None = None, scheme: str = ...) -> Answer: ...

    def report(self, outcome: str, code: str | None) -> None: ...


class ProofCheck:
    """The DPoP side of one face's :class:`~.decision.BearerCore` (``core.dpop``)."""

    __slots__ = ("_core", "_nonces", "origin", "require", "verifier")

    def __init__(self, core: CoreParts, verifier: DPoPVerifier, origin: str, require: bool) -> None:
        self._core = core
        self.verifier = verifier
        self.origin = origin
        self.require = require
        self._nonces = verifier.requires_nonce

    def verify(self, credentials: Credentials, proofs: ProofInput, *, method: str,
               path: str) -> Admission | Answer:
        """The admission of a ``DPoP``-scheme request, or the answer to send.

        ``proofs``: every ``DPoP`` header value of the request (or ``None``);
        ``method``: its method; ``path``: its raw, percent-encoded path.
        """
        core, token = self._core, credentials.token
        try:
            view = core.views.verify(token)
        except Exception as exc:  # nothing the verifier raises may become a 500
            return self.nonced(core.refused(exc, token, DPOP))
        if view.dpop_jkt is None and self.require:
            return self._unbound()
        try:  # the token may come from a cache; its proof is checked every time
            proof = self.verifier.verify(proofs, method=method, url=self.origin + path, access_token=token,
                                         jkt=view.dpop_jkt)
        except Exception as exc:
            return self.refused(exc)
        return _admitted(view, proof)

    async def verify_async(self, credentials: Credentials, proofs: ProofInput, *, method: str,
                           path: str) -> Admission | Answer:
        """:meth:`verify` without blocking: the key set and the replay store are awaited."""
        core, token = self._core, credentials.token
        try:
            view = await core.views.verify_async(token)
        except Exception as exc:
            return self.nonced(core.refused(exc, token, DPOP))
        if view.dpop_jkt is None and self.require:
            return self._unbound()
        try:
            proof = await self.verifier.verify_async(proofs, method=method, url=self.origin + path,
                                                     access_token=token, jkt=view.dpop_jkt)
        except Exception as exc:
            return self.refused(exc)
        return _admitted(view, proof)

    def refused(self, exc: Exception) -> Answer:
        """The answer to what the proof check raised (reported to the observer, logged at DEBUG)."""
        core = self._core
        log = core.log
        if isinstance(exc, UseDPoPNonce):  # RFC 9449 §9: one DPoP-Nonce, the one to use
            core.report("use_dpop_nonce", None)
            answer = core.answers.use_dpop_nonce("the resource server requires a new nonce in the DPoP proof")
            return answer.plus(("dpop-nonce", exc.nonce))
        if isinstance(exc, InvalidDPoPProof):
            if log.isEnabledFor(logging.DEBUG):
                log.debug("refused a DPoP proof (%s): %s", exc.check, exc)
            core.report("invalid_dpop_proof", exc.check)
            if exc.check == "jkt":  # RFC 9449 §7.1, Figure 16: the key binding failed
                return self.nonced(core.answers.invalid_token(
                    "the DPoP proof's key is not the key the token is bound to", DPOP))
            return self.nonced(core.answers.invalid_dpop_proof(
                _PROOF_REFUSALS.get(exc.check, "the DPoP proof is not valid")))
        if isinstance(exc, JOSEError) and exc.status_hint >= 500:  # the replay store: retry later
            if log.isEnabledFor(logging.DEBUG):
                log.debug("cannot check DPoP proofs now: %s: %s", type(exc).__name__, exc)
            core.report("unavailable", exc.code)
            return core.answers.unavailable(_retry_after(exc))
        if not isinstance(exc, JOSEError):  # a bug must still end in a refusal
            log.error("the DPoP verifier failed on a proof", exc_info=exc)
        core.report("invalid_dpop_proof", exc.code if isinstance(exc, JOSEError) else "verifier_error")
        return self.nonced(core.answers.invalid_dpop_proof("the DPoP proof could not be verified"))

    def nonced(self, answer: Answer) -> Answer:
        """``answer`` with the current ``DPoP-Nonce`` when nonces are on and it is a ``401``
        (RFC 9449 §8: any refusal may carry the nonce to use)."""
        if not self._nonces or answer.status != 401:
            return answer
        nonce = self.verifier.current_nonce()
        return answer if nonce is None else answer.plus(("dpop-nonce", nonce))

    def _unbound(self) -> Answer:
        core = self._core
        core.report("invalid_token", "unbound_token")
        return self.nonced(core.answers.invalid_token(
            "the token is not bound to a DPoP key (no cnf.jkt); this resource accepts only DPoP-bound "
            "tokens", DPOP))


def _admitted(view: VerifiedToken, proof: VerifiedProof) -> Admission:
    # A bound token's view already names its key (checked equal to the proof's); a token
    # bound to no key gets a copy of its view naming the proof's key, for this request only.
    token = view if view.dpop_jkt is not None else view._proven_by(proof.thumbprint)
    return Admission(token, proof.next_nonce)


def _retry_after(exc: BaseException) -> int:
    seconds = getattr(exc, "retry_after", None)
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and 1 <= seconds <= 300:
        return int(seconds)
    return 5  # the core's DEFAULT_RETRY_AFTER


# -- the request's path, as the client wrote it -------------------------------------------------


def request_target_path(target: str) -> str | None:
    """The path of an HTTP request-target (origin-form ``/p?q`` or absolute-form
    ``https://h/p?q``, RFC 9112 §3.2) without its query, still percent-encoded; ``None``
    for another form."""
    path = target.partition("?")[0].partition("#")[0]
    if path.startswith("/"):
        return path
    scheme, colon, rest = path.partition("://")
    if colon and scheme.lower() in ("http", "https"):
        return "/" + rest.partition("/")[2]
    return None


def asgi_request_path(scope: Mapping[str, Any]) -> str:
    """The raw, still percent-encoded path of an ASGI request: ``raw_path`` (what the
    server received), else ``path`` (decoded from UTF-8) percent-encoded again."""
    raw = scope.get("raw_path")
    if type(raw) is bytes and raw[:1] == b"/" and b"?" not in raw and b"#" not in raw:
        return raw.decode("latin-1")  # what uvicorn and hypercorn give: origin-form, no query
    if isinstance(raw, bytes | bytearray) and raw:
        found = request_target_path(bytes(raw).decode("latin-1"))
        if found is not None:
            return found
    from urllib.parse import quote

    path = scope.get("path")
    text = path if isinstance(path, str) and path else "/"
    return quote(text.encode("utf-8", "surrogateescape"), safe=_PATH_SAFE)


def wsgi_request_path(environ: Mapping[str, Any]) -> str:
    """The raw, still percent-encoded path of a WSGI request.

    ``RAW_URI`` (gunicorn, Werkzeug) or ``REQUEST_URI`` (uWSGI, mod_wsgi, Werkzeug,
    gunicorn): the request-target as received. Otherwise (wsgiref, waitress)
    ``SCRIPT_NAME`` + ``PATH_INFO``, which PEP 3333 gives decoded (bytes as Latin-1),
    percent-encoded again: the same path, though a reserved character the client
    had encoded (``%2F``, ``%3B``) comes back plain, and its proof then fails.
    """
    from urllib.parse import quote

    for name in ("RAW_URI", "REQUEST_URI"):
        value = environ.get(name)
        if isinstance(value, str) and value:
            found = request_target_path(value)
            if found is not None:
                return found
    path = (environ.get("SCRIPT_NAME") or "") + (environ.get("PATH_INFO") or "")
    try:
        octets = (path or "/").encode("latin-1")
    except UnicodeEncodeError:  # not PEP 3333's bytes-as-Latin-1: take it as text
        octets = path.encode("utf-8", "surrogateescape")
    return quote(octets, safe=_PATH_SAFE)


# -- faces that see only the token ---------------------------------------------------------------


def refuse_bound(claims: Mapping[str, Any]) -> None:
    """Refuse a token bound to a DPoP key, for a face that sees no proof (RFC 9449 §7.2).

    Raises:
        DPoPBoundToken: the token has a ``cnf.jkt``.
        ClaimError: its ``cnf`` is malformed.
    """
    if "cnf" in claims and token_jkt(claims) is not None:
        raise DPoPBoundToken(
            "the access token is bound to a DPoP key (cnf.jkt) and a token verifier sees no proof: "
            "refused (RFC 9449 §7.2); put jwkverify's middleware with dpop= in front instead",
            claim="cnf", reason="dpop_bound")


def unbound_only(build: Callable[[str, dict[str, Any]], V]) -> Callable[[str, dict[str, Any]], V]:
    """A :class:`~.views.TokenViews` ``build`` that refuses DPoP-bound tokens
    (:func:`refuse_bound`) before it builds the view with ``build``: a refused token
    gets no view, so every request with it is refused again."""
    def build_unbound(token: str, claims: dict[str, Any]) -> V:
        refuse_bound(claims)
        return build(token, claims)

    return build_unbound
