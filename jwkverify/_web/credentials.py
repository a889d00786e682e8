"""Reading a request's credentials: the ``Authorization`` header values in, a scheme and token out.

The one step that knows authentication schemes: ``Bearer`` (RFC 6750 §2.1) and, when
a face has DPoP on, ``DPoP`` (RFC 9449 §7.1: ``Authorization: DPoP <token>`` plus one
``DPoP`` proof header). :func:`read_credentials` names the scheme in
:class:`Credentials`, and the decision verifies what that scheme needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple

__all__ = ["BEARER", "BEARER_REFUSED", "DPOP", "DPOP_NOT_ONE_TOKEN", "MAX_CREDENTIALS", "NOT_ONE_TOKEN",
           "BearerProblem", "Credentials", "is_b64token", "read_credentials", "split_joined"]

#: The scheme of :class:`Credentials` read from ``Bearer`` (compared case-insensitively, RFC 9110 §11.1).
BEARER: Final = "bearer"
#: The scheme of :class:`Credentials` read from ``DPoP`` (RFC 9449 §7.1), when DPoP is on.
DPOP: Final = "dpop"

@dataclass(frozen=True, slots=True)
class BearerProblem:
    """Why a request's credentials cannot even be verified.

    ``error`` is ``None`` when the request simply carries no Bearer token (RFC 6750
    §3.1: no error code then), or ``"invalid_request"`` for a malformed one.
    ``scheme`` is the scheme the problem is about (lower case), ``None`` when it is
    about no scheme in particular (two ``Authorization`` headers).
    """

    error: str | None
    description: str
    scheme: str | None = None


#: The longest credentials read (characters); longer ones are ``invalid_request`` before any parsing.
MAX_CREDENTIALS: Final = 64 * 1024

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"

_NONE = BearerProblem(None, "no Authorization header")
_TWO = BearerProblem("invalid_request", "more than one Authorization header")
_OTHER = BearerProblem(None, "the Authorization header is not Bearer")
_OTHER_DPOP = BearerProblem(None, "the Authorization header is neither DPoP nor Bearer")
_EMPTY = BearerProblem("invalid_request", "the Bearer credentials are empty", BEARER)
_NOT_ONE = BearerProblem("invalid_request", "the Bearer credentials are not a single token", BEARER)
_TOO_LONG = BearerProblem("invalid_request", "the Authorization header is too long")
_DPOP_EMPTY = BearerProblem("invalid_request", "the DPoP credentials are empty", DPOP)
_DPOP_NOT_ONE = BearerProblem("invalid_request", "the DPoP credentials are not a single token", DPOP)
#: A Bearer token where only DPoP is accepted (``require_dpop``): an unsupported method,
#: so no error code (RFC 6750 §3.1, RFC 9449 §7.2), and a description that says what to do.
BEARER_REFUSED: Final = BearerProblem(
    None, "this resource accepts only DPoP-bound tokens: send 'Authorization: DPoP <token>' with a DPoP "
    "proof (RFC 9449)")


class Credentials(NamedTuple):
    """A request's credentials: the scheme (lower case, e.g. ``"bearer"``) and the token."""

    scheme: str
    token: str


def read_credentials(values: Sequence[str], *, syntax: bool = True, dpop: bool = False,
                     bearer: bool = True) -> Credentials | BearerProblem:
    """The credentials of a request's ``Authorization`` header values, or why there are none.

    ``values`` are every ``Authorization`` header of the request (decoded as
    Latin-1). Exactly one is allowed (RFC 6750 §3.1: more than one method is
    ``invalid_request``). Another scheme is "an unsupported authentication method":
    a problem without an error code, answered like no credentials. ``syntax=False``
    leaves the token's characters to be checked later (:func:`is_b64token`), for a
    verifier that parses strictly: only a refused token needs the check. ``dpop``:
    the ``DPoP`` scheme is read too (RFC 9449 §7.1, the same ``token68`` syntax);
    ``bearer=False``: a ``Bearer`` token is :data:`BEARER_REFUSED`.
    """
    if not values:
        return _NONE
    if len(values) > 1:
        return _TWO
    value = values[0]
    if len(value) > MAX_CREDENTIALS:
        return _TOO_LONG
    scheme, _, rest = value.strip(" \t").partition(" ")
    scheme = scheme.lower()
    if scheme == BEARER:
        if not bearer:
            return BEARER_REFUSED
        empty, not_one = _EMPTY, _NOT_ONE
    elif scheme == DPOP and dpop:
        empty, not_one = _DPOP_EMPTY, _DPOP_NOT_ONE
    else:
        return _OTHER_DPOP if dpop else _OTHER
    token = rest.lstrip(" ")
    if not token:
        return empty
    if syntax and not is_b64token(token):
        return not_one
    return Credentials(BEARER if scheme == BEARER else DPOP, token)


#: What a token that is not one ``b64token`` is answered with (``invalid_request``).
NOT_ONE_TOKEN: Final = _NOT_ONE
#: The same for a token sent with the ``DPoP`` scheme.
DPOP_NOT_ONE_TOKEN: Final = _DPOP_NOT_ONE


def is_b64token(text: str) -> bool:
    """Whether ``text`` is one RFC 6750 §2.1 ``b64token`` (a few instructions per character)."""
    if not text.isascii():
        return False
    body = text.encode("ascii").rstrip(b"=")
    # What is left once every allowed character is deleted: nothing, if all were allowed.
    return bool(body) and not body.translate(None, _B64TOKEN_CHARS)


def split_joined(value: str | None) -> Sequence[str]:
    """The ``Authorization`` values of a server that joins repeated headers with a comma.

    WSGI servers (and some proxies) turn two headers into one ``"a, b"``. Bearer and
    DPoP credentials never hold a comma (RFC 6750 §2.1, RFC 9449 §7.1), so a joined
    value with a Bearer or DPoP part is two headers. A comma in another scheme's
    credentials (``Digest``'s auth-params) is left alone: that is one header of a
    scheme this does not read.
    """
    if value is None:
        return ()
    if "," not in value:
        return (value,)
    parts = value.split(",")
    if any(part.strip(" \t").partition(" ")[0].lower() in (BEARER, DPOP) for part in parts):
        return parts
    return (value,)
