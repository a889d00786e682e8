"""What a verified token means to a request, derived once per token and shared while it is cached.

An agent sends the same Bearer token with every call, so deriving its scopes, roles,
subject and client id, and building the objects a framework wants (the SDK's
``AccessToken``), again for every request is most of what a protected request costs.
:class:`TokenViews` builds a :class:`VerifiedToken` once per token and hands the same
one back for as long as the verifier's token cache holds that token (the verifier
still checks the expiry and the key on every request). :class:`Derived` does the
same for whatever a face builds from a :class:`VerifiedToken`.

Everything handed out is immutable, so a handler cannot change what the next request
with the same token sees: :class:`VerifiedToken` is frozen and its ``claims`` are a
:class:`~.frozen.ReadOnlyDict` (a ``dict`` whose mutating methods raise ``TypeError``,
nested arrays and objects too).

The verifier seam: a verifier may offer ``_verify_entry(token)`` and
``_verify_entry_async(token)``, returning ``(claims, entry)`` where ``entry`` is the
object its token cache holds the token in (``None`` when not cached), and
``_token_cache_size``. :class:`~jwkverify.JWTVerifier` and
:class:`~jwkverify.MultiIssuerVerifier` do. A verifier without them gets a fresh view
for every request (still correct, just not reused).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .conventions import CLIENT_ID_CLAIMS, BearerVerifier, RoleClaim, TokenConventions
from .frozen import ReadOnlyDict, freeze

__all__ = ["Derived", "TokenViews", "VerifiedToken"]

T = TypeVar("T")

#: Views kept when the verifier does not say how many tokens its cache holds.
DEFAULT_VIEWS = 1024


@dataclass(frozen=True, slots=True, eq=False)
class VerifiedToken:
    """A request's verified access token: what the app reads in ``scope["auth"]``.

    The same object is ``scope["user"]``: it has the ``is_authenticated``,
    ``display_name`` and ``identity`` of Starlette's ``BaseUser``, and ``scopes``
    as Starlette's ``AuthCredentials`` has them, so ``@requires("scope")`` works.

    Immutable, and shared by every request that carries the same token while the
    verifier's token cache holds it: ``claims`` is a read-only ``dict``
    (:class:`~jwkverify._web.frozen.ReadOnlyDict`; its nested arrays and objects are
    read-only too, and changing any raises ``TypeError``); ``dict(token.claims)`` or
    ``copy.deepcopy(token.claims)`` gives a copy of your own. ``subject``, ``issuer``
    and ``client_id`` are read from the claims once. Compared and hashed by identity.
    """

    claims: Mapping[str, Any]
    scopes: frozenset[str]
    roles: frozenset[str]
    token: str = field(repr=False)
    #: ``sub``: the user (or client) the token was issued for.
    subject: str | None = field(init=False)
    #: ``iss``.
    issuer: str | None = field(init=False)
    #: The OAuth client: ``client_id`` (RFC 9068 §2.2), ``azp``, ``appid`` (Entra v1), ``cid``,
    #: or the verifier's conventions; ``None`` when the token names none (never ``sub``).
    client_id: str | None = field(init=False)

    def __post_init__(self) -> None:
        claims = self.claims
        if not isinstance(claims, ReadOnlyDict):
            claims = freeze(dict(claims))
            object.__setattr__(self, "claims", claims)
        subject, issuer = claims.get("sub"), claims.get("iss")
        object.__setattr__(self, "subject", subject if isinstance(subject, str) else None)
        object.__setattr__(self, "issuer", issuer if isinstance(issuer, str) else None)
        object.__setattr__(self, "client_id", _first_string(claims, CLIENT_ID_CLAIMS))

    @classmethod
    def of(cls, token: str, claims: dict[str, Any], conventions: TokenConventions,
           role_claims: tuple[RoleClaim, ...]) -> VerifiedToken:
        """The view of ``token`` with verified ``claims``, read by ``conventions``."""
        frozen = freeze(claims)
        view = cls(frozen, conventions.scopes(frozen), conventions.roles(frozen, role_claims), token)
        if conventions.client_id_claims != CLIENT_ID_CLAIMS:
            object.__setattr__(view, "client_id", conventions.client_id(frozen))
        return view

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


def _first_string(claims: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


class TokenViews:
    """The :class:`VerifiedToken` of each token, verified on every call, built once per cached token.

    :meth:`verify` / :meth:`verify_async` do it all. A face on the hot path calls the
    two halves itself, saving a coroutine: ``claims, entry = await
    views.entry_async(token)`` (the verifier's work: raises what it raises), then
    ``views.view(token, claims, entry)``.

    Bounded like the verifier's own token cache (oldest stored dropped first). Safe to
    share across threads and tasks: each operation is one ``dict`` call, and a race
    can only build a view twice.
    """

    __slots__ = ("_conventions", "_held", "_role_claims", "_size", "_verifier", "entry", "entry_async")

    entry: Callable[[str], tuple[dict[str, Any], object | None]]
    entry_async: Callable[[str], Awaitable[tuple[dict[str, Any], object | None]]]

    def __init__(self, verifier: BearerVerifier, conventions: TokenConventions,
                 role_claims: tuple[RoleClaim, ...]) -> None:
        self._verifier = verifier
        self._conventions = conventions
        self._role_claims = role_claims
        seam = getattr(verifier, "_verify_entry", None)
        seam_async = getattr(verifier, "_verify_entry_async", None)
        size = getattr(verifier, "_token_cache_size", DEFAULT_VIEWS)
        if callable(seam) and callable(seam_async) and isinstance(size, int) and size > 0:
            self.entry, self.entry_async, self._size = seam, seam_async, size
        else:  # a verifier without a token cache, or without the seam: a new view each time
            self.entry, self.entry_async, self._size = self._plain, self._plain_async, 0
        self._held: dict[str, tuple[object, VerifiedToken]] = {}

    @property
    def size(self) -> int:
        """How many views are kept (0: the verifier has no token cache, none are)."""
        return self._size

    def known(self, token: str) -> bool:
        """Whether ``token`` verified before and its view is held (so it is well-formed)."""
        return token in self._held

    def verify(self, token: str) -> VerifiedToken:
        """Verify ``token`` (``verifier.verify``) and return its view.

        Raises:
            JOSEError: the verifier refused the token; anything else it raises.
        """
        claims, entry = self.entry(token)
        return self.view(token, claims, entry)

    async def verify_async(self, token: str) -> VerifiedToken:
        """Verify ``token`` (``verifier.verify_async``) and return its view.

        Raises:
            JOSEError: the verifier refused the token; anything else it raises.
        """
        claims, entry = await self.entry_async(token)
        return self.view(token, claims, entry)

    def view(self, token: str, claims: dict[str, Any], entry: object | None) -> VerifiedToken:
        """The view of ``token`` just verified with ``claims``, held in the verifier's cache as ``entry``."""
        held = self._held.get(token)
        if held is not None and held[0] is entry and entry is not None:
            return held[1]  # the same cache entry: the same verified token
        view = VerifiedToken.of(token, claims, self._conventions, self._role_claims)
        if entry is not None:
            self._store(token, entry, view)
        return view

    def _plain(self, token: str) -> tuple[dict[str, Any], object | None]:
        return self._verifier.verify(token), None

    async def _plain_async(self, token: str) -> tuple[dict[str, Any], object | None]:
        return await self._verifier.verify_async(token), None

    def _store(self, token: str, entry: object, view: VerifiedToken) -> None:
        held = self._held
        held.pop(token, None)  # re-inserted last: the oldest entries go first
        held[token] = (entry, view)
        while len(held) > self._size:
            try:
                del held[next(iter(held))]
            except (KeyError, RuntimeError, StopIteration):  # another thread changed it meanwhile
                break


class Derived(Generic[T]):
    """What a face builds from a :class:`VerifiedToken` (an SDK ``AccessToken``), once per view.

    ``Derived(build)(view)`` calls ``build(view)`` the first time it sees ``view``
    and returns the same result while the same view comes back (that is, while the
    verifier's token cache holds the token). ``build`` must return something
    immutable: every request with the token gets it. Bounded; thread-safe as
    :class:`TokenViews`.
    """

    __slots__ = ("_build", "_held", "_size")

    def __init__(self, build: Callable[[VerifiedToken], T], size: int = DEFAULT_VIEWS) -> None:
        if not callable(build):
            raise TypeError("build must be a callable taking a VerifiedToken")
        self._build = build
        self._size = max(1, size)
        self._held: dict[str, tuple[VerifiedToken, T]] = {}

    def __call__(self, view: VerifiedToken) -> T:
        held = self._held.get(view.token)
        if held is not None and held[0] is view:
            return held[1]
        made = self._build(view)
        store = self._held
        store.pop(view.token, None)
        store[view.token] = (view, made)
        while len(store) > self._size:
            try:
                del store[next(iter(store))]
            except (KeyError, RuntimeError, StopIteration):
                break
        return made
