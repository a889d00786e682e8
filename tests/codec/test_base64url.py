"""Strict base64url (RFC 7515 §2, RFC 4648 §5)."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jwkverify._codec import base64url as _b64
from jwkverify._codec.base64url import Base64Error, b64url_decode, b64url_encode, b64url_uint
from jwkverify.errors import JOSEError


@given(st.binary(max_size=200))
def test_round_trip(data: bytes) -> None:
    assert b64url_decode(b64url_encode(data)) == data


def test_matches_the_standard_library_for_canonical_input() -> None:
    for size in range(0, 70):
        data = os.urandom(size)
        text = base64.urlsafe_b64encode(data).rstrip(b"=").decode()
        assert b64url_decode(text) == data


@pytest.mark.parametrize(
    "text",
    [
        "QQ==",  # padding
        "QQ=",
        "a+b/",  # standard alphabet
        "QU JD",  # whitespace
        "QUJD\n",
        " QUJD",
        "QUJD\t",
        "Q",  # impossible length (4n+1)
        "QUJDR",
        "QR",  # non-canonical: unused low bits set (QQ is canonical for b"A")
        "QUJ",  # canonical is "QUI" for b"AB"
        "QUK",
        "QU?D",
        "Ã©",
        "QUJD\x00",
    ],
)
def test_rejects_non_strict_input(text: str) -> None:
    with pytest.raises(Base64Error):
        b64url_decode(text)


def test_base64_error_is_a_jose_error() -> None:
    assert issubclass(Base64Error, JOSEError)


@given(st.text(max_size=40))
def test_arbitrary_text_decodes_or_raises_base64_error(text: str) -> None:
    try:
        decoded = b64url_decode(text)
    except Base64Error:
        return
    assert b64url_encode(decoded) == text  # only the one canonical encoding is accepted


_NEAR_ALPHABET = st.text(
    alphabet=st.sampled_from("ABCQUwxyz019-_+/= .\n\x00\u00e9"), max_size=24
)


@given(_NEAR_ALPHABET)
def test_the_fast_strict_path_agrees_with_the_step_by_step_checks(text: str) -> None:
    """On 3.11+ binascii's strict mode validates; it must accept exactly what the
    explicit checks accept, and decode it to the same bytes."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return
    try:
        expected: bytes | None = _b64._decode_checked(raw, len(raw) % 4)
    except Base64Error:
        expected = None
    try:
        actual: bytes | None = b64url_decode(text)
    except Base64Error:
        actual = None
    assert actual == expected


def test_uint() -> None:
    assert b64url_uint("AQAB") == 65537
