"""A real redis-server for tests, on a free port of 127.0.0.1, without persistence.

Locally a test that needs it skips when redis-server or redis-py is missing, saying what
to install; in CI (``JWKVERIFY_REQUIRE_INTEROP=1``) it fails instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Any

import pytest

REQUIRED = os.environ.get("JWKVERIFY_REQUIRE_INTEROP") == "1"


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (JWKVERIFY_REQUIRE_INTEROP=1)")
    pytest.skip(reason, allow_module_level=True)  # also used at a test module's top


def redis_module() -> Any:
    try:
        import redis
        import redis.asyncio
    except ImportError:
        unavailable('needs redis-py: pip install -e ".[redis-test]"')
    return redis


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """``redis-server`` in a subprocess; ``url`` to connect, ``kill()`` for an outage."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("needs redis-server: apt-get install -y redis-server (or brew install redis)")
        self._directory = tempfile.TemporaryDirectory(prefix="jwkverify-redis-")
        for _ in range(5):  # another process may take the free port first
            self.port = _free_port()
            self.process = subprocess.Popen(
                [str(binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", self._directory.name, "--loglevel", "warning"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._ready():
                return
            self.kill()
        self._directory.cleanup()
        pytest.fail("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _ready(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return True
            except OSError:
                time.sleep(0.02)
        return False

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def close(self) -> None:
        self.kill()
        self._directory.cleanup()
