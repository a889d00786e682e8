"""The I/O edge of a remote key set: one request, sync or async, by whichever client is set.

A :class:`Transport` holds the checked transport options and turns a
:class:`Request` into a :class:`Response` or a :class:`KeySetFetchError`; it never
raises for a failed fetch. The async form never blocks the event loop: a caller's
``fetch_async`` is awaited, a sync client runs in a worker thread.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from ..errors import KeySetFetchError
from .http import AsyncFetch, Fetch, Request, Response, redact, stdlib_fetch, to_response

if TYPE_CHECKING:
    import ssl

__all__ = ["Transport"]

_ACCEPT = "application/jwk-set+json, application/json"


@dataclass(frozen=True, slots=True)
class Transport:
    """Checked transport options, and the one operation: send a request."""

    timeout: float
    max_bytes: int
    headers: Mapping[str, str]
    allow_http: bool
    fetch: Fetch | None = None
    fetch_async: AsyncFetch | None = None
    ssl_context: ssl.SSLContext | None = None

    @classmethod
    def build(cls, *, timeout: float, max_bytes: int, headers: Mapping[str, str] | None,
              allow_http: bool, fetch: Fetch | None, fetch_async: AsyncFetch | None,
              ssl_context: ssl.SSLContext | None) -> Transport:
        """Check the caller's options; ``TypeError``/``ValueError`` on misuse."""
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise TypeError("timeout must be a number of seconds")
        if not math.isfinite(timeout) or timeout <= 0:
            raise ValueError("timeout must be a positive, finite number of seconds")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int):
            raise TypeError("max_bytes must be an int")
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        if not isinstance(allow_http, bool):
            raise TypeError("allow_http must be a bool")
        if fetch is not None and not callable(fetch):
            raise TypeError("fetch must be callable")
        if fetch_async is not None and not callable(fetch_async):
            raise TypeError("fetch_async must be callable")
        return cls(float(timeout), max_bytes, MappingProxyType(_request_headers(headers)), allow_http,
                   fetch, fetch_async, _checked_context(ssl_context))

    def send(self, request: Request) -> Response | KeySetFetchError:
        """Make ``request`` in this thread; a failure is returned, not raised."""
        try:
            if self.fetch is not None:
                raw: object = self.fetch(request.url, request.headers, self.timeout)
            elif self.fetch_async is not None:
                raise KeySetFetchError("this key set was given only fetch_async, so a sync caller "
                                       "cannot fetch: pass fetch= too, or verify with verify_async")
            else:
                raw = stdlib_fetch(request.url, request.headers, self.timeout, max_bytes=self.max_bytes,
                                   allow_http=self.allow_http, ssl_context=self.ssl_context)
            return to_response(raw)
        except Exception as exc:
            return _fetch_error(request, exc)

    async def send_async(self, request: Request) -> Response | KeySetFetchError:
        """Make ``request`` without blocking the event loop; a failure is returned, not raised."""
        import asyncio

        try:
            if self.fetch_async is not None:
                raw: object = await asyncio.wait_for(
                    self.fetch_async(request.url, request.headers, self.timeout), self.timeout)
            elif self.fetch is not None:
                raw = await asyncio.to_thread(self.fetch, request.url, request.headers, self.timeout)
            else:
                raw = await asyncio.to_thread(
                    stdlib_fetch, request.url, request.headers, self.timeout, max_bytes=self.max_bytes,
                    allow_http=self.allow_http, ssl_context=self.ssl_context)
            return to_response(raw)
        except Exception as exc:
            return _fetch_error(request, exc)


def _fetch_error(request: Request, exc: Exception) -> KeySetFetchError:
    if isinstance(exc, KeySetFetchError):
        return exc
    detail = str(exc) or "no detail"
    error = KeySetFetchError(f"GET {request.what} at {redact(request.url)} failed: "
                             f"{type(exc).__name__}: {detail}")
    error.__cause__ = exc
    return error


def _request_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    merged = {"Accept": _ACCEPT, "User-Agent": "jwkverify"}
    if headers is None:
        return merged
    if not isinstance(headers, Mapping):
        raise TypeError("headers must be a mapping of str to str")
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("headers must be a mapping of str to str")
        if not name or ":" in name or any(char in name + value for char in "\r\n\0"):
            raise ValueError(f"the header {name!r} has a forbidden character")
        for existing in [key for key in merged if key.lower() == name.lower()]:
            del merged[existing]
        merged[name] = value
    return merged


def _checked_context(context: ssl.SSLContext | None) -> ssl.SSLContext | None:
    if context is None:
        return None
    import ssl

    if not isinstance(context, ssl.SSLContext):
        raise TypeError("ssl_context must be an ssl.SSLContext")
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise ValueError("ssl_context must verify certificates and host names "
                         "(verify_mode=CERT_REQUIRED, check_hostname=True)")
    return context
