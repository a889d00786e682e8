"""A loopback OpenID provider for the load test: discovery, a JWK Set, and fault modes.

It serves ``/.well-known/openid-configuration`` (naming ``/jwks``) and ``/jwks`` on
127.0.0.1 from a ``ThreadingHTTPServer`` in a thread, and records every request
with its time, path and the ``X-Worker`` header the servers under test send (their
process id), so the load test can count provider requests per phase and per worker.

Modes (:meth:`Provider.set_mode`): ``healthy`` (the published keys), ``down``
(nobody listens: connection refused), ``500``, ``hang`` (holds the reply past the
client's timeout), ``garbage`` (a 200 that is not JSON), ``oversized`` (a 200 of
2 MiB, past every client's limit). Publishing a set without the current key is
``healthy`` with other keys (:meth:`Provider.publish`).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["MODES", "Hit", "Provider"]

MODES = ("healthy", "down", "500", "hang", "garbage", "oversized")
OVERSIZED = 2 * 1024 * 1024


@dataclass(frozen=True)
class Hit:
    """One request the provider received."""

    at: float  # time.monotonic()
    path: str
    worker: str


class Provider:
    """The provider; ``url`` is its issuer, stable across ``down`` phases (the port is kept)."""

    def __init__(self, hang_seconds: float = 3.0) -> None:
        self.hits: list[Hit] = []
        self.mode = "healthy"
        self.hang_seconds = hang_seconds
        self._lock = threading.Lock()
        self._document = b'{"keys": []}'
        self._stop_hanging = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._placeholder: socket.socket | None = None
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def jwks_url(self) -> str:
        return self.url + "/jwks"

    def publish(self, *jwks: dict[str, Any]) -> None:
        """Serve these public keys from now on."""
        with self._lock:
            self._document = json.dumps({"keys": list(jwks)}).encode()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        self._stop_hanging.set()  # release replies held by the previous mode
        self._stop_hanging = threading.Event()
        if mode == "down" and self._httpd is not None:
            self._close()
        elif mode != "down" and self._httpd is None:
            self._listen()
        self.mode = mode

    def count(self, since: float, until: float) -> dict[str, int]:
        """Requests received in ``[since, until)``, by worker."""
        counts: dict[str, int] = {}
        with self._lock:
            for hit in self.hits:
                if since <= hit.at < until:
                    counts[hit.worker] = counts.get(hit.worker, 0) + 1
        return counts

    def close(self) -> None:
        self._stop_hanging.set()
        if self._httpd is not None:
            self._close(hold_port=False)
        if self._placeholder is not None:
            self._placeholder.close()

    # -- the server ----------------------------------------------------------------------

    def _listen(self) -> None:
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None
        owner = self

        class Handler(_Handler):
            provider = owner

        httpd = _Server(("127.0.0.1", self._port), Handler)
        httpd.daemon_threads = True
        self._port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def _close(self, *, hold_port: bool = True) -> None:
        assert self._httpd is not None and self._thread is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
        self._httpd = None
        if hold_port:  # bound, not listening: connections are refused, and no one else gets the port
            self._placeholder = socket.socket()
            self._placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._placeholder.bind(("127.0.0.1", self._port))

    def _record(self, path: str, worker: str) -> None:
        with self._lock:
            self.hits.append(Hit(time.monotonic(), path, worker))

    def _reply(self, path: str) -> tuple[int, bytes, threading.Event | None]:
        mode = self.mode
        if path == "/.well-known/openid-configuration":
            body = json.dumps({"issuer": self.url, "jwks_uri": self.jwks_url}).encode()
        elif path == "/jwks":
            with self._lock:
                body = self._document
        else:
            return 404, b"{}", None
        if mode == "500":
            return 500, b'{"error": "internal"}', None
        if mode == "hang":
            return 200, body, self._stop_hanging
        if mode == "garbage":
            return 200, b'{"keys": [{"kty": "RSA", "n": ', None
        if mode == "oversized":
            return 200, b" " * OVERSIZED + body, None
        return 200, body, None


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True  # the port is bound again after a "down" phase
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    provider: Provider

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        provider = self.provider
        path = self.path.split("?", 1)[0]
        provider._record(path, self.headers.get("X-Worker", "-"))
        status, body, hold = provider._reply(path)
        if hold is not None:
            hold.wait(provider.hang_seconds)
        self.close_connection = True
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (timeout, size limit)
            pass
