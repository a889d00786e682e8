"""The strict DER reader (X.690 §10): what DER forbids is refused, with a message."""

from __future__ import annotations

import pytest

from jwkverify._codec.der import DERError, Reader, oid_text


def read_int(data: bytes) -> int:
    reader = Reader(data, "the value")
    value = reader.integer("n")
    reader.finish()
    return value


@pytest.mark.parametrize(("data", "value"), [
    (b"\x02\x01\x00", 0),
    (b"\x02\x01\x7f", 127),
    (b"\x02\x02\x00\x80", 128),
    (b"\x02\x03\x01\x00\x01", 65537),
    (b"\x02\x81\x81\x00" + b"\xff" * 128, (1 << 1024) - 1),
])
def test_integers_in_their_one_encoding(data: bytes, value: int) -> None:
    assert read_int(data) == value


@pytest.mark.parametrize(("data", "problem"), [
    (b"\x02\x00", "empty INTEGER"),
    (b"\x02\x02\x00\x7f", "more octets than needed"),  # X.690 §8.3.2
    (b"\x02\x01\x80", "negative"),
    (b"\x02\x02\xff\x80", "negative"),
    (b"\x02\x80\x01\x00\x00", "indefinite length"),  # X.690 §10.1
    (b"\x02\x81\x01\x05", "length in more octets than needed"),  # long form below 128
    (b"\x02\x82\x00\x81" + b"\x01" * 129, "length in more octets than needed"),  # leading zero octet
    (b"\x02\x84\x01\x00\x00\x00", "does not fit"),  # more length octets than we read
    (b"\x02\x05\x01", "only 1 remain"),
    (b"\x02", "no length"),
    (b"", "ends where"),
    (b"\x04\x01\x01", "should be a INTEGER"),
    (b"\x02\x01\x01\x00", "1 octets of trailing data"),
])
def test_what_der_forbids_is_refused(data: bytes, problem: str) -> None:
    with pytest.raises(DERError, match=problem):
        read_int(data)


def test_a_sequence_reads_its_own_contents_and_refuses_leftovers() -> None:
    reader = Reader(b"\x30\x06\x02\x01\x05\x02\x01\x07", "the key")
    inner = reader.sequence("pair")
    assert (inner.integer("a"), inner.integer("b")) == (5, 7)
    inner.finish()
    reader.finish()
    leftover = Reader(b"\x30\x06\x02\x01\x05\x02\x01\x07", "the key").sequence("pair")
    leftover.integer("a")
    with pytest.raises(DERError, match="the key: pair has 3 octets of trailing data"):
        leftover.finish()
    # A value may not run past the end of the SEQUENCE that holds it.
    with pytest.raises(DERError, match="only 2 remain"):
        Reader(b"\x30\x04\x02\x03\x01\x02\x03", "the key").sequence("pair").integer("a")


@pytest.mark.parametrize(("content", "text"), [
    (bytes.fromhex("2a864886f70d010101"), "1.2.840.113549.1.1.1"),
    (bytes.fromhex("2b6570"), "1.3.101.112"),
    (bytes.fromhex("2b81040022"), "1.3.132.0.34"),
    (bytes.fromhex("8837"), "2.999"),
])
def test_object_identifiers(content: bytes, text: str) -> None:
    reader = Reader(bytes([0x06, len(content)]) + content, "the key")
    assert reader.oid("algorithm") == content
    assert oid_text(content) == text


@pytest.mark.parametrize("content", [b"", b"\x2b\x85", b"\x80\x01", b"\x2b\x80\x01"])
def test_malformed_object_identifiers_are_refused(content: bytes) -> None:
    # Empty; an unfinished arc; an arc with a leading 0x80 (not the fewest octets).
    with pytest.raises(DERError, match="not a well-formed OBJECT IDENTIFIER"):
        Reader(bytes([0x06, len(content)]) + content, "the key").oid("algorithm")


def test_null_bit_string_and_octet_string() -> None:
    reader = Reader(b"\x05\x00\x03\x03\x00\xab\xcd\x04\x02\x01\x02", "v")
    reader.null("params")
    assert reader.bit_string("key") == b"\xab\xcd"
    assert reader.octet_string("point") == b"\x01\x02"
    assert reader.at_end() and reader.peek_tag() is None
    with pytest.raises(DERError, match="NULL with content"):
        Reader(b"\x05\x01\x00", "v").null("params")
    for bits in (b"\x03\x00", b"\x03\x02\x01\xff"):  # no unused-bits octet; unused bits
        with pytest.raises(DERError, match="BIT STRING of whole octets"):
            Reader(bits, "v").bit_string("key")
