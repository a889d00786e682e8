"""jwkverify._web.conventions: what adapters ask of a verifier, and the scope/role/client rules."""

from __future__ import annotations

from typing import Any

import pytest
from signing import make_key

from jwkverify import ANY_AUDIENCE, JWKSet, JWTVerifier
from jwkverify._web.conventions import (
    DEFAULT_CONVENTIONS,
    TokenConventions,
    conventions_of,
    require_audience,
    role_claims_option,
)

KEYS = JWKSet.from_dict({"keys": [make_key("ES256", kid="k").jwk]})


def test_scope_wins_over_scp_and_they_are_never_joined() -> None:
    scopes = DEFAULT_CONVENTIONS.scopes
    assert scopes({"scope": "a b  c"}) == {"a", "b", "c"}
    assert scopes({"scope": "read", "scp": ["read", "write"]}) == {"read"}
    assert scopes({"scope": "", "scp": ["write"]}) == frozenset()  # an empty scope string still decides
    assert scopes({"scope": ["a"], "scp": "x y"}) == {"x", "y"}  # not a string: scp decides
    assert scopes({"scp": ["a", 1, None, "b"]}) == {"a", "b"}
    assert scopes({"scp": {"a": 1}}) == frozenset()


def test_permission_claims_count_as_scopes() -> None:
    auth0 = TokenConventions(permission_claims=("permissions",))
    assert auth0.scopes({"scope": "openid", "permissions": ["notes:read", 3]}) == {"openid", "notes:read"}
    assert auth0.scopes({"permissions": "notes:read"}) == frozenset()  # an array, or nothing
    assert DEFAULT_CONVENTIONS.scopes({"permissions": ["notes:read"]}) == frozenset()


def test_roles_and_client_id() -> None:
    claims: dict[str, Any] = {"roles": ["a"], "realm_access": {"roles": ["kc"]}, "groups": ["g"],
                              "azp": "web", "cid": "okta"}
    assert DEFAULT_CONVENTIONS.roles(claims) == {"a", "kc"}
    assert DEFAULT_CONVENTIONS.roles(claims, ["groups"]) == {"g"}
    assert TokenConventions(role_claims=("groups",)).roles(claims) == {"g"}
    assert DEFAULT_CONVENTIONS.client_id(claims) == "web"
    assert DEFAULT_CONVENTIONS.client_id({"client_id": "", "cid": "okta"}) == "okta"
    assert DEFAULT_CONVENTIONS.client_id({"sub": "alice"}) is None  # never the user


def test_bad_conventions_are_refused_at_construction() -> None:
    with pytest.raises(TypeError, match="role_claims"):
        TokenConventions(role_claims=(("a", 1),))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="permission_claims"):
        TokenConventions(permission_claims=("",))
    assert TokenConventions(permission_claims="permissions").permission_claims == ("permissions",)  # type: ignore[arg-type]
    assert role_claims_option("roles") == ("roles",)


class _Preset:
    """A verifier that stands in for ``aud`` with another check, as a Cognito preset does."""

    conventions = TokenConventions(role_claims=("cognito:groups",))
    checks_recipient = True
    audiences: frozenset[str] = frozenset()

    def verify(self, token: str) -> dict[str, Any]:
        return {}

    async def verify_async(self, token: str) -> dict[str, Any]:
        return {}


def test_require_audience_takes_any_verifier_that_checks_the_recipient() -> None:
    assert require_audience(JWTVerifier(KEYS, audience="https://api")) == {"https://api"}
    assert require_audience(_Preset()) == frozenset()
    assert conventions_of(_Preset()).role_claims == ("cognito:groups",)
    assert conventions_of(JWTVerifier(KEYS, audience="x")) is DEFAULT_CONVENTIONS
    with pytest.raises(ValueError, match="audience="):
        require_audience(JWTVerifier(KEYS))
    with pytest.raises(ValueError, match="audience="):
        require_audience(JWTVerifier(KEYS, audience=ANY_AUDIENCE))
    with pytest.raises(TypeError, match="verify, verify_async and audiences"):
        require_audience(object())
