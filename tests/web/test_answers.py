"""jwkverify._web.answers: every answer made once, the same bytes each time, safe to hand out."""

from __future__ import annotations

import json

from jwkverify._web.answers import MAX_RETRY_AFTER, Answer, Answers
from jwkverify._web.bearer import parse_challenge

URL = "https://api.test/.well-known/oauth-protected-resource/mcp"


def answers() -> Answers:
    return Answers(metadata_url=URL, realm="notes", document=b'{"resource": "https://api.test/mcp"}')


def headers(answer: Answer) -> dict[str, str]:
    return dict(answer.headers)


def test_refusals_carry_their_challenge_and_json_body() -> None:
    made = answers()
    none = made.no_credentials(("read",), "no Authorization header")
    assert none.status == 401 and none.status_line == "401 Unauthorized" and none.error is None
    assert parse_challenge(headers(none)["www-authenticate"])[1] == {
        "realm": "notes", "scope": "read", "resource_metadata": URL}
    assert json.loads(none.body) == {"error": "unauthorized", "error_description": "no Authorization header"}
    token = made.invalid_token("the token has expired")
    params = parse_challenge(token.challenge or "")[1]
    assert params["error"] == "invalid_token" and params["error_description"] == "the token has expired"
    scope = made.insufficient_scope(("read", "write"))
    assert scope.status == 403 and parse_challenge(scope.challenge or "")[1]["scope"] == "read write"
    role = made.insufficient_role()
    assert role.status == 403 and "scope" not in parse_challenge(role.challenge or "")[1]
    request = made.invalid_request("more than one Authorization header")
    assert request.status_line == "400 Bad Request" and request.error == "invalid_request"
    assert headers(token)["cache-control"] == "no-store"
    assert headers(token)["content-length"] == str(len(token.body))
    assert dict(token.raw_headers)[b"www-authenticate"] == (token.challenge or "").encode()


def test_answers_are_made_once() -> None:
    made = answers()
    assert made.invalid_token("x") is made.invalid_token("x")
    assert made.insufficient_scope(("a",)) is made.insufficient_scope(("a",))
    assert made.unavailable(7) is made.unavailable(7)
    for index in range(5000):  # kept within a bound; what is rare is built each time
        made.invalid_token(f"text {index}")
    assert len(made._kept) <= 2048


def test_unavailable_has_retry_after_and_no_challenge() -> None:
    made = answers()
    down = made.unavailable(12)
    assert down.status == 503 and down.challenge is None and down.retry_after == 12
    assert headers(down)["retry-after"] == "12" and "www-authenticate" not in headers(down)
    assert json.loads(down.body)["error"] == "temporarily_unavailable"
    assert made.unavailable(0).retry_after == 1 and made.unavailable(10**6).retry_after == MAX_RETRY_AFTER


def test_metadata_answers() -> None:
    made = answers()
    get, head, post = made.metadata("GET"), made.metadata("HEAD"), made.metadata("DELETE")
    assert get.status == 200 and json.loads(get.body) == {"resource": "https://api.test/mcp"}
    assert headers(get)["access-control-allow-origin"] == "*"
    assert head.body == b"" and headers(head)["content-length"] == str(len(get.body))
    assert post.status == 405 and headers(post)["allow"] == "GET, HEAD"
    assert made.bad_body(413, "too large").status_line.startswith("413 ")
    assert "www-authenticate" not in headers(made.bad_body(400, "not JSON"))
