"""The WSGI middleware: a plain WSGI app under ``wsgiref`` on 127.0.0.1, then Flask and Django.

The plain-WSGI tests need nothing beyond the standard library. The Flask and Django
tests need the ``wsgi-test`` extra (``pip install -e ".[wsgi-test]"``); without it
they skip, and in CI (``JWKVERIFY_REQUIRE_INTEROP=1``) they fail.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import types
from collections.abc import Iterator
from typing import Any, ClassVar

import bad_inputs
import pytest
from jwks_server import Clock, JWKSServer, Reply
from raw_http import Response, request
from signing import make_key
from wsgi_server import serve

from jwkverify import ANY_AUDIENCE, JWKSet, JWTVerifier, RemoteJWKSet
from jwkverify._web.bearer import parse_challenge
from jwkverify.asgi import VerifiedToken
from jwkverify.observe import Counters
from jwkverify.wsgi import ENVIRON_KEY, BearerAuthMiddleware, verified_token

ISSUER = "https://issuer.test"
KEY = make_key("ES256", kid="k1")
KEYS = JWKSet.from_dict({"keys": [KEY.jwk]})
REQUIRED = os.environ.get("JWKVERIFY_REQUIRE_INTEROP") == "1"


def claims(resource: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": resource, "sub": "alice", "client_id": "agent-1", "iat": now,
            "exp": now + 600, "scope": "notes:read"}
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def bearer(token: str) -> list[tuple[str, str]]:
    return [("Authorization", f"Bearer {token}")]


def challenge(response: Response) -> dict[str, str]:
    scheme, params = parse_challenge(response.headers["www-authenticate"])
    assert scheme == "Bearer"
    return params


class Closing:
    """A response iterable that records whether the server closed it (PEP 3333)."""

    closed: ClassVar[list[str]] = []
    done: ClassVar[threading.Event] = threading.Event()

    def __init__(self, body: bytes, path: str) -> None:
        self.body, self.path = body, path

    def __iter__(self) -> Iterator[bytes]:
        yield self.body

    def close(self) -> None:
        Closing.closed.append(self.path)
        Closing.done.set()


def plain_app(environ: dict[str, Any], start_response: Any) -> Any:
    """A bare WSGI app: echoes the path and what it learnt of the token."""
    token = verified_token(environ)
    body = json.dumps({"path": environ["PATH_INFO"], "sub": token.subject if token else None,
                       "scopes": sorted(token.scopes) if token else None}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return Closing(body, environ["PATH_INFO"])


class Served:
    def __init__(self, url: str, resource: str, middleware: BearerAuthMiddleware) -> None:
        self.url, self.resource, self.middleware = url, resource, middleware

    def token(self, key: Any = KEY, header: dict[str, Any] | None = None, **changes: Any) -> str:
        return str(key.token(claims(self.resource, **changes), header=header))

    def get(self, path: str, headers: list[tuple[str, str]] | None = None, method: str = "GET") -> Response:
        return request(self.url + path, method, headers or [])


@pytest.fixture
def protected() -> Iterator[Any]:
    """Start ``BearerAuthMiddleware(plain_app, verifier, **options)`` under wsgiref."""
    stack: list[Any] = []

    def start(verifier: Any = None, app: Any = plain_app, **options: Any) -> Served:
        # The resource names the port only after the server exists: serve a forwarding app.
        holder: dict[str, Any] = {}

        def forward(environ: dict[str, Any], start_response: Any) -> Any:
            return holder["app"](environ, start_response)

        server = serve(forward)
        url = server.__enter__()
        stack.append(server)
        resource = url + "/api"
        options.setdefault("authorization_servers", [ISSUER])
        verifier = verifier or JWTVerifier(KEYS, issuer=ISSUER, audience=resource, cache_size=64)
        holder["app"] = middleware = BearerAuthMiddleware(app, verifier, resource=resource, **options)
        return Served(url, resource, middleware)

    yield start
    for server in reversed(stack):
        server.__exit__(None, None, None)


# -- the answers, over real HTTP ----------------------------------------------------------------


def test_no_token_is_401_with_the_challenge_and_no_error_code(protected: Any) -> None:
    served = protected(required_scopes=["notes:read"])
    response = served.get("/api/notes")
    assert response.status == 401
    assert challenge(response) == {"resource_metadata": served.middleware.metadata_url, "scope": "notes:read"}
    assert response.json() == {"error": "unauthorized", "error_description": "no Authorization header"}


def test_a_valid_token_reaches_the_app_and_the_app_closes_its_iterable(protected: Any) -> None:
    served = protected()
    Closing.closed.clear()
    Closing.done.clear()
    response = served.get("/api/notes", bearer(served.token()))
    assert response.status == 200
    assert response.json() == {"path": "/api/notes", "sub": "alice", "scopes": ["notes:read"]}
    assert Closing.done.wait(5)  # the server closes it once the response is sent, in its own thread
    assert Closing.closed == ["/api/notes"]  # the server closed the app's iterable (PEP 3333)


def test_the_metadata_document_and_its_methods(protected: Any) -> None:
    served = protected(required_scopes=["notes:read"], resource_name="Notes")
    url = challenge(served.get("/api"))["resource_metadata"]
    assert url == served.url + "/.well-known/oauth-protected-resource/api"  # RFC 9728 §3.1
    document = request(url).json()
    assert document == {"resource": served.resource, "authorization_servers": [ISSUER],
                        "bearer_methods_supported": ["header"], "scopes_supported": ["notes:read"],
                        "resource_name": "Notes"}
    assert served.get("/.well-known/oauth-protected-resource").json() == document
    head = served.get("/.well-known/oauth-protected-resource/api", method="HEAD")
    assert head.status == 200 and head.body == b""
    post = served.get("/.well-known/oauth-protected-resource/api", method="POST")
    assert post.status == 405 and post.headers["allow"] == "GET, HEAD"


def test_two_authorization_headers_joined_by_the_server_are_400(protected: Any) -> None:
    served = protected()
    token = served.token()
    response = served.get("/api", bearer(token) + bearer(token))  # wsgiref joins them with a comma
    assert response.status == 400
    assert challenge(response)["error"] == "invalid_request"
    assert response.json()["error_description"] == "more than one Authorization header"
    other = served.get("/api", [("Authorization", 'Digest username="a", realm="b"')])
    assert other.status == 401 and "error" not in challenge(other)  # one header of another scheme


@pytest.mark.parametrize(("case", "changes", "description"), [
    ("expired", {"exp": 1}, "the token has expired"),
    ("wrong audience", {"aud": "https://other.test/api"}, "the token was not issued for this resource"),
    ("wrong issuer", {"iss": "https://evil.test"}, "the token's issuer is not trusted"),
])
def test_refused_tokens_are_401_invalid_token(protected: Any, case: str, changes: dict[str, Any],
                                               description: str) -> None:
    served = protected()
    response = served.get("/api", bearer(served.token(**changes)))
    assert response.status == 401
    assert challenge(response)["error"] == "invalid_token"
    assert challenge(response)["error_description"] == description


def test_scopes_roles_routes_and_public_paths(protected: Any) -> None:
    served = protected(required_scopes=["notes:read"], route_scopes={"POST /api/notes": ["notes:write"]},
                       route_roles={"/api/admin": ["admin"]}, public_paths=["/health", "/static/"])
    reader = bearer(served.token())
    assert served.get("/api/notes", reader).status == 200
    refused = served.get("/api/notes", reader, method="POST")
    assert refused.status == 403
    assert challenge(refused)["error"] == "insufficient_scope"
    assert challenge(refused)["scope"] == "notes:read notes:write"
    writer = bearer(served.token(scope="notes:read notes:write"))
    assert served.get("/api/notes", writer, method="POST").status == 200
    role = served.get("/api/admin/users", reader)
    assert role.status == 403 and "scope" not in challenge(role)
    assert served.get("/api/admin/users", bearer(served.token(roles=["admin"]))).status == 200
    assert served.get("/health").json()["sub"] is None
    assert served.get("/static/app.js").status == 200
    assert served.get("/static/../api/admin").status == 401  # dot segments are never public


def test_scope_comes_from_scope_when_it_is_a_string_else_scp(protected: Any) -> None:
    served = protected(required_scopes=["notes:write"])
    assert served.get("/api", bearer(served.token(scope=None, scp=["notes:write"]))).status == 200
    narrowed = served.token(scope="notes:read", scp=["notes:write"])
    assert served.get("/api", bearer(narrowed)).status == 403  # never the union (issue 14)


def test_key_set_unavailable_is_503_with_retry_after_then_recovers(protected: Any) -> None:
    jwks = JWKSServer()
    try:
        jwks.respond = lambda request: Reply(500, b"down")
        clock = Clock()
        remote = RemoteJWKSet(jwks.url(), allow_http=True, clock=clock)
        served = protected(JWTVerifier(remote, issuer=ISSUER, audience="http://127.0.0.1/api"))
        served.resource = "http://127.0.0.1/api"
        down = served.get("/api", bearer(served.token()))
        assert down.status == 503
        assert "www-authenticate" not in down.headers  # not the client's fault: no challenge
        assert 1 <= int(down.headers["retry-after"]) <= 300  # RFC 9110 §10.2.3: the key set's next try
        assert down.json()["error"] == "temporarily_unavailable"
        jwks.serve_keys(KEY.jwk)
        clock.advance(31)
        assert served.get("/api", bearer(served.token())).status == 200
    finally:
        jwks.close()


# -- bad input: never a 500 ------------------------------------------------------------------------


def test_bad_credentials_never_get_a_500(protected: Any) -> None:
    served = protected()
    for case, value, status in bad_inputs.cases(KEY, claims(served.resource)):
        response = served.get("/api", [("Authorization", value)])
        assert response.status == status, case
        assert response.json()["error"] in ("invalid_request", "invalid_token"), case


def test_a_verifier_that_crashes_is_a_401(protected: Any) -> None:
    served = protected(bad_inputs.CrashingVerifier("http://127.0.0.1/api"))
    response = served.get("/api", bearer(served.token()))
    assert response.status == 401
    assert challenge(response)["error_description"] == "the token could not be verified"


# -- in process: immutability, the observer, construction ------------------------------------------


def call(middleware: Any, path: str = "/api", authorization: str | None = None,
         method: str = "GET") -> tuple[str, dict[str, str], bytes, dict[str, Any]]:
    """Drive the middleware as a WSGI server would; returns status, headers, body and the environ."""
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path,
                               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    started: list[Any] = []
    result = middleware(environ, lambda status, headers, exc_info=None: started.append((status, headers)))
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return started[0][0], dict(started[0][1]), body, environ


RESOURCE = "https://api.test/api"


def build(app: Any = plain_app, verifier: Any = None, **options: Any) -> BearerAuthMiddleware:
    verifier = verifier or JWTVerifier(KEYS, issuer=ISSUER, audience=RESOURCE, cache_size=64)
    options.setdefault("authorization_servers", [ISSUER])
    return BearerAuthMiddleware(app, verifier, resource=RESOURCE, **options)


def test_a_handler_cannot_change_what_the_next_request_sees() -> None:
    seen: list[VerifiedToken] = []

    def meddler(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        token = environ[ENVIRON_KEY]
        seen.append(token)
        for attempt in (lambda: token.claims.__setitem__("sub", "mallory"),
                        lambda: token.claims["roles"].append("admin"),
                        lambda: token.claims["org"].update(id=2)):
            with pytest.raises(TypeError, match="read-only"):
                attempt()
        with pytest.raises(AttributeError):
            token.subject = "mallory"
        mine = json.loads(json.dumps(token.claims))  # serializes like a dict
        mine["roles"].append("admin")
        start_response("200 OK", [])
        return [b"ok"]

    middleware = build(meddler)
    token = KEY.token(claims(RESOURCE, roles=["reader"], org={"id": 1}))
    for _ in range(2):
        assert call(middleware, authorization=f"Bearer {token}")[0] == "200 OK"
    assert seen[0] is seen[1]  # built once, shared while the verifier's cache holds the token
    assert seen[1].claims["roles"] == ["reader"] and seen[1].claims["org"] == {"id": 1}


def test_the_observer_hears_every_verdict_and_cannot_break_a_request() -> None:
    counters = Counters()
    middleware = build(observer=counters, required_scopes=["notes:read"],
                       route_roles={"/api/admin": ["admin"]})
    good = KEY.token(claims(RESOURCE))
    call(middleware, authorization=f"Bearer {good}")
    call(middleware)
    call(middleware, authorization="Bearer a b")
    call(middleware, authorization=f"Bearer {KEY.token(claims(RESOURCE, exp=1))}")
    call(middleware, authorization=f"Bearer {KEY.token(claims(RESOURCE, scope='x'))}")
    call(middleware, "/api/admin", authorization=f"Bearer {good}")
    call(middleware, "/.well-known/oauth-protected-resource/api")  # not a decision
    assert dict(counters.snapshot().verdicts) == {
        ("accepted", None): 1, ("no_credentials", None): 1, ("invalid_request", None): 1,
        ("invalid_token", "expired_token"): 1, ("insufficient_scope", None): 1,
        ("insufficient_role", None): 1,
    }

    class Broken:
        def verdict(self, outcome: str, code: str | None) -> None:
            raise RuntimeError("observer bug")

    assert call(build(observer=Broken()), authorization=f"Bearer {good}")[0] == "200 OK"
    assert call(build(observer=Broken()))[0] == "401 Unauthorized"


def test_construction_is_checked() -> None:
    for audience in (None, ANY_AUDIENCE):
        with pytest.raises(ValueError, match="audience"):
            build(verifier=JWTVerifier(KEYS, audience=audience))
    with pytest.raises(TypeError, match="WSGI"):
        BearerAuthMiddleware("app", JWTVerifier(KEYS, audience="x"),  # type: ignore[arg-type]
                             resource=RESOURCE, authorization_servers=[ISSUER])
    with pytest.raises(ValueError):
        build(authorization_servers=[])
    with pytest.raises(ValueError):
        BearerAuthMiddleware(plain_app, JWTVerifier(KEYS, audience="x"), resource="http://api.test/",
                             authorization_servers=[ISSUER])
    with pytest.raises(ValueError, match="scope"):
        build(required_scopes=["two words"])
    with pytest.raises(TypeError, match="observer"):
        build(observer=object())


# -- Flask and Django --------------------------------------------------------------------------------


def framework(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        reason = f'{name} is not installed: pip install -e ".[wsgi-test]"'
        if REQUIRED:
            pytest.fail(f"{reason} (JWKVERIFY_REQUIRE_INTEROP=1)")
        pytest.skip(reason)


def test_flask_two_lines_and_the_request_helper() -> None:
    flask = framework("flask")
    app = flask.Flask("notes")

    @app.get("/api/notes")
    def notes() -> Any:
        token = verified_token(flask.request.environ)
        assert token is not None
        return {"owner": token.subject, "scopes": sorted(token.scopes)}

    @app.post("/api/notes")
    def add() -> Any:
        return {"added": True}

    app.wsgi_app = BearerAuthMiddleware(app.wsgi_app, JWTVerifier(KEYS, issuer=ISSUER, audience=RESOURCE),
                                        resource=RESOURCE, authorization_servers=[ISSUER],
                                        route_scopes={"POST /api/notes": ["notes:write"]})
    client = app.test_client()
    token = KEY.token(claims(RESOURCE))
    assert client.get("/api/notes", headers={"Authorization": f"Bearer {token}"}).json == {
        "owner": "alice", "scopes": ["notes:read"]}
    refused = client.post("/api/notes", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403 and 'scope="notes:write"' in refused.headers["WWW-Authenticate"]
    missing = client.get("/api/notes")
    assert missing.status_code == 401 and "resource_metadata" in missing.headers["WWW-Authenticate"]
    metadata = client.get("/.well-known/oauth-protected-resource/api")
    assert metadata.json["resource"] == RESOURCE
    for case, value, status in bad_inputs.cases(KEY, claims(RESOURCE)):
        assert client.get("/api/notes", headers={"Authorization": value}).status_code == status, case


@pytest.fixture(scope="module")
def django_app() -> Any:
    django = framework("django")
    from django.conf import settings

    urls = types.ModuleType("jwkverify_test_urls")
    sys.modules[urls.__name__] = urls
    if not settings.configured:
        settings.configure(DEBUG=False, SECRET_KEY="test", ROOT_URLCONF=urls.__name__, ALLOWED_HOSTS=["*"],
                           MIDDLEWARE=[], INSTALLED_APPS=[], USE_TZ=True)
    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.http import JsonResponse
    from django.urls import path

    def whoami(request: Any) -> Any:
        token = verified_token(request.META)
        assert token is not None
        return JsonResponse({"owner": token.subject, "client": token.client_id})

    urls.urlpatterns = [path("api/whoami", whoami)]  # type: ignore[attr-defined]
    # What a project's wsgi.py says:
    verifier = JWTVerifier(KEYS, issuer=ISSUER, audience=RESOURCE)
    application = BearerAuthMiddleware(get_wsgi_application(), verifier, resource=RESOURCE,
                                       authorization_servers=[ISSUER])
    return application


def test_django_behind_the_middleware(django_app: Any) -> None:
    client = framework("werkzeug.test").Client(django_app)
    token = KEY.token(claims(RESOURCE))
    response = client.get("/api/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json == {"owner": "alice", "client": "agent-1"}
    assert client.get("/api/whoami").status_code == 401
    expired_token = KEY.token(claims(RESOURCE, exp=1))
    expired = client.get("/api/whoami", headers={"Authorization": f"Bearer {expired_token}"})
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    for case, value, status in bad_inputs.cases(KEY, claims(RESOURCE)):
        assert client.get("/api/whoami", headers={"Authorization": value}).status_code == status, case


def test_django_over_real_http(django_app: Any) -> None:
    with serve(django_app) as url:
        token = KEY.token(claims(RESOURCE))
        response = request(url + "/api/whoami", headers=bearer(token))
        assert response.status == 200 and response.json()["owner"] == "alice"
        joined = request(url + "/api/whoami", headers=bearer(token) + bearer(token))
        assert joined.status == 400
