"""Compact JWS verification (RFC 7515, RFC 7518 §3, RFC 8725)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from signing import ALL_ALGORITHMS, SigningKey, b64, hs_token, make_key, segment

from jwkverify import (
    JWK,
    AlgorithmNotAllowed,
    InvalidSignature,
    JOSEError,
    JWKSet,
    KeyNotFound,
    MalformedToken,
    UnsupportedAlgorithm,
    VerifiedJWS,
    verify_jws,
)
from jwkverify.jws import DEFAULT_MAX_TOKEN_SIZE, parse_compact

KEYS = {alg: make_key(alg, kid=f"kid-{alg}") for alg in ALL_ALGORITHMS}
RSA = KEYS["RS256"]
EC = KEYS["ES256"]


def jwk(name: str, **extra: Any) -> JWK:
    return JWK.from_dict({**KEYS[name].jwk, **extra})


def resign(token: str, alg: str = "RS256") -> str:
    """Keep the first two segments as they are and sign them properly."""
    signing_input = token.rsplit(".", 1)[0]
    return f"{signing_input}.{b64(KEYS[alg].sign(signing_input.encode()))}"


def forge(header: dict[str, Any], payload: bytes = b"{}", alg: str = "RS256") -> str:
    return resign(f"{segment(header)}.{b64(payload)}.", alg)


@pytest.mark.parametrize("alg", ALL_ALGORITHMS)
def test_every_algorithm_verifies(alg: str) -> None:
    token = KEYS[alg].token({"n": 1})
    verified = verify_jws(token, jwk(alg))
    assert isinstance(verified, VerifiedJWS)
    assert verified.header == {"alg": alg, "kid": f"kid-{alg}"}
    assert verified.payload == b'{"n": 1}'
    assert verified.key.kid == f"kid-{alg}"


def test_bytes_tokens_are_accepted() -> None:
    assert verify_jws(RSA.token({}).encode(), jwk("RS256")).payload == b"{}"


def test_rsa_4096_verifies() -> None:
    big = make_key("RS512", kid="big", rsa_bits=4096)
    assert verify_jws(big.token({}), JWK.from_dict(big.jwk)).key.kid == "big"


def test_eddsa_verifies_with_ed448_and_fully_specified_names_do_not_cross() -> None:
    ed448 = KEYS["Ed448"]
    assert verify_jws(ed448.token({}, alg="EdDSA"), jwk("Ed448")).payload == b"{}"
    with pytest.raises(AlgorithmNotAllowed):
        verify_jws(ed448.token({}, alg="Ed25519"), jwk("Ed448"))


# -- alg "none" and unknown algorithms -------------------------------------------------------


@pytest.mark.parametrize("name", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", ["", "AAAA"])
def test_none_never_verifies(name: str, signature: str) -> None:
    token = f"{segment({'alg': name, 'kid': 'kid-RS256'})}.{b64(b'{}')}.{signature}"
    with pytest.raises(UnsupportedAlgorithm, match="unsecured"):
        verify_jws(token, jwk("RS256"))


def test_none_cannot_be_allowed() -> None:
    with pytest.raises(ValueError, match="never allowed"):
        verify_jws(RSA.token({}), jwk("RS256"), algorithms=["none"])


@pytest.mark.parametrize("alg", ["rs256", "RS1", "HS1", "ES521", "RSA-OAEP", "", "dir"])
def test_unknown_algorithms_are_unsupported(alg: str) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        verify_jws(forge({"alg": alg}), jwk("RS256"))


def test_the_case_hint_names_the_real_algorithm() -> None:
    with pytest.raises(UnsupportedAlgorithm, match="case-sensitive: RS256"):
        verify_jws(forge({"alg": "rs256"}), jwk("RS256"))


# -- algorithm confusion ---------------------------------------------------------------------------


@pytest.mark.parametrize("secret_form", ["jwk_json", "n_bytes", "pem"])
def test_rsa_key_never_verifies_hmac(secret_form: str) -> None:
    from cryptography.hazmat.primitives import serialization

    public = RSA.private.public_key()
    secret = {
        "jwk_json": json.dumps(RSA.jwk).encode(),
        "n_bytes": public.public_numbers().n.to_bytes(256, "big"),
        "pem": public.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo),
    }[secret_form]
    token = hs_token(secret, "HS256", {"kid": "kid-RS256"}, {"sub": "admin"})
    for key in (jwk("RS256"), JWKSet([jwk("RS256")])):
        with pytest.raises(AlgorithmNotAllowed):
            verify_jws(token, key)
        # The caller's list narrows what the key allows; it never widens it.
        with pytest.raises(AlgorithmNotAllowed):
            verify_jws(token, key, algorithms=["HS256"])


def test_ec_key_never_verifies_rsa_or_other_curves() -> None:
    with pytest.raises(AlgorithmNotAllowed):
        verify_jws(RSA.token({}, header={"kid": None}), jwk("ES256"))
    with pytest.raises(AlgorithmNotAllowed):
        verify_jws(KEYS["ES384"].token({}, header={"kid": None}), jwk("ES256"))
    with pytest.raises(AlgorithmNotAllowed):
        verify_jws(KEYS["ES256K"].token({}, header={"kid": None}), jwk("ES256"))


def test_allow_list_is_checked_before_any_key_work() -> None:
    token = RSA.token({}, header={"kid": "no-such-kid"})
    with pytest.raises(AlgorithmNotAllowed, match="not allowed here"):
        verify_jws(token, JWKSet([jwk("RS256")]), algorithms=["ES256"])


def test_allow_list_accepts_a_single_string() -> None:
    assert verify_jws(RSA.token({}), jwk("RS256"), algorithms="RS256").payload == b"{}"


@pytest.mark.parametrize(("algorithms", "error"), [([], ValueError), (["RS257"], ValueError),
                                                   ([256], TypeError)])
def test_bad_allow_lists(algorithms: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        verify_jws(RSA.token({}), jwk("RS256"), algorithms=algorithms)


def test_key_alg_restricts_to_that_algorithm() -> None:
    ps_token = SigningKey("PS256", RSA.private, RSA.jwk).token({})
    assert verify_jws(ps_token, jwk("RS256")).header["alg"] == "PS256"
    with pytest.raises(AlgorithmNotAllowed, match="restricted to alg RS256"):
        verify_jws(ps_token, jwk("RS256", alg="RS256"))


# -- header rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize("crit", [["exp"], [], ["b64"], "b64", None])
def test_crit_is_always_refused(crit: Any) -> None:
    token = forge({"alg": "RS256", "crit": crit, "exp": 1})
    with pytest.raises(MalformedToken, match="crit"):
        verify_jws(token, jwk("RS256"))


@pytest.mark.parametrize("b64_value", [False, 0, "false", None])
def test_b64_other_than_true_is_refused(b64_value: Any) -> None:
    with pytest.raises(MalformedToken, match="b64"):
        verify_jws(forge({"alg": "RS256", "b64": b64_value}), jwk("RS256"))


def test_b64_true_is_the_default_and_accepted() -> None:
    assert verify_jws(forge({"alg": "RS256", "b64": True}), jwk("RS256")).payload == b"{}"


def test_unknown_non_critical_header_members_are_ignored() -> None:
    token = forge({"alg": "RS256", "x-custom": {"deep": [1]}, "cty": "text/plain"})
    assert verify_jws(token, jwk("RS256")).header["x-custom"] == {"deep": [1]}


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
def test_keys_carried_in_the_token_are_never_used(member: str) -> None:
    attacker = make_key("RS256", kid=None)
    value: Any = {"jwk": attacker.jwk, "jku": "https://attacker.example/jwks",
                  "x5u": "https://attacker.example/cert", "x5c": ["MIIB"]}[member]
    token = attacker.token({"sub": "admin"}, header={member: value})
    for key in (jwk("RS256"), JWKSet([jwk("RS256")])):
        with pytest.raises(InvalidSignature, match="never used"):
            verify_jws(token, key)


@pytest.mark.parametrize(
    "header_segment",
    [
        b64(b"not json"),
        b64(b"[]"),
        b64(b'"RS256"'),
        b64(b'{"alg":"RS256","alg":"HS256"}'),
        b64(b'{"alg":"RS256","kid":1}'),
        b64(b'{"alg":"RS256","kid":null}'),
        b64(b'{"alg":["RS256"]}'),
        b64(b'{"alg":null}'),
        b64(b"{}"),
        b64(b'\xef\xbb\xbf{"alg":"RS256"}'),
        b64('{"alg":"RS256"}'.encode("utf-16")),
        b64(b'{"alg":"RS256","kid":"\\ud800"}'),
        "",
        "eyJhbGciOiJSUzI1NiJ9=",
        "eyJhbGciOiJSUzI1NiJ9 ",
    ],
)
def test_malformed_headers(header_segment: str) -> None:
    token = resign(f"{header_segment}.{b64(b'{}')}.")
    with pytest.raises(MalformedToken):
        verify_jws(token, jwk("RS256"))


# -- token shape and encoding ------------------------------------------------------------------


@pytest.mark.parametrize("dots", [0, 1, 3, 4, 5])
def test_exactly_three_segments(dots: int) -> None:
    token = ".".join(["eyJhbGciOiJSUzI1NiJ9"] * (dots + 1))
    with pytest.raises(MalformedToken, match="3 segments"):
        verify_jws(token, jwk("RS256"))


def test_jwe_gets_a_hint() -> None:
    with pytest.raises(MalformedToken, match="JWE"):
        verify_jws("a.b.c.d.e", jwk("RS256"))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t + "=",
        lambda t: t + "\n",
        lambda t: " " + t,
        lambda t: t.replace(".", ". ", 1),
        lambda t: t.replace("-", "+").replace("_", "/"),
        lambda t: t[:-1] + "é",
        lambda t: t[:20] + "\x00" + t[20:],
    ],
)
def test_strict_base64url_everywhere(mutate: Any) -> None:
    token = RSA.token({"sub": "user-with_chars-+/"})
    mutated = mutate(token)
    assert mutated != token
    # The payload segment is decoded only after the signature verifies, so a
    # change there may surface as a signature failure instead.
    with pytest.raises((MalformedToken, InvalidSignature)):
        verify_jws(mutated, jwk("RS256"))


def test_payload_segment_is_checked_after_the_signature() -> None:
    # A correctly signed but non-base64url payload is malformed...
    token = resign(f"{segment({'alg': 'RS256'})}.not*base64.")
    with pytest.raises(MalformedToken, match="payload"):
        verify_jws(token, jwk("RS256"))
    # ...and the same payload with a wrong signature fails on the signature first.
    wrong = token.rsplit(".", 1)[0] + "." + RSA.token({}).rsplit(".", 1)[1]
    with pytest.raises(InvalidSignature):
        verify_jws(wrong, jwk("RS256"))


def test_empty_payload_is_allowed() -> None:
    assert verify_jws(RSA.token(payload=b""), jwk("RS256")).payload == b""


def test_token_size_limit() -> None:
    big = RSA.token({"pad": "x" * DEFAULT_MAX_TOKEN_SIZE})
    for token in (big, big.encode()):
        with pytest.raises(MalformedToken, match="longer than"):
            verify_jws(token, jwk("RS256"))
    assert verify_jws(big, jwk("RS256"), max_token_size=2 * DEFAULT_MAX_TOKEN_SIZE).payload
    with pytest.raises(ValueError):
        verify_jws(big, jwk("RS256"), max_token_size=10)


@pytest.mark.parametrize("token", [None, 123, ["a.b.c"], b"\xff.\xfe.\xfd", "ä.b.c"])
def test_non_text_tokens(token: Any) -> None:
    with pytest.raises(MalformedToken):
        verify_jws(token, jwk("RS256"))


def test_signing_input_is_the_original_text() -> None:
    parsed = parse_compact(RSA.token({"a": 1}))
    header_segment, payload_segment, _ = RSA.token({"a": 1}).split(".")
    assert parsed.signing_input == f"{header_segment}.{payload_segment}".encode()


# -- signature encodings ------------------------------------------------------------------------


def test_ecdsa_der_signature_is_refused() -> None:
    signing_input = f"{segment({'alg': 'ES256', 'kid': 'kid-ES256'})}.{b64(b'{}')}"
    der = EC.private.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature, match=r"\(R \|\| S, RFC 7518 §3\.4; not DER\)"):
        verify_jws(f"{signing_input}.{b64(der)}", jwk("ES256"))


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "ES256K", "RS256", "EdDSA", "HS256"])
def test_wrong_length_signatures_are_refused(alg: str) -> None:
    token = KEYS[alg].token({})
    signing_input, signature = token.rsplit(".", 1)
    raw = __import__("base64").urlsafe_b64decode(signature + "==")
    for wrong in (raw[:-1], raw + b"\x00", b"\x00" + raw, b""):
        with pytest.raises(InvalidSignature):
            verify_jws(f"{signing_input}.{b64(wrong)}", jwk(alg))


def test_pss_salt_must_equal_the_hash_length() -> None:
    signing_input = f"{segment({'alg': 'PS256'})}.{b64(b'{}')}".encode()
    for salt in (0, 20, 64):
        signature = RSA.private.sign(
            signing_input, padding.PSS(padding.MGF1(hashes.SHA256()), salt), hashes.SHA256())
        with pytest.raises(InvalidSignature):
            verify_jws(f"{signing_input.decode()}.{b64(signature)}", jwk("RS256"))


def test_ecdsa_high_s_and_zero_values() -> None:
    signing_input = f"{segment({'alg': 'ES256'})}.{b64(b'{}')}"
    for r, s in ((0, 0), (0, 1), (1, 0)):
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        with pytest.raises(InvalidSignature):
            verify_jws(f"{signing_input}.{b64(signature)}", jwk("ES256"))


def test_hmac_with_another_secret_fails() -> None:
    other = make_key("HS256", kid="kid-HS256")
    with pytest.raises(InvalidSignature):
        verify_jws(other.token({}), jwk("HS256"))


def test_tampered_payload_fails() -> None:
    header, _, signature = RSA.token({"sub": "alice"}).split(".")
    tampered = f"{header}.{segment({'sub': 'admin'})}.{signature}"
    with pytest.raises(InvalidSignature):
        verify_jws(tampered, jwk("RS256"))


def test_key_must_be_a_key_source() -> None:
    with pytest.raises(TypeError, match=r"JWK\.from_dict"):
        verify_jws(RSA.token({}), RSA.jwk)  # type: ignore[arg-type]


def test_errors_are_jose_errors_only() -> None:
    for bad in ("", ".", "..", "a.b.c", RSA.token({})[:-3]):
        with pytest.raises(JOSEError):
            verify_jws(bad, jwk("RS256"))


def test_kid_mismatch_with_a_single_key() -> None:
    with pytest.raises(KeyNotFound):
        verify_jws(RSA.token({}, header={"kid": "other"}), jwk("RS256"))
