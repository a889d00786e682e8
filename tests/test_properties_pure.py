"""The signature-facing property tests of ``test_properties.py``, on the pure backend.

Every function imported below is collected here a second time with the default
backend swapped for the pure one (as in ``test_vectors_pure.py``): valid tokens of
every algorithm verify, no changed token verifies, arbitrary input raises only
``JOSEError``s, and near-valid key sets load or are refused as with ``cryptography``.
The claim-only properties (HS256, no backend involved) are not repeated.

``test_properties`` caches the public keys it builds; the fixture empties those
caches before and after each test here, so no key built by one backend is used
under the other.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import test_properties
from test_properties import (  # noqa: F401 (collected again, here with the pure backend)
    test_a_byte_changed_in_a_bytes_token_never_verifies,
    test_a_mutated_token_never_verifies,
    test_any_json_header_and_payload_verify_or_raise_jose_errors,
    test_any_key_set_loads_or_raises_invalid_key_set,
    test_arbitrary_tokens_raise_only_jose_errors,
    test_no_change_at_a_segment_boundary_verifies,
    test_signed_claims_verify,
)

import jwkverify.jwk
import jwkverify.keyset
from jwkverify._crypto.choice import backend_by_name
from jwkverify._crypto.seam import SignatureBackend

PURE = backend_by_name("pure")


def _pure() -> SignatureBackend:
    return PURE


def _forget_keys() -> None:
    test_properties.public.cache_clear()
    test_properties.public_set.cache_clear()


@pytest.fixture(autouse=True)
def pure_default_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    _forget_keys()
    monkeypatch.setattr(jwkverify.jwk, "default_backend", _pure)
    monkeypatch.setattr(jwkverify.keyset, "default_backend", _pure)
    yield
    _forget_keys()


def test_the_cached_keys_are_pure_here() -> None:
    assert type(test_properties.public("ES256").public_key).__module__ == "jwkverify._crypto.pure_ec"
