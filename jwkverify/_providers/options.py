"""A preset's keyword options: which go to the remote key set, which to the verifier.

Every preset takes :class:`~jwkverify.RemoteJWKSet`'s options and
:class:`~jwkverify.JWTVerifier`'s as keywords. The preset fixes ``issuer`` and the
audience itself, so those are refused here with a message naming what to pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..claims import ANY_AUDIENCE
from ..errors import clip

__all__ = ["REMOTE_OPTIONS", "VERIFIER_OPTIONS", "Options", "audience_option", "base_url", "is_guid",
           "split_options", "strings_option"]

#: What :class:`RemoteJWKSet` takes besides its URL.
REMOTE_OPTIONS: Final = frozenset({
    "timeout", "cache_ttl", "cooldown", "max_stale", "max_bytes", "headers", "fetch", "fetch_async",
    "allow_http", "ssl_context", "clock", "wall_clock",
})
#: What :class:`JWTVerifier` takes besides its key source, issuer and audience.
VERIFIER_OPTIONS: Final = frozenset({
    "algorithms", "subject", "leeway", "now", "required_claims", "max_age", "typ", "max_token_size",
    "cache_size",
})

_GUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HOST: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*"
                          r"[A-Za-z0-9])?)*(?::[0-9]{1,5})?")


@dataclass(frozen=True, slots=True)
class Options:
    """A preset's keywords, split: the remote key set's, and the verifier's."""

    remote: Mapping[str, Any]
    verifier: Mapping[str, Any]

    @property
    def allow_http(self) -> bool:
        return self.remote.get("allow_http") is True


def split_options(preset: str, options: Mapping[str, Any], *, defaults: Mapping[str, Any] | None = None,
                  fixed: Mapping[str, str] | None = None) -> Options:
    """Split ``options`` by destination; ``defaults`` fill in verifier options not given.

    Raises:
        TypeError: an option neither takes, or one the preset fixes itself
            (``fixed`` maps such names to what to pass instead).
    """
    refused = {"issuer": "the preset sets the issuer from its arguments",
               "audience": "pass audience= as the preset's own argument",
               "key": "the preset builds the key source itself"}
    refused.update(fixed or {})
    remote: dict[str, Any] = {}
    verifier: dict[str, Any] = dict(defaults or {})
    for name, value in options.items():
        if name in refused:
            raise TypeError(f"{preset}() does not take {name}=: {refused[name]}")
        if name in REMOTE_OPTIONS:
            remote[name] = value
        elif name in VERIFIER_OPTIONS:
            verifier[name] = value
        else:
            known = ", ".join(sorted(REMOTE_OPTIONS | VERIFIER_OPTIONS))
            raise TypeError(f"{preset}() got an unexpected keyword {name!r}; it takes the RemoteJWKSet "
                            f"and JWTVerifier options: {known}")
    return Options(remote, verifier)


def audience_option(preset: str, audience: object, name: str = "audience") -> tuple[str, ...]:
    """``audience`` as a tuple of non-empty strings.

    Raises:
        TypeError: not a str or a collection of str.
        ValueError: empty, or ``ANY_AUDIENCE``: a preset always checks its recipient.
    """
    if audience is ANY_AUDIENCE:
        raise ValueError(f"{preset}() always checks the token's recipient: pass {name}= the value your "
                         "provider puts in the token for this API, not ANY_AUDIENCE")
    return strings_option(preset, name, audience)


def strings_option(preset: str, name: str, value: object) -> tuple[str, ...]:
    """A str or a collection of str, as a non-empty tuple of non-empty strings."""
    items = (value,) if isinstance(value, str) else value
    if isinstance(items, Mapping | bytes) or not isinstance(items, Iterable):
        raise TypeError(f"{preset}() takes {name}= as a str or a collection of str, "
                        f"not {type(value).__name__}")
    found = tuple(items)
    if not all(isinstance(item, str) for item in found):
        raise TypeError(f"{preset}() takes {name}= as a str or a collection of str")
    if not found or not all(found):
        raise ValueError(f"{preset}() needs a non-empty {name}=")
    return found


def is_guid(value: str) -> bool:
    """Whether ``value`` is a GUID in lower case (as Entra ID writes ``tid``)."""
    return _GUID.fullmatch(value) is not None


def base_url(preset: str, name: str, value: object, *, allow_http: bool, path: bool) -> str:
    """``value`` as ``scheme://host[:port][/path]`` without a trailing slash.

    A bare host gets ``https://``. ``http://`` needs ``allow_http=True`` (tests on
    loopback). ``path`` permits a path (Keycloak's legacy ``/auth``).

    Raises:
        TypeError: not a str.
        ValueError: empty, not a URL of that shape, or ``http`` without ``allow_http``.
    """
    if not isinstance(value, str):
        raise TypeError(f"{preset}() takes {name}= as a str, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise ValueError(f"{preset}() needs a non-empty {name}=")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "https", text
    scheme = scheme.lower()
    if scheme not in ("https", "http"):
        raise ValueError(f"{preset}(): {name}={clip(value, 80)} must be an https URL or a host name")
    if scheme == "http" and not allow_http:
        raise ValueError(f"{preset}(): {name}={clip(value, 80)} is http; pass an https URL "
                         "(allow_http=True is for tests on loopback)")
    host, _, tail = rest.partition("/")
    tail = tail.rstrip("/")
    if _HOST.fullmatch(host) is None or any(char in tail for char in "?#% \t\r\n\\"):
        raise ValueError(f"{preset}(): {name}={clip(value, 80)} is not a host name or a URL "
                         "without query or fragment")
    if tail and not path:
        raise ValueError(f"{preset}(): {name}={clip(value, 80)} must be a host name without a path, "
                         f"such as {host!r}")
    return f"{scheme}://{host.lower()}" + (f"/{tail}" if tail else "")
