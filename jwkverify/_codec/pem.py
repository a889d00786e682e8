"""PEM armor (RFC 7468): exactly one block, its label, and its strictly decoded body."""

from __future__ import annotations

import base64
import binascii
import re

__all__ = ["MAX_PEM_SIZE", "PEMError", "unarmor"]

#: Longest PEM text accepted, in characters. A 16384-bit RSA public key is under
#: 3 KiB of PEM; anything much larger is refused before any parsing.
MAX_PEM_SIZE = 64 * 1024

# RFC 7468 §3: a label is printable ASCII without '-', single spaces between words.
_BEGIN = re.compile(r"-----BEGIN ([\x21-\x2c\x2e-\x7e]+(?: [\x21-\x2c\x2e-\x7e]+)*)-----")
_END = re.compile(r"-----END ([\x21-\x2c\x2e-\x7e]+(?: [\x21-\x2c\x2e-\x7e]+)*)-----")
_BODY = re.compile(r"[A-Za-z0-9+/=\s]*")
_WHITESPACE = re.compile(r"\s+")


class PEMError(ValueError):
    """The text is not one well-formed PEM block."""


def unarmor(text: str | bytes) -> tuple[str, bytes]:
    """The label and the decoded body of the one PEM block in ``text``.

    Only whitespace may surround the block. The body must be canonical base64
    (RFC 4648 §4, as RFC 7468 §3 asks) with whitespace anywhere between characters.

    Raises:
        PEMError: what is wrong with the text, in words.
    """
    if len(text) > MAX_PEM_SIZE:
        raise PEMError(f"the PEM text is {len(text)} characters long; at most {MAX_PEM_SIZE} are read")
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("ascii")
        except UnicodeDecodeError:
            raise PEMError("PEM text is ASCII only") from None
    elif not text.isascii():
        raise PEMError("PEM text is ASCII only")
    text = text.strip()
    begin = _BEGIN.match(text)
    if begin is None:
        raise PEMError("the text does not start with a '-----BEGIN ...-----' line (is it PEM?)")
    label = begin.group(1)
    ends = list(_END.finditer(text))
    if len(ends) != 1 or ends[0].end() != len(text) or _BEGIN.search(text, begin.end()):
        raise PEMError("the text must hold exactly one PEM block and nothing else")
    if ends[0].group(1) != label:  # RFC 7468 §2: the labels must match
        raise PEMError(f"the block begins as {label!r} but ends as {ends[0].group(1)!r}")
    body = text[begin.end():ends[0].start()]
    if not _BODY.fullmatch(body):
        raise PEMError(f"the {label} block has headers or characters that are not base64")
    compact = _WHITESPACE.sub("", body)
    try:
        der = base64.b64decode(compact, validate=True)
    except binascii.Error as exc:
        raise PEMError(f"the {label} block is not valid base64 ({exc})") from None
    if base64.b64encode(der).decode("ascii") != compact:  # trailing bits or stray '='
        raise PEMError(f"the {label} block is not canonical base64")
    if not der:
        raise PEMError(f"the {label} block is empty")
    return label, der
