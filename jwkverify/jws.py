"""Compact JWS verification (RFC 7515), sans I/O.

One core serves every entry point: :func:`parse_compact` splits and checks the
token and decodes only its header; the allow-list is checked before any key work;
the signature is verified over a slice of the original token; the payload is
decoded only after the signature passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, NoReturn

from ._codec.base64url import Base64Error, b64url_decode
from ._jws.header import CheckedHeader, HeaderCache, parse_header
from ._jws.signature import MAX_KIDLESS_CANDIDATES, verifying_key
from .algorithms import ALGORITHMS
from .errors import AlgorithmNotAllowed, MalformedToken
from .jwk import JWK
from .keyset import JWKSet, KeySource

__all__ = [
    "DEFAULT_MAX_TOKEN_SIZE",
    "MAX_KIDLESS_CANDIDATES",
    "CheckedHeader",
    "HeaderCache",
    "JWSPolicy",
    "ParsedJWS",
    "VerifiedJWS",
    "parse_compact",
    "verify_jws",
    "verifying_key",
]

#: Longest token accepted, in characters. Real access tokens stay under 8 KiB
#: (the header limit of common HTTP servers); 16 KiB leaves room for tokens
#: carrying many groups or roles while bounding pre-verification work.
DEFAULT_MAX_TOKEN_SIZE = 16 * 1024

@dataclass(frozen=True, slots=True)
class VerifiedJWS:
    """A JWS whose signature verified: its header, payload octets and the key used."""

    header: dict[str, Any]
    payload: bytes
    key: JWK


class ParsedJWS(NamedTuple):
    """A compact JWS split and checked, with only its header decoded.

    A NamedTuple rather than a frozen dataclass: it is built on every verification,
    and tuple construction is several times cheaper.
    """

    header: dict[str, Any]
    alg: str
    kid: str | None
    signing_input: bytes
    payload_segment: str
    signature: bytes


@dataclass(frozen=True, slots=True)
class JWSPolicy:
    """Verification options, checked and compiled once."""

    algorithms: frozenset[str] | None = None
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE

    @classmethod
    def build(cls, algorithms: Iterable[str] | str | None, max_token_size: int) -> JWSPolicy:
        """Check the caller's options; raise ``TypeError``/``ValueError`` on misuse."""
        if isinstance(max_token_size, bool) or not isinstance(max_token_size, int):
            raise TypeError("max_token_size must be an int")
        if max_token_size < 64:
            raise ValueError("max_token_size must be at least 64")
        return cls(_compile_algorithms(algorithms), max_token_size)


def _compile_algorithms(algorithms: Iterable[str] | str | None) -> frozenset[str] | None:
    if algorithms is None:
        return None
    names = [algorithms] if isinstance(algorithms, str) else list(algorithms)
    if not names:
        raise ValueError("algorithms must name at least one algorithm (or be None)")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"algorithms must be strings, not {type(name).__name__}")
        if name.lower() == "none":
            raise ValueError("'none' is never allowed: an unsecured JWS cannot be verified")
        if name not in ALGORITHMS:
            known = ", ".join(ALGORITHMS)
            raise ValueError(f"unknown algorithm {name!r}; jwkverify verifies {known}")
    return frozenset(names)


def parse_compact(
    token: str | bytes,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
    header_cache: HeaderCache | None = None,
) -> ParsedJWS:
    """Split a compact JWS and decode its header; the payload stays encoded.

    With ``header_cache``, a header segment seen before is not decoded again; the
    header dict in the result is then shared and must not be modified.

    Raises:
        MalformedToken: wrong size, segment count, encoding or header.
        UnsupportedAlgorithm: the header names ``none`` or an unknown algorithm.
    """
    header, signing_input, payload_segment, signature = split_compact(token, max_token_size, header_cache)
    return ParsedJWS(header.header, header.alg, header.kid, signing_input, payload_segment, signature)


def split_compact(
    token: str | bytes, max_token_size: int, header_cache: HeaderCache | None
) -> tuple[CheckedHeader, bytes, str, bytes]:
    """:func:`parse_compact` as a plain tuple: the header, the signing input, the
    payload segment and the signature. The hot path of :class:`JWTVerifier`."""
    if type(token) is str and len(token) <= max_token_size and token.isascii():
        text = token
    else:
        text = _as_text(token, max_token_size)
    segments = text.split(".")
    if len(segments) != 3:
        hint = " (5 segments: an encrypted JWE, which is not supported)" if len(segments) == 5 else ""
        raise MalformedToken(f"a compact JWS has 3 segments, this token has {len(segments)}{hint}")
    header_segment, payload_segment, signature_segment = segments
    header = header_cache.get(header_segment) if header_cache is not None else None
    if header is None:
        header = parse_header(header_segment)
        if header_cache is not None:
            header_cache.put(header_segment, header)
    try:
        signature = b64url_decode(signature_segment)
    except Base64Error as exc:
        raise MalformedToken(f"the signature segment is {exc}") from exc
    signing_input = text[: len(header_segment) + 1 + len(payload_segment)].encode("ascii")
    return header, signing_input, payload_segment, signature


def _as_text(token: str | bytes, max_token_size: int) -> str:
    if isinstance(token, bytes | bytearray):
        if len(token) > max_token_size:
            raise MalformedToken(f"the token is longer than {max_token_size} characters")
        try:
            return bytes(token).decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedToken("a compact JWS is ASCII only") from exc
    if not isinstance(token, str):
        raise MalformedToken(f"the token must be str or bytes, not {type(token).__name__}")
    if len(token) > max_token_size:
        raise MalformedToken(f"the token is longer than {max_token_size} characters")
    if not token.isascii():
        raise MalformedToken("a compact JWS is ASCII only")
    return token


def check_allowed(parsed: ParsedJWS, policy: JWSPolicy) -> None:
    """Refuse an algorithm outside the caller's allow-list (RFC 8725 §3.1)."""
    if policy.algorithms is not None and parsed.alg not in policy.algorithms:
        refuse_algorithm(parsed.alg, policy.algorithms)


def refuse_algorithm(alg: str, allowed: frozenset[str]) -> NoReturn:
    """Raise the error for ``alg`` outside the allow-list ``allowed``."""
    raise AlgorithmNotAllowed(f"alg {alg} is not allowed here (allowed: {', '.join(sorted(allowed))})")


def verify_parsed(parsed: ParsedJWS, candidates: Sequence[JWK]) -> tuple[JWK, bytes]:
    """Verify ``parsed`` with the candidate keys from a key source, then decode.

    Returns the key that verified and the payload octets.

    Raises:
        KeyNotFound: several distinct keys share the token's ``kid``, or too many
            keys fit a token without ``kid``.
        InvalidSignature: no candidate verifies the signature.
        MalformedToken: the payload segment is not base64url.
    """
    header = CheckedHeader(parsed.header, parsed.alg, parsed.kid)
    key = verifying_key(header, parsed.signature, parsed.signing_input, candidates)
    return key, decode_payload(parsed.payload_segment)


def decode_payload(payload_segment: str) -> bytes:
    """The payload octets; called only once the signature has verified."""
    try:
        return b64url_decode(payload_segment)
    except Base64Error as exc:
        raise MalformedToken(f"the payload segment is {exc}") from exc


def verify_jws(
    token: str | bytes,
    key: KeySource,
    *,
    algorithms: Iterable[str] | str | None = None,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
) -> VerifiedJWS:
    """Verify a compact JWS with a key or key set and return its header and payload.

    ``key`` is a :class:`JWK`, a :class:`JWKSet` or any :class:`KeySource`.
    ``algorithms`` narrows the algorithms the key(s) already permit; it never
    widens them. The payload is returned as bytes, undecoded.

    Raises:
        MalformedToken: the token is not a well-formed compact JWS.
        UnsupportedAlgorithm: ``alg`` is ``none`` or unknown.
        AlgorithmNotAllowed: ``alg`` is outside ``algorithms`` or the key refuses it.
        KeyNotFound: no key matches the token's ``kid``, or none may verify.
        InvalidSignature: the signature does not verify.
    """
    policy = JWSPolicy.build(algorithms, max_token_size)
    source = key_source(key)
    parsed = parse_compact(token, policy.max_token_size)
    check_allowed(parsed, policy)
    key, payload = verify_parsed(parsed, source.keys_for(parsed.alg, parsed.kid))
    return VerifiedJWS(parsed.header, payload, key)


def key_source(key: object) -> KeySource:
    """``key`` as a key source, or ``TypeError`` naming what to pass instead."""
    # The concrete classes first: a runtime Protocol check costs microseconds.
    if isinstance(key, JWK | JWKSet | KeySource):
        return key
    raise TypeError(
        f"key must be a JWK, a JWKSet or a key source, not {type(key).__name__}; "
        "build one with JWK.from_dict(...) or JWKSet.from_dict(...)"
    )
