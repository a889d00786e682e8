"""From an issuer to its ``jwks_uri``: OpenID Connect Discovery and RFC 8414, sans I/O.

:func:`discover` is a generator: it yields each :class:`Request` to make and is
sent back the :class:`Response` (or the error) it got, so the sync and async
edges share one implementation of the rules.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping

from .._codec.strict_json import JSONError, loads_object
from ..errors import KeySetFetchError, clip
from .http import Request, Response, check_response, redact, url_problem

__all__ = ["discover", "issuer_problem", "jwks_uri_from", "metadata_urls"]

OIDC_SUFFIX = "/.well-known/openid-configuration"
OAUTH_SUFFIX = "/.well-known/oauth-authorization-server"


def issuer_problem(issuer: object, *, allow_http: bool) -> str | None:
    """Why ``issuer`` cannot be discovered, or ``None``."""
    problem = url_problem(issuer, allow_http=allow_http)
    if problem is not None or not isinstance(issuer, str):
        return None if problem is None else problem.replace("the URL", "the issuer", 1)
    if "?" in issuer:  # OIDC Discovery §2 / RFC 8414 §2: no query or fragment
        return f"the issuer {clip(issuer, 80)} must not have a query"
    return None


def metadata_urls(issuer: str) -> tuple[str, str]:
    """The OpenID Connect and the RFC 8414 metadata URLs of ``issuer``, in the order tried."""
    # OIDC Discovery 1.0 §4: drop a terminating "/" and append the well-known path.
    oidc = issuer.rstrip("/") + OIDC_SUFFIX
    # RFC 8414 §3.1: the well-known path goes between the host and the issuer's path.
    scheme, _, rest = issuer.partition("://")
    authority, slash, path = rest.partition("/")
    oauth = f"{scheme}://{authority}{OAUTH_SUFFIX}" + (f"/{path.rstrip('/')}" if slash and path.rstrip("/")
                                                       else "")
    return oidc, oauth


def jwks_uri_from(body: bytes, issuer: str, *, allow_http: bool) -> str:
    """The ``jwks_uri`` of a metadata document whose ``issuer`` is exactly ``issuer``.

    Raises:
        KeySetFetchError: the document is not a JSON object, names another issuer,
            or has no acceptable ``jwks_uri``.
    """
    try:
        metadata = loads_object(body, "the provider metadata")
    except JSONError as exc:
        raise KeySetFetchError(str(exc)) from exc
    # OIDC Discovery §4.3 / RFC 8414 §3.3: the issuer must be identical, no normalising.
    named = metadata.get("issuer")
    if named != issuer:
        raise KeySetFetchError(f"the metadata names issuer {clip(named, 80)}, not the configured "
                               f"{issuer!r}; they must be identical")
    jwks_uri = metadata.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise KeySetFetchError("the metadata has no 'jwks_uri' string")
    problem = url_problem(jwks_uri, allow_http=allow_http)
    if problem is not None:
        raise KeySetFetchError(f"the metadata's jwks_uri is refused: {problem}")
    return jwks_uri


def discover(
    issuer: str, headers: Mapping[str, str], *, allow_http: bool, max_bytes: int,
) -> Generator[Request, Response | KeySetFetchError, str]:
    """Find ``issuer``'s ``jwks_uri``: OpenID configuration first, then RFC 8414 metadata.

    Either document will do; the first that passes every check wins.

    Raises:
        KeySetFetchError: neither document could be fetched and checked; the
            message gives both reasons.
    """
    reasons: list[str] = []
    for url in metadata_urls(issuer):
        request = Request(url, headers, "the provider metadata")
        reply = yield request
        try:
            if isinstance(reply, KeySetFetchError):
                raise reply
            check_response(request, reply, max_bytes)
        except KeySetFetchError as exc:
            reasons.append(str(exc))
            continue
        try:
            return jwks_uri_from(reply.body, issuer, allow_http=allow_http)
        except KeySetFetchError as exc:
            reasons.append(f"{redact(url)}: {exc}")
    raise KeySetFetchError(f"discovery for issuer {issuer!r} failed: " + "; ".join(reasons))
