"""The request decision every web face shares: credentials, verify, requirements, a verdict.

:class:`BearerCore` is sans-I/O. A face (ASGI, WSGI, MCP, FastMCP, FastAPI) asks it,
for one request:

1. :meth:`~BearerCore.route`: what the method and path need (metadata, public,
   scopes and roles), resolved once per (method, path);
2. :meth:`~BearerCore.credentials`: the scheme and token of the ``Authorization``
   values, or the answer to send;
3. :meth:`~BearerCore.verify` / :meth:`~BearerCore.verify_async`: the Bearer token's
   :class:`~.views.VerifiedToken` (built once per cached token), or the answer; with
   DPoP on, ``DPoP``-scheme credentials go to ``core.dpop`` (:class:`~.dpop.ProofCheck`)
   with the request's ``DPoP`` headers, method and raw path;
4. :meth:`~BearerCore.authorize`: ``None`` (let the request in) or the ``403``.

:meth:`~BearerCore.admit` / :meth:`~BearerCore.admit_async` do steps 2-4 in one call,
for a framework face that hands over the method, the raw path and the
``Authorization`` and ``DPoP`` header values.

Every step that ends a request reports its verdict to the ``observer`` once (an
observer that raises is logged, never felt by the request). The same failures get
the same answers on every face:

- no credentials, or another scheme: ``401`` with the challenge and no error code;
- malformed credentials, two ``Authorization`` headers: ``400 invalid_request``;
- a refused token: ``401 invalid_token`` (anything else the verifier raises too:
  logged with its traceback, never a ``500``); so is a token bound to a DPoP key
  (``cnf.jkt``) sent as Bearer, whether DPoP is on or off (RFC 9449 §7.2);
- a missing scope: ``403 insufficient_scope`` with ``scope=``; a missing role: ``403``;
- no usable key set (an error whose ``status_hint`` is 5xx): ``503`` with
  ``Retry-After``: the ``retry_after`` the error carries, else the seconds until the
  remote key set's next fetch attempt (``state.retry_at`` of the verifier's
  ``key_source``), else :data:`DEFAULT_RETRY_AFTER`; at least 1, at most 300.

Refusals of single tokens, and each request answered ``503``, are logged at ``DEBUG``,
formatted only when that level is enabled: an attacker's garbage must not flood an
``INFO`` handler (the MCP SDK installs one on the root logger), the observer counts
every verdict, and the key set logs its own fetch failures once per event.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Final

from .._dpop.verifier import ProofInput
from ..errors import JOSEError
from .answers import Answer, Answers
from .bearer import BearerProblem, describe_refusal
from .credentials import (
    BEARER,
    BEARER_REFUSED,
    DPOP,
    DPOP_NOT_ONE_TOKEN,
    MAX_CREDENTIALS,
    NOT_ONE_TOKEN,
    Credentials,
    is_b64token,
    read_credentials,
)
from .dpop import Admission, ProofCheck
from .options import BearerOptions
from .routes import Route, RouteTable
from .token import VerifiedToken
from .views import TokenViews

__all__ = ["DEFAULT_RETRY_AFTER", "Admission", "BearerCore"]

#: ``Retry-After`` seconds of a ``503`` when nothing says when the key set is tried again.
DEFAULT_RETRY_AFTER: Final = 5

class BearerCore:
    """One face's configuration, compiled: routes, views, answers, observer. Thread-safe; build once."""

    __slots__ = ("_observer_failed", "answers", "bearer", "dpop", "log", "observer", "options", "routes",
                 "views")

    def __init__(self, options: BearerOptions, *, log: logging.Logger | None = None) -> None:
        self.options = options
        self.observer = options.observer
        self._observer_failed = False
        self.log = log if log is not None else logging.getLogger("jwkverify.web")
        self.routes = RouteTable(
            scopes=options.required_scopes, roles=options.required_roles, rules=options.rules,
            public_paths=options.public_paths, metadata_paths=options.metadata_paths,
            tool_scopes=options.tool_scopes, mcp_path=options.mcp_path)
        self.views = TokenViews.of_tokens(options.verifier, options.conventions, options.role_claims)
        verifier = options.dpop
        #: Whether Bearer tokens are accepted (not with ``require_dpop``).
        self.bearer = not options.require_dpop
        #: The DPoP side (RFC 9449), ``None`` with DPoP off.
        self.dpop = None if verifier is None or options.origin is None else ProofCheck(
            self, verifier, options.origin, options.require_dpop)
        self.answers = Answers(metadata_url=options.metadata_url, realm=options.realm,
                               document=options.metadata, algs=verifier.algorithms if verifier else (),
                               bearer=self.bearer)

    # -- the steps ---------------------------------------------------------------------------

    def route(self, method: str, path: str) -> Route:
        """What a ``method`` request to ``path`` needs (remembered per method and path)."""
        return self.routes.route(method, path)

    def credentials(self, values: Sequence[str], scopes: tuple[str, ...] = ()) -> Credentials | Answer:
        """The credentials of the ``Authorization`` header ``values``, or the answer to send.

        ``scopes`` are what the request needs, named in the ``401`` challenge.
        """
        if len(values) == 1:
            token = self.quick_token(values[0])
            if token is not None:
                return Credentials(BEARER, token)
            dpop = self.quick_dpop(values[0])
            if dpop is not None:
                return dpop
        return self.read(values, scopes)

    def quick_token(self, value: str) -> str | None:
        """The token of the one ``Authorization`` value when it is plainly ``Bearer <token>``
        and needs no more reading before it is verified; else ``None`` (then :meth:`read`).

        A strict verifier's refusal is checked for syntax afterwards (:meth:`refused`), so
        here it is enough that the value is the canonical form: one space, no comma (a
        WSGI server's two joined headers), no other white space around the token. For
        another verifier, a token that verified before (so well-formed) is taken.
        """
        if value[:7] != "Bearer " or not self.bearer:
            return None
        token = value[7:]
        if self.views.strict:
            if (token and token[0] != " " and token[-1] not in " \t" and "," not in token
                    and len(value) <= MAX_CREDENTIALS):
                return token
            return None
        return token if self.views.known(token) else None

    def quick_dpop(self, value: str) -> Credentials | None:
        """:meth:`quick_token` for ``DPoP <token>`` (DPoP on): its credentials, else ``None``."""
        if value[:5] != "DPoP " or self.dpop is None or not self.views.strict:
            return None
        token = value[5:]
        if (token and token[0] != " " and token[-1] not in " \t" and "," not in token
                and len(value) <= MAX_CREDENTIALS):
            return Credentials(DPOP, token)
        return None

    def read(self, values: Sequence[str], scopes: tuple[str, ...] = ()) -> Credentials | Answer:
        """:meth:`credentials` without the shortcut for tokens seen before (a face tried it)."""
        found = read_credentials(values, syntax=not self.views.strict, dpop=self.dpop is not None,
                                 bearer=self.bearer)
        if isinstance(found, Credentials):
            return found
        return self.problem(found, scopes)

    def problem(self, problem: BearerProblem, scopes: tuple[str, ...] = ()) -> Answer:
        """The answer to credentials that cannot be verified (no token, a malformed one)."""
        if problem.error is None:  # RFC 6750 §3.1: no credentials, no error code
            self.report("no_credentials", "dpop_required" if problem is BEARER_REFUSED else None)
            answer = self.answers.no_credentials(scopes, problem.description)
            return answer if self.dpop is None else self.dpop.nonced(answer)
        self.report("invalid_request", None)
        return self.answers.invalid_request(problem.description, problem.scheme)

    def verify(self, credentials: Credentials) -> VerifiedToken | Answer:
        """The verified token of Bearer ``credentials`` (``verifier.verify``), or the answer to
        send. (``DPoP`` ones need their proof: :meth:`admit`, or ``dpop.verify``.)"""
        if credentials.scheme != BEARER:
            return self._without_proof()
        try:
            view = self.views.verify(credentials.token)
        except Exception as exc:  # nothing the verifier raises may become a 500
            return self.refused(exc, credentials.token)
        return view if view.dpop_jkt is None else self.downgraded()

    async def verify_async(self, credentials: Credentials) -> VerifiedToken | Answer:
        """:meth:`verify` with ``verifier.verify_async``."""
        if credentials.scheme != BEARER:
            return self._without_proof()
        try:
            view = await self.views.verify_async(credentials.token)
        except Exception as exc:
            return self.refused(exc, credentials.token)
        return view if view.dpop_jkt is None else self.downgraded()

    def downgraded(self) -> Answer:
        """The answer to a token bound to a DPoP key (``cnf.jkt``) sent as Bearer: refused, DPoP
        on or off, since accepting it without its proof would undo the binding (RFC 9449 §7.2)."""
        self.report("invalid_token", "dpop_bound_token")
        if self.dpop is not None:
            text = "the token is bound to a DPoP key: send it as 'Authorization: DPoP' with a DPoP proof"
        else:
            text = "the token is bound to a DPoP key (cnf.jkt), and this resource does not accept DPoP"
        return self.answers.invalid_token(text, BEARER)

    def admit(self, authorization: Sequence[str], proofs: ProofInput = (), *, method: str, path: str,
              scopes: tuple[str, ...] = (), roles: tuple[str, ...] = ()) -> Admission | Answer:
        """Steps 2-4 for one request, for a framework face: the :class:`~.dpop.Admission`
        (the token, and the ``DPoP-Nonce`` to add to the response) or the answer to send.

        ``authorization``: every ``Authorization`` header value; ``proofs``: every ``DPoP``
        header value; ``method``; ``path``: the raw, percent-encoded path
        (:func:`~.dpop.asgi_request_path`); ``scopes``/``roles``: what the request needs.
        """
        found = self.credentials(authorization, scopes)
        if type(found) is not Credentials:
            return found  # type: ignore[return-value]
        if found.scheme == DPOP and self.dpop is not None:
            admitted = self.dpop.verify(found, proofs, method=method, path=path)
        else:
            token = self.verify(found)
            admitted = Admission(token) if type(token) is VerifiedToken else token  # type: ignore[assignment]
        return self._authorized(admitted, scopes, roles)

    async def admit_async(self, authorization: Sequence[str], proofs: ProofInput = (), *, method: str,
                          path: str, scopes: tuple[str, ...] = (),
                          roles: tuple[str, ...] = ()) -> Admission | Answer:
        """:meth:`admit` without blocking the event loop."""
        found = self.credentials(authorization, scopes)
        if type(found) is not Credentials:
            return found  # type: ignore[return-value]
        if found.scheme == DPOP and self.dpop is not None:
            admitted = await self.dpop.verify_async(found, proofs, method=method, path=path)
        else:
            token = await self.verify_async(found)
            admitted = Admission(token) if type(token) is VerifiedToken else token  # type: ignore[assignment]
        return self._authorized(admitted, scopes, roles)

    def _authorized(self, admitted: Admission | Answer, scopes: tuple[str, ...],
                    roles: tuple[str, ...]) -> Admission | Answer:
        if type(admitted) is not Admission:
            return admitted
        refusal = self.authorize(admitted.token, scopes, roles)
        return admitted if refusal is None else refusal

    def authorize(self, token: VerifiedToken, scopes: tuple[str, ...],
                  roles: tuple[str, ...]) -> Answer | None:
        """``None`` when ``token`` grants every scope and role (reported accepted), else the ``403``."""
        if not token.scopes.issuperset(scopes):
            self.report("insufficient_scope", None)
            # RFC 6750 §3.1 and the MCP step-up flow: name every scope this request needs.
            return self.answers.insufficient_scope(scopes, BEARER if token.dpop_jkt is None else DPOP)
        if roles and not token.roles.issuperset(roles):
            self.report("insufficient_role", None)
            return self.answers.insufficient_role(BEARER if token.dpop_jkt is None else DPOP)
        if self.observer is not None:
            self.report("accepted", None)
        return None

    def bad_body(self, status: int, description: str) -> Answer:
        """A ``400``/``413`` about the request body (MCP tool gating), reported ``invalid_request``."""
        self.report("invalid_request", None)
        return self.answers.bad_body(status, description)

    # -- refusals, reports -----------------------------------------------------------------

    def refused(self, exc: Exception, token: str | None = None, scheme: str = BEARER) -> Answer:
        """The answer to what the verifier raised on ``token`` (and its report and log record).

        A ``token`` that is not one ``b64token`` (read without the check, for a strict
        verifier) is malformed credentials: ``400 invalid_request``, whatever was raised.
        ``scheme``: the one the token came with (``"bearer"`` or ``"dpop"``).
        """
        if token is not None and self.views.strict and not is_b64token(token):
            return self.problem(NOT_ONE_TOKEN if scheme == BEARER else DPOP_NOT_ONE_TOKEN)
        log = self.log
        if not isinstance(exc, JOSEError):  # a verifier bug must still end in a refusal
            log.error("the verifier failed on an access token", exc_info=exc)
            self.report("invalid_token", "verifier_error")
            return self.answers.invalid_token("the token could not be verified", scheme)
        if exc.status_hint >= 500:  # the key set, not the token: not the client's fault
            if log.isEnabledFor(logging.DEBUG):
                log.debug("cannot verify access tokens now: %s: %s", type(exc).__name__, exc)
            self.report("unavailable", exc.code)
            return self.answers.unavailable(self.retry_after(exc))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("refused a %s token: %s: %s", "Bearer" if scheme == BEARER else "DPoP",
                      type(exc).__name__, exc)
        self.report("invalid_token", exc.code)
        return self.answers.invalid_token(describe_refusal(exc), scheme)

    def _without_proof(self) -> Answer:
        # A face handed DPoP credentials to verify() (a bug in the face): refused, never let in.
        self.log.error("DPoP credentials were verified without their proof; use admit() or core.dpop")
        self.report("invalid_dpop_proof", "count")
        return self.answers.invalid_dpop_proof("the DPoP proof was not checked")

    def retry_after(self, exc: BaseException) -> int:
        """Seconds a client should wait before retrying after ``exc`` made the key set unavailable."""
        import time

        seconds = _seconds(getattr(exc, "retry_after", None))
        if seconds is None:
            try:
                state = getattr(getattr(self.options.verifier, "key_source", None), "state", None)
                retry_at = _seconds(getattr(state, "retry_at", None))
            except Exception:  # a key source's state is a hint, never a failure
                retry_at = None
            seconds = retry_at - time.time() if retry_at is not None else None
        if seconds is None:
            return DEFAULT_RETRY_AFTER
        return max(1, min(300, math.ceil(seconds)))

    def report(self, outcome: str, code: str | None) -> None:
        """Tell the observer one request was decided; what it raises is logged and swallowed."""
        observer = self.observer
        if observer is None:
            return
        try:
            observer.verdict(outcome, code)
        except Exception:  # an observer never changes an answer; said once, not per request
            if not self._observer_failed:
                self._observer_failed = True
                self.log.warning("the observer failed on a verdict (said once)", exc_info=True)


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)
