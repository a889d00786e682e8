"""The opt-in verified-token cache of :class:`~jwkverify.JWTVerifier`.

An MCP agent sends the same Bearer token on every tool call of a turn. With the
cache, a repeated token costs a dictionary lookup, the time-based claim checks and
a key-presence check instead of a signature verification. Rules:

- keyed by the exact token; only tokens that fully verified are stored;
- bounded: least recently used entries are evicted, so memory is fixed;
- the time-based claims are re-evaluated on every hit, so an entry is never served
  after its ``exp`` (or beyond ``max_age``), and is dropped when it fails;
- the verifying key must still be in the key source on every hit (a remote set may
  have rotated it out); if it is not, the entry is dropped and the token is verified
  again from scratch;
- callers get their own copy of the claims: nested arrays and objects are copied,
  so one caller's mutation never reaches the next.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, NamedTuple

from ..jwk import JWK

__all__ = ["CachedToken", "Nested", "VerifiedTokenCache", "copy_claims", "nested_claims"]


class CachedToken(NamedTuple):
    """What a hit needs: the claims, how to copy them, and the key that verified."""

    claims: dict[str, Any]
    nested: Nested  # the claims holding arrays or objects, and how to copy each
    valid_from: float  # clock readings strictly between these need no exact re-check
    valid_until: float
    alg: str
    kid: str | None
    key: JWK


class VerifiedTokenCache:
    """A bounded LRU map from token to :class:`CachedToken`, safe to share across threads.

    Every operation is a single C-level ``OrderedDict`` call under the GIL; a race
    between two threads can only make one of them miss, never corrupt the map.
    """

    __slots__ = ("_entries", "_size")

    def __init__(self, size: int) -> None:
        self._entries: OrderedDict[str | bytes, CachedToken] = OrderedDict()
        self._size = size

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """The most entries held."""
        return self._size

    def get(self, token: str | bytes) -> CachedToken | None:
        entry = self._entries.get(token)
        if entry is not None:
            try:  # noqa: SIM105  (contextlib.suppress costs more on this hot path)
                self._entries.move_to_end(token)
            except KeyError:  # evicted by another thread meanwhile: still a valid hit
                pass
        return entry

    def put(self, token: str | bytes, claims: dict[str, Any], window: tuple[float, float], *,
            alg: str, kid: str | None, key: JWK) -> None:
        nested = nested_claims(claims)
        # Store a private copy: the dict just returned to the first caller is theirs.
        self._entries[token] = CachedToken(copy_claims(claims, nested), nested, *window, alg, kid, key)
        while len(self._entries) > self._size:
            try:
                self._entries.popitem(last=False)
            except KeyError:
                break

    def discard(self, token: str | bytes) -> None:
        self._entries.pop(token, None)

    def clear(self) -> None:
        self._entries.clear()


#: (claim name, whether its array/object holds only scalars) per nested claim.
Nested = tuple[tuple[str, bool], ...]


def nested_claims(claims: dict[str, Any]) -> Nested:
    """Which claims need copying on a hit, and whether a shallow copy suffices."""
    return tuple((name, _holds_only_scalars(value)) for name, value in claims.items()
                 if type(value) is dict or type(value) is list)


def _holds_only_scalars(container: dict[str, Any] | list[Any]) -> bool:
    items = container.values() if type(container) is dict else container
    return not any(type(item) is dict or type(item) is list for item in items)


def copy_claims(claims: dict[str, Any], nested: Nested) -> dict[str, Any]:
    """A copy of ``claims`` that shares nothing mutable with the original."""
    copied = claims.copy()
    for name, flat in nested:
        # The common case (roles, groups, scp, aud arrays) is one C-level copy.
        copied[name] = copied[name].copy() if flat else _copy_json(copied[name])
    return copied


def _copy_json(value: Any) -> Any:
    """Deep-copy a JSON value (dicts, lists, immutable scalars) without recursion.

    The parser allows nesting close to the interpreter's recursion limit, so a
    recursive copy could fail where parsing succeeded.
    """
    if type(value) is not dict and type(value) is not list:
        return value
    root: Any = {} if type(value) is dict else []
    pending: list[tuple[Any, Any]] = [(value, root)]
    while pending:
        source, target = pending.pop()
        items = source.items() if type(source) is dict else enumerate(source)
        for name, item in items:
            copied = item
            if type(item) is dict or type(item) is list:
                copied = {} if type(item) is dict else []
                pending.append((item, copied))
            if type(target) is dict:
                target[name] = copied
            else:
                target.append(copied)
    return root
