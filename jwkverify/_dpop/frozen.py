"""Read-only views of decoded JSON, for the values a verified proof hands out."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

__all__ = ["freeze"]


def freeze(value: dict[str, Any]) -> MappingProxyType[str, Any]:
    """A read-only view of freshly decoded JSON that no one else holds: objects become
    read-only mappings and arrays tuples, at every depth. Iterative, since decoded JSON
    may nest as deep as the parser allows."""
    for item in value.values():
        if type(item) is dict or type(item) is list:
            break
    else:
        return MappingProxyType(value)  # the usual claims: flat, nothing to walk
    order: list[Any] = []
    pending: list[Any] = [value]
    while pending:  # parents before their children ...
        item = pending.pop()
        order.append(item)
        pending.extend(child for child in (item.values() if type(item) is dict else item)
                       if type(child) is dict or type(child) is list)
    frozen: dict[int, Any] = {}
    for item in reversed(order):  # ... so reversed, every child is sealed before its parent
        if type(item) is dict:
            for name, child in item.items():
                if type(child) is dict or type(child) is list:
                    item[name] = frozen[id(child)]
            frozen[id(item)] = MappingProxyType(item)
        else:
            frozen[id(item)] = tuple(frozen[id(child)] if type(child) is dict or type(child) is list
                                     else child for child in item)
    result: MappingProxyType[str, Any] = frozen[id(value)]
    return result
