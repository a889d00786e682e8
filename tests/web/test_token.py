"""jwkverify._web.token: the VerifiedToken a face hands the app, immutable, its claims read-only."""

from __future__ import annotations

import copy
import pickle
import time
from typing import Any

import pytest
from signing import make_key

from jwkverify import ClaimError, JWKSet, JWTVerifier
from jwkverify._web.conventions import DEFAULT_CONVENTIONS
from jwkverify._web.frozen import ReadOnlyDict, ReadOnlyList
from jwkverify._web.scope_sets import ScopeSets
from jwkverify._web.token import VerifiedToken
from jwkverify._web.views import TokenViews

AUD = "https://api.test"
KEY = make_key("ES256", kid="k1")


def roles_of(claims: Any) -> frozenset[str]:
    return DEFAULT_CONVENTIONS.roles(claims)


def view_of(claims: dict[str, Any]) -> VerifiedToken:
    return VerifiedToken.maker(DEFAULT_CONVENTIONS, roles_of, ScopeSets(DEFAULT_CONVENTIONS))("tok", claims)


def test_a_view_reads_its_fields_from_the_claims() -> None:
    view = view_of({"sub": "alice", "iss": "https://i", "azp": "agent", "scope": "a b", "roles": ["r"]})
    assert (view.subject, view.issuer, view.client_id, view.token) == ("alice", "https://i", "agent", "tok")
    assert view.scopes == {"a", "b"} and view.roles == {"r"} and view.dpop_jkt is None
    odd = view_of({"sub": 1, "iss": ["x"]})
    assert odd.subject is None and odd.issuer is None and odd.client_id is None and odd.scopes == frozenset()


def test_the_claims_are_made_read_only_when_first_read_and_never_change_the_verifiers_dict() -> None:
    raw = {"sub": "alice", "aud": [AUD, "other"], "realm_access": {"roles": ["admin"]}, "scope": "a"}
    view = view_of(raw)
    assert view.roles == {"admin"}  # read from the raw claims, nothing frozen yet
    claims = view.claims
    assert type(claims) is ReadOnlyDict and claims == raw and view.claims is claims
    assert type(claims["aud"]) is ReadOnlyList and type(claims["realm_access"]) is ReadOnlyDict
    with pytest.raises(TypeError):
        claims["sub"] = "mallory"  # type: ignore[index]
    with pytest.raises(TypeError):
        claims["aud"].append("x")
    assert raw["aud"] == [AUD, "other"] and type(raw["aud"]) is list  # the verifier's own, untouched
    with pytest.raises(AttributeError):
        view.claims = {}  # type: ignore[misc]
    assert copy.deepcopy(view) is view and pickle.loads(pickle.dumps(view)).claims == raw


def test_a_malformed_cnf_is_refused_when_the_view_is_made() -> None:
    with pytest.raises(ClaimError):
        view_of({"sub": "a", "cnf": "not an object"})
    assert view_of({"sub": "a", "cnf": {"jkt": "thumb"}}).dpop_jkt == "thumb"


def test_a_verifier_of_another_kind_gets_its_claims_copied_at_once() -> None:
    held = {"sub": "carol", "scope": "x", "roles": ["r"]}

    class Custom:  # keeps and changes the dict it returned: the view must not follow
        audiences = frozenset({AUD})

        def verify(self, token: str) -> dict[str, Any]:
            return held

        async def verify_async(self, token: str) -> dict[str, Any]:
            return held

    view = TokenViews.of_tokens(Custom(), DEFAULT_CONVENTIONS, DEFAULT_CONVENTIONS.role_claims).verify("t")
    held["sub"] = "mallory"
    held["roles"].append("admin")
    assert view.claims["sub"] == "carol" and view.claims["roles"] == ["r"] and view.roles == {"r"}


def test_a_cached_tokens_view_shares_the_caches_claims_read_only() -> None:
    verifier = JWTVerifier(JWKSet.from_dict({"keys": [KEY.jwk]}), audience=AUD, cache_size=4)
    views = TokenViews.of_tokens(verifier, DEFAULT_CONVENTIONS, DEFAULT_CONVENTIONS.role_claims)
    tok = str(KEY.token({"aud": AUD, "sub": "alice", "exp": int(time.time()) + 60, "groups": ["g"]}))
    view = views.verify(tok)
    with pytest.raises(TypeError):
        view.claims["groups"].append("admin")
    assert verifier.verify(tok)["groups"] == ["g"] and views.verify(tok) is view
    mine = verifier.verify(tok)
    mine["groups"].append("admin")  # the caller's copy: neither the cache nor the view changes
    assert views.verify(tok).claims["groups"] == ["g"] and verifier.verify(tok)["groups"] == ["g"]


def test_fields_read_when_first_asked_for_are_kept_and_cannot_be_set() -> None:
    view = view_of({"sub": "alice", "iss": "https://i", "cid": "okta-app", "scope": "a"})
    assert "subject" not in vars(view) and "claims" not in vars(view)  # nothing read yet
    assert view.client_id == "okta-app" and view.subject == "alice" and view.issuer == "https://i"
    assert vars(view)["subject"] == "alice"  # kept: read once
    for name in ("subject", "issuer", "client_id", "claims"):
        with pytest.raises(AttributeError):
            setattr(view, name, "mallory")
    proven = view._proven_by("thumb")  # a DPoP request's copy reads the same
    assert proven.subject == "alice" and proven.dpop_jkt == "thumb" and view.dpop_jkt is None
    assert VerifiedToken.subject is not None  # the class attribute: the descriptor itself


def test_views_of_one_scope_string_share_one_set_and_other_shapes_are_read_each_time() -> None:
    make = VerifiedToken.maker(DEFAULT_CONVENTIONS, roles_of, ScopeSets(DEFAULT_CONVENTIONS))
    first, second = make("t1", {"scope": "b a"}), make("t2", {"scope": "b a"})
    assert first.scopes == {"a", "b"} and second.scopes is first.scopes  # remembered per string
    assert make("t3", {"scp": ["x", "y"]}).scopes == {"x", "y"}  # Entra's array: not one string
    assert make("t4", {"scope": "", "scp": "z"}).scopes == frozenset()  # scope wins when a string
    assert make("t5", {}).scopes == frozenset() and make("t5", {}).roles == frozenset()
    assert "roles" not in vars(first) and first.roles == frozenset() and "roles" in vars(first)
    with pytest.raises(AttributeError):
        first.roles = frozenset({"admin"})  # type: ignore[misc]


def test_without_a_token_cache_every_request_gets_its_own_view_and_nothing_is_held() -> None:
    verifier = JWTVerifier(JWKSet.from_dict({"keys": [KEY.jwk]}), audience=AUD)
    views = TokenViews.of_tokens(verifier, DEFAULT_CONVENTIONS, DEFAULT_CONVENTIONS.role_claims)
    tok = str(KEY.token({"aud": AUD, "sub": "alice", "exp": int(time.time()) + 60, "scope": "s"}))
    first, second = views.now(tok), views.now(tok)
    assert first is not None and second is not None and first is not second
    assert first.subject == second.subject == "alice" and second.scopes is first.scopes
    assert views.size == 0 and not views.known(tok)
    with pytest.raises(ClaimError):
        views.now(str(KEY.token({"aud": AUD, "sub": "alice", "exp": int(time.time()) - 60})))
