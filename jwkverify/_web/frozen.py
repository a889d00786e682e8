"""Read-only claims: one verified token's claims, shared by every request that carries it.

An adapter builds a token's view once and hands the same objects to every request
with that token, so nothing it hands out may change: :class:`ReadOnlyDict` and
:class:`ReadOnlyList` are ``dict`` and ``list`` (``isinstance`` holds,
``json.dumps`` and pydantic serialize them, ``==`` compares by value) whose
mutating methods raise ``TypeError``. ``dict(claims)``, ``copy.copy`` and
``copy.deepcopy`` give ordinary, mutable copies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn, SupportsIndex

__all__ = ["ReadOnlyDict", "ReadOnlyList", "freeze", "thaw"]

_READ_ONLY = "the verified claims are read-only (shared by every request with this token); " \
             "change a copy: dict(claims) or copy.deepcopy(claims)"


def _refuse(*_: object, **__: object) -> NoReturn:
    raise TypeError(_READ_ONLY)


class ReadOnlyDict(dict[str, Any]):
    """A JSON object that cannot be changed; its arrays and objects are read-only too."""

    __slots__ = ()

    def __setitem__(self, key: str, value: Any) -> NoReturn:
        _refuse()

    def __delitem__(self, key: str) -> NoReturn:
        _refuse()

    def __ior__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        _refuse()

    def clear(self) -> NoReturn:
        _refuse()

    def pop(self, *args: Any) -> NoReturn:
        _refuse()

    def popitem(self) -> NoReturn:
        _refuse()

    def setdefault(self, *args: Any) -> NoReturn:
        _refuse()

    def update(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse()

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        thawed: dict[str, Any] = thaw(self)
        return thawed

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (thaw(self),))


class ReadOnlyList(list[Any]):
    """A JSON array that cannot be changed; its arrays and objects are read-only too."""

    __slots__ = ()

    def __setitem__(self, index: Any, value: Any) -> NoReturn:
        _refuse()

    def __delitem__(self, index: Any) -> NoReturn:
        _refuse()

    def __iadd__(self, other: Iterable[Any]) -> NoReturn:  # type: ignore[misc]
        _refuse()

    def __imul__(self, count: SupportsIndex) -> NoReturn:
        _refuse()

    def append(self, item: Any) -> NoReturn:
        _refuse()

    def extend(self, items: Iterable[Any]) -> NoReturn:
        _refuse()

    def insert(self, index: SupportsIndex, item: Any) -> NoReturn:
        _refuse()

    def pop(self, *args: Any) -> NoReturn:
        _refuse()

    def remove(self, item: Any) -> NoReturn:
        _refuse()

    def clear(self) -> NoReturn:
        _refuse()

    def sort(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse()

    def reverse(self) -> NoReturn:
        _refuse()

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        thawed: list[Any] = thaw(self)
        return thawed

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (thaw(self),))


def freeze(claims: dict[str, Any]) -> ReadOnlyDict:
    """A read-only deep copy of a JSON object (dicts, lists and immutable scalars)."""
    if _SCALARS.issuperset(map(type, claims.values())):  # flat, the usual access token
        return ReadOnlyDict(claims)
    copied = dict(claims)
    for name, value in claims.items():
        if type(value) is list and _SCALARS.issuperset(map(type, value)):
            copied[name] = ReadOnlyList(value)  # roles, groups, scp, aud: an array of strings
        elif isinstance(value, _CONTAINERS):
            copied[name] = _convert(value, ReadOnlyDict, ReadOnlyList)
    return ReadOnlyDict(copied)


def thaw(value: Any) -> Any:
    """An ordinary, mutable deep copy of a (read-only) JSON value."""
    return _convert(value, dict, list)


_CONTAINERS = (dict, list)
_SCALARS = frozenset((str, int, float, bool, type(None)))  # exact types: nothing mutable inside


def _convert(value: Any, as_dict: type[dict[str, Any]], as_list: type[list[Any]]) -> Any:
    """``value`` rebuilt with ``as_dict``/``as_list`` containers.

    Iterative, not recursive: the parser allows nesting close to the recursion limit.
    Children are made first, since a read-only container cannot be filled later.
    """
    if not isinstance(value, _CONTAINERS):
        return value
    order: list[Any] = []
    pending = [value]
    while pending:
        node = pending.pop()
        order.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, _CONTAINERS):
                pending.append(child)
    made: dict[int, Any] = {}
    for node in reversed(order):
        if isinstance(node, dict):
            made[id(node)] = as_dict({name: made[id(item)] if isinstance(item, _CONTAINERS) else item
                                      for name, item in node.items()})
        else:
            made[id(node)] = as_list([made[id(item)] if isinstance(item, _CONTAINERS) else item
                                      for item in node])
    return made[id(value)]
