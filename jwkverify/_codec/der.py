"""A small, strict DER reader (ITU-T X.690 §10) for the few structures jwkverify reads.

Only what a public key needs: SEQUENCE, INTEGER, OBJECT IDENTIFIER, NULL, BIT STRING
and OCTET STRING, with single-octet tags. Anything DER forbids is refused: the
indefinite length, a length or an integer in more octets than needed, a BIT STRING
with unused bits, and data left over after a value or inside a SEQUENCE. Every
failure is a :class:`DERError` saying what was wrong and where.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "BIT_STRING", "INTEGER", "NULL", "OCTET_STRING", "OID", "SEQUENCE",
    "DERError", "Reader", "oid_text",
]

INTEGER, BIT_STRING, OCTET_STRING, NULL, OID, SEQUENCE = 0x02, 0x03, 0x04, 0x05, 0x06, 0x30
_NAMES = {INTEGER: "INTEGER", BIT_STRING: "BIT STRING", OCTET_STRING: "OCTET STRING", NULL: "NULL",
          OID: "OBJECT IDENTIFIER", SEQUENCE: "SEQUENCE"}
#: Lengths of up to 3 octets (16 MiB): far beyond any public key, and cheap to bound.
_MAX_LENGTH_OCTETS = 3


class DERError(ValueError):
    """The octets are not the DER encoding this reader expected."""


class _Value(NamedTuple):
    tag: int
    start: int  # offset of the content octets
    end: int  # offset just past them


class Reader:
    """Reads DER values one after the other from ``data[start:end]``."""

    __slots__ = ("_data", "_end", "_pos", "_what")

    def __init__(self, data: bytes, what: str, start: int = 0, end: int | None = None) -> None:
        self._data = data
        self._pos = start
        self._end = len(data) if end is None else end
        self._what = what

    def _next(self, expected: int, name: str) -> _Value:
        data, pos, end = self._data, self._pos, self._end
        if pos >= end:
            raise DERError(f"{self._what} ends where its {name} ({_NAMES[expected]}) should be")
        tag = data[pos]
        if tag != expected:
            raise DERError(f"{self._what}: {name} should be a {_NAMES[expected]} "
                           f"(tag 0x{expected:02x}), not tag 0x{tag:02x}")
        if pos + 1 >= end:
            raise DERError(f"{self._what}: {name} has no length")
        first = data[pos + 1]
        pos += 2
        if first < 0x80:
            length = first
        elif first == 0x80:  # X.690 §10.1: DER uses the definite form only
            raise DERError(f"{self._what}: {name} has an indefinite length, which DER forbids")
        else:
            count = first & 0x7F
            if count > _MAX_LENGTH_OCTETS or pos + count > end:
                raise DERError(f"{self._what}: {name} has a length that does not fit the data")
            length = int.from_bytes(data[pos:pos + count], "big")
            # X.690 §10.1 / §8.1.3.5: the fewest length octets, long form only from 128.
            if data[pos] == 0 or length < 0x80:
                raise DERError(f"{self._what}: {name} has a length in more octets than needed (not DER)")
            pos += count
        if length > end - pos:
            raise DERError(f"{self._what}: {name} is {length} octets long but only {end - pos} remain")
        self._pos = pos + length
        return _Value(tag, pos, pos + length)

    def sequence(self, name: str) -> Reader:
        """The contents of the next value, a SEQUENCE, as a reader of their own."""
        value = self._next(SEQUENCE, name)
        return Reader(self._data, f"{self._what}: {name}", value.start, value.end)

    def integer(self, name: str) -> int:
        """The next value, a non-negative INTEGER in the fewest octets (X.690 §8.3.2)."""
        value = self._next(INTEGER, name)
        octets = self._data[value.start:value.end]
        if not octets:
            raise DERError(f"{self._what}: {name} is an empty INTEGER")
        if octets[0] >= 0x80:
            raise DERError(f"{self._what}: {name} is negative")
        if len(octets) > 1 and octets[0] == 0 and octets[1] < 0x80:
            raise DERError(f"{self._what}: {name} is an INTEGER in more octets than needed (not DER)")
        return int.from_bytes(octets, "big")

    def oid(self, name: str) -> bytes:
        """The content octets of the next value, an OBJECT IDENTIFIER (X.690 §8.19)."""
        value = self._next(OID, name)
        octets = self._data[value.start:value.end]
        # Each arc in base 128, the fewest octets (no leading 0x80), the last octet closing it.
        if not octets or octets[-1] & 0x80 or any(
                octets[i] == 0x80 and (i == 0 or not octets[i - 1] & 0x80) for i in range(len(octets))):
            raise DERError(f"{self._what}: {name} is not a well-formed OBJECT IDENTIFIER")
        return octets

    def null(self, name: str) -> None:
        """The next value, a NULL (no content)."""
        value = self._next(NULL, name)
        if value.end != value.start:
            raise DERError(f"{self._what}: {name} is a NULL with content")

    def bit_string(self, name: str) -> bytes:
        """The octets of the next value, a BIT STRING of whole octets (no unused bits)."""
        value = self._next(BIT_STRING, name)
        if value.end == value.start or self._data[value.start] != 0:
            raise DERError(f"{self._what}: {name} is not a BIT STRING of whole octets")
        return self._data[value.start + 1:value.end]

    def octet_string(self, name: str) -> bytes:
        """The octets of the next value, an OCTET STRING."""
        value = self._next(OCTET_STRING, name)
        return self._data[value.start:value.end]

    def at_end(self) -> bool:
        """Whether every value has been read."""
        return self._pos >= self._end

    def peek_tag(self) -> int | None:
        """The tag of the next value, or ``None`` at the end."""
        return self._data[self._pos] if self._pos < self._end else None

    def finish(self) -> None:
        """Refuse anything left after the values read (X.690 §10: one encoding, nothing more)."""
        if self._pos != self._end:
            raise DERError(f"{self._what} has {self._end - self._pos} octets of trailing data")


def oid_text(octets: bytes) -> str:
    """Dotted decimal of well-formed OBJECT IDENTIFIER content octets (for messages)."""
    arcs: list[int] = []
    value = 0
    for octet in octets:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0] if arcs else 0
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(arc) for arc in head + arcs[1:])
