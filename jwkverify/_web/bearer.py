"""Bearer-token HTTP rules, sans I/O: the ``Authorization`` header in, challenges and metadata out.

RFC 6750 (Bearer tokens), RFC 9110 §11 (HTTP authentication) and RFC 9728
(protected-resource metadata) as plain functions over strings, shared by the ASGI
middleware, the MCP adapter and their tests. Nothing here verifies a token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from ..errors import (
    AlgorithmNotAllowed,
    ClaimError,
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    InvalidSignature,
    JOSEError,
    KeyNotFound,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    UnsupportedAlgorithm,
)
from .conventions import DEFAULT_CONVENTIONS, DEFAULT_ROLE_CLAIMS, RoleClaim
from .credentials import BearerProblem, read_credentials

__all__ = [
    "DEFAULT_ROLE_CLAIMS",
    "WELL_KNOWN",
    "BearerProblem",
    "RoleClaim",
    "bearer_token",
    "describe_refusal",
    "granted_roles",
    "granted_scopes",
    "metadata_paths",
    "metadata_url",
    "parse_challenge",
    "parse_challenges",
    "resource_problem",
    "scope_problem",
    "www_authenticate",
]

#: RFC 9728 §3: the well-known URI suffix of protected-resource metadata.
WELL_KNOWN: Final = "/.well-known/oauth-protected-resource"

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
# RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
_NOT_DESCRIPTION = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
_MAX_DESCRIPTION = 200


def bearer_token(values: Sequence[str]) -> str | BearerProblem:
    """The token of a request's ``Authorization`` header values, or why there is none.

    ``values`` are every ``Authorization`` header of the request, decoded as Latin-1.
    The scheme is matched case-insensitively (RFC 9110 §11.1); there must be exactly
    one header (RFC 6750 §3.1: more than one method is ``invalid_request``). See
    :func:`.credentials.read_credentials`.
    """

    found = read_credentials(values)
    return found if isinstance(found, BearerProblem) else found.token


def granted_scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    """The scopes a token grants under the default conventions: ``scope``, else ``scp``.

    See :meth:`TokenConventions.scopes <._web.conventions.TokenConventions.scopes>`.
    """
    return DEFAULT_CONVENTIONS.scopes(claims)


def granted_roles(claims: Mapping[str, Any], role_claims: Iterable[RoleClaim]) -> frozenset[str]:
    """The roles named by ``role_claims``: each an array of strings (or one string)."""
    return DEFAULT_CONVENTIONS.roles(claims, role_claims)


def scope_problem(scope: object) -> str | None:
    """Why ``scope`` cannot be a scope name (RFC 6749 §3.3), or ``None``."""
    if not isinstance(scope, str):
        return f"a scope must be a str, not {type(scope).__name__}"
    if _SCOPE_TOKEN.fullmatch(scope) is None:
        return f"{scope!r} is not a scope name: printable ASCII without space, '\"' or '\\'"
    return None


def resource_problem(resource: object) -> str | None:
    """Why ``resource`` cannot identify a protected resource, or ``None``.

    RFC 8707 §2 and RFC 9728 §1.2: an absolute URI without fragment; here also without
    query or credentials. ``https`` is required except on loopback hosts, for tests
    and local development.
    """
    from urllib.parse import urlsplit

    from .._remote.http import url_problem

    if not isinstance(resource, str):
        return f"resource must be a str, not {type(resource).__name__}"
    try:
        host = urlsplit(resource).hostname
    except ValueError:
        host = None
    loopback = host in ("localhost", "127.0.0.1", "::1")
    problem = url_problem(resource, allow_http=loopback)
    if problem is not None and resource.startswith("http:"):
        return f"the resource {resource!r} must be https (http only on a loopback host)"
    if problem is not None:
        return problem.replace("the URL", "the resource", 1)
    if urlsplit(resource).query or resource.endswith("?"):
        return "the resource must not have a query"
    return None


def metadata_paths(resource: str) -> tuple[str, ...]:
    """The paths the metadata of ``resource`` is served at (RFC 9728 §3.1).

    The path-suffixed form first (``/.well-known/oauth-protected-resource/mcp`` for
    ``https://host/mcp``), then the bare well-known path, which clients that know
    only the origin try.
    """
    from urllib.parse import urlsplit

    path = urlsplit(resource).path.rstrip("/")  # §3.1: a terminating slash is removed
    return (WELL_KNOWN + path, WELL_KNOWN) if path else (WELL_KNOWN,)


def metadata_url(resource: str) -> str:
    """The URL of ``resource``'s metadata document (RFC 9728 §3.1)."""
    from urllib.parse import urlsplit

    parts = urlsplit(resource)
    return f"{parts.scheme}://{parts.netloc}{metadata_paths(resource)[0]}"


def _quoted(value: str) -> str:
    # RFC 9110 §5.6.4: quoted-string; '"' and '\' travel as quoted-pairs.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _description(text: str) -> str:
    cleaned = _NOT_DESCRIPTION.sub("?", text.replace('"', "'").replace("\\", "/"))
    return cleaned if len(cleaned) <= _MAX_DESCRIPTION else cleaned[: _MAX_DESCRIPTION - 3] + "..."


def www_authenticate(
    *,
    resource_metadata: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
    scope: Iterable[str] = (),
    realm: str | None = None,
    scheme: str = "Bearer",
    algs: Iterable[str] = (),
) -> str:
    """A ``WWW-Authenticate: Bearer ...`` challenge (RFC 6750 §3, RFC 9728 §5.1), or
    with ``scheme="DPoP"`` a DPoP one (RFC 9449 §7.1), whose ``algs`` lists the
    algorithms a proof may use.

    ``error_description`` is cut to 200 characters and any character RFC 6750 §3
    does not allow in it (control and non-ASCII characters, ``"`` and ``\\``) is
    replaced, so untrusted text can never break the header. Every value is sent as
    a quoted-string. ``scope`` names must already be valid scope tokens.

    Raises:
        ValueError: a scope name is not a scope token, or a value has a control
            character.
    """
    params: list[tuple[str, str]] = []
    if realm is not None:
        params.append(("realm", realm))
    if error is not None:
        params.append(("error", error))
    if error_description is not None:
        params.append(("error_description", _description(error_description)))
    scopes = list(scope)
    for name in scopes:
        problem = scope_problem(name)
        if problem is not None:
            raise ValueError(problem)
    if scopes:
        params.append(("scope", " ".join(scopes)))  # RFC 6750 §3: space-delimited
    names = list(algs)
    if names:
        params.append(("algs", " ".join(names)))  # RFC 9449 §7.1: space-delimited alg values
    if resource_metadata is not None:
        params.append(("resource_metadata", resource_metadata))
    for name, value in params:
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
            raise ValueError(f"the {name} value has a control character")
    if not params:
        return scheme
    return f"{scheme} " + ", ".join(f"{name}={_quoted(value)}" for name, value in params)


_CHALLENGE_PARAM = re.compile(
    r'\s*([!#$%&\'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([!#$%&\'*+\-.^_`|~0-9A-Za-z]+))\s*(,|$)'
)


def parse_challenge(value: str) -> tuple[str, dict[str, str]]:
    """The scheme and auth-params of one challenge, as :func:`www_authenticate` writes it.

    Raises:
        ValueError: the text is not one challenge of auth-params (RFC 9110 §11.6.1),
            or it names a parameter twice.
    """
    scheme, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        after = _read_param(rest, position, params)
        if after is None:
            raise ValueError(f"malformed auth-param at {rest[position:position + 20]!r}")
        position = after
    return scheme, params


def _read_param(text: str, position: int, params: dict[str, str]) -> int | None:
    """Read the auth-param at ``position`` of ``text`` into ``params``; where it ends, or
    ``None`` when there is none there.

    Raises:
        ValueError: ``params`` already has it.
    """
    match = _CHALLENGE_PARAM.match(text, position)
    if match is None:
        return None
    name = match.group(1).lower()
    if name in params:
        raise ValueError(f"the auth-param {name!r} appears twice")
    quoted = match.group(2)
    params[name] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else match.group(3)
    return match.end()


_SCHEME = re.compile(r"\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?:[ \t]+|\s*(?:,|$))")


def parse_challenges(value: str) -> list[tuple[str, dict[str, str]]]:
    """Every challenge of one ``WWW-Authenticate`` value (RFC 9110 §11.6.1: a list of
    challenges, each a scheme and its auth-params, e.g. ``Bearer, DPoP algs="ES256"``).

    Raises:
        ValueError: the text is not a list of such challenges, or a challenge names a
            parameter twice.
    """
    found: list[tuple[str, dict[str, str]]] = []
    position, end = 0, len(value.rstrip())
    while position < end:
        scheme = _SCHEME.match(value, position)
        if scheme is None:
            raise ValueError(f"malformed challenge at {value[position:position + 20]!r}")
        params: dict[str, str] = {}
        position = scheme.end()
        while position < end:
            after = _read_param(value, position, params)
            if after is None:
                break  # the next challenge's scheme
            position = after
        found.append((scheme.group(1), params))
    return found


# Short, fixed texts for error_description: what went wrong, never the token, a key,
# or what the server expected (operators find the full message in the log).
_REFUSALS: Final[tuple[tuple[type[JOSEError], str], ...]] = (
    (ExpiredToken, "the token has expired"),
    (NotYetValid, "the token is not valid yet"),
    (InvalidAudience, "the token was not issued for this resource"),
    (InvalidIssuer, "the token's issuer is not trusted"),
    (InvalidSignature, "the token's signature does not verify"),
    (KeyNotFound, "the token's signing key is not known"),
    (UnsupportedAlgorithm, "the token's algorithm is not accepted"),
    (AlgorithmNotAllowed, "the token's algorithm is not accepted"),
    (MalformedToken, "the token is malformed"),
)


def describe_refusal(exc: BaseException) -> str:
    """A short ``error_description`` for a refused token that reveals nothing secret."""
    for kind, text in _REFUSALS:
        if isinstance(exc, kind):
            return text
    if isinstance(exc, MissingClaim) and _SCOPE_TOKEN.fullmatch(exc.claim):
        return f"the token has no {exc.claim!r} claim"
    if isinstance(exc, ClaimError) and _SCOPE_TOKEN.fullmatch(exc.claim):
        return f"the token's {exc.claim!r} claim is not accepted"
    return "the token is not valid"
