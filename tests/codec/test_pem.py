"""PEM armor (RFC 7468): one block, matching labels, canonical base64, bounded size."""

from __future__ import annotations

import base64

import pytest

from jwkverify._codec.pem import MAX_PEM_SIZE, PEMError, unarmor

DER = bytes(range(200))
BODY = base64.encodebytes(DER).decode("ascii")
PEM = f"-----BEGIN PUBLIC KEY-----\n{BODY}-----END PUBLIC KEY-----\n"


def test_one_block_as_str_or_bytes_with_any_line_breaks() -> None:
    assert unarmor(PEM) == ("PUBLIC KEY", DER)
    assert unarmor(PEM.encode()) == ("PUBLIC KEY", DER)
    assert unarmor("  \r\n" + PEM.replace("\n", "\r\n") + "\n\n") == ("PUBLIC KEY", DER)
    one_line = base64.b64encode(DER).decode()
    assert unarmor(f"-----BEGIN RSA PUBLIC KEY-----{one_line}-----END RSA PUBLIC KEY-----")[1] == DER


@pytest.mark.parametrize(("text", "problem"), [
    ("", "does not start with"),
    ("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", "does not start with"),
    ("my key:\n" + PEM, "does not start with"),
    (PEM + "trailing words", "exactly one PEM block"),
    (PEM + PEM, "exactly one PEM block"),
    (PEM.replace("END PUBLIC", "END PRIVATE"), "ends as 'PRIVATE KEY'"),
    (PEM.replace(BODY, "Proc-Type: 4,ENCRYPTED\n" + BODY), "headers or characters that are not base64"),
    (PEM.replace(BODY, BODY[:-3] + "\n"), "not valid base64"),
    (PEM.replace(BODY, "QR==\n"), "not canonical base64"),  # trailing bits set
    (PEM.replace(BODY, ""), "not valid base64|is empty"),
    ("-----BEGIN PUBLIC KEY-----\n\u00e9\n-----END PUBLIC KEY-----", "ASCII only"),
])
def test_what_is_not_one_pem_block_is_refused(text: str, problem: str) -> None:
    with pytest.raises(PEMError, match=problem):
        unarmor(text)


def test_non_ascii_bytes_and_oversized_text_are_refused_before_parsing() -> None:
    with pytest.raises(PEMError, match="ASCII only"):
        unarmor(PEM.encode() + b"\xff")
    huge = "-----BEGIN PUBLIC KEY-----\n" + "A" * MAX_PEM_SIZE
    with pytest.raises(PEMError, match=f"at most {MAX_PEM_SIZE} are read"):
        unarmor(huge)
    with pytest.raises(PEMError, match=f"at most {MAX_PEM_SIZE} are read"):
        unarmor(huge.encode())
