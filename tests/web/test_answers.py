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


def test_with_dpop_every_scheme_is_named_and_the_requests_carries_the_error() -> None:
    from jwkverify._web.bearer import parse_challenges

    made = Answers(metadata_url=URL, algs=("ES256", "EdDSA"))
    dpop_bare = ("DPoP", {"algs": "ES256 EdDSA", "resource_metadata": URL})
    bearer_bare = ("Bearer", {"resource_metadata": URL})
    # RFC 9449 §7.2: no credentials, no error anywhere; Bearer first (Figure 17).
    assert parse_challenges(made.no_credentials((), "none").challenge or "") == [bearer_bare, dpop_bare]
    token = parse_challenges(made.invalid_token("expired").challenge or "")
    assert token[0][1]["error"] == "invalid_token" and token[0][0] == "Bearer" and token[1] == dpop_bare
    proof = parse_challenges(made.invalid_dpop_proof("replayed").challenge or "")
    assert proof[0][0] == "DPoP" and proof[0][1]["error"] == "invalid_dpop_proof" and proof[1] == bearer_bare
    both = parse_challenges(made.invalid_request("two headers").challenge or "")
    assert [params["error"] for _, params in both] == ["invalid_request", "invalid_request"]  # Figure 19
    scope = parse_challenges(made.insufficient_scope(("write",), "dpop").challenge or "")
    assert [scheme for scheme, _ in scope] == ["DPoP"]  # a 403 names the request's scheme only
    only = Answers(metadata_url=URL, algs=("ES256",), bearer=False)
    assert parse_challenges(only.no_credentials((), "none").challenge or "") == [
        ("DPoP", {"algs": "ES256", "resource_metadata": URL})]
    assert parse_challenges(only.invalid_token("expired", "bearer").challenge or "")[0][0] == "DPoP"


def test_an_answer_plus_a_header_is_a_new_answer() -> None:
    made = Answers(metadata_url=URL, algs=("ES256",))
    kept = made.use_dpop_nonce("a nonce is needed")
    sent = kept.plus(("dpop-nonce", "n1"))
    assert sent is not kept and ("dpop-nonce", "n1") not in kept.headers
    assert dict(sent.headers)["dpop-nonce"] == "n1" and dict(sent.raw_headers)[b"dpop-nonce"] == b"n1"
    assert sent.auth_headers == {"cache-control": "no-store", "www-authenticate": sent.challenge,
                                 "dpop-nonce": "n1"}
    assert made.use_dpop_nonce("a nonce is needed") is kept  # the kept one stays as it was
