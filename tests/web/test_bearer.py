"""The sans-I/O Bearer rules: Authorization parsing, challenges, scopes, roles, metadata URLs."""

from __future__ import annotations

import pytest

from jwkverify import (
    AlgorithmNotAllowed,
    ClaimError,
    ExpiredToken,
    InvalidAudience,
    InvalidSignature,
    JOSEError,
    KeySetFetchError,
    MissingClaim,
)
from jwkverify._web.bearer import (
    BearerProblem,
    bearer_token,
    describe_refusal,
    granted_roles,
    granted_scopes,
    metadata_paths,
    metadata_url,
    parse_challenge,
    resource_problem,
    www_authenticate,
)


def test_bearer_token_takes_exactly_one_header_any_scheme_case() -> None:
    assert bearer_token(["Bearer abc.def-_~+/=="]) == "abc.def-_~+/=="
    assert bearer_token(["bearer   abc"]) == "abc"  # RFC 6750 §2.1: 1*SP
    assert bearer_token([]) == BearerProblem(None, "no Authorization header")
    assert bearer_token(["Bearer a", "Bearer a"]).error == "invalid_request"  # type: ignore[union-attr]


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Digest x", "Bearertoken", "Token abc", ""])
def test_other_schemes_are_no_credentials_without_error_code(value: str) -> None:
    problem = bearer_token([value])
    assert isinstance(problem, BearerProblem) and problem.error is None


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer a b", "Bearer a,b", "Bearer =abc",
                                   "Bearer a\tb",
                                   'Bearer "abc"', "Bearer ab=c"])
def test_malformed_bearer_credentials_are_invalid_request(value: str) -> None:
    problem = bearer_token([value])
    assert isinstance(problem, BearerProblem) and problem.error == "invalid_request"


def test_scopes_from_scope_string_and_scp_array_or_string() -> None:
    assert granted_scopes({"scope": "a b  c"}) == {"a", "b", "c"}
    assert granted_scopes({"scp": ["a", "b", 3, None]}) == {"a", "b"}
    assert granted_scopes({"scp": "a b"}) == {"a", "b"}
    assert granted_scopes({"scope": "a", "scp": ["b"]}) == {"a"}  # never the union: scp cannot widen scope
    assert granted_scopes({"scope": 3, "scp": ["b"]}) == {"b"}  # scope not a string: scp decides
    assert granted_scopes({"scope": ["not", "a", "string"], "scp": {"x": 1}}) == frozenset()
    assert granted_scopes({}) == frozenset()


def test_roles_from_configured_claims_and_nested_paths() -> None:
    claims = {"roles": ["a"], "groups": ["g"], "realm_access": {"roles": ["kc"]},
              "resource_access": {"api": {"roles": ["r"]}}, "https://example.com/roles": "ns"}
    assert granted_roles(claims, ["roles", ("realm_access", "roles")]) == {"a", "kc"}
    assert granted_roles(claims, ["groups"]) == {"g"}
    assert granted_roles(claims, [("resource_access", "api", "roles")]) == {"r"}
    assert granted_roles(claims, ["https://example.com/roles"]) == {"ns"}  # a dotted name is one name
    wrong_shapes = {"realm_access": ["x"], "roles": [1, "a"]}
    assert granted_roles(wrong_shapes, ["roles", ("realm_access", "roles")]) == {"a"}


def test_challenge_without_credentials_has_no_error() -> None:
    assert www_authenticate(resource_metadata="https://api.test/.well-known/oauth-protected-resource") == (
        'Bearer resource_metadata="https://api.test/.well-known/oauth-protected-resource"')
    assert www_authenticate() == "Bearer"


def test_challenge_values_are_quoted_and_escaped() -> None:
    value = www_authenticate(realm='a "quoted" \\ realm', error="invalid_token",
                             error_description='bad "token" \\ with\nnewline, ünïcode and \x00',
                             scope=["notes:read", "notes:write"], resource_metadata="https://api.test/m")
    scheme, params = parse_challenge(value)
    assert scheme == "Bearer"
    assert params["realm"] == 'a "quoted" \\ realm'  # quoted-pairs round-trip (RFC 9110 §5.6.4)
    # RFC 6750 §3: error_description only carries %x20-21 / %x23-5B / %x5D-7E.
    assert params["error_description"] == "bad 'token' / with?newline, ?n?code and ?"
    assert params["scope"] == "notes:read notes:write"
    assert params["resource_metadata"] == "https://api.test/m"
    assert value.isascii() and "\n" not in value


def test_long_descriptions_are_cut() -> None:
    _, params = parse_challenge(www_authenticate(error="invalid_token", error_description="x" * 1000))
    assert len(params["error_description"]) == 200


def test_bad_scope_names_and_control_characters_are_refused() -> None:
    for scope in ("two words", 'quo"te', "back\\slash", "", "ü"):
        with pytest.raises(ValueError):
            www_authenticate(scope=[scope])
    with pytest.raises(ValueError):
        www_authenticate(resource_metadata="https://api.test/\r\nX-Injected: 1")


def test_parse_challenge_refuses_what_is_not_one_challenge() -> None:
    assert parse_challenge('Bearer error="invalid_token", error_description="a, b"') == (
        "Bearer", {"error": "invalid_token", "error_description": "a, b"})
    assert parse_challenge("Bearer realm=token68ish") == ("Bearer", {"realm": "token68ish"})
    for bad in ('Bearer error="x", error="y"', 'Bearer error="unterminated', "Bearer a b"):
        with pytest.raises(ValueError):
            parse_challenge(bad)


def test_metadata_paths_per_rfc_9728_section_3_1() -> None:
    wk = "/.well-known/oauth-protected-resource"
    assert metadata_paths("https://api.test") == (wk,)
    assert metadata_paths("https://api.test/") == (wk,)
    assert metadata_paths("https://api.test/mcp") == (wk + "/mcp", wk)
    assert metadata_paths("https://api.test/tenant/mcp/") == (wk + "/tenant/mcp", wk)
    assert metadata_url("https://api.test:8443/mcp") == "https://api.test:8443" + wk + "/mcp"


def test_resource_problem() -> None:
    assert resource_problem("https://api.test/mcp") is None
    assert resource_problem("http://127.0.0.1:8000/mcp") is None
    assert resource_problem("http://localhost/mcp") is None
    assert "https" in (resource_problem("http://api.test/mcp") or "")
    assert "query" in (resource_problem("https://api.test/mcp?a=1") or "")
    assert "fragment" in (resource_problem("https://api.test/mcp#x") or "")
    assert resource_problem(b"https://api.test") is not None


@pytest.mark.parametrize(("error", "text"), [
    (ExpiredToken("secret detail https://issuer", claim="exp", reason="expired"), "the token has expired"),
    (InvalidAudience("expected https://api", claim="aud", reason="mismatch"),
     "the token was not issued for this resource"),
    (InvalidSignature("sig"), "the token's signature does not verify"),
    (AlgorithmNotAllowed("HS256 with RSA key"), "the token's algorithm is not accepted"),
    (MissingClaim("m", claim="sub", reason="missing"), "the token has no 'sub' claim"),
    (ClaimError("m", claim="typ", reason="mismatch"), "the token's 'typ' claim is not accepted"),
    (ClaimError("m", claim='we"ird claim', reason="mismatch"), "the token is not valid"),
    (JOSEError("anything"), "the token is not valid"),
    (KeySetFetchError("https://internal.example/jwks down"), "the token is not valid"),
    (RuntimeError("boom"), "the token is not valid"),
])
def test_refusal_descriptions_are_fixed_texts(error: BaseException, text: str) -> None:
    assert describe_refusal(error) == text


def test_dpop_challenges_and_lists_of_challenges() -> None:
    from jwkverify._web.bearer import parse_challenges

    # RFC 9449 §7.1, Figures 15 and 16.
    assert www_authenticate(scheme="DPoP", algs=["ES256", "PS256"]) == 'DPoP algs="ES256 PS256"'
    assert www_authenticate(scheme="DPoP") == "DPoP"
    refused = www_authenticate(scheme="DPoP", error="invalid_token",
                               error_description="Invalid DPoP key binding", algs=["ES256"])
    assert refused == 'DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256"'
    # RFC 9449 §7.2, Figures 17 and 18: several challenges in one value.
    assert parse_challenges('Bearer, DPoP algs="ES256 PS256"') == [
        ("Bearer", {}), ("DPoP", {"algs": "ES256 PS256"})]
    assert parse_challenges('Bearer error="invalid_token", error_description="Invalid token", '
                            'DPoP algs="ES256 PS256"') == [
        ("Bearer", {"error": "invalid_token", "error_description": "Invalid token"}),
        ("DPoP", {"algs": "ES256 PS256"})]
    assert parse_challenges('DPoP realm="a, b", error=use_dpop_nonce') == [
        ("DPoP", {"realm": "a, b", "error": "use_dpop_nonce"})]
    for bad in ('Bearer error="a", error="b"', 'Bearer ="x"', "Bearer error=\"x"):
        with pytest.raises(ValueError):
            parse_challenges(bad)
