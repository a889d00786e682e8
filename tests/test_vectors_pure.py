"""The whole vector suite of ``test_vectors.py`` again, on the pure-Python backend.

Every test function of that module is collected here a second time, with the
default backend swapped for the pure one: Wycheproof JOSE, the RFC examples and the
RFC 7520 cookbook must give exactly the same verdicts in zero-dependency mode.
The swap replaces the ``default_backend`` the JWK and key-set modules call (it is
looked up on each call), so the code under test is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_vectors import (  # noqa: F401 (collected again, here with the pure backend)
    test_cookbook_4_5_detached_content_is_refused,
    test_cookbook_4_8_rebuilt_compact_signatures_verify_with_the_whole_set,
    test_cookbook_compact_signatures,
    test_cookbook_keys_load,
    test_cookbook_rfc7797_b64_false_is_refused,
    test_rfc7515_a5_unsecured_jws_is_refused_as_unsupported_algorithm,
    test_rfc7517_a1_public_key_set,
    test_rfc7517_a3_symmetric_key_set_skips_the_key_wrapping_key,
    test_rfc7517_b_key_with_x5c_loads_and_ignores_the_chain,
    test_rfc7797_unencoded_payload_is_refused,
    test_rfc8037_a1_private_members_are_dropped,
    test_rfc_jws_examples,
    test_rfc_thumbprints,
    test_wycheproof,
    test_wycheproof_expectations_cover_every_upstream_test,
    test_wycheproof_small_rsa_key_verifies_when_the_floor_is_lowered,
)

import jwkverify.jwk
import jwkverify.keyset
from jwkverify._crypto.choice import backend_by_name
from jwkverify._crypto.seam import SignatureBackend

PURE = backend_by_name("pure")


def _pure() -> SignatureBackend:
    return PURE


@pytest.fixture(autouse=True)
def pure_default_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(jwkverify.jwk, "default_backend", _pure)
    monkeypatch.setattr(jwkverify.keyset, "default_backend", _pure)
    yield


def test_the_swap_reaches_the_keys() -> None:
    from signing import make_key

    key = jwkverify.jwk.JWK.from_dict(make_key("ES256").jwk)
    assert type(key.public_key).__module__ == "jwkverify._crypto.pure_ec"
