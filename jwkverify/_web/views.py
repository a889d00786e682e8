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
``_token_cache_size``. :class:`~jwkverify.JWTVerifier`,
:class:`~jwkverify.MultiIssuerVerifier` and the provider presets'
:class:`~jwkverify.providers.ProviderVerifier` (whose rules run on every call) do. A
verifier without them gets a fresh view for every request (still correct, just not
reused).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

from .conventions import BearerVerifier, RoleClaim, TokenConventions
from .frozen import freeze
from .scope_sets import ScopeSets
from .token import VerifiedToken

__all__ = ["Derived", "TokenViews", "VerifiedToken"]

T = TypeVar("T")
V = TypeVar("V")

#: Views kept when the verifier does not say how many tokens its cache holds.
DEFAULT_VIEWS = 1024


class TokenViews(Generic[V]):
    """The view of each token (by default its :class:`VerifiedToken`), verified on every call,
    built once per cached token.

    :meth:`verify` / :meth:`verify_async` do it all. An async face on the hot path
    calls the two halves of :meth:`verify_async` itself, saving a coroutine:
    ``view = views.now(token)``, and when that is ``None``, ``await views.waiting(token)``.

    ``build(token, claims)`` makes a view other than a :class:`VerifiedToken` (the
    MCP adapter builds the SDK's ``AccessToken`` straight from the claims); it must
    return something immutable, and never change ``claims`` (on a cache hit they are
    the verifier's own).

    Bounded like the verifier's own token cache (oldest stored dropped first). Safe to
    share across threads and tasks: each operation is one ``dict`` call, and a race
    can only build a view twice.
    """

    __slots__ = ("_build", "_held", "_size", "_verifier", "entry", "entry_async", "entry_now", "never_waits",
                 "strict")

    entry: Callable[[str], tuple[dict[str, Any], object | None]]
    entry_async: Callable[[str], Awaitable[tuple[dict[str, Any], object | None]]]
    entry_now: Callable[[str], tuple[dict[str, Any], object] | None]

    def __init__(self, verifier: BearerVerifier, build: Callable[[str, dict[str, Any]], V]) -> None:
        self._verifier = verifier
        self._build = build
        seam = getattr(verifier, "_verify_entry", None)
        seam_async = getattr(verifier, "_verify_entry_async", None)
        size = getattr(verifier, "_token_cache_size", DEFAULT_VIEWS)
        #: The verifier is one of jwkverify's: it refuses any token that is not strict base64url
        #: segments, so a token it accepts is well-formed (RFC 6750 §2.1) without a check of its own.
        self.strict = callable(seam) and callable(seam_async)
        #: Its key source is local (a JWK or JWKSet): verifying does no I/O, so async code calls
        #: :attr:`entry` directly, without a coroutine.
        self.never_waits = self.strict and getattr(verifier, "_never_waits", False) is True
        #: ``(claims, entry)`` of a cached token when the verifier needs no I/O for it (a
        #: fresh remote set), else ``None``: an async face tries it before :attr:`entry_async`.
        self.entry_now = _not_now
        if self.strict:  # entry None when not cached: then a new view each time
            self.entry, self.entry_async = seam, seam_async  # type: ignore[assignment]
            now = getattr(verifier, "_verify_entry_now", None)
            if callable(now):
                self.entry_now = now
            self._size = size if isinstance(size, int) and size > 0 else 0
        else:  # a verifier without the seam: a new view each time
            self.entry, self.entry_async, self._size = self._plain, self._plain_async, 0
        self._held: dict[str, tuple[object, V]] = {}

    @staticmethod
    def of_tokens(verifier: BearerVerifier, conventions: TokenConventions,
                  role_claims: tuple[RoleClaim, ...]) -> TokenViews[VerifiedToken]:
        """Views that are :class:`VerifiedToken`, read by ``conventions`` and ``role_claims``."""
        def roles_of(claims: Mapping[str, Any]) -> frozenset[str]:
            return conventions.roles(claims, role_claims)

        # roles are read when first asked for: most requests need none; the claims are made
        # read-only when first read (jwkverify's verifiers never change the dict they return)
        make = VerifiedToken.maker(conventions, roles_of, ScopeSets(conventions))

        def build_copy(token: str, claims: dict[str, Any]) -> VerifiedToken:
            # a verifier of another kind might still hold and change its dict: read-only copy now
            return make(token, freeze(claims))

        views = TokenViews(verifier, make)
        if not views.strict:
            views._build = build_copy
        return views

    @property
    def size(self) -> int:
        """How many views are kept (0: the verifier has no token cache, none are)."""
        return self._size

    def known(self, token: str) -> bool:
        """Whether ``token`` verified before and its view is held (so it is well-formed)."""
        return bool(self._size) and token in self._held

    def verify(self, token: str) -> V:
        """Verify ``token`` (``verifier.verify``) and return its view.

        Raises:
            JOSEError: the verifier refused the token; anything else it raises.
        """
        claims, entry = self.entry(token)
        return self.view(token, claims, entry)

    async def verify_async(self, token: str) -> V:
        """Verify ``token`` (``verifier.verify_async``) and return its view.

        Raises:
            JOSEError: the verifier refused the token; anything else it raises.
        """
        view = self.now(token)
        return view if view is not None else await self.waiting(token)

    def now(self, token: str) -> V | None:
        """The view of ``token`` when it is verified without waiting: always with a local key
        set, and for a cached token of a fresh remote set. ``None``: await :meth:`waiting`.
        (An async face calls the two itself: a repeated token then costs no coroutine.)

        Raises:
            JOSEError: the verifier refused the token; anything else it raises.
        """
        if self.never_waits:
            if not self._size:  # no token cache: nothing to look up or keep
                return self._build(token, self._verifier.verify(token))
            claims, entry = self.entry(token)
            return self.view(token, claims, entry)
        hit = self.entry_now(token)
        return None if hit is None else self.view(token, hit[0], hit[1])

    async def waiting(self, token: str) -> V:
        """The view of ``token`` verified the async way (:meth:`now` gave ``None``).

        Raises:
            JOSEError: the verifier refused the token; anything else it raises.
        """
        claims, entry = await self.entry_async(token)
        return self.view(token, claims, entry)

    def view(self, token: str, claims: dict[str, Any], entry: object | None) -> V:
        """The view of ``token`` just verified with ``claims``, held in the verifier's cache as ``entry``."""
        if entry is None:  # not cached: this request's own view
            return self._build(token, claims)
        held = self._held.get(token)
        if held is not None and held[0] is entry:
            return held[1]  # the same cache entry: the same verified token
        view = self._build(token, claims)
        self._store(token, entry, view)
        return view

    def _plain(self, token: str) -> tuple[dict[str, Any], object | None]:
        return self._verifier.verify(token), None

    async def _plain_async(self, token: str) -> tuple[dict[str, Any], object | None]:
        return await self._verifier.verify_async(token), None

    def _store(self, token: str, entry: object, view: V) -> None:
        held = self._held
        held.pop(token, None)  # re-inserted last: the oldest entries go first
        held[token] = (entry, view)
        while len(held) > self._size:
            try:
                del held[next(iter(held))]
            except (KeyError, RuntimeError, StopIteration):  # another thread changed it meanwhile
                break


def _not_now(token: str) -> None:
    """A verifier without ``_verify_entry_now``: always ask it the async way."""
    return None


class Derived(Generic[T]):
    """What a face builds from a :class:`VerifiedToken` (an SDK ``AccessToken``), once per view.

    ``Derived(build)(view)`` calls ``build(view)`` the first time it sees ``view``
    and returns the same result while the same view comes back (that is, while the
    verifier's token cache holds the token). ``build`` must return something
    immutable: every request with the token gets it. Bounded by ``size`` (use the
    :class:`TokenViews`' ``size``: 0 keeps nothing); thread-safe as :class:`TokenViews`.
    """

    __slots__ = ("_build", "_held", "_size")

    def __init__(self, build: Callable[[VerifiedToken], T], size: int = DEFAULT_VIEWS) -> None:
        if not callable(build):
            raise TypeError("build must be a callable taking a VerifiedToken")
        self._build = build
        self._size = size
        self._held: dict[str, tuple[VerifiedToken, T]] = {}

    def __call__(self, view: VerifiedToken) -> T:
        if not self._size:  # views are not reused (no token cache): neither is what they give
            return self._build(view)
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
