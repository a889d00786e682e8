"""HTTP for remote key sets: URL rules, response checks and the standard-library fetcher.

Every response, whether the built-in fetcher or a caller's ``fetch`` produced it,
passes the same checks (:func:`check_response`): exactly 200 (or 304 to a
conditional request), no redirect, a JSON ``Content-Type``, at most ``max_bytes``.

The built-in fetcher uses ``http.client`` directly rather than ``urllib``: it never
follows a redirect, never reads proxy settings from the environment, and lets the
time budget bound the connect and every read, so the whole exchange ends within
about ``timeout`` (name resolution excepted: the standard library cannot bound it).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import KeySetFetchError, clip

if TYPE_CHECKING:
    import http.client
    import socket
    import ssl

__all__ = [
    "AsyncFetch",
    "Fetch",
    "Request",
    "Response",
    "check_response",
    "header_dict",
    "redact",
    "stdlib_fetch",
    "to_response",
    "url_problem",
]

#: ``fetch(url, headers, timeout) -> (status, headers, body)``.
Fetch = Callable[[str, Mapping[str, str], float], tuple[int, Mapping[str, str], bytes]]
#: The awaitable form of :data:`Fetch`.
AsyncFetch = Callable[[str, Mapping[str, str], float], Awaitable[tuple[int, Mapping[str, str], bytes]]]

_JSON_TYPES = frozenset({"application/json", "application/jwk-set+json"})
_READ_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Request:
    """A GET to make: where, with which headers, and what it is for (in messages)."""

    url: str
    headers: Mapping[str, str]
    what: str
    conditional: bool = False


@dataclass(frozen=True, slots=True)
class Response:
    """A response: status, headers with lower-case names, and the body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def url_problem(url: object, *, allow_http: bool) -> str | None:
    """Why ``url`` may not be fetched, or ``None`` if it may."""
    from urllib.parse import urlsplit

    if not isinstance(url, str):
        return f"the URL must be a str, not {type(url).__name__}"
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url) or not url.isascii():
        return f"the URL {clip(url, 80)} has spaces, control or non-ASCII characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError as exc:
        return f"the URL {clip(url, 80)} is malformed: {exc}"
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        hint = " (pass allow_http=True for a test server)" if parts.scheme == "http" else ""
        return f"the URL {redact(url)} must use https{hint}"
    if not parts.hostname:
        return f"the URL {clip(url, 80)} has no host"
    if "@" in parts.netloc:
        return "the URL must not carry credentials; pass them in headers="
    if parts.fragment:
        return f"the URL {redact(url)} must not have a fragment"
    return None


def redact(url: str) -> str:
    """``url`` without credentials, query or fragment, for logs and messages."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "<malformed URL>"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def header_dict(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers with lower-case names; repeated fields joined with ', ' (RFC 9110 §5.3)."""
    headers: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def to_response(raw: object) -> Response:
    """Check the ``(status, headers, body)`` a fetch function returned.

    Raises:
        KeySetFetchError: it has another shape.
    """
    if not isinstance(raw, tuple | list) or len(raw) != 3:
        raise KeySetFetchError("the fetch function must return (status, headers, body)")
    status, headers, body = raw
    if isinstance(status, bool) or not isinstance(status, int):
        raise KeySetFetchError(f"the fetch function returned a status of type {type(status).__name__}")
    if not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise KeySetFetchError("the fetch function must return headers as a mapping of str to str")
    if not isinstance(body, bytes | bytearray | memoryview):
        raise KeySetFetchError(f"the fetch function returned a body of type {type(body).__name__}")
    return Response(status, header_dict(headers.items()), bytes(body))


def check_response(request: Request, response: Response, max_bytes: int) -> None:
    """Refuse anything but a complete JSON 200 (or a 304 to a conditional request).

    Raises:
        KeySetFetchError: naming the status, redirect, type or size that was refused.
    """
    status, where = response.status, f"{request.what} at {redact(request.url)}"
    if status == 304 and request.conditional:
        return
    if status == 304:
        raise KeySetFetchError(f"{where} answered 304 Not Modified to a request without validators")
    if 300 <= status < 400:
        from urllib.parse import urljoin

        location = response.headers.get("location")
        try:
            target = f" to {redact(urljoin(request.url, location))}" if location else ""
        except ValueError:  # urljoin refuses some malformed Locations (an unclosed "[")
            target = " to <malformed URL>"
        raise KeySetFetchError(f"{where} answered HTTP {status}, a redirect{target}; redirects are "
                               "not followed: configure the final URL")
    if status != 200:
        raise KeySetFetchError(f"{where} answered HTTP {status}; only 200 is accepted")
    if len(response.body) > max_bytes:
        raise KeySetFetchError(f"{where} sent {len(response.body)} bytes; at most {max_bytes} are accepted")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise KeySetFetchError(f"{where} sent a body with Content-Encoding {clip(encoding)}")
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    # Lenient: the two JSON types, any application/*+json, or no type at all.
    if media_type and media_type not in _JSON_TYPES and not (
            media_type.startswith("application/") and media_type.endswith("+json")):
        raise KeySetFetchError(f"{where} sent Content-Type {clip(media_type)}, not JSON")


def stdlib_fetch(
    url: str,
    headers: Mapping[str, str],
    timeout: float,
    *,
    max_bytes: int,
    allow_http: bool = False,
    ssl_context: ssl.SSLContext | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` with the standard library, within ``timeout`` seconds in all.

    The body of a response other than 200 is not read; a body over ``max_bytes``
    is refused as soon as it is declared or read past the limit.

    Raises:
        KeySetFetchError: the URL is not allowed, or the body is too large or truncated.
        OSError: connection refused, TLS failure, timeout (``TimeoutError``).
        http.client.HTTPException: the server does not speak HTTP/1.1 properly.
    """
    import http.client
    from urllib.parse import urlsplit

    problem = url_problem(url, allow_http=allow_http)
    if problem is not None:
        raise KeySetFetchError(problem)
    deadline = time.monotonic() + timeout

    def time_left() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no complete response within {timeout:g} s")
        return left

    parts = urlsplit(url)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl_context if ssl_context is not None else _default_context()
        connection = http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=time_left(),
                                                 context=context)
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=time_left())
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target, headers=dict(headers))
        sock: socket.socket | None = connection.sock
        if sock is not None:
            sock.settimeout(time_left())
        response = connection.getresponse()
        try:
            status, received = response.status, header_dict(response.getheaders())
            if status != 200:
                return status, received, b""
            return status, received, _read_body(response, sock, max_bytes, time_left)
        finally:
            response.close()  # it owns the socket of a "Connection: close" response
    finally:
        connection.close()


def _default_context() -> ssl.SSLContext:
    import ssl

    return ssl.create_default_context()  # verifies the chain and the host name


def _read_body(response: http.client.HTTPResponse, sock: socket.socket | None, max_bytes: int,
               time_left: Callable[[], float]) -> bytes:
    declared = response.getheader("content-length")
    # isascii first: str.isdigit() is also true of "²" and other digits int() refuses.
    if (declared is not None and declared.isascii() and declared.strip().isdigit()
            and int(declared) > max_bytes):
        raise KeySetFetchError(f"the response declares {int(declared)} bytes; "
                               f"at most {max_bytes} are accepted")
    chunks: list[bytes] = []
    size = 0
    while size <= max_bytes and not response.isclosed() and response.length != 0:
        if sock is not None:
            sock.settimeout(time_left())  # each read gets only the time that is left
        chunk = response.read1(min(_READ_SIZE, max_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > max_bytes:
        raise KeySetFetchError(f"the response body is longer than {max_bytes} bytes; refused "
                               "without reading the rest")
    if response.length:  # fewer bytes than Content-Length announced
        raise KeySetFetchError("the response body ended before its announced Content-Length")
    return b"".join(chunks)
