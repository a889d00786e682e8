"""HMAC (RFC 2104) as jwkverify.algorithms computes it: precomputed keyed states."""

from __future__ import annotations

import hmac
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jwkverify.algorithms import ALGORITHMS, hmac_verifier

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")


@pytest.mark.parametrize("alg", HMAC_ALGORITHMS)
@given(secret=st.binary(max_size=300), message=st.binary(max_size=600))
def test_matches_the_standard_library(alg: str, secret: bytes, message: bytes) -> None:
    """Keys shorter than, equal to and longer than the block (64 or 128 octets, hashed first)."""
    algorithm = ALGORITHMS[alg]
    assert algorithm.hash_name is not None
    expected = hmac.digest(secret, message, algorithm.hash_name)
    verify = hmac_verifier(algorithm, secret)
    assert verify(expected, message)
    assert not verify(expected, message + b"x")
    assert not verify(bytes([expected[0] ^ 1]) + expected[1:], message)
    assert not verify(expected[:-1], message)


@pytest.mark.parametrize("alg", HMAC_ALGORITHMS)
@pytest.mark.parametrize("length", [0, 1, 63, 64, 65, 127, 128, 129, 1000])
def test_block_size_edges(alg: str, length: int) -> None:
    algorithm = ALGORITHMS[alg]
    assert algorithm.hash_name is not None
    secret, message = bytes(range(256)) * 4, b"header.payload"
    secret = secret[:length]
    assert hmac_verifier(algorithm, secret)(hmac.digest(secret, message, algorithm.hash_name), message)


def test_rfc_4231_test_case_2() -> None:
    """RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?"."""
    expected = bytes.fromhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    assert hmac_verifier(ALGORITHMS["HS256"], b"Jefe")(expected, b"what do ya want for nothing?")


def test_one_verifier_shared_by_threads() -> None:
    """The keyed states are copied, never updated: concurrent calls cannot mix."""
    algorithm, secret = ALGORITHMS["HS256"], b"k" * 32
    verify = hmac_verifier(algorithm, secret)
    messages = [bytes([i]) * (i + 1) for i in range(64)]
    tags = [hmac.digest(secret, m, "sha256") for m in messages]
    failures: list[int] = []

    def work() -> None:
        for _ in range(200):
            for index, (message, tag) in enumerate(zip(messages, tags, strict=True)):
                if not verify(tag, message):
                    failures.append(index)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
