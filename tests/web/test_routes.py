"""jwkverify._web.routes: requirements by method and path, resolved once and remembered (boundedly)."""

from __future__ import annotations

import json

from jwkverify._web.routes import MAX_ROUTES, Route, RouteTable, Rule, canonical_path


def table() -> RouteTable:
    return RouteTable(scopes=("read",), roles=("user",),
                      rules=(Rule(None, "/admin", roles=("admin",)),
                             Rule("POST", "/notes", scopes=("write",)), Rule(None, "/", scopes=("read",))),
                      public_paths=("/health", "/static/"), metadata_paths=("/.well-known/x",),
                      tool_scopes={"delete": ("write", "delete")}, mcp_path="/mcp")


def test_requirements_add_up_by_method_and_path() -> None:
    routes = table()
    assert routes.route("GET", "/notes") == Route(False, False, ("read",), ("user",))
    assert routes.route("POST", "/notes/1") == Route(False, False, ("read", "write"), ("user",))
    assert routes.route("GET", "/admin/x").roles == ("user", "admin")
    assert routes.route("GET", "/administrator").roles == ("user",)  # a prefix is a whole segment
    assert routes.route("GET", "/health").public and not routes.route("GET", "/health/x").public
    assert routes.route("GET", "/static/a.js").public
    assert routes.route("GET", "/.well-known/x").metadata
    assert routes.route("POST", "/mcp").reads_tools and not routes.route("GET", "/mcp").reads_tools
    assert routes.named_scopes == ("read", "write", "delete")


def test_dot_segments_never_dodge_a_rule_nor_make_a_path_public() -> None:
    routes = table()
    assert canonical_path("/static/../admin/./x//y") == "/admin/x/y"
    assert canonical_path("/a/b/") == "/a/b/" and canonical_path("/..") == "/"
    dodging = routes.route("GET", "/static/../admin")
    assert not dodging.public and dodging.roles == ("user", "admin")
    assert routes.route("POST", "/x/../mcp").reads_tools


def test_answers_are_remembered_within_a_bound() -> None:
    routes = table()
    first = routes.route("GET", "/notes")
    assert routes.route("GET", "/notes") is first
    for index in range(MAX_ROUTES * 2):
        routes.route("GET", f"/flood/{index}")
    assert len(routes._known) <= MAX_ROUTES
    long = "/x" * 1000
    assert routes.route("GET", long) is not routes.route("GET", long)  # long paths are not kept


def test_tool_scopes_read_a_strict_json_rpc_body() -> None:
    routes = table()
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "delete"}}
    assert routes.tool_scopes(json.dumps(call).encode(), ("read",)) == ("read", "write", "delete")
    other = {**call, "params": {"name": "list"}}
    assert routes.tool_scopes(json.dumps(other).encode(), ("read",)) == ("read",)
    assert routes.tool_scopes(b'{"method": "tools/list"}', ("read",)) == ("read",)
    twice = b'{"method":"tools/call","params":{"name":"list","name":"delete"}}'
    assert routes.tool_scopes(twice, ()) == "the body is not one JSON-RPC message"
    assert routes.tool_scopes(b"[1]", ()) == "the body is not one JSON-RPC message"
    assert routes.tool_scopes(b'{"method":"tools/call","params":{}}', ()) == "tools/call without a tool name"
