"""URL rules, response checks and the standard-library fetcher of remote key sets."""

from __future__ import annotations

from typing import Any

import pytest
from jwks_server import JWKSServer, Reply

from jwkverify import KeySetFetchError
from jwkverify._remote.http import (
    Request,
    Response,
    check_response,
    header_dict,
    redact,
    stdlib_fetch,
    to_response,
    url_problem,
)


@pytest.mark.parametrize(("url", "allow_http", "problem"), [
    ("https://idp.example/jwks", False, None),
    ("https://idp.example:8443/.well-known/jwks.json?p=x", False, None),
    ("https://[::1]:8443/jwks", False, None),
    ("http://127.0.0.1:8080/jwks", True, None),
    ("http://idp.example/jwks", False, "must use https (pass allow_http=True"),
    ("HTTP://idp.example/jwks", True, None),
    ("file:///etc/passwd", True, "must use https"),
    ("https://user:secret@idp.example/", False, "credentials"),
    ("https://idp.example/#x", False, "fragment"),
    ("https:///path", False, "no host"),
    ("https://idp.example:port/", False, "malformed"),
    ("https://idp.example/\r\nX: y", False, "control"),
    ("https://idp.exämple/", False, "non-ASCII"),
    (None, False, "must be a str"),
])
def test_url_problem(url: Any, allow_http: bool, problem: str | None) -> None:
    found = url_problem(url, allow_http=allow_http)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
        assert "secret" not in found


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pw@idp.example:8443/jwks?key=secret#frag", "https://idp.example:8443/jwks"),
    ("https://[::1]/jwks", "https://[::1]/jwks"),
    ("https://idp.example:bad/", "<malformed URL>"),
])
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_header_dict_lowercases_and_joins_repeats() -> None:
    assert header_dict([("Cache-Control", "public"), ("cache-control", "max-age=60"), ("ETag", '"1"')]) == {
        "cache-control": "public, max-age=60", "etag": '"1"'}


def test_to_response_normalises_a_fetch_result() -> None:
    response = to_response((200, {"Content-Type": "application/json"}, bytearray(b"{}")))
    assert response == Response(200, {"content-type": "application/json"}, b"{}")


REQUEST = Request("https://idp.example/jwks", {}, "the JWK Set")
CONDITIONAL = Request("https://idp.example/jwks", {"If-None-Match": '"1"'}, "the JWK Set", conditional=True)


@pytest.mark.parametrize(("request_", "response", "problem"), [
    (REQUEST, Response(200, {"content-type": "application/json"}, b"{}"), None),
    (CONDITIONAL, Response(304, {}, b""), None),
    (REQUEST, Response(304, {}, b""), "without validators"),
    (REQUEST, Response(307, {"location": "/v2/jwks?sig=1"}, b""),
     "redirect to https://idp.example/v2/jwks;"),
    (REQUEST, Response(308, {}, b""), "HTTP 308, a redirect;"),
    (REQUEST, Response(302, {"location": "http://[::1/jwks"}, b""), "a redirect to <malformed URL>;"),
    (REQUEST, Response(204, {}, b""), "HTTP 204"),
    (REQUEST, Response(200, {}, b"x" * 11), "11 bytes; at most 10"),
    (REQUEST, Response(200, {"content-encoding": "br"}, b"{}"), "Content-Encoding 'br'"),
    (REQUEST, Response(200, {"content-type": "text/plain"}, b"{}"), "Content-Type 'text/plain'"),
    (REQUEST, Response(200, {"content-type": "application/jwk+json"}, b"{}"), None),
])
def test_check_response(request_: Request, response: Response, problem: str | None) -> None:
    if problem is None:
        check_response(request_, response, 10)
    else:
        with pytest.raises(KeySetFetchError, match=problem.replace("(", r"\(").replace("?", r"\?")):
            check_response(request_, response, 10)



def test_stdlib_fetch_returns_status_headers_and_body(server: JWKSServer) -> None:
    server.respond = lambda request: Reply(200, b'{"keys":[]}', {"ETag": '"7"'}, chunked=True)
    status, headers, body = stdlib_fetch(server.url("/jwks?x=1"), {"X-Test": "yes"}, 2, max_bytes=100,
                                         allow_http=True)
    assert (status, headers["etag"], body) == (200, '"7"', b'{"keys":[]}')
    assert server.requests[0].path == "/jwks?x=1" and server.requests[0].headers["x-test"] == "yes"


def test_stdlib_fetch_does_not_read_the_body_of_an_error(server: JWKSServer) -> None:
    server.respond = lambda request: Reply(500, b"e" * 10 * 1024 * 1024)
    status, headers, body = stdlib_fetch(server.url(), {}, 2, max_bytes=100, allow_http=True)
    assert (status, headers["content-length"], body) == (500, "10485760", b"")
    server.wait_handled(1)
    assert server.bytes_sent < 10 * 1024 * 1024  # the client hung up instead of reading it


def test_stdlib_fetch_ignores_a_content_length_that_is_not_ascii_digits(server: JWKSServer) -> None:
    """"²" passes str.isdigit() but not int(): the declared size is ignored, the body
    read as far as the bound allows, never a bare ValueError."""
    server.respond = lambda request: Reply(200, b'{"keys":[]}', {"Content-Length": "\u00b2"},
                                           close_delimited=True)
    status, _, body = stdlib_fetch(server.url(), {}, 2, max_bytes=100, allow_http=True)
    assert (status, body) == (200, b'{"keys":[]}')


def test_stdlib_fetch_refuses_plain_http_unless_allowed(server: JWKSServer) -> None:
    with pytest.raises(KeySetFetchError, match="https"):
        stdlib_fetch(server.url(), {}, 2, max_bytes=100)
    assert server.count == 0
