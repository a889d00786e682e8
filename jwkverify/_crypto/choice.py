"""Which signature backend keys are built with: the one place that knows every backend.

Sits above the seam (:mod:`.seam`) and both of its implementations, and imports an
implementation only when it is chosen, so importing the package never imports
``cryptography``.
"""

from __future__ import annotations

from functools import cache

from .seam import SignatureBackend

__all__ = ["BACKEND_NAMES", "backend_by_name", "backend_name", "default_backend"]

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
        from .openssl import CryptographyBackend

        return CryptographyBackend()
    if name == "pure":
        from .pure import PureBackend

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
