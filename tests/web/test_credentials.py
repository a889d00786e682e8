"""jwkverify._web.credentials: the one step that reads Authorization (the DPoP seam)."""

from __future__ import annotations

import pytest

from jwkverify._web.bearer import BearerProblem
from jwkverify._web.credentials import MAX_CREDENTIALS, Credentials, read_credentials, split_joined


def test_bearer_credentials() -> None:
    assert read_credentials(["Bearer abc.def-_~+/=="]) == Credentials("bearer", "abc.def-_~+/==")
    assert read_credentials([" bEaReR   abc "]) == Credentials("bearer", "abc")


@pytest.mark.parametrize(("values", "error", "description"), [
    ([], None, "no Authorization header"),
    (["Basic dXNlcjpwYXNz"], None, "the Authorization header is not Bearer"),
    (["Bearer a", "Bearer b"], "invalid_request", "more than one Authorization header"),
    (["Bearer"], "invalid_request", "the Bearer credentials are empty"),
    (["Bearer a b"], "invalid_request", "the Bearer credentials are not a single token"),
    (["Bearer a,b"], "invalid_request", "the Bearer credentials are not a single token"),
    (["Bearer " + "a" * MAX_CREDENTIALS], "invalid_request", "the Authorization header is too long"),
])
def test_problems(values: list[str], error: str | None, description: str) -> None:
    found = read_credentials(values)
    assert isinstance(found, BearerProblem)
    assert (found.error, found.description) == (error, description)
    assert found.scheme == ("bearer" if description.startswith("the Bearer") else None)


def test_dpop_credentials_only_when_dpop_is_on() -> None:
    # RFC 9449 §7.1: "DPoP" 1*SP token68, the scheme compared case-insensitively.
    assert read_credentials(["DPoP abc.def-_~+/=="], dpop=True) == Credentials("dpop", "abc.def-_~+/==")
    assert read_credentials([" dpop   abc "], dpop=True) == Credentials("dpop", "abc")
    off = read_credentials(["DPoP abc"])
    assert isinstance(off, BearerProblem) and off.error is None  # another scheme: no credentials
    assert off.description == "the Authorization header is not Bearer"
    other = read_credentials(["Basic x"], dpop=True)
    assert isinstance(other, BearerProblem) and other.description.endswith("neither DPoP nor Bearer")
    for value, description in (("DPoP", "the DPoP credentials are empty"),
                                ("DPoP a b", "the DPoP credentials are not a single token")):
        found = read_credentials([value], dpop=True)
        assert found == BearerProblem("invalid_request", description, "dpop")
    assert read_credentials(["Bearer abc"], dpop=True) == Credentials("bearer", "abc")


def test_bearer_refused_when_only_dpop_is_accepted() -> None:
    from jwkverify._web.credentials import BEARER_REFUSED

    # RFC 6750 §3.1: an unsupported method is answered like no credentials, no error code.
    assert read_credentials(["Bearer abc"], dpop=True, bearer=False) is BEARER_REFUSED
    assert BEARER_REFUSED.error is None and "DPoP" in BEARER_REFUSED.description
    assert read_credentials(["DPoP abc"], dpop=True, bearer=False) == Credentials("dpop", "abc")


def test_a_wsgi_joined_value_with_a_bearer_part_is_two_headers() -> None:
    assert split_joined(None) == ()
    assert split_joined("Bearer abc") == ("Bearer abc",)
    assert list(split_joined("Bearer a, Bearer b")) == ["Bearer a", " Bearer b"]
    assert list(split_joined("Basic x,Bearer y")) == ["Basic x", "Bearer y"]
    assert split_joined('Digest username="a", realm="b"') == ('Digest username="a", realm="b"',)
    assert list(split_joined("DPoP a, Bearer b")) == ["DPoP a", " Bearer b"]
    assert list(split_joined("Basic x,dpop y")) == ["Basic x", "dpop y"]
    assert read_credentials(split_joined("Bearer a, Bearer b")).error == "invalid_request"  # type: ignore[union-attr]


def test_b64token_is_exactly_the_rfc_6750_syntax() -> None:
    import re

    from jwkverify._web.credentials import is_b64token

    grammar = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 §2.1, as written
    samples = ["abc", "a.b.c", "a-_~+/=", "a==", "==", "=", "", "a=b", "a b", "a,b", "a\x00", "ä", "a\t",
               "A" * 1000, "x" * 10 + "=" * 3, "+/", "a;b", 'a"b', "a\\b", "ab=c="]
    samples += [chr(code) for code in range(0x20, 0x180)]
    for sample in samples:
        assert is_b64token(sample) == (grammar.fullmatch(sample) is not None), repr(sample)
