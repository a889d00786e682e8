"""Strict JSON for untrusted input (RFC 8259, RFC 7515 §5.2, RFC 7519 §4)."""

from __future__ import annotations

import pytest

from jwkverify._codec.strict_json import MAX_NUMBER_LENGTH, JSONError, loads_object


def test_parses_an_object() -> None:
    assert loads_object(b'{"a": [1, 2.5, "x", null, true]}', "doc") == {
        "a": [1, 2.5, "x", None, True]
    }


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'{"a": 1, "a": 2}', "more than once"),
        (b'{"x": {"a": 1, "a": 1}}', "more than once"),
        (b'{"a": NaN}', "not valid JSON"),
        (b'{"a": Infinity}', "not valid JSON"),
        (b'{"a": -Infinity}', "not valid JSON"),
        (b'{"a": 1e400}', "not valid JSON"),
        (b'{"a": ' + b"1" * (MAX_NUMBER_LENGTH + 1) + b"}", "not valid JSON"),
        (b'{"a": 0.' + b"1" * (MAX_NUMBER_LENGTH + 1) + b"}", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (b"1", "must be a JSON object"),
        (b"null", "must be a JSON object"),
        (b"true", "must be a JSON object"),
        (b"", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        ('{"a": 1}'.encode("utf-16"), "not UTF-8"),
        ('{"a": 1}'.encode("utf-32-le"), "not valid JSON"),
        (b"\xef\xbb\xbf{}", "not valid JSON"),  # a UTF-8 BOM is not JSON text
        (b'{"a": "\\ud800"}', "surrogate"),
        (b'{"\\udc00": 1}', "surrogate"),
        (b'{"a": 1} x', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
    ],
)
def test_refuses(data: bytes, fragment: str) -> None:
    with pytest.raises(JSONError, match=fragment):
        loads_object(data, "doc")


def test_paired_surrogate_escapes_are_text() -> None:
    assert loads_object(b'{"a": "\\ud83d\\ude00"}', "doc") == {"a": "\U0001f600"}


def test_large_but_bounded_numbers_are_fine() -> None:
    assert loads_object(b'{"a": 1e20, "b": ' + b"9" * 40 + b"}", "doc") == {"a": 1e20, "b": 10**40 - 1}


def test_refuses_non_text() -> None:
    with pytest.raises(JSONError, match="str or bytes"):
        loads_object(123, "doc")  # type: ignore[arg-type]


def test_the_message_names_the_document() -> None:
    with pytest.raises(JSONError, match="the header"):
        loads_object(b"[]", "the header")
