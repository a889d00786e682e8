"""The options of every web face, checked once: :class:`BearerOptions`.

Each face (ASGI, WSGI, MCP, FastMCP, FastAPI) takes the options that make sense for
it as keyword arguments and hands them to :meth:`BearerOptions.build`, which checks
them all, says what to pass instead when one is wrong (``TypeError``/``ValueError``
at construction, never per request) and compiles them: the route rules, the role
claims, DPoP (RFC 9449), the RFC 9728 metadata document and the URL its challenges
name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .._dpop.verifier import DPoPVerifier
from .bearer import metadata_paths, metadata_url, resource_problem, scope_problem, www_authenticate
from .conventions import (
    BearerVerifier,
    RoleClaim,
    TokenConventions,
    conventions_of,
    require_audience,
    role_claims_option,
)
from .routes import Rule

if TYPE_CHECKING:
    from ..observe import Observer

__all__ = ["BearerOptions", "path_option", "scopes_option", "strings_option"]


@dataclass(frozen=True, slots=True)
class BearerOptions:
    """Everything a face was configured with, validated and compiled; built by :meth:`build`."""

    verifier: BearerVerifier
    audiences: frozenset[str]
    conventions: TokenConventions
    role_claims: tuple[RoleClaim, ...]
    required_scopes: tuple[str, ...]
    required_roles: tuple[str, ...]
    rules: tuple[Rule, ...]
    tool_scopes: Mapping[str, tuple[str, ...]]
    mcp_path: str
    public_paths: tuple[str, ...]
    realm: str | None
    observer: Observer | None
    resource: str | None
    #: DPoP (RFC 9449): the proof verifier (``None``: DPoP off), whether only DPoP-bound
    #: tokens are accepted, and the origin of ``resource`` that every proof's ``htu`` names.
    dpop: DPoPVerifier | None
    require_dpop: bool
    origin: str | None
    #: The RFC 9728 document as served (JSON bytes), its paths and URL; empty without ``resource``.
    metadata: bytes
    metadata_paths: tuple[str, ...]
    metadata_url: str | None

    @classmethod
    def build(
        cls,
        verifier: BearerVerifier,
        *,
        resource: str | None = None,
        authorization_servers: Iterable[str] | None = None,
        required_scopes: Iterable[str] = (),
        required_roles: Iterable[str] = (),
        route_scopes: Mapping[str, Iterable[str]] | None = None,
        route_roles: Mapping[str, Iterable[str]] | None = None,
        tool_scopes: Mapping[str, Iterable[str]] | None = None,
        mcp_path: str | None = None,
        role_claims: Iterable[RoleClaim] | None = None,
        scopes_supported: Iterable[str] | None = None,
        resource_name: str | None = None,
        resource_documentation: str | None = None,
        public_paths: Iterable[str] = (),
        realm: str | None = None,
        observer: Observer | None = None,
        require_servers: bool = False,
        dpop: DPoPVerifier | None = None,
        require_dpop: bool = False,
    ) -> BearerOptions:
        """Check and compile a face's options.

        ``resource`` (this resource's URI: ``https``, or ``http`` on a loopback host;
        no query or fragment) gives the metadata document and the ``resource_metadata``
        of every challenge. ``require_servers``: ``authorization_servers`` must name at
        least one issuer (faces that serve the metadata document). ``dpop``: a
        :class:`~jwkverify.dpop.DPoPVerifier` turns DPoP on (it needs ``resource``: the
        proofs' ``htu`` is checked against its origin); ``require_dpop``: only
        DPoP-bound tokens, sent with the DPoP scheme, are accepted.

        Raises:
            TypeError, ValueError: an option is invalid, or the verifier checks no
                audience (:func:`~.conventions.require_audience`).
        """
        from urllib.parse import urlsplit

        audiences = require_audience(verifier)
        if resource is not None:
            problem = resource_problem(resource)
            if problem is not None:
                raise (ValueError if isinstance(resource, str) else TypeError)(problem)
        _check_dpop(dpop, require_dpop, resource)
        servers = strings_option("authorization_servers", authorization_servers or ())
        if require_servers and not servers:
            raise ValueError("authorization_servers must name at least one issuer URL")
        if resource_documentation is not None and resource_problem(resource_documentation) is not None:
            raise ValueError("resource_documentation must be an https URL")
        if realm is not None and not isinstance(realm, str):
            raise TypeError("realm must be a str")
        if observer is not None and not callable(getattr(observer, "verdict", None)):
            raise TypeError("observer must have a verdict(outcome, code) method, "
                            "as jwkverify.observe.Counters has")
        conventions = conventions_of(verifier)
        rules = _rules(route_scopes, route_roles)
        tools = {_tool_name(name): scopes_option(f"tool_scopes[{name!r}]", scopes)
                 for name, scopes in (tool_scopes or {}).items()}
        default_mcp = urlsplit(resource).path.rstrip("/") or "/" if resource is not None else "/"
        public = strings_option("public_paths", public_paths)
        for path in public:
            path_option("public_paths", path)
        scopes = scopes_option("required_scopes", required_scopes)
        options = cls(
            verifier=verifier, audiences=audiences, conventions=conventions,
            role_claims=conventions.role_claims if role_claims is None else role_claims_option(role_claims),
            required_scopes=scopes, required_roles=strings_option("required_roles", required_roles),
            rules=rules, tool_scopes=MappingProxyType(tools),
            mcp_path=path_option("mcp_path", mcp_path if mcp_path is not None else default_mcp),
            public_paths=public, realm=realm, observer=observer, resource=resource,
            dpop=dpop, require_dpop=require_dpop,
            origin=None if dpop is None or resource is None else _origin(resource),
            metadata=b"", metadata_paths=(), metadata_url=None,
        )
        if resource is None:
            return options
        named = [*scopes, *(scope for rule in rules for scope in rule.scopes),
                 *(scope for each in tools.values() for scope in each)]
        advertised = (scopes_option("scopes_supported", scopes_supported) if scopes_supported is not None
                      else tuple(dict.fromkeys(named)))
        document: dict[str, Any] = {"resource": resource}  # RFC 9728 §2
        if servers:  # optional: left out rather than an empty list (FastAPI's BearerAuth may name none)
            document["authorization_servers"] = list(servers)
        document["bearer_methods_supported"] = ["header"]
        if advertised:
            document["scopes_supported"] = list(advertised)
        if resource_name is not None:
            document["resource_name"] = str(resource_name)
        if resource_documentation is not None:
            document["resource_documentation"] = resource_documentation
        if dpop is not None:  # RFC 9728 §2
            document["dpop_signing_alg_values_supported"] = list(dpop.algorithms)
            document["dpop_bound_access_tokens_required"] = require_dpop
        url = metadata_url(resource)
        www_authenticate(resource_metadata=url, realm=realm)  # a bad realm fails now, not per request
        object.__setattr__(options, "metadata", json.dumps(document, indent=2).encode())
        object.__setattr__(options, "metadata_paths", metadata_paths(resource))
        object.__setattr__(options, "metadata_url", url)
        return options

    @property
    def document(self) -> dict[str, Any]:
        """The RFC 9728 metadata document (a fresh copy; empty without ``resource``)."""
        found: dict[str, Any] = json.loads(self.metadata) if self.metadata else {}
        return found


def _check_dpop(dpop: object, require_dpop: object, resource: str | None) -> None:
    if dpop is not None and not isinstance(dpop, DPoPVerifier):
        raise TypeError(f"dpop must be a jwkverify.dpop.DPoPVerifier (or None: DPoP off), "
                        f"not {type(dpop).__name__}")
    if not isinstance(require_dpop, bool):
        raise TypeError("require_dpop must be True or False")
    if require_dpop and dpop is None:
        raise ValueError("require_dpop=True needs dpop=DPoPVerifier(...) to check the proofs")
    if dpop is not None and resource is None:
        raise ValueError("dpop= needs resource=: a proof's htu is checked against its origin")


def _origin(resource: str) -> str:
    """``scheme://host[:port]`` of ``resource``: the public origin clients address (RFC 9449
    §4.3 item 9), never the request's ``Host`` header, which the client chooses."""
    from urllib.parse import urlsplit

    parts = urlsplit(resource)
    return f"{parts.scheme}://{parts.netloc}"


def strings_option(option: str, values: Iterable[str]) -> tuple[str, ...]:
    """``values`` (one string or several) as a tuple without duplicates.

    Raises:
        TypeError: an entry is not a non-empty string.
    """
    items = (values,) if isinstance(values, str) else tuple(values)
    if not all(isinstance(item, str) and item for item in items):
        raise TypeError(f"{option} takes non-empty strings")
    return tuple(dict.fromkeys(items))


def scopes_option(option: str, values: Iterable[str]) -> tuple[str, ...]:
    """``values`` as scope names (RFC 6749 §3.3).

    Raises:
        TypeError: an entry is not a non-empty string.
        ValueError: an entry is not a scope name.
    """
    items = strings_option(option, values)
    for item in items:
        problem = scope_problem(item)
        if problem is not None:
            raise ValueError(f"{option}: {problem}")
    return items


def path_option(option: str, path: str) -> str:
    """``path``, which must start with ``/``.

    Raises:
        ValueError: it does not.
    """
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"{option} must be paths starting with '/', not {path!r}")
    return path


def _tool_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError("tool_scopes maps tool names (non-empty strings) to scopes")
    return name


def _rules(route_scopes: Mapping[str, Iterable[str]] | None,
           route_roles: Mapping[str, Iterable[str]] | None) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for option, mapping in (("route_scopes", route_scopes), ("route_roles", route_roles)):
        if mapping is not None and not isinstance(mapping, Mapping):
            raise TypeError(f"{option} maps '/path' or 'METHOD /path' to names")
        for key, values in (mapping or {}).items():
            if not isinstance(key, str):
                raise TypeError(f"{option} keys are '/path' or 'METHOD /path' strings")
            method, _, path = key.rpartition(" ")
            if method and (not method.isalpha() or not method.isupper()):
                raise ValueError(f"{option}: {key!r} is not '/path' or 'METHOD /path'")
            prefix = path_option(option, path).rstrip("/") or "/"
            if option == "route_scopes":
                rules.append(Rule(method or None, prefix, scopes=scopes_option(f"{option}[{key!r}]", values)))
            else:
                rules.append(Rule(method or None, prefix, roles=strings_option(f"{option}[{key!r}]", values)))
    return tuple(rules)
