"""jwkverify._web.scope_sets: a token's scopes read once per scope string, by the conventions' rule."""

from __future__ import annotations

import pytest

from jwkverify._web.conventions import DEFAULT_CONVENTIONS, TokenConventions
from jwkverify._web.frozen import ReadOnlyList
from jwkverify._web.scope_sets import SCOPE_STRINGS, ScopeSets


def test_the_same_scope_string_gives_the_same_set_and_sorted_list() -> None:
    sets = ScopeSets(DEFAULT_CONVENTIONS)
    first, second = {"scope": "b a  c"}, {"scope": "".join(["b a ", " c"])}  # equal, not the same object
    assert sets(first) == {"a", "b", "c"} == DEFAULT_CONVENTIONS.scopes(first)
    assert sets(second) is sets(first)
    listed = sets.sorted(second)
    assert listed == ["a", "b", "c"] and type(listed) is ReadOnlyList and sets.sorted(first) is listed
    with pytest.raises(TypeError):
        listed.append("d")


@pytest.mark.parametrize("claims", [
    {"scope": "a b", "scp": "c"},        # scope wins, never the union
    {"scp": "c d"},                      # no scope: scp, a string
    {"scope": ["x"], "scp": "c d"},      # scope not a string: scp
    {"scp": ["c", "d", 3]},              # scp an array: read each time
    {"scope": 7},                        # nothing
    {},
])
def test_every_shape_reads_as_the_conventions_read_it(claims: dict[str, object]) -> None:
    sets = ScopeSets(DEFAULT_CONVENTIONS)
    for _ in range(2):
        assert sets(claims) == DEFAULT_CONVENTIONS.scopes(claims)
        assert list(sets.sorted(claims)) == sorted(DEFAULT_CONVENTIONS.scopes(claims))


def test_a_scope_string_and_an_scp_string_that_are_equal_read_alike() -> None:
    sets = ScopeSets(DEFAULT_CONVENTIONS)
    assert sets({"scope": "a b"}) is sets({"scp": "a b"})


def test_permission_claims_make_scopes_more_than_one_string_so_nothing_is_remembered() -> None:
    auth0 = TokenConventions(permission_claims=("permissions",))
    sets = ScopeSets(auth0)
    assert sets({"scope": "openid", "permissions": ["read"]}) == {"openid", "read"}
    assert sets({"scope": "openid", "permissions": ["write"]}) == {"openid", "write"}  # not the first's set
    assert sets.sorted({"scope": "openid", "permissions": ["x"]}) == ["openid", "x"]
    assert not sets.known and not sets._sorted


def test_a_str_subclass_from_a_custom_verifier_is_read_every_time() -> None:
    class Text(str):
        pass

    sets = ScopeSets(DEFAULT_CONVENTIONS)
    assert sets({"scope": Text("a b")}) == {"a", "b"} and not sets.known


def test_it_is_bounded_and_starts_over_when_full() -> None:
    sets = ScopeSets(DEFAULT_CONVENTIONS, size=4)
    for index in range(10):
        assert sets({"scope": f"s{index} common"}) == {f"s{index}", "common"}
        sets.sorted({"scope": f"s{index} common"})
        assert len(sets.known) <= 4 and len(sets._sorted) <= 4
    assert SCOPE_STRINGS >= 64
