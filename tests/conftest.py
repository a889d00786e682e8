import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# tests/signing.py is imported as a plain module by the test files.
sys.path.insert(0, str(Path(__file__).parent))

from jwks_server import JWKSServer


@pytest.fixture
def server() -> Iterator[JWKSServer]:
    """A loopback JWKS server (``jwks_server.py``) for one test; a test file may define its own."""
    running = JWKSServer()
    yield running
    running.close()
