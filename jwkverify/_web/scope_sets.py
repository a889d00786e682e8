"""A token's scopes, made once per scope string: the tokens of one client carry the same one.

Reading scopes is splitting a string and building a set; on a first-seen token that
is a tenth of what an adapter adds to the verifier. The tokens a server sees come
from a handful of clients, each with its own scope string, so :class:`ScopeSets`
remembers the set (and, for the SDK's ``AccessToken``, the sorted read-only list)
of each string it has read. Only tokens that verified reach it, and it keeps at
most ``size`` strings (it starts over when full), so an unbounded variety of scope
strings costs what reading them always cost, never memory.

Everything it hands out is immutable (a ``frozenset``, a
:class:`~.frozen.ReadOnlyList`), so tokens may share it. Thread-safe: each step is
one ``dict`` call, and a race can only read a string twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .conventions import TokenConventions
from .frozen import ReadOnlyList

__all__ = ["SCOPE_STRINGS", "ScopeSets"]

#: Scope strings remembered per adapter: far more clients than one server usually sees.
SCOPE_STRINGS: Final = 256


class ScopeSets:
    """``conventions.scopes(claims)``, and the same sorted, remembered per scope string."""

    __slots__ = ("_conventions", "_size", "_sorted", "known")

    def __init__(self, conventions: TokenConventions, size: int = SCOPE_STRINGS) -> None:
        self._conventions = conventions
        # with permission claims, the scopes are more than one string's: nothing to remember
        self._size = 0 if conventions.permission_claims else size
        #: The set of each scope string read so far (read it, never change it): a hot path
        #: looks a ``scope`` string up here before it calls this object.
        self.known: dict[str, frozenset[str]] = {}
        self._sorted: dict[str, ReadOnlyList] = {}

    def __call__(self, claims: Mapping[str, Any]) -> frozenset[str]:
        """The scopes ``claims`` grant, by the conventions (``scope``, else ``scp``)."""
        text = self._text(claims)
        if text is None:
            return self._conventions.scopes(claims)
        found = self.known.get(text)
        if found is None:
            found = self._conventions.scopes(claims)
            self._keep(self.known, text, found)
        return found

    def sorted(self, claims: Mapping[str, Any]) -> ReadOnlyList:
        """The scopes ``claims`` grant, sorted, as a read-only list (the SDK's ``AccessToken.scopes``)."""
        text = self._text(claims)
        if text is None:
            return ReadOnlyList(sorted(self._conventions.scopes(claims)))
        found = self._sorted.get(text)
        if found is None:
            found = ReadOnlyList(sorted(self(claims)))
            self._keep(self._sorted, text, found)
        return found

    def _text(self, claims: Mapping[str, Any]) -> str | None:
        """The one string the scopes are read from, or ``None`` when they are not one string's."""
        if not self._size:
            return None
        scope = claims.get("scope")
        if type(scope) is str:
            return scope
        if isinstance(scope, str):  # a str subclass (a custom verifier's): read it every time
            return None
        scp = claims.get("scp")  # the conventions read scp when scope is not a string
        return scp if type(scp) is str else None

    def _keep(self, memo: dict[str, Any], text: str, value: Any) -> None:
        if len(memo) >= self._size:
            memo.clear()  # start over: cheaper than an order kept per read, and bounded
        memo[text] = value
