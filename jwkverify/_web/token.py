"""The verified token a web face hands the app: :class:`VerifiedToken`, immutable and shareable.

One is built per token (see :mod:`.views`) and every request that carries the token
while the verifier's cache holds it gets the same object, so nothing about it may
change: its fields cannot be set, and its ``claims`` are read-only
(:class:`~.frozen.ReadOnlyDict`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from .._dpop.verifier import token_jkt
from .conventions import CLIENT_ID_CLAIMS, TokenConventions
from .frozen import ReadOnlyDict, freeze, thaw
from .scope_sets import ScopeSets

__all__ = ["VerifiedToken"]

_SET = object.__setattr__

RolesOf = Callable[[Mapping[str, Any]], frozenset[str]]


class _OnFirstRead:
    """A field of a view made by :meth:`VerifiedToken.maker`, read from the verified claims when
    first asked for, then kept in the instance (this descriptor has no ``__set__``, so the kept
    value wins from then on). Most requests read the scopes and little else: a first-seen
    token pays for the rest only if it is read."""

    __slots__ = ("_name", "_read")

    def __init__(self, read: Callable[[VerifiedToken], Any]) -> None:
        self._read = read
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, instance: VerifiedToken | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self._read(instance)
        instance.__dict__[self._name] = value  # the same value whichever thread gets here first
        return value


def _string(name: str) -> Callable[[VerifiedToken], str | None]:
    def read(view: VerifiedToken) -> str | None:
        value = view.__dict__["_raw"].get(name)
        return value if isinstance(value, str) else None

    return read


def _client_id(view: VerifiedToken) -> str | None:
    stored = view.__dict__
    conventions: TokenConventions = stored["_how"][0]
    return conventions.client_id(stored["_raw"])


def _roles(view: VerifiedToken) -> frozenset[str]:
    stored = view.__dict__
    roles_of: RolesOf = stored["_how"][1]
    return roles_of(stored["_raw"])


class VerifiedToken:
    """A request's verified access token: what the app reads in ``scope["auth"]``.

    The same object is ``scope["user"]``: it has the ``is_authenticated``,
    ``display_name`` and ``identity`` of Starlette's ``BaseUser``, and ``scopes``
    as Starlette's ``AuthCredentials`` has them, so ``@requires("scope")`` works.

    - ``claims``: every verified claim, read-only: a ``dict`` whose mutating methods
      (and those of its nested arrays and objects) raise ``TypeError``, because every
      request with this token shares it; ``dict(token.claims)`` or
      ``copy.deepcopy(token.claims)`` gives a copy of your own. It serializes as a dict.
    - ``scopes``, ``roles``: what the token grants (by the verifier's conventions:
      ``scope`` when it is a string, else ``scp``; roles from the role claims). Roles
      are read when first asked for.
    - ``subject`` (``sub``), ``issuer`` (``iss``), ``client_id`` (``client_id``,
      ``azp``, ``appid`` or ``cid``, or the verifier's conventions; ``None`` when the
      token names no client, never ``sub``), ``token`` (the raw token).
    - ``dpop_jkt``: on a request accepted with DPoP (RFC 9449), the RFC 7638
      thumbprint of the key whose proof was verified (for a DPoP-bound token, its
      ``cnf.jkt``: the two are checked equal); ``None`` for a Bearer request.

    Immutable (setting an attribute raises ``AttributeError``); compared and hashed
    by identity. ``VerifiedToken(claims, scopes, roles, token)`` builds one by hand.
    """

    # No __slots__: the fields live in the instance dict, set in one step (a view is made once per
    # token, on the path of a first-seen request: one dict beats eight slot stores there).

    if TYPE_CHECKING:
        claims: Mapping[str, Any]
        subject: str | None
        issuer: str | None
        client_id: str | None
        roles: frozenset[str]
    else:  # set at once by __init__; by maker(), read from the claims when first asked for
        claims = _OnFirstRead(lambda view: freeze(view.__dict__["_raw"]))
        subject = _OnFirstRead(_string("sub"))
        issuer = _OnFirstRead(_string("iss"))
        client_id = _OnFirstRead(_client_id)
        roles = _OnFirstRead(_roles)
    scopes: frozenset[str]
    token: str
    #: Set in the view of a token bound to a DPoP key, and in a DPoP request's copy.
    dpop_jkt: str | None = None

    def __init__(self, claims: Mapping[str, Any], scopes: frozenset[str], roles: frozenset[str],
                 token: str, dpop_jkt: str | None = None) -> None:
        frozen = claims if isinstance(claims, ReadOnlyDict) else freeze(dict(claims))
        subject, issuer = frozen.get("sub"), frozen.get("iss")
        _SET(self, "__dict__", {
            "claims": frozen, "scopes": frozenset(scopes), "token": token,
            "client_id": _first_string(frozen, CLIENT_ID_CLAIMS),
            "subject": subject if isinstance(subject, str) else None,
            "issuer": issuer if isinstance(issuer, str) else None, "dpop_jkt": dpop_jkt,
            "roles": frozenset(roles)})

    @classmethod
    def maker(cls, conventions: TokenConventions, roles_of: RolesOf,
              scopes_of: ScopeSets) -> Callable[[str, dict[str, Any]], VerifiedToken]:
        """``make(token, claims)``: the view of ``token`` with verified ``claims``, read by ``conventions``.

        ``claims`` are kept as they are, never changed, and made read-only when first
        read; subject, issuer and client id are read from them when first asked for.
        ``roles_of(claims)`` gives the roles, when first asked for; ``scopes_of`` the
        scopes, looked up first among the sets it remembers (a first-seen token of a
        known client then costs one ``dict`` lookup, no call). A token bound to a DPoP
        key gets its ``cnf.jkt`` as ``dpop_jkt``: such a view is handed out only on a
        request whose proof was made with that key (a Bearer one is refused).

        ``make`` raises ClaimError: the token's ``cnf`` is malformed (RFC 7800 §3.1,
        RFC 9449 §6.1).
        """
        known = scopes_of.known.get
        new = object.__new__
        how = (conventions, roles_of)  # what the fields read when first asked for are read by

        # One frame, no calls on a known client's first-seen token: this runs once per token
        # (per request without a token cache), amid the framework's own work.
        def make(token: str, claims: dict[str, Any]) -> VerifiedToken:
            scope = claims.get("scope")
            scopes = known(scope) if type(scope) is str else None
            stored: dict[str, Any] = {"_raw": claims, "_how": how, "token": token,
                                      "scopes": scopes if scopes is not None else scopes_of(claims)}
            if "cnf" in claims:
                stored["dpop_jkt"] = token_jkt(claims)
            view: VerifiedToken = new(cls)
            _SET(view, "__dict__", stored)
            return view

        return make

    def _proven_by(self, thumbprint: str) -> VerifiedToken:
        """This view for one request whose DPoP proof was made with the key ``thumbprint``
        (a token bound to no key, sent with the DPoP scheme): a copy, never shared."""
        copy: VerifiedToken = object.__new__(type(self))
        _SET(copy, "__dict__", {**self.__dict__, "dpop_jkt": thumbprint})
        return copy

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

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"a VerifiedToken is immutable: {name!r} cannot be set")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"a VerifiedToken is immutable: {name!r} cannot be deleted")

    def __copy__(self) -> VerifiedToken:
        return self  # immutable: a copy would be the same

    def __deepcopy__(self, memo: dict[int, Any]) -> VerifiedToken:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (VerifiedToken, (thaw(self.claims), self.scopes, self.roles, self.token, self.dpop_jkt))

    def __repr__(self) -> str:
        bound = f", dpop_jkt={self.dpop_jkt!r}" if self.dpop_jkt is not None else ""
        return (f"VerifiedToken(subject={self.subject!r}, issuer={self.issuer!r}, "
                f"client_id={self.client_id!r}, scopes={sorted(self.scopes)!r}, "
                f"roles={sorted(self.roles)!r}{bound})")


def _first_string(claims: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None
