"""jwkverify._dpop.htu: RFC 3986 §6.2.2-6.2.3 normalisation of htu and of the request URI."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jwkverify._dpop.htu import normalise_htu, same_htu


@pytest.mark.parametrize("uri, normal", [
    # RFC 3986 §6.2.3's own example: four spellings of one URI.
    ("http://example.com", "http://example.com/"),
    ("http://example.com/", "http://example.com/"),
    ("http://example.com:/", "http://example.com/"),
    ("http://example.com:80/", "http://example.com/"),
    # §6.2.2.1 case, §6.2.2.2 percent-encoding, §6.2.2.3 dot segments (the §6.2.2 example, as http).
    ("HTTP://www.EXAMPLE.com/a/./b/../b/%63/%7bfoo%7d", "http://www.example.com/a/b/c/%7Bfoo%7D"),
    ("https://example.com:443/x?query#fragment", "https://example.com/x"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("https://example.com:08443/x", "https://example.com:8443/x"),
    ("https://%45xample.com/", "https://example.com/"),
    ("https://[2001:DB8::1]:443/", "https://[2001:db8::1]/"),
    ("https://example.com/%7E%2d%2E%5f", "https://example.com/~-._"),
    ("https://example.com/a%2fb%3A", "https://example.com/a%2Fb%3A"),  # reserved stay encoded, upper-case hex
    ("https://example.com/%2E%2E/a", "https://example.com/a"),
])
def test_normal_forms(uri: str, normal: str) -> None:
    assert normalise_htu(uri) == normal
    assert normalise_htu(normal) == normal


@pytest.mark.parametrize("path, normal", [
    # RFC 3986 §5.2.4's examples, and the edges of the segment-wise algorithm.
    ("/a/b/c/./../../g", "/a/g"), ("/a/..", "/"), ("/a/.", "/a/"), ("/.", "/"), ("/..", "/"),
    ("/../a", "/a"), ("/a//../b", "/a/b"), ("/a/b/", "/a/b/"), ("/a/.../b", "/a/.../b"),
    ("/a/..b/.c", "/a/..b/.c"),
    ("", "/"), ("/", "/"), ("//", "//"),
])
def test_dot_segments(path: str, normal: str) -> None:
    assert normalise_htu("https://h" + path) == "https://h" + normal


@pytest.mark.parametrize("uri", [
    "", "example.com/a", "/a", "mailto:a@example.com", "ftp://example.com/", "https:example.com/a",
    "https://", "https:///a", "https://user@example.com/", "https://user:pw@example.com/",
    "https://example.com:99999/", "https://example.com:8x/", "https://example.com:1234567/",
    "https://exa mple.com/", "https://example.com/a b", "https://example.com/%", "https://example.com/%g1",
    "https://example.com/é", "https://example.com/\n", "https://[::1/", "https://[::1]x/", "https://ex[a]mple/",
    "https://example.com/a[b]",
])
def test_not_an_http_uri(uri: str) -> None:
    assert normalise_htu(uri) is None
    assert not same_htu(uri, "https://example.com/")


def test_same_htu_ignores_query_and_fragment_and_compares_normal_forms() -> None:
    assert same_htu("https://example.com/a?x=1", "https://EXAMPLE.com:443/a#top")
    assert same_htu("https://example.com/a", "https://example.com/a?")
    assert not same_htu("https://example.com/a", "https://example.com/b")
    assert not same_htu("https://example.com/a", "http://example.com/a")
    assert not same_htu("", "")


def test_a_long_path_is_normalised_in_linear_time() -> None:
    # The RFC's buffer-rewriting loop would copy the rest of the path at each of 200,000
    # segments; the segment-wise one does not. (Nothing is timed: a quadratic version
    # would only make this test slow.)
    path = "/a" * 100_000 + "/.." * 100_000
    assert normalise_htu("https://h" + path) == "https://h/"


_URI_TEXT = st.text(alphabet="aAbB09-._~:/?#[]@!$&'()*+,;=% é", max_size=40)


@settings(max_examples=500, deadline=None)
@given(_URI_TEXT)
def test_normalising_is_idempotent_and_never_raises(tail: str) -> None:
    for uri in ("https://example.com/" + tail, "http://" + tail, tail):
        normal = normalise_htu(uri)
        if normal is not None:
            assert normalise_htu(normal) == normal
            assert same_htu(uri, normal)
            assert normal.startswith(("https://", "http://")) and "?" not in normal and "#" not in normal
