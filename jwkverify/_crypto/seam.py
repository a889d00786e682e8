"""The seam between the algorithm table and the signature primitives.

A backend turns public key material into an opaque key handle (once, when a JWK
is parsed) and gives a verifier callable per (algorithm, key). Everything above
this seam (JWK validation, key selection, JWS, claims) is backend-independent, so
a pure-Python backend can replace ``cryptography`` without touching it.

The seam names what a backend is and imports none of them: :mod:`.choice`, above
both backends, picks one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..algorithms import Algorithm

__all__ = ["BackendKeyError", "SignatureBackend", "Verifier"]

#: ``verifier(signature, signing_input) -> bool``; never raises for a bad signature.
Verifier = Callable[[bytes, bytes], bool]


class BackendKeyError(Exception):
    """Raised by a backend for key material it refuses (e.g. a point off the curve)."""


class SignatureBackend(Protocol):
    """What a signature backend provides. Handles are opaque to the caller."""

    name: str

    def rsa_public_key(self, n: int, e: int) -> object:
        """A handle for the RSA public key (n, e); raise BackendKeyError if unusable."""
        ...

    def ec_public_key(self, crv: str, x: bytes, y: bytes) -> object:
        """A handle for the EC point (x, y) on ``crv``; raise BackendKeyError if not on it."""
        ...

    def okp_public_key(self, crv: str, x: bytes) -> object:
        """A handle for the Ed25519/Ed448 public key ``x``; raise BackendKeyError if bad."""
        ...

    def verifier(self, algorithm: Algorithm, key: object) -> Verifier:
        """A verifier for ``algorithm`` with the handle ``key`` (built once per key)."""
        ...
