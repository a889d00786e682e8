"""jwkverify._web.frozen: read-only claims that still behave as dicts and lists."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest

from jwkverify._web.frozen import ReadOnlyDict, ReadOnlyList, freeze, thaw

CLAIMS: dict[str, Any] = {"sub": "alice", "exp": 1, "ratio": 1.5, "ok": True, "none": None,
                          "roles": ["a", "b"], "org": {"id": 1, "teams": [{"name": "x", "tags": ["t"]}]}}


def test_freeze_keeps_values_types_and_serialization() -> None:
    frozen = freeze(CLAIMS)
    assert frozen == CLAIMS and isinstance(frozen, dict)
    assert isinstance(frozen["roles"], list) and type(frozen["roles"]) is ReadOnlyList
    assert type(frozen["org"]["teams"][0]) is ReadOnlyDict
    assert type(frozen["org"]["teams"][0]["tags"]) is ReadOnlyList
    assert json.dumps(frozen) == json.dumps(CLAIMS)
    flat = freeze({"sub": "alice", "exp": 1})
    assert type(flat) is ReadOnlyDict and flat == {"sub": "alice", "exp": 1}


def test_freeze_copies_so_the_source_can_change_without_reaching_it() -> None:
    source = json.loads(json.dumps(CLAIMS))
    frozen = freeze(source)
    source["roles"].append("admin")
    source["org"]["teams"][0]["tags"].append("z")
    source["sub"] = "mallory"
    assert frozen == CLAIMS


@pytest.mark.parametrize("change", [
    lambda c: c.__setitem__("sub", "x"), lambda c: c.__delitem__("sub"), lambda c: c.update(sub="x"),
    lambda c: c.setdefault("new", 1), lambda c: c.pop("sub"), lambda c: c.popitem(), lambda c: c.clear(),
    lambda c: c.__ior__({"x": 1}),
    lambda c: c["roles"].append("x"), lambda c: c["roles"].extend(["x"]), lambda c: c["roles"].insert(0, "x"),
    lambda c: c["roles"].__setitem__(0, "x"), lambda c: c["roles"].__delitem__(0), lambda c: c["roles"].pop(),
    lambda c: c["roles"].remove("a"), lambda c: c["roles"].clear(), lambda c: c["roles"].sort(),
    lambda c: c["roles"].reverse(), lambda c: c["roles"].__iadd__(["x"]), lambda c: c["roles"].__imul__(2),
    lambda c: c["org"]["teams"][0]["tags"].append("x"), lambda c: c["org"].__setitem__("id", 2),
])
def test_every_mutation_is_refused(change: Any) -> None:
    frozen = freeze(CLAIMS)
    with pytest.raises(TypeError, match="read-only"):
        change(frozen)
    assert frozen == CLAIMS


def test_copies_are_ordinary_and_mutable() -> None:
    frozen = freeze(CLAIMS)
    for mine in (copy.deepcopy(frozen), thaw(frozen), pickle.loads(pickle.dumps(frozen))):
        assert type(mine) is dict and type(mine["roles"]) is list and type(mine["org"]["teams"][0]) is dict
        mine["roles"].append("x")
        mine["org"]["teams"][0]["tags"].append("y")
    shallow = copy.copy(frozen)
    shallow["sub"] = "bob"
    assert type(shallow) is dict and frozen["sub"] == "alice"
    assert type(copy.copy(frozen["roles"])) is list
    assert type(pickle.loads(pickle.dumps(frozen["roles"]))) is list
    assert frozen == CLAIMS
    merged = frozen | {"extra": 1}
    assert type(merged) is dict and "extra" not in frozen


def test_deep_nesting_does_not_recurse() -> None:
    deep: Any = "leaf"
    for _ in range(5000):
        deep = [deep]
    frozen = freeze({"deep": deep})
    node = frozen["deep"]
    for _ in range(4999):
        node = node[0]
    assert node == ["leaf"] and type(node) is ReadOnlyList
    assert thaw(frozen)["deep"][0][0] is not None
