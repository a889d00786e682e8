"""Strict base64url (RFC 7515 §2, RFC 4648 §5): no padding, no '+' or '/', no
whitespace, and canonical trailing bits, so that one byte string has exactly
one accepted encoding."""

from __future__ import annotations

import base64
import binascii
import sys

from ..errors import JOSEError

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
# The same mapping, and '+', '/' and '=' (standard base64, not base64url) turned
# into '!', which strict binascii refuses: one pass both maps and marks.
_TO_STANDARD_MARKED = bytes.maketrans(b"-_+/=", b"+/!!!")
_PADDING = (b"", b"", b"==", b"=")
# For a final group of 2 (3) characters, the last character carries 4 (2) unused
# low bits that must be zero (RFC 4648 §3.5): non-canonical encodings are refused.
_UNUSED_BITS_MASK = (0, 0, 0x0F, 0x03)
_INDEX = {char: index for index, char in enumerate(_ALPHABET)}
# binascii's strict mode (3.11+) refuses every byte outside the standard alphabet,
# which saves a separate validation pass over the text.
_HAS_STRICT_MODE = sys.version_info >= (3, 11)


class Base64Error(JOSEError):
    """Internal: raised for bad base64url; callers re-raise it as their own error."""


def b64url_decode(text: str) -> bytes:
    """Decode strict unpadded base64url text; raise :class:`Base64Error` otherwise."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise Base64Error("not base64url: only ASCII characters are allowed") from exc
    remainder = len(raw) & 3
    if _HAS_STRICT_MODE and remainder != 1:
        try:
            decoded = binascii.a2b_base64(raw.translate(_TO_STANDARD_MARKED) + _PADDING[remainder],
                                          strict_mode=True)
        except binascii.Error:
            pass  # the checks below say what is wrong
        else:
            if remainder and _INDEX[raw[-1]] & _UNUSED_BITS_MASK[remainder]:
                raise Base64Error("not base64url: non-canonical trailing bits")
            return decoded
    return _decode_checked(raw, remainder)


def _decode_checked(raw: bytes, remainder: int) -> bytes:
    """Validate ``raw`` step by step (naming what is wrong), then decode it."""
    # Deleting every alphabet byte leaves exactly the bytes that do not belong.
    if raw.translate(None, _ALPHABET):
        raise Base64Error("not base64url: only A-Z a-z 0-9 '-' '_' are allowed, without padding")
    if remainder == 1:
        raise Base64Error("not base64url: impossible length")
    if remainder and _INDEX[raw[-1]] & _UNUSED_BITS_MASK[remainder]:
        raise Base64Error("not base64url: non-canonical trailing bits")
    try:
        return binascii.a2b_base64(raw.translate(_TO_STANDARD) + _PADDING[remainder])
    except binascii.Error as exc:  # unreachable after the checks above
        raise Base64Error("not base64url") from exc


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_uint(text: str) -> int:
    """Decode a base64url big-endian unsigned integer (RFC 7518 §2 Base64urlUInt)."""
    return int.from_bytes(b64url_decode(text), "big")
