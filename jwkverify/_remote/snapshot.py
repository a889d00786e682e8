"""What a remote key set caches, how one fetch turns into it, and how it is exported.

:func:`exchange` is the protocol of one attempt, sans I/O: a generator that yields
each :class:`Request` (discovery first, if the JWK Set URL is not known yet) and is
sent back the :class:`Response` or error, and returns a :class:`Fetched` set or
:class:`NotModified`. Checking and parsing happen here, never in the I/O edges.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from .._codec.strict_json import JSONError, loads_object
from ..errors import InvalidKeySet, JOSEError, KeySetFetchError
from ..jwk import JWK
from ..keyset import JWKSet
from .cache_policy import Freshness, server_lifetime
from .discovery import discover
from .http import Request, Response, check_response, redact

__all__ = [
    "EXPORT_FORMAT",
    "Answers",
    "Exchange",
    "Exported",
    "Fetched",
    "NotModified",
    "Outcome",
    "Snapshot",
    "answers_of",
    "carried_over",
    "exchange",
    "export_text",
    "key_set_from",
    "parse_export",
    "step",
]

EXPORT_FORMAT = "jwkverify.remote-jwks/1"
_MAX_VALIDATOR = 512  # longest ETag / Last-Modified kept for a conditional request


Answers = Mapping[tuple[str, str | None], Sequence[JWK]]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One immutable cached set; the hot path reads only ``answers`` and ``fresh_until``."""

    answers: Answers
    fresh_until: float
    keyset: JWKSet
    freshness: Freshness
    document: Mapping[str, Any]  # the document as fetched, never mutated: for export
    url: str
    server_lifetime: float | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, slots=True)
class Fetched:
    """A 200 response whose set may replace the cached one."""

    answers: Answers
    keyset: JWKSet
    document: Mapping[str, Any]
    url: str
    lifetime: float | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, slots=True)
class NotModified:
    """A 304: the cached set is still current."""

    lifetime: float | None
    etag: str | None
    last_modified: str | None


Outcome = Fetched | NotModified
Exchange = Generator[Request, Response | KeySetFetchError, Outcome]


def exchange(url: str | None, issuer: str | None, base: Snapshot | None, headers: Mapping[str, str], *,
             allow_http: bool, max_bytes: int, discovered: Callable[[str], None]) -> Exchange:
    """One attempt: discover the URL if needed (``discovered`` keeps it), then GET the set.

    Sends the cached set's validators when it came from the same URL.

    Raises:
        KeySetFetchError: any request failed, or the response is refused.
    """
    if url is None and issuer is not None:
        url = yield from discover(issuer, headers, allow_http=allow_http, max_bytes=max_bytes)
        discovered(url)
    if url is None:
        raise KeySetFetchError("the key set has neither a URL nor an issuer")
    sent = dict(headers)
    if base is not None and base.url == url:
        if base.etag is not None:
            sent["If-None-Match"] = base.etag  # RFC 9110 §13.1.2
        if base.last_modified is not None:
            sent["If-Modified-Since"] = base.last_modified  # RFC 9110 §13.1.3
    request = Request(url, sent, "the JWK Set", conditional=len(sent) > len(headers))
    reply = yield request
    if isinstance(reply, KeySetFetchError):
        raise reply
    check_response(request, reply, max_bytes)
    lifetime = server_lifetime(dict(reply.headers))
    etag, last_modified = _validator(reply, "etag"), _validator(reply, "last-modified")
    if reply.status == 304:
        return NotModified(lifetime, etag, last_modified)
    try:
        document = loads_object(reply.body, "the JWK Set")
        keyset = key_set_from(document)
    except JOSEError as exc:
        raise KeySetFetchError(f"the JWK Set at {redact(url)} is refused: {exc}") from exc
    return Fetched(answers_of(keyset), keyset, document, url, lifetime, etag, last_modified)


def step(attempt: Exchange, reply: Response | KeySetFetchError | None,
         ) -> Request | Outcome | KeySetFetchError:
    """Advance an exchange: the next request to make, or its outcome (or error)."""
    try:
        return next(attempt) if reply is None else attempt.send(reply)
    except StopIteration as stop:
        outcome: Outcome = stop.value
        return outcome
    except KeySetFetchError as exc:
        return exc
    except JOSEError as exc:  # pragma: no cover - every check raises KeySetFetchError
        error = KeySetFetchError(str(exc))
        error.__cause__ = exc
        return error


def answers_of(keyset: JWKSet) -> Answers:
    """Every ``(alg, kid)`` lookup ``keyset`` answers with keys, asked once through its ``keys_for``.

    The hot path then costs one dictionary lookup; every other lookup (a miss, an
    ambiguous kid, a refused algorithm) goes to ``keyset.keys_for`` itself, so the
    answers and refusals are exactly the set's own.
    """
    answers: dict[tuple[str, str | None], Sequence[JWK]] = {}
    for key in keyset:
        for alg in key.algorithms:
            for kid in (key.kid, None):
                if (alg, kid) not in answers:
                    with suppress(JOSEError):  # an ambiguous kid: the set refuses it
                        answers[(alg, kid)] = keyset.keys_for(alg, kid)
    return answers


def carried_over(old: Snapshot | None, fetched: Fetched) -> tuple[JWKSet, Answers]:
    """``fetched``'s set and answers, with every key equal to one of ``old``'s (same material
    and metadata) replaced by ``old``'s object: a refresh that brings back the keys already
    cached keeps their objects, so a verifier's cached tokens still find their key by
    identity (no comparison on each hit) and each key's prepared verifier survives."""
    if old is None:
        return fetched.keyset, fetched.answers
    previous = {key: key for key in old.keyset}
    kept = [previous.get(key, key) for key in fetched.keyset]
    if all(mine is new for mine, new in zip(kept, fetched.keyset, strict=True)):
        return fetched.keyset, fetched.answers  # no key carried over
    keyset = JWKSet(kept, skipped=fetched.keyset.skipped)
    return keyset, answers_of(keyset)


def key_set_from(document: Mapping[str, Any]) -> JWKSet:
    """A fetched or imported JWK Set document as a :class:`JWKSet` fit to replace the cache.

    Raises:
        InvalidKeySet: the document is malformed, holds a secret (``oct``) key, or
            holds no usable key.
    """
    entries = document.get("keys") if isinstance(document, Mapping) else None
    if isinstance(entries, list):
        for index, entry in enumerate(entries):
            # A published set holds public keys only. JWKSet drops the secret from a
            # mixed set; here its mere presence means the endpoint is the wrong one.
            if isinstance(entry, Mapping) and entry.get("kty") == "oct":
                raise InvalidKeySet(f"entry {index} is a secret (oct) key; a published JWK Set "
                                    "must hold public keys only")
    keyset = JWKSet.from_dict(document)
    if len(keyset) == 0:
        first = f"; entry {keyset.skipped[0].index}: {keyset.skipped[0].reason}" if keyset.skipped else ""
        raise InvalidKeySet(f"the JWK Set holds no usable key ({len(keyset.skipped)} entries "
                            f"skipped{first})")
    return keyset


def _validator(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    if value is None or len(value) > _MAX_VALIDATOR or not value.isascii() or not value.isprintable():
        return None
    return value


def export_text(snapshot: Snapshot, issuer: str | None, fetched_at_epoch: float) -> str:
    """The JSON text :func:`parse_export` reads back."""
    return json.dumps({
        "format": EXPORT_FORMAT, "url": snapshot.url, "issuer": issuer,
        "fetched_at": fetched_at_epoch, "lifetime": snapshot.server_lifetime,
        "etag": snapshot.etag, "last_modified": snapshot.last_modified, "jwks": snapshot.document,
    }, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True, slots=True)
class Exported:
    """An export read back; ``keyset`` checked again as if just fetched."""

    url: str
    issuer: str | None
    fetched_at: float
    lifetime: float | None
    etag: str | None
    last_modified: str | None
    document: Mapping[str, Any]
    keyset: JWKSet


def parse_export(text: str | bytes) -> Exported:
    """Read what :func:`export_text` wrote.

    Raises:
        InvalidKeySet: not an export, or its key set is refused by :func:`key_set_from`.
    """
    try:
        data = loads_object(text, "the exported key set")
    except JSONError as exc:
        raise InvalidKeySet(str(exc)) from exc
    if data.get("format") != EXPORT_FORMAT:
        raise InvalidKeySet(f"not a jwkverify key set export (format {EXPORT_FORMAT!r} expected)")
    url, document = data.get("url"), data.get("jwks")
    if not isinstance(url, str) or not isinstance(document, dict):
        raise InvalidKeySet("the export has no url or jwks")
    fetched_at, lifetime = _number(data.get("fetched_at")), _number(data.get("lifetime"))
    if fetched_at is None or (data.get("lifetime") is not None and (lifetime is None or lifetime < 0)):
        raise InvalidKeySet("the export's fetched_at/lifetime are not valid numbers")
    strings = {name: data.get(name) for name in ("issuer", "etag", "last_modified")}
    if not all(value is None or isinstance(value, str) for value in strings.values()):
        raise InvalidKeySet("the export's issuer, etag and last_modified must be strings or null")
    return Exported(url, strings["issuer"], fetched_at, lifetime, strings["etag"],
                    strings["last_modified"], document, key_set_from(document))


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
