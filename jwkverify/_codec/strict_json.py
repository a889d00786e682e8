"""Strict JSON for untrusted input.

Python's ``json`` is lenient where JOSE must not be: it accepts ``NaN`` and
``Infinity``, auto-detects UTF-16/32 in bytes, keeps the last of duplicate member
names, converts numbers of any length, and raises ``RecursionError`` on deep
nesting. This module closes each of those gaps and reports every problem as a
:class:`JSONError`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..errors import JOSEError, clip

#: Longest number literal accepted. Real claims are timestamps and small counters;
#: a bound keeps int parsing linear and every value convertible to float.
MAX_NUMBER_LENGTH = 128


class JSONError(JOSEError):
    """Internal: raised for bad JSON; callers re-raise it as their own error."""


class _DuplicateMember(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _DuplicateMember(name)
            seen.add(name)
    return obj


def _parse_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise ValueError(f"number literal longer than {MAX_NUMBER_LENGTH} characters")
    return int(literal)


def _parse_float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise ValueError(f"number literal longer than {MAX_NUMBER_LENGTH} characters")
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError("number out of the range of a double")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_without_duplicates,
    parse_int=_parse_int,
    parse_float=_parse_float,
    parse_constant=_refuse_constant,
)
_RAW_DECODE = _DECODER.raw_decode


def loads_object(data: bytes | str, what: str) -> dict[str, Any]:
    """Parse UTF-8 JSON text that must be an object; ``what`` names it in errors."""
    if type(data) is bytes:  # the common case first: a decoded base64url segment
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONError(f"{what} is not UTF-8") from exc
    else:
        text = _as_text(data, what)
    try:
        # raw_decode skips decode()'s two whitespace scans. It needs the value to
        # start the text and reports where it ended: anything after it (whitespace
        # or garbage) goes through decode(), which accepts or names the error.
        # (Inline, not a helper: a Python call here costs 2% of an HS256 verify.)
        if text[:1] == "{":
            value, end = _RAW_DECODE(text)
            if end != len(text):
                value = _DECODER.decode(text)
        else:
            value = _DECODER.decode(text)
    except _DuplicateMember as exc:
        raise JSONError(f"{what} has the member {clip(exc.name)} more than once") from exc
    except RecursionError as exc:
        raise JSONError(f"{what} is nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError and our hooks' errors
        raise JSONError(f"{what} is not valid JSON: {exc}") from exc
    if type(value) is not dict:
        raise JSONError(f"{what} must be a JSON object, not {_json_type(value)}")
    # Only an escape can make a lone surrogate; most texts have no backslash at all.
    if "\\" in text and _SURROGATE_ESCAPE.search(text) is not None:
        _refuse_lone_surrogates(value, what)
    return value


def _as_text(data: object, what: str) -> str:
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONError(f"{what} is not UTF-8") from exc
    if isinstance(data, str):
        if not data.isascii():
            try:  # a str can hold a lone surrogate that no UTF-8 text could carry
                data.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise JSONError(f"{what} contains an unpaired UTF-16 surrogate") from exc
        return data
    raise JSONError(f"{what} must be JSON text (str or bytes), not {type(data).__name__}")


# json turns "\\ud800" into a lone surrogate: a str that cannot be encoded again.
# RFC 8259 §8.2 calls such text unpredictable, so it is refused. The check only
# runs when the text has a surrogate escape at all.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _refuse_lone_surrogates(value: dict[str, Any], what: str) -> None:
    # An explicit stack, not recursion: the document may be nested nearly as deep
    # as the parser allows.
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise JSONError(f"{what} contains an unpaired UTF-16 surrogate escape") from exc
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
