"""What a request needs, by method and path: resolved once per (method, path) and remembered.

A :class:`RouteTable` holds the app-wide requirements, the route rules
(``route_scopes``/``route_roles``), the public paths and the metadata paths, and
answers :meth:`RouteTable.route` with a :class:`Route`. Paths are matched in their
raw form and in their normalized form (without ``.``, ``..`` and empty segments), so
``/public/../admin`` cannot dodge the rules of ``/admin``; such a path is never
public. The table remembers a bounded number of answers (oldest dropped first), so
a flood of distinct paths costs work, never memory.

MCP tool gating, sans I/O: :meth:`RouteTable.tool_scopes` reads the JSON-RPC body of
a ``POST`` to the MCP endpoint and adds the scopes of the tool it calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Final

from .._codec.strict_json import JSONError, loads_object

__all__ = ["MAX_ROUTES", "Route", "RouteTable", "Rule", "canonical_path"]

#: (method, path) answers remembered per table, for paths up to MAX_ROUTE_PATH characters
#: (so at most about 0.5 MiB of keys); longer paths are resolved each time.
MAX_ROUTES: Final = 1024
MAX_ROUTE_PATH: Final = 512


@dataclass(frozen=True, slots=True)
class Rule:
    """Scopes and roles one route entry requires: its path and everything under it."""

    method: str | None
    prefix: str
    scopes: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    def applies(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.prefix in ("/", path) or path.startswith(self.prefix + "/")


@dataclass(frozen=True, slots=True)
class Route:
    """What a request to one method and path needs.

    ``metadata``: the path serves the RFC 9728 document (to HTTP ``GET``/``HEAD``).
    ``public``: served without a token. Otherwise the token must grant every one of
    ``scopes`` and ``roles``; ``reads_tools``: the body of this MCP ``POST`` may name
    a tool that needs more scopes (:meth:`RouteTable.tool_scopes`).
    """

    metadata: bool
    public: bool
    scopes: tuple[str, ...]
    roles: tuple[str, ...]
    reads_tools: bool = False


class RouteTable:
    """The requirements of every (method, path), each resolved once and remembered."""

    __slots__ = ("_known", "_mcp_path", "_metadata", "_public", "_roles", "_rules", "_scopes", "_tools")

    def __init__(self, *, scopes: tuple[str, ...] = (), roles: tuple[str, ...] = (),
                 rules: tuple[Rule, ...] = (), public_paths: tuple[str, ...] = (),
                 metadata_paths: tuple[str, ...] = (),
                 tool_scopes: Mapping[str, tuple[str, ...]] | None = None, mcp_path: str = "/") -> None:
        self._scopes, self._roles, self._rules = scopes, roles, rules
        self._public, self._metadata = public_paths, metadata_paths
        self._tools = dict(tool_scopes or {})
        self._mcp_path = mcp_path
        self._known: dict[tuple[str, str], Route] = {}

    @property
    def named_scopes(self) -> tuple[str, ...]:
        """Every scope a request may be asked for, in order of first mention."""
        named = [*self._scopes]
        for rule in self._rules:
            named += rule.scopes
        for scopes in self._tools.values():
            named += scopes
        return tuple(dict.fromkeys(named))

    def route(self, method: str, path: str) -> Route:
        """What a ``method`` request to ``path`` needs."""
        key = (method, path)
        found = self._known.get(key)
        if found is None:
            found = self._resolve(method, path)
            if len(path) > MAX_ROUTE_PATH:
                return found
            known = self._known
            if len(known) >= MAX_ROUTES:
                with suppress(KeyError, RuntimeError, StopIteration):  # another thread changed it
                    del known[next(iter(known))]
            known[key] = found
        return found

    def _resolve(self, method: str, path: str) -> Route:
        canonical = canonical_path(path)
        public = path == canonical and any(
            path == entry or (entry.endswith("/") and path.startswith(entry)) for entry in self._public)
        scopes, roles = list(self._scopes), list(self._roles)
        for rule in self._rules:
            if rule.applies(method, path) or rule.applies(method, canonical):
                scopes += rule.scopes
                roles += rule.roles
        reads_tools = bool(self._tools) and method == "POST" and (
            _under(path, self._mcp_path) or _under(canonical, self._mcp_path))
        return Route(path in self._metadata, public, tuple(dict.fromkeys(scopes)),
                     tuple(dict.fromkeys(roles)), reads_tools)

    def tool_scopes(self, body: bytes, scopes: tuple[str, ...]) -> tuple[str, ...] | str:
        """``scopes`` plus those of the tool an MCP ``tools/call`` body names; or why the body is refused.

        The body must be one strict JSON object (duplicate member names refused), so that
        no other parser can read another tool name from it.
        """
        try:
            message = loads_object(body, "the JSON-RPC message")
        except JSONError:
            return "the body is not one JSON-RPC message"
        if message.get("method") != "tools/call":
            return scopes
        params = message.get("params")
        name = params.get("name") if isinstance(params, dict) else None
        if not isinstance(name, str):
            return "tools/call without a tool name"
        return tuple(dict.fromkeys((*scopes, *self._tools.get(name, ()))))


def canonical_path(path: str) -> str:
    """``path`` without empty and dot segments, as a framework that normalizes sees it."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    return "/" + "/".join(segments) + ("/" if path.endswith("/") and segments else "")


def _under(path: str, prefix: str) -> bool:
    return prefix == "/" or path.rstrip("/") == prefix or path.startswith(prefix + "/")
