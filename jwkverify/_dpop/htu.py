"""The ``htu`` comparison of RFC 9449 §4.3 (item 9): the request's URI without query
and fragment, compared after RFC 3986 §6.2.2 syntax-based and §6.2.3 scheme-based
normalisation.

Normalised: the scheme and host to lower case; an empty or default port (80 for
``http``, 443 for ``https``) dropped, leading zeros of a port too; percent-encodings
to upper-case hex, and those of unreserved characters decoded; dot segments
removed; an empty path made ``/``. Only absolute ``http``/``https`` URIs with a
host and no user information compare equal to anything. Every step is linear in
the length of the URI.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["normalise_htu", "same_htu"]

# RFC 3986 §2: the characters a URI may hold at all.
_URI_CHARACTERS: Final = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
# RFC 3986 §3.3: pchar and "/" (query and fragment are already cut off).
_PATH_CHARACTERS: Final = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")
# RFC 3986 §3.2.2: reg-name (IP-literals are handled apart).
_HOST_CHARACTERS: Final = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=%]+")
_IP_LITERAL: Final = re.compile(r"\[[A-Za-z0-9\-._~!$&'()*+,;=:%]+\]")
_PORT: Final = re.compile(r"[0-9]*")
_PERCENT: Final = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_PERCENT: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
_UNRESERVED: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_MAX_PORT: Final = 65535


def same_htu(claimed: str, request_url: str) -> bool:
    """Whether a proof's ``htu`` names the request URI (both without query and fragment)."""
    claimed = claimed.partition("#")[0].partition("?")[0]
    request_url = request_url.partition("#")[0].partition("?")[0]
    if claimed == request_url and claimed.startswith(("https://", "http://")):
        return True  # the same text: the same URI, whatever normalisation would make of it
    normal = normalise_htu(claimed)
    return normal is not None and normal == normalise_htu(request_url)


def normalise_htu(uri: str) -> str | None:
    """``uri`` without query and fragment, normalised; ``None`` if it is not an absolute
    ``http``/``https`` URI with a host."""
    if _URI_CHARACTERS.fullmatch(uri) is None or _BAD_PERCENT.search(uri) is not None:
        return None
    uri = uri.partition("#")[0].partition("?")[0]  # RFC 9449 §4.2: htu has neither
    scheme, colon, rest = uri.partition(":")
    scheme = scheme.lower()  # RFC 3986 §6.2.2.1
    if not colon or scheme not in _DEFAULT_PORTS or not rest.startswith("//"):
        return None
    authority, slash, path = rest[2:].partition("/")
    origin = _origin(scheme, authority)
    if origin is None or _PATH_CHARACTERS.fullmatch(path) is None:
        return None
    # RFC 3986 §6.2.2.2-6.2.2.3, and §6.2.3: an empty path is "/".
    return origin + _remove_dot_segments(slash + _percent_normalised(path))


def _origin(scheme: str, authority: str) -> str | None:
    if "@" in authority:
        return None  # RFC 9110 §4.2.4: userinfo in an http(s) URI is an error
    if authority.startswith("["):
        end = authority.find("]") + 1
        host, port_text = authority[:end], authority[end:]
        if not end or _IP_LITERAL.fullmatch(host) is None:
            return None
    else:
        colon = authority.find(":")
        host, port_text = (authority, "") if colon < 0 else (authority[:colon], authority[colon:])
        if _HOST_CHARACTERS.fullmatch(host) is None:
            return None  # RFC 9110 §4.2.1: an http(s) URI has a non-empty host
    if port_text and (port_text[0] != ":" or _PORT.fullmatch(port_text, 1) is None):
        return None
    host = _upper_hex(_decode_unreserved(host).lower())  # RFC 3986 §6.2.2.1-6.2.2.2
    port = ""
    if len(port_text) > 1:  # RFC 3986 §6.2.3: ":" with no digits is no port
        number = int(port_text[1:6]) if len(port_text) <= 6 else _MAX_PORT + 1
        if number > _MAX_PORT:
            return None
        if number != _DEFAULT_PORTS[scheme]:
            port = f":{number}"
    return f"{scheme}://{host}{port}"


def _percent_normalised(text: str) -> str:
    return _upper_hex(_decode_unreserved(text)) if "%" in text else text


def _decode_unreserved(text: str) -> str:
    # RFC 3986 §6.2.2.2: a percent-encoded unreserved character is that character.
    if "%" not in text:
        return text
    return _PERCENT.sub(lambda match: _unreserved_or_same(match.group(0), match.group(1)), text)


def _unreserved_or_same(triplet: str, hex_digits: str) -> str:
    char = chr(int(hex_digits, 16))
    return char if char in _UNRESERVED else triplet


def _upper_hex(text: str) -> str:
    # RFC 3986 §6.2.2.1: the hex digits of a percent-encoding are compared in upper case.
    return _PERCENT.sub(lambda match: "%" + match.group(1).upper(), text) if "%" in text else text


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 for an absolute path (or an empty one, which becomes "/"),
    segment by segment: linear, where the RFC's buffer-rewriting loop is quadratic."""
    if "." not in path:
        return path or "/"
    segments = path.split("/")[1:]
    last = len(segments) - 1
    kept: list[str] = []
    for index, segment in enumerate(segments):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
            continue
        if index == last:  # a final "." or ".." leaves the path ending in "/"
            kept.append("")
    return "/" + "/".join(kept)
