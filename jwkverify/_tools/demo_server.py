"""The demo issuer's ``/jwks.json``, served on a free loopback port in a thread."""

from __future__ import annotations

from collections.abc import Sequence

from .demo_tokens import DemoKey, json_octets

__all__ = ["KeySetServer"]


class KeySetServer:
    """The issuer's ``/jwks.json`` on a free loopback port, in a thread, for the demo."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.document = b'{"keys": []}'
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = server.document
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/jwks.json"

    def publish(self, keys: Sequence[DemoKey]) -> None:
        self.document = json_octets({"keys": [key.jwk for key in keys]})

    def __enter__(self) -> KeySetServer:
        import threading

        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
