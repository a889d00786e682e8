"""What every web adapter may ask of a verifier, and how a token's claims name scopes, roles and the client.

Adapters (ASGI, WSGI, MCP SDK, FastMCP, FastAPI) accept any :class:`BearerVerifier`:
a :class:`~jwkverify.JWTVerifier`, a :class:`~jwkverify.MultiIssuerVerifier`, or what
a provider preset returns. Two optional attributes let a verifier carry its
provider's habits to every adapter, so users never repeat them:

- ``conventions``: a :class:`TokenConventions` (which claims hold scopes, roles and
  the client id); :data:`DEFAULT_CONVENTIONS` when absent.
- ``checks_recipient``: ``True`` when the verifier refuses tokens minted for another
  resource by a check that stands in for ``aud`` (Amazon Cognito access tokens carry
  no ``aud``; their ``client_id`` is checked instead). Without it, a non-empty
  ``audiences`` is required.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

__all__ = [
    "CLIENT_ID_CLAIMS",
    "DEFAULT_CONVENTIONS",
    "DEFAULT_ROLE_CLAIMS",
    "BearerVerifier",
    "RoleClaim",
    "TokenConventions",
    "conventions_of",
    "require_audience",
    "role_claims_option",
]

#: A role claim: a top-level claim name, or a path of names into nested objects.
RoleClaim = str | tuple[str, ...]

#: Where roles are read from by default: ``roles`` (Entra ID, Auth0 RBAC, RFC 9068 §2.2.3.1)
#: and Keycloak's ``realm_access.roles``. ``groups`` is left out on purpose: at many
#: providers users or group owners manage group membership themselves.
DEFAULT_ROLE_CLAIMS: Final[tuple[RoleClaim, ...]] = ("roles", ("realm_access", "roles"))

#: Where the OAuth client is named: ``client_id`` (RFC 9068 §2.2), ``azp`` (OpenID
#: Connect, Keycloak, Auth0), ``appid`` (Entra ID v1.0) and ``cid`` (Okta).
CLIENT_ID_CLAIMS: Final = ("client_id", "azp", "appid", "cid")


def role_claims_option(role_claims: Iterable[RoleClaim]) -> tuple[RoleClaim, ...]:
    """``role_claims`` as a tuple of claim names and name paths.

    Raises:
        TypeError: an entry is neither a claim name nor a non-empty tuple of names.
    """
    claims = (role_claims,) if isinstance(role_claims, str) else tuple(role_claims)
    for claim in claims:
        path = (claim,) if isinstance(claim, str) else claim
        if (not isinstance(path, tuple) or not path
                or not all(isinstance(name, str) and name for name in path)):
            raise TypeError("role_claims takes claim names and tuples of claim names")
    return claims


@runtime_checkable
class BearerVerifier(Protocol):
    """What an adapter needs of a verifier: sync and async verification, and its audiences."""

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; a ``JOSEError`` subclass otherwise."""
        ...

    def verify_async(self, token: str) -> Awaitable[dict[str, Any]]:
        """As :meth:`verify`, without blocking the event loop."""
        ...

    @property
    def audiences(self) -> frozenset[str]:
        """The audiences a token must name (empty: none checked)."""
        ...


@dataclass(frozen=True, slots=True)
class TokenConventions:
    """Which claims of an access token hold its scopes, roles and client id.

    Scopes, one rule everywhere: from ``scope`` when it is a string (RFC 9068
    §2.2.3, RFC 8693 §4.2), else from ``scp`` (a space-separated string, or an
    array: Entra ID, Okta). Never the union of both: a narrowed ``scope`` must not
    be widened again by ``scp``. ``permission_claims`` (for example Auth0 RBAC's
    ``permissions``) name arrays whose entries count as scopes as well. Roles come
    from ``role_claims``, each an array of strings (or one string).
    """

    role_claims: tuple[RoleClaim, ...] = DEFAULT_ROLE_CLAIMS
    permission_claims: tuple[str, ...] = ()
    client_id_claims: tuple[str, ...] = CLIENT_ID_CLAIMS

    def __post_init__(self) -> None:
        object.__setattr__(self, "role_claims", role_claims_option(self.role_claims))
        for option in ("permission_claims", "client_id_claims"):
            names = getattr(self, option)
            names = (names,) if isinstance(names, str) else tuple(names)
            if not all(isinstance(name, str) and name for name in names):
                raise TypeError(f"{option} takes claim names (non-empty strings)")
            object.__setattr__(self, option, names)

    def scopes(self, claims: Mapping[str, Any]) -> frozenset[str]:
        """The scopes ``claims`` grant; values of any other type grant nothing.

        Scope names are compared exactly (case-sensitive, RFC 6749 §3.3).
        """
        scope = claims.get("scope")
        if isinstance(scope, str):  # RFC 9068 §2.2.3: a string, never an array
            granted = scope.split(" ")  # RFC 6749 §3.3: space-delimited, nothing else
        else:
            scp = claims.get("scp")
            granted = scp.split(" ") if isinstance(scp, str) else _strings(scp)
        for name in self.permission_claims:
            granted += _strings(claims.get(name))
        found = frozenset(granted)
        return found - _EMPTY if "" in found else found

    def roles(self, claims: Mapping[str, Any],
              role_claims: Iterable[RoleClaim] | None = None) -> frozenset[str]:
        """The roles named by ``role_claims`` (default: this convention's)."""
        found: list[str] = []
        for path in self.role_claims if role_claims is None else role_claims:
            if isinstance(path, str):
                value = claims.get(path)
            else:
                value = claims
                for name in path:
                    value = value.get(name) if isinstance(value, dict) or (
                        value is not None and isinstance(value, Mapping)) else None
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, list):
                found += _strings(value)
        return frozenset(found)

    def client_id(self, claims: Mapping[str, Any]) -> str | None:
        """The OAuth client the token was issued to, or ``None`` when it names none."""
        for name in self.client_id_claims:
            value = claims.get(name)
            if isinstance(value, str) and value:
                return value
        return None


_EMPTY = frozenset(("",))


def _strings(value: object) -> list[str]:
    """The strings of a JSON array (nothing for anything else)."""
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


#: The conventions of a verifier that declares none.
DEFAULT_CONVENTIONS: Final = TokenConventions()


def conventions_of(verifier: object) -> TokenConventions:
    """The verifier's ``conventions``, or :data:`DEFAULT_CONVENTIONS`."""
    found = getattr(verifier, "conventions", None)
    return found if isinstance(found, TokenConventions) else DEFAULT_CONVENTIONS


def require_audience(verifier: object) -> frozenset[str]:
    """The audiences ``verifier`` accepts; refuse one that would take a token for any resource.

    Raises:
        TypeError: ``verifier`` has no ``verify``/``verify_async``/``audiences``.
        ValueError: it checks no audience (built without ``audience=``, or with
            ``ANY_AUDIENCE``) and declares no stand-in check (``checks_recipient``).
    """
    if not isinstance(verifier, BearerVerifier) or not callable(getattr(verifier, "verify", None)):
        raise TypeError("verifier must be a JWTVerifier, a MultiIssuerVerifier or a provider preset "
                        f"(anything with verify, verify_async and audiences), not {type(verifier).__name__}")
    audiences = verifier.audiences
    if not isinstance(audiences, frozenset):
        raise TypeError(f"verifier.audiences must be a frozenset, not {type(audiences).__name__}")
    if not audiences and getattr(verifier, "checks_recipient", False) is not True:
        raise ValueError("the verifier must check the audience: build it with audience= this resource's "
                         "URI (RFC 8707), so that a token minted for another resource is refused")
    return audiences
