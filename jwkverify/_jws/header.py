"""A compact JWS's protected header: decoded, checked once, and remembered (RFC 7515 §4)."""

from __future__ import annotations

from typing import Any, NamedTuple

from .._codec.base64url import Base64Error, b64url_decode
from .._codec.strict_json import JSONError, loads_object
from ..algorithms import ALGORITHMS
from ..errors import MalformedToken, UnsupportedAlgorithm, clip

__all__ = ["CheckedHeader", "HeaderCache", "parse_header"]


class CheckedHeader(NamedTuple):
    """A decoded header that passed the checks, with its ``alg`` and ``kid``."""

    header: dict[str, Any]
    alg: str
    kid: str | None


class HeaderCache(dict[str, CheckedHeader]):
    """A bounded map from an exact header segment to its decoded, checked header.

    A service sees a handful of distinct headers (one per issuer key), so decoding
    each once saves the base64url and JSON work on every later token. Entries are
    immutable in use (headers are never handed to callers from here); when the map
    is full it is emptied, which keeps memory bounded even under a flood of
    distinct headers and needs no lock. A ``dict`` subclass so that a lookup is
    the built-in ``dict.get``, with no Python call on the hot path.
    """

    __slots__ = ("_size",)

    #: Header segments longer than this are decoded every time, never cached.
    MAX_SEGMENT = 1024

    def __init__(self, size: int = 128) -> None:
        super().__init__()
        self._size = size

    def put(self, segment: str, header: CheckedHeader) -> None:
        if len(segment) > self.MAX_SEGMENT:
            return
        if len(self) >= self._size:
            self.clear()
        self[segment] = header


def parse_header(segment: str) -> CheckedHeader:
    """Decode and check a header segment.

    Raises:
        MalformedToken: not base64url of a JSON object, no ``alg``, a ``crit`` or
            ``b64`` member, or a ``kid`` that is not a string.
        UnsupportedAlgorithm: ``alg`` is ``none`` or unknown.
    """
    header = _decode_header(segment)
    alg = _check_header(header)
    kid = header.get("kid")
    if "kid" in header and not isinstance(kid, str):  # RFC 7515 §4.1.4; null is not a string
        raise MalformedToken("the header's 'kid' must be a string")
    return CheckedHeader(header, alg, kid)


def _decode_header(segment: str) -> dict[str, Any]:
    try:
        raw = b64url_decode(segment)
    except Base64Error as exc:
        raise MalformedToken(f"the header segment is {exc}") from exc
    try:
        return loads_object(raw, "the JWS header")
    except JSONError as exc:
        raise MalformedToken(str(exc)) from exc


def _check_header(header: dict[str, Any]) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise MalformedToken("the header must have an 'alg' string (RFC 7515 §4.1.1)")
    if alg not in ALGORITHMS:
        raise UnsupportedAlgorithm(_unsupported(alg))
    # RFC 7515 §4.1.11: a recipient that does not understand every extension listed
    # in "crit" must reject the JWS. jwkverify implements none, RFC 7797 included.
    if "crit" in header:
        raise MalformedToken(f"the header lists the extensions {clip(header['crit'])} in 'crit'; "
                             "jwkverify supports no JWS extension, so it must refuse the token")
    # RFC 7797 §3: b64=false changes the signing input; without crit it is a
    # malformed header, and honouring it would need the extension we refuse.
    if "b64" in header and header["b64"] is not True:
        raise MalformedToken("the header's 'b64' must be absent or true")
    return alg


def _unsupported(alg: str) -> str:
    if alg.lower() == "none":
        # RFC 8725 §3.1 / RFC 7518 §3.6: an unsecured JWS is never verified.
        return f"alg {clip(alg)} (an unsecured JWS) is never accepted"
    same_letters = [name for name in ALGORITHMS if name.lower() == alg.lower()]
    if same_letters:
        return f"alg {clip(alg)} is not supported; algorithm names are case-sensitive: {same_letters[0]}?"
    return f"alg {clip(alg)} is not supported; jwkverify verifies {', '.join(sorted(ALGORITHMS))}"
