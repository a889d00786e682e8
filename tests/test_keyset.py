"""JWK Sets (RFC 7517 §5) and key selection through the key-source seam."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from signing import make_key

from jwkverify import (
    JWK,
    AlgorithmNotAllowed,
    InvalidKeySet,
    InvalidSignature,
    JWKSet,
    KeyNotFound,
    KeySource,
    verify_jws,
)
from jwkverify.jws import MAX_KIDLESS_CANDIDATES

RSA_A = make_key("RS256", kid="a")
RSA_B = make_key("RS256", kid="b")
EC_A = make_key("ES256", kid="a")
ED = make_key("Ed25519", kid="ed")


def keyset(*jwks: dict[str, Any]) -> JWKSet:
    return JWKSet.from_dict({"keys": list(jwks)})


@pytest.mark.parametrize(
    "document",
    [[], "keys", None, 1, {}, {"keys": None}, {"keys": {}}, {"keys": "a"}, {"key": []}],
)
def test_documents_without_a_keys_array_are_invalid(document: Any) -> None:
    with pytest.raises(InvalidKeySet):
        JWKSet.from_dict(document)


@pytest.mark.parametrize("text", ["", "[]", "{", '{"keys": []', "null", b"\xff\xfe", '{"keys": NaN}'])
def test_from_json_refuses_bad_text(text: str | bytes) -> None:
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json(text)


def test_from_json_and_from_dict_agree() -> None:
    document = {"keys": [RSA_A.jwk, ED.jwk]}
    assert list(JWKSet.from_json(json.dumps(document))) == list(JWKSet.from_dict(document))


def test_collection_behaviour() -> None:
    keys = keyset(RSA_A.jwk, RSA_B.jwk, ED.jwk)
    assert len(keys) == 3
    assert [k.kid for k in keys] == ["a", "b", "ed"]
    assert keys.get("b") == JWK.from_dict(RSA_B.jwk)
    assert keys.get("missing") is None
    assert JWK.from_dict(ED.jwk) in keys
    assert "3 keys" in repr(keys)
    assert isinstance(keys, KeySource)


def test_empty_set_is_valid_and_finds_nothing() -> None:
    keys = keyset()
    assert len(keys) == 0
    with pytest.raises(KeyNotFound):
        verify_jws(RSA_A.token({}), keys)


def test_unsupported_and_invalid_entries_are_skipped_with_reasons() -> None:
    entries = [
        RSA_A.jwk,
        {"kty": "AKP", "kid": "pq", "alg": "ML-DSA-44", "pub": "AAAA"},
        {**EC_A.jwk, "kid": "c", "crv": "P-192"},
        {**RSA_B.jwk, "kid": "enc", "alg": "RSA-OAEP", "use": "enc"},
        {"kty": "OKP", "crv": "X25519", "kid": "x", "x": ED.jwk["x"]},
        {**RSA_B.jwk, "kid": "bad", "n": "AAAA"},
        "not an object",
        {"kty": "oct", "k": ""},
    ]
    keys = keyset(*entries)
    assert [k.kid for k in keys] == ["a"]
    skipped = {s.index: s for s in keys.skipped}
    assert sorted(skipped) == [1, 2, 3, 4, 5, 6, 7]
    assert "kty" in skipped[1].reason and skipped[1].kid == "pq" and skipped[1].kty == "AKP"
    assert "crv" in skipped[2].reason
    assert "RSA-OAEP" in skipped[3].reason and skipped[3].alg == "RSA-OAEP"
    assert "key-agreement" in skipped[4].reason
    assert "'n'" in skipped[5].reason
    assert skipped[6].kid is None and skipped[6].kty is None


def test_too_many_keys_is_refused_before_building_any() -> None:
    with pytest.raises(InvalidKeySet, match="at most 3"):
        JWKSet.from_dict({"keys": [ED.jwk] * 4}, max_keys=3)


def test_a_token_selects_its_key_by_kid() -> None:
    keys = keyset(RSA_A.jwk, RSA_B.jwk)
    assert verify_jws(RSA_B.token({"x": 1}), keys).key.kid == "b"


def test_unknown_kid_is_key_not_found_even_if_another_key_would_verify() -> None:
    keys = keyset(RSA_A.jwk)
    token = RSA_A.token({}, header={"kid": "zzz"})
    with pytest.raises(KeyNotFound, match="no key in the set has kid 'zzz'"):
        verify_jws(token, keys)


def test_kid_naming_a_key_for_another_algorithm() -> None:
    keys = keyset({**RSA_A.jwk, "alg": "RS256"})
    with pytest.raises(AlgorithmNotAllowed):
        verify_jws(RSA_A.token({}, alg="RS384"), keys)


def test_kid_naming_an_encryption_key() -> None:
    keys = keyset({**RSA_A.jwk, "use": "enc"})
    with pytest.raises(KeyNotFound, match="use is 'enc'"):
        verify_jws(RSA_A.token({}), keys)


def test_same_kid_for_different_key_types_is_resolved_by_algorithm() -> None:
    # RFC 7517 §4.5 allows one kid for keys of different kty.
    keys = keyset(RSA_A.jwk, EC_A.jwk)
    assert verify_jws(RSA_A.token({}), keys).key.kty == "RSA"
    assert verify_jws(EC_A.token({}), keys).key.kty == "EC"


def test_two_different_keys_with_one_kid_are_ambiguous() -> None:
    twin = make_key("RS256", kid="a")
    keys = keyset(RSA_A.jwk, twin.jwk)
    with pytest.raises(KeyNotFound, match="ambiguous"):
        verify_jws(RSA_A.token({}), keys)


def test_an_exact_duplicate_entry_is_not_ambiguous() -> None:
    keys = keyset(RSA_A.jwk, dict(RSA_A.jwk))
    assert verify_jws(RSA_A.token({}), keys).key.kid == "a"


def test_the_same_jwk_object_twice_is_not_ambiguous() -> None:
    key = JWK.from_dict(RSA_A.jwk)
    keys = JWKSet([key, key])
    assert keys.keys_for("RS256", "a") == (key,)
    assert verify_jws(RSA_A.token({}), keys).key is key


def test_a_skipped_entry_contesting_the_kid_makes_it_ambiguous() -> None:
    broken_twin = {**RSA_A.jwk, "n": RSA_A.jwk["n"][:-4]}  # same kid, malformed modulus
    keys = keyset(RSA_A.jwk, broken_twin)
    assert len(keys) == 1 and len(keys.skipped) == 1
    with pytest.raises(KeyNotFound, match="ambiguous"):
        verify_jws(RSA_A.token({}), keys)


def test_a_skipped_entry_for_another_algorithm_does_not_contest() -> None:
    enc_twin = {**RSA_A.jwk, "alg": "RSA-OAEP", "use": "enc"}
    keys = keyset(RSA_A.jwk, enc_twin)
    assert verify_jws(RSA_A.token({}), keys).key.kid == "a"


def test_kidless_token_tries_each_fitting_key() -> None:
    keys = keyset(RSA_A.jwk, RSA_B.jwk, ED.jwk)
    token = RSA_B.token({"n": 2}, header={"kid": None})
    assert verify_jws(token, keys).key.kid == "b"
    with pytest.raises(InvalidSignature, match="none of 2 keys"):
        verify_jws(make_key("RS256").token({}, header={"kid": None}), keys)


def test_kidless_token_is_refused_when_too_many_keys_fit() -> None:
    many = [make_key("ES256", kid=str(i)).jwk for i in range(MAX_KIDLESS_CANDIDATES + 1)]
    keys = keyset(*many)
    signer = make_key("ES256", kid=None)
    with pytest.raises(KeyNotFound, match="no kid"):
        verify_jws(signer.token({}), keys)


def test_kidless_token_with_no_fitting_key() -> None:
    keys = keyset(RSA_A.jwk)
    with pytest.raises(KeyNotFound, match="no kid"):
        verify_jws(make_key("ES256", kid=None).token({}), keys)


def test_secret_keys_are_left_out_of_a_set_with_public_keys() -> None:
    secret = make_key("HS256", kid="h")
    keys = keyset(RSA_A.jwk, secret.jwk)
    assert [k.kty for k in keys] == ["RSA"]
    assert "secret" in keys.skipped[0].reason
    with pytest.raises(KeyNotFound):
        verify_jws(secret.token({}), keys)


def test_a_set_of_only_secret_keys_verifies_hmac() -> None:
    secret = make_key("HS256", kid="h")
    assert verify_jws(secret.token({}), keyset(secret.jwk)).key.kid == "h"


def test_constructor_takes_jwk_objects() -> None:
    keys = JWKSet([JWK.from_dict(RSA_A.jwk), JWK.from_dict(ED.jwk)])
    assert len(keys) == 2
    with pytest.raises(TypeError):
        JWKSet([RSA_A.jwk])  # type: ignore[list-item]


def test_sets_are_immutable() -> None:
    keys = keyset(RSA_A.jwk)
    with pytest.raises(AttributeError):
        keys.skipped = ()  # type: ignore[misc]


def test_to_dict_round_trips() -> None:
    keys = keyset(RSA_A.jwk, EC_A.jwk, ED.jwk)
    assert list(JWKSet.from_dict(keys.to_dict())) == list(keys)


def test_keys_for_async_matches_keys_for() -> None:
    import asyncio

    keys = keyset(RSA_A.jwk)
    assert asyncio.run(keys.keys_for_async("RS256", "a")) == keys.keys_for("RS256", "a")


def test_a_thousand_keys_load_and_select_by_kid() -> None:
    template = make_key("ES256").jwk
    document = {"keys": [{**template, "kid": f"k{i}"} for i in range(999)] + [EC_A.jwk]}
    keys = JWKSet.from_dict(document)
    assert len(keys) == 1000
    assert verify_jws(EC_A.token({}), keys).key.kid == "a"


# -- the index against a plain definition -------------------------------------------------

_TEMPLATES = (RSA_A.jwk, RSA_B.jwk, EC_A.jwk, ED.jwk, {**RSA_B.jwk, "alg": "PS256"})
_KIDS = (None, "a", "b", "c")


def _plain_candidates(keys: list[JWK], alg: str, kid: str | None) -> tuple[JWK, ...]:
    """Keys that may verify alg for kid, in order, each equal key once."""
    found: list[JWK] = []
    for key in keys:
        if alg in key.algorithms and (kid is None or key.kid == kid) and key not in found:
            found.append(key)
    return tuple(found)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_TEMPLATES) - 1), st.sampled_from(_KIDS)), max_size=12),
       st.lists(st.integers(0, 11), max_size=4))
def test_candidates_are_the_fitting_keys_in_order_without_duplicates(
    entries: list[tuple[int, str | None]], repeated: list[int],
) -> None:
    # Repeated templates under one kid make exact duplicates; different ones, ambiguity.
    keys = [JWK.from_dict(with_kid(_TEMPLATES[index], kid)) for index, kid in entries]
    # ... and so does one JWK object passed twice.
    keys += [keys[index] for index in repeated if index < len(keys)]
    keyset_ = JWKSet(keys)
    for alg in ("RS256", "PS256", "ES256", "EdDSA"):
        for kid in _KIDS:
            expected = _plain_candidates(keys, alg, kid)
            if expected:
                assert keyset_.keys_for(alg, kid) == expected
            else:
                with pytest.raises((KeyNotFound, AlgorithmNotAllowed)):
                    keyset_.keys_for(alg, kid)
    for kid in _KIDS[1:]:
        assert keyset_.get(kid) == next((k for k in keys if k.kid == kid), None)


def with_kid(jwk: dict[str, Any], kid: str | None) -> dict[str, Any]:
    out = {name: value for name, value in jwk.items() if name != "kid"}
    return out if kid is None else {**out, "kid": kid}


def test_keys_built_by_a_set_are_sealed_jwks() -> None:
    keys = keyset(RSA_A.jwk, EC_A.jwk)
    for key in keys:
        assert type(key) is JWK
        with pytest.raises(AttributeError):
            key.kid = "other"  # type: ignore[misc]
