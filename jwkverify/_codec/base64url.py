"""Strict base64url (RFC 7515 §2, RFC 4648 §5): no padding, no '+' or '/', no
whitespace, and canonical trailing bits, so that one byte string has exactly
one accepted encoding.

With the optional ``speedups`` extra installed (``pip install "jwkverify[speedups]"``,
which brings ``pybase64``), decoding runs in SIMD code; the accepted and refused
inputs are the same either way (``tests/codec/test_base64url.py`` proves it). Set
``JWKVERIFY_ACCELERATOR=off`` in the environment to keep the standard library's
decoder although ``pybase64`` is installed; it is read once, at the first decode.
"""

from __future__ import annotations

import base64
import binascii
import os
import sys
from collections.abc import Callable
from functools import cache

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


__all__ = [
    "ACCELERATOR_SWITCH", "Base64Error", "accelerator_name", "b64url_decode", "b64url_encode", "b64url_uint",
]

#: The environment variable that turns the accelerator off, and the values that do.
ACCELERATOR_SWITCH = "JWKVERIFY_ACCELERATOR"
_OFF = frozenset({"off", "0", "no", "false"})
#: Shorter texts are decoded by the standard library even with the accelerator.
_ACCELERATE_FROM = 256


class Base64Error(JOSEError):
    """Internal: raised for bad base64url; callers re-raise it as their own error."""


def b64url_decode(text: str) -> bytes:
    """Decode strict unpadded base64url text; raise :class:`Base64Error` otherwise."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise Base64Error("not base64url: only ASCII characters are allowed") from exc
    remainder = len(raw) & 3
    # pybase64 costs a few thousand instructions per call before it decodes any
    # faster: worth it for a payload, not for a header or a signature.
    fast = _accelerator() if len(raw) >= _ACCELERATE_FROM and remainder != 1 else None
    if fast is not None:
        # pybase64 with altchars also takes '+' and '/', and takes padding: three
        # memchr scans refuse those first (the checks below then say why). An int
        # needle is a plain memchr; a bytes one first fails an int conversion.
        if 0x3D not in raw and 0x2B not in raw and 0x2F not in raw:  # '=', '+', '/'

            try:  # positional: pybase64 parses keywords slowly
                decoded = fast(raw + _PADDING[remainder], b"-_", True)
            except ValueError:  # binascii.Error: a byte outside the alphabet
                pass
            else:
                if remainder and _INDEX[raw[-1]] & _UNUSED_BITS_MASK[remainder]:
                    raise Base64Error("not base64url: non-canonical trailing bits")
                return decoded
    elif _HAS_STRICT_MODE and remainder != 1:
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


@cache
def _accelerator() -> Callable[..., bytes] | None:
    """``pybase64.b64decode`` if installed and not switched off; decided on first use."""
    if os.environ.get(ACCELERATOR_SWITCH, "").strip().lower() in _OFF:
        return None
    try:
        import pybase64  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    decode: Callable[..., bytes] = pybase64.b64decode
    return decode


def accelerator_name() -> str | None:
    """``"pybase64"`` when base64url decoding is accelerated, else ``None``."""
    return "pybase64" if _accelerator() is not None else None


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
