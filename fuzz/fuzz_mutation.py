"""Fuzz target: a valid token, changed in any way, never verifies.

The fuzzer's bytes pick one of the valid ``(token, key)`` pairs (every token in
vectors/ that verifies, plus a fresh token per algorithm) and a list of edits:
flip a bit, set, insert or delete bytes, duplicate or drop a span, swap two
segments, change a letter's case. Whenever the result differs from the token,
``verify_jws`` and ``verify_jwt`` must refuse it, also from a verifier that has
the original in its token cache.

The one change that can verify is ECDSA's own malleability: ``(r, n - s)`` is a
valid signature whenever ``(r, s)`` is (RFC 7518 §3.4 does not require low-S).
That edit is arithmetic on the signature, not a byte edit; if it ever turns up it
is reported with the token, like any other acceptance.
"""

from __future__ import annotations

import contextlib
from functools import cache

from _common import Reader, instrumented, main, valid_pairs

with instrumented():
    from jwkverify import ANY_AUDIENCE, JOSEError, JWTVerifier, verify_jws, verify_jwt

BYTE_VALUES = b"AZaz09-_.=+/ \x00\xff"


@cache
def verifiers() -> tuple[JWTVerifier, ...]:
    """A caching verifier per pair, already holding the pair's token when it is a JWT."""
    made = []
    for token, key in valid_pairs():
        verifier = JWTVerifier(key, audience=ANY_AUDIENCE, cache_size=2, leeway=1e12)
        with contextlib.suppress(JOSEError):  # not a JWT (a text payload): verify_jws covers it
            verifier.verify(token)
        made.append(verifier)
    return tuple(made)


def mutate(token: bytes, reader: Reader) -> bytes:
    data = bytearray(token)
    for _ in range(1 + reader.below(4)):
        size = max(len(data), 1)
        at, op = reader.below(min(size, 65536)), reader.below(8)
        if op == 0 and data:
            data[at % len(data)] ^= 1 << reader.below(8)
        elif op == 1 and data:
            data[at % len(data)] = reader.pick(BYTE_VALUES) if reader.flag() else reader.byte()
        elif op == 2:
            data[at:at] = reader.take(1 + reader.below(8))
        elif op == 3:
            del data[at:at + 1 + reader.below(64)]
        elif op == 4:
            span = bytes(data[at:at + 1 + reader.below(64)])
            data[at:at] = span
        elif op == 5:
            parts = bytes(data).split(b".")
            i, j = reader.below(len(parts)), reader.below(len(parts))
            parts[i], parts[j] = parts[j], parts[i]
            data = bytearray(b".".join(parts))
        elif op == 6 and data:
            where = at % len(data)
            data[where:where + 1] = bytes(data[where:where + 1]).swapcase()
        elif op == 7:
            del data[at:]
    return bytes(data)


def check(data: bytes) -> None:
    reader = Reader(data)
    pairs = valid_pairs()
    index = reader.below(len(pairs))
    token, key = pairs[index]
    mutated = mutate(token.encode(), reader)
    if mutated == token.encode():
        return
    for candidate in (mutated, mutated.decode("latin-1")):
        for name, call in (("verify_jws", lambda t: verify_jws(t, key)),
                           ("verify_jwt", lambda t: verify_jwt(t, key, audience=ANY_AUDIENCE, leeway=1e12)),
                           ("cached JWTVerifier", verifiers()[index].verify)):
            try:
                call(candidate)
            except JOSEError:
                continue
            raise AssertionError(f"{name} accepted a changed token: {candidate!r} "
                                 f"(from {token!r}, key {key!r})")


def seeds() -> list[bytes]:
    count = len(valid_pairs())
    return [bytes([index >> 8, index & 0xFF, op, 0, 0, 7, 3]) for index in range(count) for op in range(8)]


if __name__ == "__main__":
    main(check)
