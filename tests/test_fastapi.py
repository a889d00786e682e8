"""jwkverify.fastapi with the real FastAPI: through its TestClient, and once over uvicorn.

Skipped without the ``fastapi-test`` extra (a failure in CI). No ``from __future__ import
annotations`` here: FastAPI reads the endpoints' annotations, some naming local dependencies.
"""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import bad_inputs
import pytest
from frameworks import MALFORMED, claims_for, hostile_credentials, require

require("fastapi", "httpx", "uvicorn", extra="fastapi-test")

import httpx  # noqa: E402
from asgi_server import serve  # noqa: E402
from fastapi import Depends, FastAPI, Security  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from jwks_server import Clock, JWKSServer, Reply  # noqa: E402
from signing import make_key  # noqa: E402

from jwkverify import ANY_AUDIENCE, JWKSet, JWTVerifier, RemoteJWKSet, VerifiedToken  # noqa: E402
from jwkverify._web.bearer import parse_challenge  # noqa: E402
from jwkverify.fastapi import BearerAuth  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESOURCE = "https://api.test/notes"
METADATA = "https://api.test/.well-known/oauth-protected-resource/notes"
KEY = make_key("ES256", kid="k1")
KEYS = JWKSet.from_dict({"keys": [KEY.jwk]})


def token_for(**changes: Any) -> str:
    return KEY.token(claims_for(RESOURCE, **changes))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def notes_app(auth: BearerAuth) -> FastAPI:
    """An open operation, one for any valid token, one needing notes:write, one nested."""
    app = FastAPI()
    app.include_router(auth.router)

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/me")
    async def me(token: Annotated[VerifiedToken, Depends(auth)]) -> dict[str, Any]:
        return {"sub": token.subject, "client": token.client_id, "scopes": sorted(token.scopes),
                "roles": sorted(token.roles)}

    @app.post("/notes")
    async def add_note(token: Annotated[VerifiedToken, Security(auth, scopes=["notes:write"])]) -> str:
        return token.subject or ""

    async def writer(token: Annotated[VerifiedToken, Security(auth, scopes=["notes:write"])]
                     ) -> VerifiedToken:
        return token

    @app.delete("/notes")
    async def purge(token: Annotated[VerifiedToken, Security(writer, scopes=["notes:admin"])]) -> str:
        return "purged"

    return app


Client = Callable[..., TestClient]


@pytest.fixture
def client() -> Client:
    def build(verifier: Any = None, **options: Any) -> TestClient:
        verifier = verifier or JWTVerifier(KEYS, issuer="https://issuer.test", audience=RESOURCE)
        auth = BearerAuth(verifier, resource=RESOURCE, authorization_servers=["https://issuer.test"],
                          **options)
        return TestClient(notes_app(auth), base_url="https://api.test", raise_server_exceptions=False)

    return build


def challenge(response: Any) -> dict[str, str]:
    scheme, params = parse_challenge(response.headers["www-authenticate"])
    assert scheme == "Bearer"
    return params


# -- answers -------------------------------------------------------------------------------------


def test_no_token_is_401_with_the_challenge_and_no_error_code(client: Client) -> None:
    http = client()
    response = http.get("/me")
    assert response.status_code == 401  # FastAPI's HTTPBearer would answer without this challenge
    assert challenge(response) == {"resource_metadata": METADATA}
    assert challenge(http.post("/notes")) == {"scope": "notes:write", "resource_metadata": METADATA}
    assert http.get("/me", headers={"Authorization": "Basic YTpi"}).status_code == 401  # another scheme


def test_the_challenge_leads_to_the_metadata_document(client: Client) -> None:
    http = client(required_scopes=["notes:read"])
    url = challenge(http.get("/me"))["resource_metadata"]
    for path in (url.removeprefix("https://api.test"), "/.well-known/oauth-protected-resource"):
        response = http.get(path)
        assert response.status_code == 200
        assert response.json() == {"resource": RESOURCE, "authorization_servers": ["https://issuer.test"],
                                   "bearer_methods_supported": ["header"], "scopes_supported": ["notes:read"]}
        assert response.headers["access-control-allow-origin"] == "*"
        head = http.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == response.headers["content-length"]
    assert http.post("/.well-known/oauth-protected-resource").status_code == 405
    without_servers = BearerAuth(JWTVerifier(KEYS, audience=RESOURCE), resource=RESOURCE)
    app = FastAPI()
    app.include_router(without_servers.router)
    document = TestClient(app).get("/.well-known/oauth-protected-resource/notes").json()
    assert document == {"resource": RESOURCE, "bearer_methods_supported": ["header"]}  # RFC 9728 §2


def test_a_valid_token_gives_the_endpoint_the_verified_token(client: Client) -> None:
    token = token_for(scope=None, scp=["notes:read"], roles=["editor"])
    response = client().get("/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == {"sub": "alice", "client": "agent-1", "scopes": ["notes:read"],
                               "roles": ["editor"]}


def test_security_scopes_drive_the_scope_check(client: Client) -> None:
    http = client()
    response = http.post("/notes", headers=bearer(token_for()))
    assert response.status_code == 403
    assert challenge(response) == {"error": "insufficient_scope", "scope": "notes:write",
                                   "error_description": "the token lacks a scope this request needs",
                                   "resource_metadata": METADATA}
    assert http.post("/notes", headers=bearer(token_for(scope="notes:write"))).json() == "alice"
    # Nested Security() scopes add up: the challenge names every scope the operation needs.
    response = http.delete("/notes", headers=bearer(token_for(scope="notes:write")))
    assert response.status_code == 403
    assert set(challenge(response)["scope"].split()) == {"notes:write", "notes:admin"}
    admin = token_for(scope="notes:write notes:admin")
    assert http.delete("/notes", headers=bearer(admin)).status_code == 200


def test_required_scopes_and_roles_apply_to_every_protected_operation(client: Client) -> None:
    http = client(required_scopes=["notes:read"], required_roles=["staff"])
    response = http.get("/me", headers=bearer(token_for(scope="profile", roles=["staff"])))
    assert response.status_code == 403 and challenge(response)["scope"] == "notes:read"
    response = http.get("/me", headers=bearer(token_for(roles=["guest"])))
    assert response.status_code == 403 and "scope" not in challenge(response)
    assert http.get("/me", headers=bearer(token_for(realm_access={"roles": ["staff"]}))).status_code == 200
    assert client(required_roles=["staff"], role_claims=["groups"]).get(
        "/me", headers=bearer(token_for(groups=["staff"]))).status_code == 200
    assert http.get("/health").status_code == 200  # an open operation stays open


@pytest.mark.parametrize(("changes", "description"), [
    ({"exp": 1}, "the token has expired"),
    ({"aud": "https://other.test"}, "the token was not issued for this resource"),
    ({"iss": "https://evil.test"}, "the token's issuer is not trusted"),
])
def test_refused_tokens_are_401_invalid_token(client: Client, changes: dict[str, Any],
                                              description: str) -> None:
    response = client().get("/me", headers=bearer(token_for(**changes)))
    assert response.status_code == 401
    assert challenge(response) == {"error": "invalid_token", "error_description": description,
                                   "resource_metadata": METADATA}
    assert response.json() == {"detail": description}


def test_malformed_credentials_and_two_headers_are_400(client: Client) -> None:
    http = client()
    valid = "Bearer " + token_for()
    for headers in [*([("Authorization", value)] for value in MALFORMED),
                    [("Authorization", valid), ("Authorization", valid)]]:
        response = http.get("/me", headers=headers)
        assert response.status_code == 400, headers
        assert challenge(response)["error"] == "invalid_request"


def test_header_names_are_matched_in_any_case() -> None:
    import asyncio

    from fastapi import HTTPException
    from fastapi.security import SecurityScopes
    from starlette.requests import Request
    from starlette.responses import Response

    auth = BearerAuth(JWTVerifier(KEYS, audience=RESOURCE), resource=RESOURCE)
    valid = ("Bearer " + token_for()).encode()

    def call(*headers: tuple[bytes, bytes]) -> Any:
        request = Request({"type": "http", "headers": list(headers)})
        return asyncio.run(auth(request, SecurityScopes(), Response()))

    assert call((b"Authorization", valid)).subject == "alice"  # a server that keeps the client's case
    with pytest.raises(HTTPException) as two:
        call((b"authorization", valid), (b"AUTHORIZATION", valid))
    assert two.value.status_code == 400


def test_hostile_credentials_are_401_never_a_500(client: Client) -> None:
    http = client()
    for name, value in hostile_credentials(KEY, RESOURCE).items():
        response = http.get("/me", headers={"Authorization": value})
        assert response.status_code == 401, name
        assert challenge(response)["error"] == "invalid_token", name
        assert "Traceback" not in response.text


def test_a_verifier_crash_is_401_and_a_down_key_set_is_503_with_retry_after(client: Client) -> None:
    class Broken:
        def keys_for(self, alg: str, kid: str | None) -> Any:
            raise RuntimeError("bug")

        async def keys_for_async(self, alg: str, kid: str | None) -> Any:
            raise RuntimeError("bug")

    broken = client(JWTVerifier(Broken(), audience=RESOURCE))
    assert broken.get("/me", headers=bearer(token_for())).status_code == 401
    jwks = JWKSServer()
    try:
        jwks.respond = lambda request: Reply(500, b"down")
        clock = Clock()
        http = client(JWTVerifier(RemoteJWKSet(jwks.url(), allow_http=True, clock=clock), audience=RESOURCE))
        response = http.get("/me", headers=bearer(token_for()))
        assert response.status_code == 503
        assert "www-authenticate" not in response.headers  # not the client's fault: no challenge
        # RFC 9110 §10.2.3: when the key set tries again (its backoff: 1 s after one failure)
        assert response.headers["retry-after"] == "1"
        jwks.serve_keys(KEY.jwk)
        clock.advance(31)
        assert http.get("/me", headers=bearer(token_for())).status_code == 200
    finally:
        jwks.close()


def test_the_bad_inputs_every_face_refuses_get_the_same_answers(client: Client) -> None:
    http = client()
    for case, value, status in bad_inputs.cases(KEY, claims_for(RESOURCE)):
        response = http.get("/me", headers={"Authorization": value})
        assert response.status_code == status, case
        assert "Traceback" not in response.text, case
    crashing = client(bad_inputs.CrashingVerifier(RESOURCE))
    assert crashing.get("/me", headers=bearer(token_for())).status_code == 401


def test_the_verified_token_is_built_once_per_cached_token_and_read_only() -> None:
    seen: list[VerifiedToken] = []
    auth = BearerAuth(JWTVerifier(KEYS, audience=RESOURCE, cache_size=8), resource=RESOURCE)
    app = FastAPI()

    @app.get("/claims")
    async def claims(token: Annotated[VerifiedToken, Depends(auth)]) -> dict[str, Any]:
        seen.append(token)
        with pytest.raises(TypeError, match="read-only"):
            token.claims["roles"].append("admin")
        return dict(token.claims)

    http = TestClient(app, base_url="https://api.test")
    headers = bearer(token_for(roles=["editor"]))
    assert http.get("/claims", headers=headers).json()["roles"] == ["editor"]
    assert http.get("/claims", headers=headers).json()["roles"] == ["editor"]  # the handler changed nothing
    assert seen[0] is seen[1]  # shared while the verifier caches the token


def test_the_observer_hears_each_decided_request_once(client: Client) -> None:
    from jwkverify.observe import Counters

    counters = Counters()
    http = client(observer=counters, required_roles=["staff"])
    staff = token_for(roles=["staff"])
    assert http.get("/me", headers=bearer(staff)).status_code == 200
    assert http.get("/me").status_code == 401
    assert http.get("/me", headers={"Authorization": "Bearer a b"}).status_code == 400
    assert http.get("/me", headers=bearer(token_for(exp=1))).status_code == 401
    assert http.post("/notes", headers=bearer(staff)).status_code == 403
    assert http.get("/me", headers=bearer(token_for())).status_code == 403
    assert http.get("/health").status_code == 200  # an open operation: not decided here
    assert dict(counters.snapshot().verdicts) == {
        ("accepted", None): 1, ("no_credentials", None): 1, ("invalid_request", None): 1,
        ("invalid_token", "expired_token"): 1, ("insufficient_scope", None): 1,
        ("insufficient_role", None): 1}


def test_a_security_scope_that_is_no_scope_name_is_a_clear_error() -> None:
    auth = BearerAuth(JWTVerifier(KEYS, audience=RESOURCE), resource=RESOURCE)
    app = FastAPI()

    @app.get("/x")
    async def x(token: Annotated[VerifiedToken, Security(auth, scopes=["two words"])]) -> str:
        return ""

    with pytest.raises(ValueError, match=r"Security\(scopes=...\): 'two words' is not a scope name"):
        TestClient(app, base_url="https://api.test").get("/x", headers=bearer(token_for()))


def test_verification_never_blocks_the_event_loop(client: Client) -> None:
    class AsyncOnly:
        audiences = frozenset({RESOURCE})

        def verify(self, token: str) -> dict[str, Any]:
            raise AssertionError("the blocking verify was called")

        async def verify_async(self, token: str) -> dict[str, Any]:
            return {"sub": "alice", "scope": "notes:read"}

    assert client(AsyncOnly()).get("/me", headers=bearer("a.b.c")).json()["sub"] == "alice"


# -- OpenAPI, construction, import ---------------------------------------------------------------


def test_openapi_shows_the_bearer_scheme_on_protected_operations_only(client: Client) -> None:
    document = client().get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["BearerAuth"]["type"] == "http"
    assert document["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"
    paths = document["paths"]
    assert "security" not in paths["/health"]["get"]
    assert paths["/me"]["get"]["security"] == [{"BearerAuth": []}]
    assert paths["/notes"]["post"]["security"] == [{"BearerAuth": ["notes:write"]}]
    assert not any(path.startswith("/.well-known") for path in paths)


def test_a_verifier_without_an_audience_and_bad_options_are_refused() -> None:
    for audience in (None, ANY_AUDIENCE):
        with pytest.raises(ValueError, match="audience"):
            BearerAuth(JWTVerifier(KEYS, audience=audience), resource=RESOURCE)
    verifier = JWTVerifier(KEYS, audience=RESOURCE)
    with pytest.raises(ValueError, match="https"):
        BearerAuth(verifier, resource="http://api.example/notes")
    with pytest.raises(ValueError, match="scope name"):
        BearerAuth(verifier, resource=RESOURCE, required_scopes=["a b"])
    with pytest.raises(TypeError, match="required_roles"):
        BearerAuth(verifier, resource=RESOURCE, required_roles=[""])
    with pytest.raises(TypeError, match="role_claims"):
        BearerAuth(verifier, resource=RESOURCE, role_claims=[1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="resource must be a str"):
        BearerAuth(verifier, resource=None)  # type: ignore[arg-type]
    assert BearerAuth(verifier, resource=RESOURCE).metadata_url == METADATA


def test_the_module_names_the_extra_to_install() -> None:
    code = ("import sys; sys.modules['fastapi'] = None\n"
            "try:\n    import jwkverify.fastapi\nexcept ImportError as exc:\n    print(exc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    assert 'pip install "jwkverify[fastapi]"' in result.stdout


# -- over a real server ----------------------------------------------------------------------------


def test_over_uvicorn() -> None:
    from asgi_server import base_url, listener

    sock = listener()
    resource = base_url(sock) + "/notes"
    auth = BearerAuth(JWTVerifier(KEYS, audience=resource, cache_size=16), resource=resource)
    with serve(notes_app(auth), sock) as base:
        token = KEY.token(claims_for(resource, scope="notes:write"))
        assert httpx.post(base + "/notes", headers=bearer(token)).json() == "alice"
        response = httpx.get(base + "/me")
        assert response.status_code == 401
        assert httpx.get(challenge(response)["resource_metadata"]).json()["resource"] == resource
        big = httpx.get(base + "/me", headers={"Authorization": "Bearer " + "a" * 20_000})
        assert big.status_code in (400, 401, 431) and "Traceback" not in big.text
