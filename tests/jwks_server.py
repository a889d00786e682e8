"""A real HTTP server on 127.0.0.1 whose every response a test scripts, and a fake clock.

The server is the standard library's ``ThreadingHTTPServer`` in a thread. A test
sets ``server.respond`` (a function from the recorded request to a :class:`Reply`)
or uses :meth:`JWKSServer.serve_keys`; replies can be held until the test releases
them, delayed, trickled, chunked, oversized or endless, to make real faults.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ENDLESS_CAP = 64 * 1024 * 1024  # an "endless" body stops here if nobody hangs up


@dataclass
class Reply:
    """One scripted response."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"
    hold: threading.Event | None = None  # wait for the test to release it
    delay: float = 0.0                   # seconds before the status line
    content_length: int | None = None    # announce this instead of len(body)
    close_delimited: bool = False        # no Content-Length: the body ends when the connection does
    chunked: bool = False
    endless: bool = False                # chunks forever (up to ENDLESS_CAP)
    trickle: float = 0.0                 # seconds between single body bytes


@dataclass
class Recorded:
    """A request the server received."""

    path: str
    headers: dict[str, str]


def keys_body(*jwks: dict[str, Any]) -> bytes:
    return json.dumps({"keys": list(jwks)}).encode()


class JWKSServer:
    """A scripted HTTP server; ``requests`` records what it received."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.respond: Callable[[Recorded], Reply] = lambda request: Reply(404)
        self.received = threading.Condition()
        self.bytes_sent = 0
        self.handled = 0  # replies finished, or abandoned because the client hung up
        self.holds: list[threading.Event] = []
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str = "/jwks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def count(self) -> int:
        return len(self.requests)

    def serve_keys(self, *jwks: dict[str, Any], **headers: str) -> None:
        """Answer every request with this key set (header names with '_' for '-')."""
        body = keys_body(*jwks)
        extra = {name.replace("_", "-"): value for name, value in headers.items()}
        self.respond = lambda request: Reply(200, body, dict(extra))

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        """Block until the server has received ``count`` requests."""
        with self.received:
            if not self.received.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"the server got {len(self.requests)} requests, not {count}")

    def wait_handled(self, count: int, timeout: float = 5.0) -> None:
        """Block until ``count`` replies have been written out or cut off by the client."""
        with self.received:
            if not self.received.wait_for(lambda: self.handled >= count, timeout):
                raise AssertionError(f"the server finished {self.handled} replies, not {count}")

    def hold(self) -> threading.Event:
        """An event that holds a reply until set; all are set when the server closes."""
        event = threading.Event()
        self.holds.append(event)
        return event

    def close(self) -> None:
        for event in self.holds:
            event.set()
        self._httpd.shutdown()
        self._httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_owner: JWKSServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        owner = self.server_owner
        recorded = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()})
        with owner.received:
            owner.requests.append(recorded)
            owner.received.notify_all()
        reply = owner.respond(recorded)
        self.close_connection = True
        try:
            self._send(reply, owner)
        except OSError:  # the client hung up: that is what several tests want
            pass
        finally:
            with owner.received:
                owner.handled += 1
                owner.received.notify_all()

    def _send(self, reply: Reply, owner: JWKSServer) -> None:
        if reply.hold is not None:
            reply.hold.wait(10)
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        if reply.content_type is not None:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        if reply.chunked or reply.endless:
            self.send_header("Transfer-Encoding", "chunked")
        elif not reply.close_delimited:
            length = reply.content_length if reply.content_length is not None else len(reply.body)
            self.send_header("Content-Length", str(length))
        self.end_headers()
        if reply.endless:
            chunk = b"x" * 65536
            while owner.bytes_sent < ENDLESS_CAP:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                owner.bytes_sent += len(chunk)
            return
        if reply.trickle:
            for index in range(len(reply.body)):
                self.wfile.write(reply.body[index:index + 1])
                self.wfile.flush()
                time.sleep(reply.trickle)
            return
        if reply.chunked:
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(reply.body), reply.body))
        else:
            for start in range(0, len(reply.body), 65536):
                self.wfile.write(reply.body[start:start + 65536])
                owner.bytes_sent += min(65536, len(reply.body) - start)


class Clock:
    """A monotonic clock the test moves by hand, with a matching wall clock."""

    EPOCH_OFFSET = 1_700_000_000.0

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + self.EPOCH_OFFSET

    def advance(self, seconds: float) -> None:
        self.now += seconds
