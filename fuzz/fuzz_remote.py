"""Fuzz target: the responses a JWKS endpoint (and discovery) may send, through RemoteJWKSet.

Each input scripts up to three HTTP responses (status, headers, body) that a
``fetch`` function hands to ``RemoteJWKSet`` (directly, or after OIDC discovery;
sync or async), then asks for keys, refreshes (a conditional request that may get
a 304), reads ``state`` and carries an export to a second set. The sans-I/O
checks (``check_response``, ``server_lifetime``, ``to_response``, ``parse_export``)
get the same responses directly.

Property: only a ``JOSEError`` escapes, and ``state`` never raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from _common import Reader, generated, instrumented, main, vector_jwks

with instrumented():
    from jwkverify import JOSEError, RemoteJWKSet
    from jwkverify._remote.cache_policy import server_lifetime
    from jwkverify._remote.http import Request, Response, check_response, header_dict, to_response
    from jwkverify._remote.snapshot import parse_export

logging.disable(logging.CRITICAL)  # refusals are logged; the fuzzer needs no transcript

URL = "https://idp.example/tenant/jwks"
ISSUER = "https://idp.example/tenant"
STATUSES = (200, 200, 200, 304, 301, 302, 404, 500, 204, 206)
NAMES = ("content-type", "cache-control", "age", "etag", "last-modified", "content-encoding",
         "location", "content-length", "expires", "Content-Type", "Cache-Control")
LOOKUPS = (("RS256", None), ("ES256", "k1"), ("EdDSA", None), ("RS256", "k1"), ("PS256", "unknown"))


def response(reader: Reader, last: bool) -> tuple[int, dict[str, str], bytes]:
    status = reader.pick(STATUSES) if reader.byte() < 240 else reader.below(1000)
    headers: dict[str, str] = {}
    for _ in range(reader.below(6)):
        name = reader.pick(NAMES) if reader.byte() < 224 else reader.until(0x3A).decode("latin-1")
        headers[name] = reader.until(0x0A).decode("latin-1")
    body = reader.rest() if last else reader.take(reader.below(65536))
    return status, headers, body


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sans_io(status: int, headers: Mapping[str, str], body: bytes, conditional: bool) -> None:
    try:
        reply = to_response((status, dict(headers), body))
    except JOSEError:
        reply = Response(status, header_dict(headers.items()), body)
    lifetime = server_lifetime(dict(reply.headers))
    assert lifetime is None or lifetime >= 0
    with contextlib.suppress(JOSEError):
        check_response(Request(URL, {}, "the JWK Set", conditional), reply, 4096)
    with contextlib.suppress(JOSEError):
        parse_export(body)


def check(data: bytes) -> None:
    reader = Reader(data)
    flags = reader.byte()
    script = [response(reader, last=index == 2) for index in range(3)]
    for status, headers, body in script:
        sans_io(status, headers, body, flags & 8 == 8)
    pending = list(script)

    def fetch(url: str, headers: Mapping[str, str], timeout: float) -> Any:
        if flags & 4 and url.endswith("/.well-known/openid-configuration"):
            return 200, {"content-type": "application/json"}, json.dumps(
                {"issuer": ISSUER, "jwks_uri": URL}).encode()
        return pending.pop(0) if pending else (503, {}, b"")

    async def fetch_async(url: str, headers: Mapping[str, str], timeout: float) -> Any:
        return fetch(url, headers, timeout)

    clock = Clock()
    options: dict[str, Any] = {"fetch": fetch, "max_bytes": 4096, "clock": clock, "wall_clock": clock}
    if flags & 16:
        options = {**options, "fetch": None, "fetch_async": fetch_async}
    remote = (RemoteJWKSet.from_issuer(ISSUER, **options) if flags & 2 else RemoteJWKSet(URL, **options))
    for step in range(3):
        try:
            if flags & 16:
                asyncio.run(remote.refresh_async())
            else:
                remote.refresh()
        except JOSEError:
            pass
        for alg, kid in LOOKUPS:
            try:
                if flags & 16:
                    asyncio.run(remote.keys_for_async(alg, kid))
                else:
                    remote.keys_for(alg, kid)
            except JOSEError:
                pass
        state = remote.state
        assert state.status in ("empty", "fresh", "stale", "expired")
        assert state.key_count >= len(state.kids)
        clock.now += (flags >> 5) * 300.0 + step
    exported = remote.export()
    if exported is not None:
        other = RemoteJWKSet(URL, fetch=lambda *_: (503, {}, b""), clock=clock, wall_clock=clock)
        with contextlib.suppress(JOSEError):
            assert other.import_state(exported) in (True, False)


def encode(status: int, headers: dict[str, str], body: bytes, last: bool) -> bytes:
    out = bytearray([0, STATUSES.index(status) if status in STATUSES else 0, len(headers)])
    for name, value in headers.items():
        out += bytes([0, NAMES.index(name)]) if name in NAMES else bytes([255]) + name.encode() + b":"
        out += value.encode("latin-1") + b"\n"
    if not last:
        out += len(body).to_bytes(2, "big")
    return bytes(out) + body


def seeds() -> list[bytes]:
    documents = [document for document in vector_jwks() if "keys" in document]
    documents.append({"keys": [signer.jwk for signer in generated() if signer.jwk["kty"] != "oct"]})
    found = []
    for flags in (0, 2 | 4, 16, 8 | 32):
        for document in documents:
            body = json.dumps(document).encode()[:4096]
            headers = {"content-type": "application/json", "cache-control": "max-age=300", "etag": '"v1"'}
            found.append(bytes([flags]) + encode(200, headers, body, last=False)
                         + encode(304, {"cache-control": "max-age=60"}, b"", last=False)
                         + encode(200, {"content-type": "application/jwk-set+json"}, body, last=True))
    # a crash this target found: a redirect whose Location urljoin refuses (an unclosed "[")
    found.append(bytes([8]) + encode(302, {"location": "http://[::1/jwks"}, b"", last=False)
                 + encode(301, {"location": "["}, b"", last=False) + encode(404, {}, b"", last=True))
    return found


if __name__ == "__main__":
    main(check)
