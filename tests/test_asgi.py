"""BearerAuthMiddleware over real HTTP: uvicorn on 127.0.0.1, httpx as the client.

Apps are a Starlette application (``request.auth``/``request.user``, ``@requires``,
lifespan) and a raw ASGI 3 callable. One test per rule of issue 7's ASGI section.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import bad_inputs
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from asgi_server import base_url, listener, serve  # noqa: E402
from jwks_server import Clock, JWKSServer, Reply  # noqa: E402
from signing import make_key  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.authentication import requires  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from jwkverify import (  # noqa: E402
    ANY_AUDIENCE,
    JWKSet,
    JWTVerifier,
    MultiIssuerVerifier,
    RemoteJWKSet,
)
from jwkverify._web.bearer import parse_challenge  # noqa: E402
from jwkverify.asgi import BearerAuthMiddleware, VerifiedToken, verified_token  # noqa: E402

ISSUER = "https://issuer.test"
AUTH_SERVER = "https://issuer.test"
KEY = make_key("ES256", kid="k1")
ATTACKER = make_key("ES256", kid="k1")  # same kid, other key
KEYS = JWKSet.from_dict({"keys": [KEY.jwk]})


def claims(resource: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": resource, "sub": "alice", "client_id": "agent-1", "iat": now,
            "exp": now + 600, "scope": "notes:read"}
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- the apps behind the middleware ----------------------------------------------------

started: list[str] = []


async def whoami(request: Request) -> JSONResponse:
    auth = request.auth
    assert isinstance(auth, VerifiedToken)
    return JSONResponse({"user": request.user.display_name, "authenticated": request.user.is_authenticated,
                         "scopes": sorted(auth.scopes), "roles": sorted(auth.roles), "claims": auth.claims,
                         "client_id": auth.client_id, "path": request.url.path})


@requires("notes:write")
async def write_note(request: Request) -> JSONResponse:
    return JSONResponse({"written": True})


def starlette_app() -> Starlette:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        started.append("up")
        yield

    routes = [Route(path, whoami, methods=["GET", "POST"]) for path in
              ("/whoami", "/admin", "/admin/users", "/administrator", "/items", "/public/health", "/open",
               "/mcp")]
    routes.append(Route("/notes", write_note, methods=["POST"]))
    return Starlette(routes=routes, lifespan=lifespan)


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI 3 app: echoes the path, the verified subject and the body it received."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    token = verified_token(scope)
    payload = {"path": scope["path"], "sub": token.subject if token else None, "body": body.decode()}
    data = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


class Served:
    """A protected app running under uvicorn, with an httpx client and a token factory."""

    def __init__(self, url: str, resource: str, middleware: BearerAuthMiddleware, client: Any) -> None:
        self.url, self.resource, self.middleware, self.http = url, resource, middleware, client

    def token(self, key: Any = KEY, header: dict[str, Any] | None = None, **changes: Any) -> str:
        return str(key.token(claims(self.resource, **changes), header=header))


Factory = Callable[..., Served]


@pytest.fixture
def protected() -> Iterator[Factory]:
    """Start ``BearerAuthMiddleware(app, verifier, **options)`` on a free port; stopped after the test."""
    stack: list[Any] = []

    def start(app: Any = None, *, path: str = "/mcp", verifier: Any = None, **options: Any) -> Served:
        sock = listener()
        resource = base_url(sock) + path
        verifier = verifier or JWTVerifier(KEYS, issuer=ISSUER, audience=resource)
        options.setdefault("authorization_servers", [AUTH_SERVER])
        middleware = BearerAuthMiddleware(app or starlette_app(), verifier, resource=resource, **options)
        server = serve(middleware, sock)
        url = server.__enter__()
        stack.append(server)
        client = httpx.Client(base_url=url, timeout=10)
        stack.append(client)
        return Served(url, resource, middleware, client)

    yield start
    for item in reversed(stack):
        item.__exit__(None, None, None) if not isinstance(item, httpx.Client) else item.close()


def challenge(response: Any) -> dict[str, str]:
    scheme, params = parse_challenge(response.headers["www-authenticate"])
    assert scheme == "Bearer"
    return params


# -- no token, and where it leads ----------------------------------------------------------


def test_missing_token_is_401_with_resource_metadata_and_no_error_code(protected: Factory) -> None:
    served = protected()
    response = served.http.get("/whoami")
    assert response.status_code == 401
    params = challenge(response)
    assert params == {"resource_metadata": served.middleware.metadata_url}
    assert "error" not in params  # RFC 6750 §3.1: no credentials, no error code


def test_the_401_header_leads_the_client_to_the_metadata_document(protected: Factory) -> None:
    served = protected(required_scopes=["notes:read"], resource_documentation="https://docs.example.com/api",
                       resource_name="Notes")
    url = challenge(served.http.get("/whoami"))["resource_metadata"]
    assert url == served.url + "/.well-known/oauth-protected-resource/mcp"  # RFC 9728 §3.1
    document = httpx.get(url).json()  # no token needed
    assert document == {
        "resource": served.resource,
        "authorization_servers": [AUTH_SERVER],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["notes:read"],
        "resource_name": "Notes",
        "resource_documentation": "https://docs.example.com/api",
    }


def test_missing_token_challenge_names_the_scopes_the_request_needs(protected: Factory) -> None:
    served = protected(required_scopes=["notes:read"], route_scopes={"/admin": ["notes:admin"]})
    assert challenge(served.http.get("/admin"))["scope"] == "notes:read notes:admin"


def test_metadata_is_served_at_the_bare_well_known_path_too(protected: Factory) -> None:
    served = protected()
    response = served.http.get("/.well-known/oauth-protected-resource")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["resource"] == served.resource
    assert "scopes_supported" not in response.json()


def test_metadata_for_a_resource_without_path(protected: Factory) -> None:
    served = protected(path="")
    assert served.middleware.metadata_url == served.url + "/.well-known/oauth-protected-resource"
    assert served.http.get("/.well-known/oauth-protected-resource").json()["resource"] == served.url


def test_metadata_head_and_other_methods(protected: Factory) -> None:
    served = protected()
    head = served.http.head("/.well-known/oauth-protected-resource/mcp")
    assert head.status_code == 200 and head.content == b""
    post = served.http.post("/.well-known/oauth-protected-resource/mcp")
    assert post.status_code == 405 and post.headers["allow"] == "GET, HEAD"


def test_scopes_supported_defaults_to_every_scope_the_middleware_requires(protected: Factory) -> None:
    served = protected(required_scopes=["a"], route_scopes={"/x": ["b", "a"]}, tool_scopes={"t": ["c"]})
    assert served.middleware.metadata["scopes_supported"] == ["a", "b", "c"]
    explicit = protected(required_scopes=["a"], scopes_supported=["a", "z"])
    assert explicit.middleware.metadata["scopes_supported"] == ["a", "z"]


# -- a valid token --------------------------------------------------------------------------


def test_valid_token_reaches_the_app_with_claims_in_request_auth_and_user(protected: Factory) -> None:
    served = protected()
    response = served.http.get("/whoami", headers=bearer(served.token(roles=["editor"])))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"] == "alice" and body["authenticated"] is True
    assert body["scopes"] == ["notes:read"] and body["roles"] == ["editor"]
    assert body["client_id"] == "agent-1"
    assert body["claims"]["aud"] == served.resource


def test_starlette_requires_reads_the_scopes(protected: Factory) -> None:
    served = protected()
    assert served.http.post("/notes", headers=bearer(served.token())).status_code == 403
    allowed = served.http.post("/notes", headers=bearer(served.token(scope="notes:read notes:write")))
    assert allowed.json() == {"written": True}


def test_raw_asgi_app_finds_the_token_in_the_scope(protected: Factory) -> None:
    served = protected(raw_app)
    assert served.http.get("/anything", headers=bearer(served.token())).json()["sub"] == "alice"


def test_the_lifespan_passes_through(protected: Factory) -> None:
    started.clear()
    protected()
    assert started == ["up"]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_scheme_is_case_insensitive(protected: Factory, scheme: str) -> None:
    served = protected()
    response = served.http.get("/whoami", headers={"Authorization": f"{scheme} {served.token()}"})
    assert response.status_code == 200


def test_multi_issuer_verifier_is_accepted(protected: Factory) -> None:
    sock_resource = "http://127.0.0.1/api"
    other = make_key("ES256", kid="o1")
    multi = MultiIssuerVerifier({ISSUER: KEYS, "https://other.test": JWKSet.from_dict({"keys": [other.jwk]})},
                                audience=sock_resource)
    served = protected(verifier=multi, path="/api")
    served.resource = sock_resource
    token = other.token(claims(sock_resource, iss="https://other.test"))
    assert served.http.get("/whoami", headers=bearer(token)).json()["claims"]["iss"] == "https://other.test"


# -- refused tokens: 401 invalid_token -----------------------------------------------------------


REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("expired", {"exp": int(time.time()) - 60}, "the token has expired"),
    ("not yet valid", {"nbf": int(time.time()) + 3600}, "the token is not valid yet"),
    ("wrong audience", {"aud": "https://other.test/mcp"}, "the token was not issued for this resource"),
    ("wrong issuer", {"iss": "https://evil.test"}, "the token's issuer is not trusted"),
]


@pytest.mark.parametrize(("case", "changes", "description"), REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refused_claims_are_401_invalid_token(protected: Factory, case: str, changes: dict[str, Any],
                                              description: str) -> None:
    served = protected()
    token = served.token(**changes)
    response = served.http.get("/whoami", headers=bearer(token))
    assert response.status_code == 401
    params = challenge(response)
    assert params["error"] == "invalid_token"
    assert params["error_description"] == description
    assert params["resource_metadata"] == served.middleware.metadata_url
    assert response.json() == {"error": "invalid_token", "error_description": description}


def test_unknown_kid_bad_signature_and_garbage_are_401(protected: Factory) -> None:
    served = protected()
    cases = {
        served.token(header={"kid": "nope"}): "the token's signing key is not known",
        served.token(key=ATTACKER): "the token's signature does not verify",
        "not.a.jwt": "the token is malformed",
        served.token(header={"alg": "none"}): "the token's algorithm is not accepted",
    }
    for token, description in cases.items():
        response = served.http.get("/whoami", headers=bearer(token))
        assert response.status_code == 401, token
        assert challenge(response)["error_description"] == description


def test_refusals_never_echo_the_token_or_what_the_server_expects(protected: Factory) -> None:
    served = protected()
    refused = ({"exp": 1}, {"aud": "https://x.test"}, {"iss": "https://evil.test"}, {"nbf": 4_000_000_000})
    for changes in refused:
        token = served.token(**changes)
        response = served.http.get("/whoami", headers=bearer(token))
        text = response.headers["www-authenticate"] + response.text
        assert token not in text and token.split(".")[2] not in text
        assert ISSUER not in text and "evil" not in text


def test_a_verifier_crash_is_a_401_not_a_500(protected: Factory) -> None:
    class Broken:
        def keys_for(self, alg: str, kid: str | None) -> Any:
            raise RuntimeError("bug")

        async def keys_for_async(self, alg: str, kid: str | None) -> Any:
            raise RuntimeError("bug")

    sock_resource = "http://127.0.0.1/mcp"
    served = protected(verifier=JWTVerifier(Broken(), audience=sock_resource))
    response = served.http.get("/whoami", headers=bearer(served.token()))
    assert response.status_code == 401
    assert challenge(response)["error"] == "invalid_token"


def test_a_server_side_key_problem_is_503(protected: Factory) -> None:
    from jwkverify import InvalidKey

    class Misconfigured:
        def keys_for(self, alg: str, kid: str | None) -> Any:
            raise InvalidKey("bad key material")

        async def keys_for_async(self, alg: str, kid: str | None) -> Any:
            raise InvalidKey("bad key material")

    served = protected(verifier=JWTVerifier(Misconfigured(), audience="http://127.0.0.1/mcp"))
    assert served.http.get("/whoami", headers=bearer(served.token())).status_code == 503


# -- the key set down, then back ---------------------------------------------------------------


def test_key_set_unavailable_is_503_then_recovers(protected: Factory) -> None:
    jwks = JWKSServer()
    try:
        jwks.respond = lambda request: Reply(500, b"down")
        clock = Clock()
        remote = RemoteJWKSet(jwks.url(), allow_http=True, clock=clock)
        sock_resource = "http://127.0.0.1/mcp"
        served = protected(verifier=JWTVerifier(remote, issuer=ISSUER, audience=sock_resource))
        served.resource = sock_resource
        down = served.http.get("/whoami", headers=bearer(served.token()))
        assert down.status_code == 503
        assert "www-authenticate" not in down.headers  # not the client's fault: no challenge
        # RFC 9110 §10.2.3: when the key set tries again (its backoff: 1 s after one failure)
        assert down.headers["retry-after"] == "1"
        assert down.json()["error"] == "temporarily_unavailable"
        jwks.serve_keys(KEY.jwk)
        clock.advance(31)  # past the retry backoff
        assert served.http.get("/whoami", headers=bearer(served.token())).status_code == 200
    finally:
        jwks.close()


# -- malformed credentials ---------------------------------------------------------------------------


def test_two_authorization_headers_are_400_invalid_request(protected: Factory) -> None:
    served = protected()
    token = served.token()
    headers = [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    response = served.http.get("/whoami", headers=headers)
    assert response.status_code == 400
    assert challenge(response)["error"] == "invalid_request"


@pytest.mark.parametrize("value", ["Bearer", "Bearer a b", "Bearer a,b", "Bearer ä"])
def test_malformed_bearer_credentials_are_400(protected: Factory, value: str) -> None:
    served = protected()
    response = served.http.get("/whoami", headers={"Authorization": value.encode("utf-8")})
    assert response.status_code == 400
    assert challenge(response)["error"] == "invalid_request"


def test_another_scheme_is_treated_as_no_token(protected: Factory) -> None:
    served = protected()
    response = served.http.get("/whoami", headers={"Authorization": "Basic YWxpY2U6cGFzcw=="})
    assert response.status_code == 401
    assert "error" not in challenge(response)


def test_a_token_in_the_query_string_is_never_read(protected: Factory) -> None:
    served = protected()
    response = served.http.get("/whoami", params={"access_token": served.token()})
    assert response.status_code == 401
    assert "error" not in challenge(response)


def test_a_token_in_a_form_body_is_never_read(protected: Factory) -> None:
    served = protected()
    response = served.http.post("/whoami", data={"access_token": served.token()})
    assert response.status_code == 401
    assert "error" not in challenge(response)


# -- scopes and roles ------------------------------------------------------------------------


def test_missing_app_scope_is_403_insufficient_scope_with_scope(protected: Factory) -> None:
    served = protected(required_scopes=["notes:read", "notes:list"])
    response = served.http.get("/whoami", headers=bearer(served.token()))
    assert response.status_code == 403
    params = challenge(response)
    assert params["error"] == "insufficient_scope"
    assert params["scope"] == "notes:read notes:list"  # step-up: every scope this request needs
    assert params["resource_metadata"] == served.middleware.metadata_url


def test_scp_array_and_scp_string_grant_scopes(protected: Factory) -> None:
    served = protected(required_scopes=["notes:read", "notes:list"])
    entra = served.token(scope=None, scp=["notes:read", "notes:list"])
    assert served.http.get("/whoami", headers=bearer(entra)).status_code == 200
    spaced = served.token(scope=None, scp="notes:read notes:list")
    assert served.http.get("/whoami", headers=bearer(spaced)).status_code == 200
    # scope decides when it is a string: scp never widens a narrowed scope (issue 14)
    both = served.token(scope="notes:read", scp=["notes:read", "notes:list"])
    refused = served.http.get("/whoami", headers=bearer(both))
    assert refused.status_code == 403
    assert 'scope="notes:read notes:list"' in refused.headers["www-authenticate"]


def test_route_scopes_apply_to_the_path_and_below_not_to_lookalikes(protected: Factory) -> None:
    served = protected(route_scopes={"/admin": ["notes:admin"]})
    token = bearer(served.token())
    assert served.http.get("/admin", headers=token).status_code == 403
    assert served.http.get("/admin/users", headers=token).status_code == 403
    assert served.http.get("/administrator", headers=token).status_code == 200
    assert challenge(served.http.get("/admin/users", headers=token))["scope"] == "notes:admin"
    admin = bearer(served.token(scope="notes:read notes:admin"))
    assert served.http.get("/admin/users", headers=admin).status_code == 200


def test_route_scopes_by_method(protected: Factory) -> None:
    served = protected(route_scopes={"POST /items": ["notes:write"]})
    token = bearer(served.token())
    assert served.http.get("/items", headers=token).status_code == 200
    response = served.http.post("/items", headers=token)
    assert response.status_code == 403 and challenge(response)["scope"] == "notes:write"


def test_dot_segments_do_not_dodge_route_scopes(protected: Factory) -> None:
    served = protected(raw_app, route_scopes={"/admin": ["notes:admin"]}, public_paths=["/public/"])
    token = bearer(served.token())
    raw = httpx.Request("GET", served.url + "/public/../admin", headers=token)
    raw.url = raw.url.copy_with(raw_path=b"/public/../admin")
    assert served.http.send(raw).status_code == 403
    unauthenticated = httpx.Request("GET", served.url + "/public/../admin")
    unauthenticated.url = unauthenticated.url.copy_with(raw_path=b"/public/../admin")
    assert served.http.send(unauthenticated).status_code == 401


def test_required_roles_from_roles_and_keycloak_realm_access(protected: Factory) -> None:
    served = protected(route_roles={"/admin": ["admin"]})
    assert served.http.get("/admin", headers=bearer(served.token(roles=["admin"]))).status_code == 200
    keycloak = served.token(realm_access={"roles": ["admin", "user"]})
    assert served.http.get("/admin", headers=bearer(keycloak)).status_code == 200
    response = served.http.get("/admin", headers=bearer(served.token(roles=["user"])))
    assert response.status_code == 403
    params = challenge(response)
    assert params["error"] == "insufficient_scope" and "scope" not in params  # a role is no OAuth scope


def test_groups_count_as_roles_only_when_configured(protected: Factory) -> None:
    default = protected(required_roles=["admin"])
    assert default.http.get("/whoami", headers=bearer(default.token(groups=["admin"]))).status_code == 403
    with_groups = protected(required_roles=["admin"], role_claims=["roles", "groups"])
    member = bearer(with_groups.token(groups=["admin"]))
    assert with_groups.http.get("/whoami", headers=member).status_code == 200


def test_public_paths_need_no_token(protected: Factory) -> None:
    served = protected(raw_app, public_paths=["/open", "/public/"])
    assert served.http.get("/open").json()["sub"] is None
    assert served.http.get("/public/health").status_code == 200
    assert served.http.get("/open/x").status_code == 401  # exact path, not a prefix
    assert served.http.get("/publicity").status_code == 401


# -- MCP tools/call gating -----------------------------------------------------------------------------


def call(tool: str, **extra: Any) -> dict[str, Any]:
    params = {"name": tool, "arguments": {}}
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params, **extra}


def test_tool_scopes_gate_tools_call_with_a_step_up_challenge(protected: Factory) -> None:
    served = protected(raw_app, required_scopes=["notes:read"], tool_scopes={"delete_note": ["notes:write"]})
    token = bearer(served.token())
    response = served.http.post("/mcp", headers=token, json=call("delete_note"))
    assert response.status_code == 403
    assert challenge(response)["scope"] == "notes:read notes:write"
    writer = bearer(served.token(scope="notes:read notes:write"))
    passed = served.http.post("/mcp", headers=writer, json=call("delete_note"))
    assert passed.status_code == 200
    assert json.loads(passed.json()["body"]) == call("delete_note")  # the app gets the body unchanged


def test_ungated_tools_and_other_methods_pass(protected: Factory) -> None:
    served = protected(raw_app, tool_scopes={"delete_note": ["notes:write"]})
    token = bearer(served.token())
    assert served.http.post("/mcp", headers=token, json=call("read_note")).status_code == 200
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    assert served.http.post("/mcp", headers=token, json=listing).status_code == 200
    assert served.http.get("/mcp", headers=token).status_code == 200
    # Outside the MCP endpoint the body is not read at all.
    assert served.http.post("/other", headers=token, content=b"not json").status_code == 200


def test_tool_bodies_that_could_be_read_two_ways_are_refused(protected: Factory) -> None:
    served = protected(raw_app, tool_scopes={"delete_note": ["notes:write"]})
    token = bearer(served.token())
    twice = b'{"id":1,"method":"tools/call","params":{"name":"delete_note","name":"read_note"}}'
    batch = json.dumps([call("delete_note")]).encode()
    for body in (twice, batch, b"not json", b'{"method":"tools/call","params":{"name":1}}'):
        headers = {**token, "Content-Type": "application/json"}
        response = served.http.post("/mcp", headers=headers, content=body)
        assert response.status_code == 400, body
        assert "www-authenticate" not in response.headers


def test_tool_bodies_over_the_limit_are_413(protected: Factory) -> None:
    served = protected(raw_app, tool_scopes={"delete_note": ["notes:write"]}, max_body_size=1000)
    token = bearer(served.token())
    big = call("read_note", padding="x" * 2000)
    assert served.http.post("/mcp", headers=token, json=big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
        yield json.dumps(big).encode()

    assert served.http.post("/mcp", headers=token, content=chunks()).status_code == 413


# -- construction rules ------------------------------------------------------------------------


def test_a_verifier_without_audience_is_refused() -> None:
    for audience in (None, ANY_AUDIENCE):
        with pytest.raises(ValueError, match="audience"):
            BearerAuthMiddleware(raw_app, JWTVerifier(KEYS, audience=audience), resource="https://api.test/mcp",
                                 authorization_servers=[AUTH_SERVER])
    with pytest.raises(TypeError):
        BearerAuthMiddleware(raw_app, KEYS, resource="https://api.test/mcp",  # type: ignore[arg-type]
                             authorization_servers=[AUTH_SERVER])
    with pytest.raises(ValueError, match="audience"):
        BearerAuthMiddleware(raw_app, MultiIssuerVerifier({ISSUER: KEYS}), resource="https://api.test/mcp",
                             authorization_servers=[AUTH_SERVER])


@pytest.mark.parametrize("resource", ["http://api.test/mcp", "https://api.test/mcp?x=1", "https://api.test/#f",
                                      "https://user:pw@api.test/", "ftp://api.test/", "/mcp"])
def test_resource_must_be_an_https_url_without_query_or_fragment(resource: str) -> None:
    with pytest.raises(ValueError):
        BearerAuthMiddleware(raw_app, JWTVerifier(KEYS, audience="x"), resource=resource,
                             authorization_servers=[AUTH_SERVER])


def test_options_are_checked_at_construction() -> None:
    def build(**options: Any) -> BearerAuthMiddleware:
        options.setdefault("authorization_servers", [AUTH_SERVER])
        return BearerAuthMiddleware(raw_app, JWTVerifier(KEYS, audience="x"), resource="https://api.test/mcp",
                                    **options)

    build(required_scopes=["notes:read"], route_scopes={"GET /a": ["x"]}, role_claims=[("a", "b")])
    with pytest.raises(ValueError, match="scope"):
        build(required_scopes=['bad"scope'])
    with pytest.raises(ValueError, match="scope"):
        build(route_scopes={"/a": ["two words"]})
    with pytest.raises(ValueError):
        build(authorization_servers=[])
    with pytest.raises(ValueError):
        build(route_scopes={"get /a": ["x"]})
    with pytest.raises(ValueError):
        build(public_paths=["health"])
    with pytest.raises(TypeError):
        build(role_claims=[("a", 1)])


# -- WebSocket, driven as raw ASGI ----------------------------------------------------------------


def run_websocket(middleware: BearerAuthMiddleware,
                  headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    import asyncio

    sent: list[dict[str, Any]] = []
    messages = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "headers": headers, "subprotocols": []}
    asyncio.run(middleware(scope, receive, send))  # type: ignore[arg-type]
    return sent


def test_websocket_without_token_is_closed_before_accept() -> None:
    async def ws_app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})

    middleware = BearerAuthMiddleware(ws_app, JWTVerifier(KEYS, issuer=ISSUER, audience="https://api.test/mcp"),
                                      resource="https://api.test/mcp", authorization_servers=[AUTH_SERVER])
    assert run_websocket(middleware, []) == [{"type": "websocket.close", "code": 1008, "reason": ""}]
    token = KEY.token(claims("https://api.test/mcp"))
    assert run_websocket(middleware, [(b"authorization", f"Bearer {token}".encode())]) == [
        {"type": "websocket.accept"}]


def test_the_servers_scope_is_not_modified() -> None:
    import asyncio

    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)

    middleware = BearerAuthMiddleware(app, JWTVerifier(KEYS, issuer=ISSUER, audience="https://api.test/mcp"),
                                      resource="https://api.test/mcp", authorization_servers=[AUTH_SERVER])
    token = KEY.token(claims("https://api.test/mcp"))
    headers = [(b"authorization", f"Bearer {token}".encode())]
    scope = {"type": "http", "method": "GET", "path": "/x", "headers": headers}

    async def receive() -> Any:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        pass

    asyncio.run(middleware(scope, receive, send))  # type: ignore[arg-type]
    assert "auth" not in scope and seen[0]["auth"].subject == "alice"



# -- bad input on this face: never a 500 (issue 14) ------------------------------------------------


def drive(middleware: BearerAuthMiddleware, headers: list[tuple[bytes, bytes]], path: str = "/x",
          ) -> tuple[int, dict[bytes, bytes], bytes, list[dict[str, Any]]]:
    """One HTTP request through the middleware in process; status, headers, body and what the app saw."""
    import asyncio

    sent: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> Any:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        sent.append(message)

    middleware._app = app  # type: ignore[attr-defined]  # the same middleware, a recording app
    scope = {"type": "http", "method": "GET", "path": path, "headers": headers}
    asyncio.run(middleware(scope, receive, send))  # type: ignore[arg-type]
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"], seen


def in_process(verifier: Any = None, **options: Any) -> BearerAuthMiddleware:
    resource = "https://api.test/mcp"
    verifier = verifier or JWTVerifier(KEYS, issuer=ISSUER, audience=resource, cache_size=64)
    return BearerAuthMiddleware(raw_app, verifier, resource=resource, authorization_servers=[AUTH_SERVER],
                                **options)


def test_bad_credentials_never_get_a_500_in_process() -> None:
    middleware = in_process()
    for case, value, status in bad_inputs.cases(KEY, claims("https://api.test/mcp")):
        answer = drive(middleware, [(b"authorization", value.encode("latin-1"))])
        assert answer[0] == status, case
        assert json.loads(answer[2])["error"] in ("invalid_request", "invalid_token"), case


def test_bad_credentials_never_get_a_500_over_http(protected: Factory) -> None:
    from raw_http import request

    served = protected()
    for case, value, status in bad_inputs.cases(KEY, claims(served.resource)):
        response = request(served.url + "/whoami", headers=[("Authorization", value)])
        # uvicorn (h11) itself refuses a control character and a 20 KB header line with 400/431.
        assert response.status == status or response.status in (400, 431), case


def test_a_verifier_that_raises_is_a_401() -> None:
    status, headers, _, seen = drive(in_process(bad_inputs.CrashingVerifier("https://api.test/mcp")),
                                     [(b"authorization", b"Bearer " + KEY.token(claims("x")).encode())])
    assert status == 401 and not seen
    assert parse_challenge(headers[b"www-authenticate"].decode())[1]["error"] == "invalid_token"


def test_a_handler_cannot_change_what_the_next_request_sees() -> None:
    middleware = in_process()
    token = KEY.token(claims("https://api.test/mcp", roles=["reader"], org={"id": 1}))
    header = [(b"authorization", f"Bearer {token}".encode())]
    first = drive(middleware, header)[3][0]["auth"]
    with pytest.raises(TypeError, match="read-only"):
        first.claims["sub"] = "mallory"
    with pytest.raises(TypeError, match="read-only"):
        first.claims["roles"].append("admin")
    with pytest.raises(TypeError, match="read-only"):
        first.claims["org"]["id"] = 2
    with pytest.raises(AttributeError):
        first.roles = frozenset({"admin"})
    second = drive(middleware, header)[3][0]["auth"]
    assert second is first  # built once per token, shared while the verifier caches it
    assert second.claims == claims("https://api.test/mcp", roles=["reader"], org={"id": 1}) | {
        "iat": second.claims["iat"], "exp": second.claims["exp"]}
    assert json.loads(json.dumps(second.claims))["roles"] == ["reader"]


def test_the_observer_hears_every_verdict() -> None:
    from jwkverify.observe import Counters

    counters = Counters()
    middleware = in_process(observer=counters, required_scopes=["notes:read"],
                            route_roles={"/admin": ["admin"]})
    good = KEY.token(claims("https://api.test/mcp"))
    for headers, path in (([(b"authorization", f"Bearer {good}".encode())], "/x"), ([], "/x"),
                          ([(b"authorization", b"Bearer a b")], "/x"),
                          ([(b"authorization", f"Bearer {good}".encode())], "/admin"),
                          ([(b"authorization", b"Bearer " + KEY.token(claims("x")).encode())], "/x")):
        drive(middleware, headers, path)
    assert dict(counters.snapshot().verdicts) == {
        ("accepted", None): 1, ("no_credentials", None): 1, ("invalid_request", None): 1,
        ("insufficient_role", None): 1, ("invalid_token", "invalid_audience"): 1}

    class Broken:
        def verdict(self, outcome: str, code: str | None) -> None:
            raise RuntimeError("observer bug")

    assert drive(in_process(observer=Broken()), [(b"authorization", f"Bearer {good}".encode())])[0] == 200
