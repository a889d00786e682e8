"""What every command of the command line shares: exit codes, the failure that ends a
command, and reading a token or a file."""

from __future__ import annotations

import sys

__all__ = ["KEYS_UNAVAILABLE", "OK", "REFUSED", "USAGE", "Failure", "read_file", "read_token"]

OK, REFUSED, USAGE, KEYS_UNAVAILABLE = 0, 1, 2, 3


class Failure(Exception):
    """Ends a command: ``message`` to stderr, ``code`` as the exit status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def read_token(argument: str) -> str:
    text = sys.stdin.read() if argument == "-" else argument
    token = text.strip()
    scheme, _, rest = token.partition(" ")
    if rest and scheme.lower() in ("bearer", "dpop"):  # pasted with its Authorization scheme
        token = rest.strip()
    if not token:
        raise Failure(USAGE, "no token: pass it as an argument or on stdin")
    return token


def read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(1 << 22)
    except OSError as exc:
        raise Failure(KEYS_UNAVAILABLE, f"cannot read {path}: {exc.strerror or exc}") from exc
