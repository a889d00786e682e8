"""jwkverify._web.access_tokens: the SDK's AccessToken of a token, read-only, built without waste."""

from __future__ import annotations

import time
from typing import Any

import pytest
from signing import make_key

pytest.importorskip("mcp.server.auth.provider")
from mcp.server.auth.provider import AccessToken
from pydantic import Field, ValidationError, field_validator

from jwkverify import JWKSet, JWTVerifier
from jwkverify._web.access_tokens import SharedAccessTokens, _setter, expiry, resource_of
from jwkverify._web.conventions import TokenConventions
from jwkverify._web.frozen import ReadOnlyDict, ReadOnlyList
from jwkverify._web.views import TokenViews

KEY = make_key("ES256", kid="k1")
AUD = "https://api.test/mcp"
CLAIMS: dict[str, Any] = {"sub": "alice", "aud": [AUD, "https://other.test"], "exp": 2_000_000_000,
                          "scp": ["b", "a"], "azp": "agent", "roles": ["r"]}


class Extended(AccessToken):
    tenant: str = "none"


class LikeFastMCP(AccessToken):
    """FastMCP 4's AccessToken: claims a dict (never None), one more field with a default."""

    claims: dict[str, Any] = Field(default_factory=dict)
    original_client_id: str | None = None


class Tagged(LikeFastMCP):
    """Validated: a mutable default is never shared between instances (and claims may not be None)."""

    tags: list[str] = Field(default_factory=list)


class Shouting(AccessToken):
    @field_validator("client_id")
    @classmethod
    def upper(cls, value: str) -> str:
        return value.upper()


@pytest.mark.parametrize("cls", [AccessToken, Extended, Shouting, LikeFastMCP, Tagged])
def test_the_same_access_token_whether_validated_or_put_together(cls: Any) -> None:
    shared = SharedAccessTokens(cls, resource=AUD, audiences=[AUD])
    made = shared.from_claims("tok", CLAIMS)
    assert isinstance(made, cls) and made.token == "tok" and made.subject == "alice"
    assert made.scopes == ["a", "b"] and type(made.scopes) is ReadOnlyList
    assert made.client_id == ("AGENT" if cls is Shouting else "agent")
    assert made.expires_at == 2_000_000_000 and made.resource == AUD
    assert type(made.claims) is ReadOnlyDict and made.claims == CLAIMS
    assert made.model_dump()["claims"]["roles"] == ["r"]
    if cls is Extended:
        assert made.tenant == "none"  # the default of a field not given
        assert made.model_fields_set == shared.from_claims("t2", CLAIMS).model_fields_set
        assert "tenant" not in made.model_fields_set
    if cls is LikeFastMCP:
        assert made.original_client_id is None and made.model_dump()["original_client_id"] is None
        assert made.model_copy(update={"client_id": "q"}).client_id == "q"  # what FastMCP's MultiAuth does
    if cls is Tagged:
        other = shared.from_claims("t2", CLAIMS)
        assert made.tags == [] and other.tags == [] and made.tags is not other.tags
    with pytest.raises(ValidationError):
        made.client_id = "mallory"
    with pytest.raises(TypeError):
        made.scopes.append("admin")


def test_only_a_model_that_builds_the_same_is_put_together_directly() -> None:
    assert SharedAccessTokens(AccessToken)._direct
    # Immutable defaults of fields not given are taken once; a validator or a mutable default: validated.
    assert SharedAccessTokens(Extended)._direct and SharedAccessTokens(LikeFastMCP)._direct
    assert not SharedAccessTokens(Shouting)._direct and not SharedAccessTokens(Tagged)._direct


def test_as_the_view_of_a_token_cache() -> None:
    keys = JWKSet.from_dict({"keys": [KEY.jwk]})
    conventions = TokenConventions(client_id_claims=("cid",))
    shared = SharedAccessTokens(AccessToken, conventions=conventions)
    views: TokenViews[Any] = TokenViews(JWTVerifier(keys, audience=AUD, cache_size=4), shared.from_claims)
    token = KEY.token({"aud": AUD, "sub": "bob", "cid": "okta", "exp": int(time.time()) + 60, "scope": "x"})
    first = views.verify(token)
    assert views.verify(token) is first and first.client_id == "okta" and first.scopes == ["x"]


def test_expiry_and_resource_rules() -> None:
    assert expiry(5) == 5 and expiry(5.9) == 5 and expiry(True) is None and expiry(float("inf")) is None
    assert expiry("5") is None
    assert resource_of("a", None, frozenset()) == "a"
    assert resource_of(["x", "a"], "a", frozenset()) == "a"
    assert resource_of(["x", "b"], None, frozenset({"b"})) == "b"
    assert resource_of(["x", 1], None, frozenset()) == "x"
    assert resource_of([], None, frozenset()) is None and resource_of(None, None, frozenset()) is None


def test_a_slot_is_set_through_its_descriptor_or_else_setattr() -> None:
    class Slotted:
        __slots__ = ("value",)

    class Plain:
        pass

    slotted, plain = Slotted(), Plain()
    _setter(Slotted, "value")(slotted, 1)
    _setter(Plain, "value")(plain, 2)  # no descriptor: object.__setattr__
    assert slotted.value == 1 and plain.value == 2  # type: ignore[attr-defined]
