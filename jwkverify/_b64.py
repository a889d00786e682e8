"""Strict base64url (RFC 7515 §2, RFC 4648 §5): no padding, no '+' or '/', no
whitespace, and canonical trailing bits, so that one byte string has exactly
one accepted encoding."""

from __future__ import annotations

import base64
import binascii
import re

from .errors import JOSEError

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALID = re.compile(r"[A-Za-z0-9_-]*")
# For a final group of 2 (3) characters, the last character carries 4 (2) unused
# low bits that must be zero (RFC 4648 §3.5): non-canonical encodings are refused.
_UNUSED_BITS_MASK = {2: 0x0F, 3: 0x03}
_INDEX = {char: index for index, char in enumerate(_ALPHABET)}


class Base64Error(JOSEError):
    """Internal: raised for bad base64url; callers re-raise it as their own error."""


def b64url_decode(text: str) -> bytes:
    """Decode strict unpadded base64url text; raise :class:`Base64Error` otherwise."""
    if _VALID.fullmatch(text) is None:
        raise Base64Error("not base64url: only A-Z a-z 0-9 '-' '_' are allowed, without padding")
    remainder = len(text) % 4
    if remainder == 1:
        raise Base64Error("not base64url: impossible length")
    mask = _UNUSED_BITS_MASK.get(remainder)
    if mask is not None and _INDEX[text[-1]] & mask:
        raise Base64Error("not base64url: non-canonical trailing bits")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # unreachable after the checks above
        raise Base64Error("not base64url") from exc


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_uint(text: str) -> int:
    """Decode a base64url big-endian unsigned integer (RFC 7518 §2 Base64urlUInt)."""
    return int.from_bytes(b64url_decode(text), "big")
