"""JWK parsing and validation (RFC 7517, RFC 7518 §6, RFC 8037, RFC 7638)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from signing import b64, make_key, uint

from jwkverify import JWK, AlgorithmNotAllowed, InvalidKey, JOSEError, KeyNotFound
from jwkverify.algorithms import CURVES

RSA_KEY = make_key("RS256", kid="r1")
RSA_1024 = make_key("RS256", kid="small", rsa_bits=1024)
EC_KEY = make_key("ES256", kid="e1")
ED_KEY = make_key("Ed25519", kid="o1")


def with_members(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = {**base, **changes}
    return {k: v for k, v in out.items() if v is not None}


# -- construction and value behaviour ---------------------------------------------------


def test_from_dict_exposes_the_members() -> None:
    key = JWK.from_dict({**EC_KEY.jwk, "alg": "ES256", "use": "sig", "key_ops": ["verify"]})
    assert (key.kty, key.kid, key.alg, key.use, key.key_ops, key.crv) == (
        "EC", "e1", "ES256", "sig", ("verify",), "P-256")
    assert isinstance(key.public_key, ec.EllipticCurvePublicKey)


def test_from_json_accepts_str_and_bytes() -> None:
    text = json.dumps(RSA_KEY.jwk)
    assert JWK.from_json(text) == JWK.from_json(text.encode()) == JWK.from_dict(RSA_KEY.jwk)
    assert isinstance(JWK.from_json(text).public_key, rsa.RSAPublicKey)


@pytest.mark.parametrize("text", ["[]", "not json", '{"kty": "RSA", "kty": "EC"}', b"\xff"])
def test_from_json_refuses_non_objects(text: str | bytes) -> None:
    with pytest.raises(InvalidKey):
        JWK.from_json(text)


def test_keys_are_immutable() -> None:
    key = JWK.from_dict(RSA_KEY.jwk)
    with pytest.raises(AttributeError):
        key.kid = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del key.kid
    with pytest.raises(TypeError):
        JWK()


def test_private_members_are_dropped() -> None:
    numbers = RSA_KEY.private.private_numbers()
    private = {**RSA_KEY.jwk, "d": uint(numbers.d), "p": uint(numbers.p), "q": uint(numbers.q)}
    key = JWK.from_dict(private)
    assert key.to_dict() == RSA_KEY.jwk
    assert key == JWK.from_dict(RSA_KEY.jwk)


def test_repr_never_shows_key_material() -> None:
    secret = make_key("HS256", kid="h1")
    text = repr(JWK.from_dict(secret.jwk))
    assert secret.jwk["k"] not in text
    assert "h1" in text


def test_equal_keys_hash_equal() -> None:
    assert hash(JWK.from_dict(EC_KEY.jwk)) == hash(JWK.from_dict(dict(EC_KEY.jwk)))
    assert JWK.from_dict(EC_KEY.jwk) != JWK.from_dict({**EC_KEY.jwk, "kid": "other"})
    assert JWK.from_dict(EC_KEY.jwk) != "not a key"


def test_the_issuer_member_that_entra_id_binds_keys_with_is_kept() -> None:
    # Not RFC 7517: Microsoft's key sets name the issuer each key signs for.
    template = "https://login.microsoftonline.com/{tenantid}/v2.0"
    bound = JWK.from_dict({**RSA_KEY.jwk, "issuer": template})
    assert bound.issuer == template and bound.to_dict()["issuer"] == template
    plain = JWK.from_dict(RSA_KEY.jwk)
    assert plain.issuer is None and "issuer" not in plain.to_dict()
    assert bound != plain and JWK.from_dict(bound.to_dict()) == bound
    with pytest.raises(InvalidKey, match="'issuer' must be a string"):
        JWK.from_dict({**RSA_KEY.jwk, "issuer": ["a"]})


def test_thumbprint_ignores_optional_members_and_supports_sha2() -> None:
    plain = JWK.from_dict(RSA_KEY.jwk)
    decorated = JWK.from_dict({**RSA_KEY.jwk, "alg": "RS256", "use": "sig", "kid": "x"})
    assert plain.thumbprint() == decorated.thumbprint()
    assert len(plain.thumbprint("sha512")) == 86
    with pytest.raises(ValueError, match="hash_name"):
        plain.thumbprint("md5")


@pytest.mark.parametrize("mapping", [[], "text", 1, None])
def test_non_mappings_are_invalid_keys(mapping: Any) -> None:
    with pytest.raises(InvalidKey):
        JWK.from_dict(mapping)


# -- what a key may verify ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "expected"),
    [
        ("RS256", {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
        ("ES256", {"ES256"}),
        ("ES384", {"ES384"}),
        ("ES512", {"ES512"}),
        ("ES256K", {"ES256K"}),
        ("Ed25519", {"EdDSA", "Ed25519"}),
        ("Ed448", {"EdDSA", "Ed448"}),
        ("HS256", {"HS256"}),
        ("HS384", {"HS256", "HS384"}),
        ("HS512", {"HS256", "HS384", "HS512"}),
    ],
)
def test_algorithms_follow_type_curve_and_size(alg: str, expected: set[str]) -> None:
    assert JWK.from_dict(make_key(alg).jwk).algorithms == expected


def test_own_alg_narrows_to_exactly_that_algorithm() -> None:
    assert JWK.from_dict({**RSA_KEY.jwk, "alg": "PS256"}).algorithms == {"PS256"}
    assert JWK.from_dict({**ED_KEY.jwk, "alg": "Ed25519"}).algorithms == {"Ed25519"}


@pytest.mark.parametrize(
    ("base", "alg"),
    [(RSA_KEY.jwk, "HS256"), (RSA_KEY.jwk, "ES256"), (EC_KEY.jwk, "ES384"), (EC_KEY.jwk, "RS256"),
     (EC_KEY.jwk, "HS256"), (ED_KEY.jwk, "Ed448"), (ED_KEY.jwk, "ES256")],
)
def test_own_alg_that_does_not_fit_is_invalid(base: dict[str, Any], alg: str) -> None:
    with pytest.raises(InvalidKey, match="'alg'"):
        JWK.from_dict({**base, "alg": alg})


@pytest.mark.parametrize("alg", ["none", "RSA-OAEP", "A128KW", "ES521", "rs256", "HS1", ""])
def test_unknown_own_alg_is_invalid(alg: str) -> None:
    with pytest.raises(InvalidKey, match="not a JWS algorithm"):
        JWK.from_dict({**RSA_KEY.jwk, "alg": alg})


@pytest.mark.parametrize(
    "extra",
    [{"use": "enc"}, {"use": "SIG"}, {"key_ops": ["encrypt"]}, {"key_ops": ["sign"]}, {"key_ops": []}],
)
def test_use_or_key_ops_that_forbid_verifying(extra: dict[str, Any]) -> None:
    key = JWK.from_dict({**RSA_KEY.jwk, **extra})
    assert key.algorithms == frozenset()
    with pytest.raises(KeyNotFound, match="cannot verify"):
        key.keys_for("RS256", "r1")


def test_key_ops_with_verify_is_usable() -> None:
    assert "RS256" in JWK.from_dict({**RSA_KEY.jwk, "key_ops": ["sign", "verify"]}).algorithms


@pytest.mark.parametrize("key_ops", ["verify", ["verify", "verify"], [1], {"verify": True}])
def test_malformed_key_ops(key_ops: Any) -> None:
    with pytest.raises(InvalidKey, match="key_ops"):
        JWK.from_dict({**RSA_KEY.jwk, "key_ops": key_ops})


def test_keys_for_checks_kid_and_alg() -> None:
    key = JWK.from_dict({**RSA_KEY.jwk, "alg": "RS256"})
    assert key.keys_for("RS256", "r1") == (key,)
    assert key.keys_for("RS256", None) == (key,)
    with pytest.raises(KeyNotFound, match="kid"):
        key.keys_for("RS256", "other")
    with pytest.raises(AlgorithmNotAllowed, match="restricted"):
        key.keys_for("PS256", "r1")
    with pytest.raises(AlgorithmNotAllowed, match="cannot verify HS256"):
        JWK.from_dict(RSA_KEY.jwk).keys_for("HS256", None)


def test_a_key_without_kid_serves_any_kid() -> None:
    key = JWK.from_dict(with_members(EC_KEY.jwk, kid=None))
    assert key.keys_for("ES256", "whatever") == (key,)


# -- member validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mapping", "member"),
    [
        ({"n": "AQAB", "e": "AQAB"}, "kty"),
        ({"kty": 1}, "kty"),
        ({"kty": "rsa"}, "kty"),
        ({"kty": "AKP"}, "kty"),
        ({**RSA_KEY.jwk, "kid": 7}, "kid"),
        ({**RSA_KEY.jwk, "use": ["sig"]}, "use"),
        ({**RSA_KEY.jwk, "alg": 256}, "alg"),
        (with_members(RSA_KEY.jwk, n=None), "n"),
        (with_members(RSA_KEY.jwk, e=None), "e"),
        ({**RSA_KEY.jwk, "n": 12345}, "n"),
        ({**RSA_KEY.jwk, "e": 65537}, "e"),
        ({**RSA_KEY.jwk, "n": RSA_KEY.jwk["n"] + "="}, "n"),
        ({**RSA_KEY.jwk, "n": RSA_KEY.jwk["n"].replace("-", "+").replace("_", "/") + "+/"}, "n"),
        (with_members(EC_KEY.jwk, crv=None), "crv"),
        (with_members(EC_KEY.jwk, y=None), "y"),
        ({**EC_KEY.jwk, "x": True}, "x"),
    ],
)
def test_missing_or_mistyped_members_name_the_member(mapping: dict[str, Any], member: str) -> None:
    with pytest.raises(InvalidKey, match=f"'{member}'"):
        JWK.from_dict(mapping)


def test_rsa_modulus_under_2048_bits_is_refused_by_default() -> None:
    with pytest.raises(InvalidKey, match="1024-bit modulus"):
        JWK.from_dict(RSA_1024.jwk)
    assert "RS256" in JWK.from_dict(RSA_1024.jwk, min_rsa_bits=1024).algorithms


def test_min_rsa_bits_has_a_floor_and_a_type() -> None:
    with pytest.raises(ValueError, match="1024"):
        JWK.from_dict(RSA_KEY.jwk, min_rsa_bits=512)
    with pytest.raises(TypeError):
        JWK.from_dict(RSA_KEY.jwk, min_rsa_bits="2048")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        JWK.from_dict(RSA_KEY.jwk, min_rsa_bits=True)


def test_min_rsa_bits_can_also_be_raised() -> None:
    with pytest.raises(InvalidKey, match="at least 3072"):
        JWK.from_dict(RSA_KEY.jwk, min_rsa_bits=3072)


@pytest.mark.parametrize("e", [1, 2, 4, 65536, 0, 2**64 + 1])
def test_bad_rsa_exponents(e: int) -> None:
    encoded = uint(e) if e else "AA"
    with pytest.raises(InvalidKey, match="'e'"):
        JWK.from_dict({**RSA_KEY.jwk, "e": encoded})


def test_rsa_exponent_three_is_accepted() -> None:
    key = rsa.generate_private_key(3, 2048).public_key().public_numbers()
    assert JWK.from_dict({"kty": "RSA", "n": uint(key.n), "e": uint(key.e)}).kty == "RSA"


@pytest.mark.parametrize("member", ["n", "e"])
def test_rsa_integers_with_a_leading_zero_are_not_canonical(member: str) -> None:
    padded = b64(b"\x00" + __import__("base64").urlsafe_b64decode(RSA_KEY.jwk[member] + "=="))
    with pytest.raises(InvalidKey, match="leading zero"):
        JWK.from_dict({**RSA_KEY.jwk, member: padded})


def test_even_rsa_modulus_is_refused() -> None:
    n = RSA_KEY.private.public_key().public_numbers().n + 1
    with pytest.raises(InvalidKey, match="even"):
        JWK.from_dict({**RSA_KEY.jwk, "n": uint(n)})


def test_oversized_rsa_modulus_is_refused() -> None:
    with pytest.raises(InvalidKey, match="at most 16384"):
        JWK.from_dict({**RSA_KEY.jwk, "n": uint(2**16400 + 1)})


@pytest.mark.parametrize("crv", ["P-256", "P-384", "P-521", "secp256k1"])
def test_ec_coordinates_must_have_the_exact_length(crv: str) -> None:
    alg = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "secp256k1": "ES256K"}[crv]
    jwk = make_key(alg).jwk
    x = __import__("base64").urlsafe_b64decode(jwk["x"] + "==")
    assert len(x) == CURVES[crv].size
    for wrong in (x[1:], b"\x00" + x):
        with pytest.raises(InvalidKey, match=f"must be {CURVES[crv].size} octets"):
            JWK.from_dict({**jwk, "x": b64(wrong)})


def test_ec_point_off_the_curve_is_refused() -> None:
    y = __import__("base64").urlsafe_b64decode(EC_KEY.jwk["y"] + "==")
    bad_y = y[:-1] + bytes([y[-1] ^ 1])
    with pytest.raises(InvalidKey, match="not on the curve"):
        JWK.from_dict({**EC_KEY.jwk, "y": b64(bad_y)})


def test_ec_coordinate_at_or_above_the_field_prime_is_refused() -> None:
    prime = CURVES["P-256"].field_prime
    assert prime is not None
    with pytest.raises(InvalidKey, match="field prime"):
        JWK.from_dict({**EC_KEY.jwk, "x": b64(prime.to_bytes(32, "big"))})


def test_ec_key_on_the_wrong_named_curve_is_refused() -> None:
    with pytest.raises(InvalidKey):
        JWK.from_dict({**EC_KEY.jwk, "crv": "P-384"})


@pytest.mark.parametrize("crv", ["P-224", "brainpoolP256r1", "Ed25519", "", "p-256"])
def test_unsupported_ec_curves(crv: str) -> None:
    with pytest.raises(InvalidKey, match="'crv'"):
        JWK.from_dict({**EC_KEY.jwk, "crv": crv})


@pytest.mark.parametrize("crv", ["X25519", "X448"])
def test_key_agreement_curves_cannot_verify(crv: str) -> None:
    with pytest.raises(InvalidKey, match="key-agreement"):
        JWK.from_dict({"kty": "OKP", "crv": crv, "x": ED_KEY.jwk["x"]})


def test_okp_key_length_is_exact() -> None:
    with pytest.raises(InvalidKey, match="57 octets"):
        JWK.from_dict({**ED_KEY.jwk, "crv": "Ed448"})
    with pytest.raises(InvalidKey, match="'crv'"):
        JWK.from_dict({**ED_KEY.jwk, "crv": "P-256"})


@pytest.mark.parametrize("size", [0, 1, 16, 31])
def test_short_hmac_secrets_are_refused(size: int) -> None:
    with pytest.raises(InvalidKey, match="'k'"):
        JWK.from_dict({"kty": "oct", "k": b64(b"k" * size)})


def test_hmac_alg_needs_a_key_at_least_as_long_as_the_hash() -> None:
    with pytest.raises(InvalidKey, match="at least 64 octets"):
        JWK.from_dict({"kty": "oct", "k": b64(b"k" * 32), "alg": "HS512"})
    assert JWK.from_dict({"kty": "oct", "k": b64(b"k" * 64), "alg": "HS256"}).algorithms == {"HS256"}


def test_oct_key_has_no_public_key_object() -> None:
    assert JWK.from_dict(make_key("HS256").jwk).public_key is None


def test_messages_do_not_echo_secrets() -> None:
    secret = b64(b"s" * 16)
    with pytest.raises(InvalidKey) as caught:
        JWK.from_dict({"kty": "oct", "k": secret})
    assert secret not in str(caught.value)


def test_invalid_key_is_a_jose_error_and_not_a_value_error() -> None:
    assert issubclass(InvalidKey, JOSEError)
    assert not issubclass(InvalidKey, ValueError | KeyError | TypeError)


# -- what is derived on first use --------------------------------------------------------


def test_keys_are_sealed_jwks_whatever_builds_them() -> None:
    for key in (JWK.from_dict(RSA_KEY.jwk), JWK.from_json(json.dumps(EC_KEY.jwk))):
        assert type(key) is JWK
        with pytest.raises(AttributeError):
            key.public_key = None  # type: ignore[misc]


def test_hash_and_equality_follow_the_members_and_metadata() -> None:
    key = JWK.from_dict(RSA_KEY.jwk)
    assert hash(key) == hash(key) == hash(JWK.from_dict(RSA_KEY.jwk))
    assert key == JWK.from_dict(RSA_KEY.jwk)
    assert key != JWK.from_dict({**RSA_KEY.jwk, "kid": "other"})
    assert key != JWK.from_dict({**RSA_KEY.jwk, "alg": "PS256"})
    assert key != JWK.from_dict(EC_KEY.jwk)


def test_every_fitting_algorithm_verifies_on_first_use() -> None:
    from signing import _sign

    key = JWK.from_dict(RSA_KEY.jwk)  # no alg: six RSA algorithms fit
    data = b"signing input"
    for alg in sorted(key.algorithms):
        signature = _sign(alg, RSA_KEY.private, data)
        assert key.signature_size(alg) == 256
        assert key.verify_signature(alg, signature, data)
        assert not key.verify_signature(alg, signature, data + b"!")
    assert key.signature_size("ES256") == 0
    assert not key.verify_signature("ES256", b"\0" * 64, data)
    with pytest.raises(AlgorithmNotAllowed):
        key.keys_for("ES256", None)


def test_threads_racing_to_a_first_verification_all_succeed() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from signing import _sign

    data = b"signing input"
    signature = _sign("RS256", RSA_KEY.private, data)
    for _ in range(20):
        key = JWK.from_dict(RSA_KEY.jwk)  # fresh: no verifier built yet
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(key.verify_signature, ["RS256"] * 32, [signature] * 32, [data] * 32))
        assert all(results)
