"""jwkverify._web.options: every face's options checked once, at construction."""

from __future__ import annotations

from typing import Any

import pytest
from signing import make_key

from jwkverify import ANY_AUDIENCE, JWKSet, JWTVerifier
from jwkverify._web.conventions import TokenConventions
from jwkverify._web.options import BearerOptions
from jwkverify._web.routes import Rule

KEYS = JWKSet.from_dict({"keys": [make_key("ES256", kid="k").jwk]})
RESOURCE = "https://api.test/mcp"


def build(**options: Any) -> BearerOptions:
    verifier = options.pop("verifier", JWTVerifier(KEYS, audience=RESOURCE))
    return BearerOptions.build(verifier, **options)


def test_a_full_configuration_compiles() -> None:
    options = build(resource=RESOURCE, authorization_servers=["https://issuer.test"], required_scopes="read",
                    route_scopes={"POST /notes": ["write"]}, route_roles={"/admin/": ["admin"]},
                    tool_scopes={"delete": ["delete"]}, resource_name="Notes", realm="r",
                    resource_documentation="https://docs.test/", public_paths=["/health"],
                    role_claims=["roles", ("realm_access", "roles")])
    assert options.required_scopes == ("read",) and options.mcp_path == "/mcp"
    assert options.rules == (Rule("POST", "/notes", scopes=("write",)),
                             Rule(None, "/admin", roles=("admin",)))
    assert options.metadata_url == "https://api.test/.well-known/oauth-protected-resource/mcp"
    assert options.metadata_paths == ("/.well-known/oauth-protected-resource/mcp",
                                      "/.well-known/oauth-protected-resource")
    assert options.document == {
        "resource": RESOURCE, "authorization_servers": ["https://issuer.test"],
        "bearer_methods_supported": ["header"], "scopes_supported": ["read", "write", "delete"],
        "resource_name": "Notes", "resource_documentation": "https://docs.test/"}
    assert options.audiences == {RESOURCE}


def test_without_authorization_servers_the_document_leaves_the_member_out() -> None:
    # RFC 9728 §2: authorization_servers is optional; an empty list would name none either.
    assert build(resource=RESOURCE).document == {"resource": RESOURCE, "bearer_methods_supported": ["header"]}


def test_a_face_without_a_resource_has_no_metadata() -> None:
    options = build()
    assert options.metadata == b"" and options.metadata_url is None and options.document == {}


def test_the_verifiers_conventions_are_the_default_role_claims() -> None:
    class Preset(JWTVerifier):
        conventions = TokenConventions(role_claims=("groups",))

    assert build(verifier=Preset(KEYS, audience=RESOURCE)).role_claims == ("groups",)
    assert build(verifier=Preset(KEYS, audience=RESOURCE), role_claims=["roles"]).role_claims == ("roles",)


@pytest.mark.parametrize(("options", "error", "match"), [
    ({"verifier": JWTVerifier(KEYS)}, ValueError, "audience"),
    ({"verifier": JWTVerifier(KEYS, audience=ANY_AUDIENCE)}, ValueError, "audience"),
    ({"verifier": KEYS}, TypeError, "verifier"),
    ({"resource": "http://api.test/"}, ValueError, "https"),
    ({"resource": 1}, TypeError, "resource"),
    ({"resource": RESOURCE, "authorization_servers": [], "require_servers": True}, ValueError, "issuer"),
    ({"required_scopes": ['a"b']}, ValueError, "scope"),
    ({"required_roles": [""]}, TypeError, "required_roles"),
    ({"route_scopes": {"get /x": ["a"]}}, ValueError, "METHOD"),
    ({"route_scopes": {"x": ["a"]}}, ValueError, "'/'"),
    ({"route_scopes": ["/x"]}, TypeError, "route_scopes"),
    ({"route_roles": {1: ["a"]}}, TypeError, "route_roles"),
    ({"tool_scopes": {1: ["a"]}}, TypeError, "tool"),
    ({"public_paths": ["health"]}, ValueError, "public_paths"),
    ({"mcp_path": "mcp"}, ValueError, "mcp_path"),
    ({"role_claims": [("a", 1)]}, TypeError, "role_claims"),
    ({"resource": RESOURCE, "resource_documentation": "http://docs.test"}, ValueError, "https"),
    ({"realm": 1}, TypeError, "realm"),
    ({"resource": RESOURCE, "realm": 'a\nb'}, ValueError, "control"),
    ({"observer": object()}, TypeError, "observer"),
    ({"scopes_supported": ["two words"], "resource": RESOURCE}, ValueError, "scope"),
])
def test_mistakes_are_refused_with_what_to_pass(options: dict[str, Any], error: type[Exception],
                                                match: str) -> None:
    with pytest.raises(error, match=match):
        build(**options)
