"""A real HTTP server on 127.0.0.1 that publishes the benchmark key sets (stdlib only).

The ``jwkverify-remote`` column fetches its key set from here with jwkverify's own
HTTP client, exactly as from a provider's ``/.well-known/jwks.json``. The server
counts the requests per path, so a benchmark can show that its timed calls made
none (the hot path of a fresh ``RemoteJWKSet`` does no I/O).
"""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: What providers typically send with their JWK Set; jwkverify clamps a server's
#: lifetime to 60 s .. 1 day, so an hour keeps every benchmark's set fresh.
CACHE_CONTROL = "public, max-age=3600"


def jwks_path(label: str) -> str:
    """Where the key set of benchmark case ``label`` is served."""
    return f"/{label}/.well-known/jwks.json"


class JWKSServer:
    """``ThreadingHTTPServer`` in a daemon thread serving fixed documents by path.

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self) -> None:
        self._documents: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                with owner._lock:
                    owner.requests[self.path] += 1
                    body = owner._documents.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", CACHE_CONTROL)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="bench-jwks-server",
                                        daemon=True)
        self._thread.start()

    def publish(self, path: str, document_json: str) -> str:
        """Serve ``document_json`` at ``path``; returns its ``http://127.0.0.1:port`` URL."""
        with self._lock:
            self._documents[path] = document_json.encode("utf-8")
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def count(self, path: str) -> int:
        """Requests received for ``path`` so far."""
        with self._lock:
            return self.requests[path]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> JWKSServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
