"""The seam between the algorithm table and the signature primitives.

A backend turns public key material into an opaque key handle (once, when a JWK
is parsed) and gives a verifier callable per (algorithm, key). Everything above
this seam (JWK validation, key selection, JWS, claims) is backend-independent, so
a pure-Python backend can replace ``cryptography`` without touching it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Protocol

from .algorithms import Algorithm

__all__ = [
    "BACKEND_NAMES",
    "BackendKeyError",
    "SignatureBackend",
    "Verifier",
    "backend_by_name",
    "backend_name",
    "default_backend",
]

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


#: The backends there are, by name: OpenSSL through ``cryptography``, and pure Python.
BACKEND_NAMES = ("cryptography", "pure")


def default_backend() -> SignatureBackend:
    """The backend keys are built with unless one is passed as ``backend=``.

    ``cryptography`` when it can be imported; otherwise the pure-Python backend
    (zero-dependency mode). Decided on the first call, never at package import,
    and then kept for the life of the process.
    """
    return _default_backend()


def backend_name() -> str:
    """The name of the default backend: ``"cryptography"`` or ``"pure"``."""
    return _default_backend().name


def backend_by_name(name: str) -> SignatureBackend:
    """A new backend of the given name, e.g. to run a test against the pure backend.

    Raises:
        ValueError: ``name`` is not one of :data:`BACKEND_NAMES`.
        ImportError: ``name`` is ``"cryptography"`` and it is not installed.
    """
    if name == "cryptography":
        from ._backend_cryptography import CryptographyBackend

        return CryptographyBackend()
    if name == "pure":
        from ._backend_pure import PureBackend

        return PureBackend()
    raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")


@cache
def _default_backend() -> SignatureBackend:
    # Cached: a failed import is not remembered by Python, and retrying it for
    # every key would scan sys.path each time. Backends hold only immutable
    # parameters, so one instance serves every key and thread.
    try:
        return backend_by_name("cryptography")
    except ImportError:
        return backend_by_name("pure")
