"""jwkverify._dpop.nonces: stateless server nonces (RFC 9449 §8-9), shared through a secret."""

from __future__ import annotations

import re

import pytest

from jwkverify.dpop import HMACNonceSource, NonceSource

SECRET = bytes(range(32))


def test_a_nonce_lasts_its_period_and_the_next() -> None:
    nonces = HMACNonceSource(SECRET, period=60)
    assert isinstance(nonces, NonceSource)
    first = nonces.current(600)
    assert nonces.current(659.999) == first and nonces.current(660) != first
    assert nonces.accepts(first, 600) and nonces.accepts(first, 719.999)
    assert not nonces.accepts(first, 720)  # two periods on: too old
    assert not nonces.accepts(first, 599)  # from the next period, seen from this one
    assert not nonces.accepts(first[:-1], 600) and not nonces.accepts(first + "A", 600)
    assert not nonces.accepts("", 600) and not nonces.accepts("é" * 43, 600)


def test_replicas_with_one_secret_agree_and_other_secrets_do_not() -> None:
    one, same, other = (HMACNonceSource(SECRET), HMACNonceSource(bytearray(SECRET)),
                        HMACNonceSource(b"\xff" * 32))
    assert one.current(1e9) == same.current(1e9) != other.current(1e9)
    assert same.accepts(one.current(1e9), 1e9) and not other.accepts(one.current(1e9), 1e9)


def test_nonce_syntax_is_nqchar() -> None:
    nonce = HMACNonceSource(SECRET).current(0)
    assert re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]+", nonce) and len(nonce) == 43  # RFC 9449 §8.1
    assert HMACNonceSource(SECRET).current(-1) != nonce  # before the epoch too
    far = HMACNonceSource(SECRET).current(1e300)  # a clock however far off makes a nonce, no overflow
    assert HMACNonceSource(SECRET).accepts(far, 1e300)


@pytest.mark.parametrize("secret, options, error", [
    ("a-string-secret-of-enough-length-123", {}, TypeError), (b"short", {}, ValueError),
    (SECRET, {"period": 0}, ValueError), (SECRET, {"period": 86401}, ValueError),
    (SECRET, {"period": "60"}, TypeError),
])
def test_option_mistakes(secret: object, options: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        HMACNonceSource(secret, **options)  # type: ignore[arg-type]
