"""From an issuer to its jwks_uri (OpenID Connect Discovery 1.0 §4, RFC 8414 §3), sans I/O."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jwkverify import KeySetFetchError
from jwkverify._remote.discovery import discover, issuer_problem, jwks_uri_from, metadata_urls
from jwkverify._remote.http import Response

ISSUER = "https://login.example.com"


@pytest.mark.parametrize(("issuer", "oidc", "oauth"), [
    ("https://login.example.com", "https://login.example.com/.well-known/openid-configuration",
     "https://login.example.com/.well-known/oauth-authorization-server"),
    ("https://login.example.com/", "https://login.example.com/.well-known/openid-configuration",
     "https://login.example.com/.well-known/oauth-authorization-server"),
    # RFC 8414 §3.1's example: the well-known path goes before the issuer's path.
    ("https://example.com/issuer1", "https://example.com/issuer1/.well-known/openid-configuration",
     "https://example.com/.well-known/oauth-authorization-server/issuer1"),
    ("https://example.com:8443/tenants/t1/", "https://example.com:8443/tenants/t1/.well-known/openid-configuration",
     "https://example.com:8443/.well-known/oauth-authorization-server/tenants/t1"),
])
def test_metadata_urls(issuer: str, oidc: str, oauth: str) -> None:
    assert metadata_urls(issuer) == (oidc, oauth)


@pytest.mark.parametrize(("issuer", "problem"), [
    (ISSUER, None),
    ("https://login.example.com/?tenant=1", "query"),
    ("https://login.example.com/#x", "fragment"),
    ("http://login.example.com", "https"),
    (42, "must be a str"),
])
def test_issuer_problem(issuer: Any, problem: str | None) -> None:
    found = issuer_problem(issuer, allow_http=False)
    assert found is None if problem is None else (found is not None and problem in found)


def metadata(**members: Any) -> bytes:
    return json.dumps({"issuer": ISSUER, "jwks_uri": ISSUER + "/keys", **members}).encode()


@pytest.mark.parametrize(("body", "problem"), [
    (metadata(), None),
    (metadata(issuer=ISSUER + "/"), "identical"),
    (metadata(issuer="https://LOGIN.example.com"), "identical"),
    (metadata(issuer=None), "identical"),
    (metadata(jwks_uri=None), "no 'jwks_uri'"),
    (metadata(jwks_uri="http://login.example.com/keys"), "must use https"),
    (metadata(jwks_uri="keys"), "must use https"),
    (b"[]", "must be a JSON object"),
    (b'{"issuer": "a", "issuer": "b"}', "more than once"),
])
def test_jwks_uri_from(body: bytes, problem: str | None) -> None:
    if problem is None:
        assert jwks_uri_from(body, ISSUER, allow_http=False) == ISSUER + "/keys"
    else:
        with pytest.raises(KeySetFetchError, match=problem):
            jwks_uri_from(body, ISSUER, allow_http=False)


def drive(replies: list[Response | KeySetFetchError]) -> tuple[list[str], str | KeySetFetchError]:
    """Run the discovery protocol against canned replies; the URLs asked for and the result."""
    asked: list[str] = []
    protocol = discover(ISSUER, {"X": "1"}, allow_http=False, max_bytes=10_000)
    try:
        request = next(protocol)
        for reply in replies:
            asked.append(request.url)
            assert request.headers == {"X": "1"}
            request = protocol.send(reply)
    except StopIteration as stop:
        return asked, stop.value
    except KeySetFetchError as exc:
        return asked, exc
    raise AssertionError("discovery asked for more than it was given")


JSON = {"content-type": "application/json"}


def test_discover_takes_the_openid_configuration_first() -> None:
    asked, found = drive([Response(200, JSON, metadata())])
    assert asked == [ISSUER + "/.well-known/openid-configuration"] and found == ISSUER + "/keys"


def test_discover_falls_back_to_rfc_8414_on_any_failure() -> None:
    asked, found = drive([KeySetFetchError("refused"), Response(200, JSON, metadata())])
    assert asked == [ISSUER + "/.well-known/openid-configuration",
                     ISSUER + "/.well-known/oauth-authorization-server"]
    assert found == ISSUER + "/keys"


def test_discover_reports_both_failures() -> None:
    _, found = drive([Response(404, JSON, b""), Response(200, JSON, metadata(issuer="https://other"))])
    assert isinstance(found, KeySetFetchError)
    assert "HTTP 404" in str(found) and "identical" in str(found)
