"""One HTTP request with ``http.client``, headers exactly as given (a name twice, a bad value).

httpx refuses to send what a test of bad input needs; the standard library's client
sends it, and the server under test decides.
"""

from __future__ import annotations

import http.client
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        import json

        return json.loads(self.body)


def request(url: str, method: str = "GET", headers: Sequence[tuple[str, str]] = (),
            body: bytes | None = None) -> Response:
    """One request to ``url`` (headers may repeat a name); the whole response."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.putrequest(method, parts.path or "/", skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        reply = connection.getresponse()
        found: dict[str, str] = {}
        for name, value in reply.getheaders():
            key = name.lower()
            found[key] = f"{found[key]}, {value}" if key in found else value
        return Response(reply.status, found, reply.read())
    finally:
        connection.close()
