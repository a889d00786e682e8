"""Data-driven tests from public vectors in ``vectors/`` (sources in vectors/README.md).

- Project Wycheproof JOSE tests, judged by ``vectors/wycheproof/expectations.json``
  (our curated verdicts; where they differ from upstream the file says why).
- RFC 7515 Appendix A, RFC 7517 Appendix A/B, RFC 7638 §3.1, RFC 7797 §4.2 and
  RFC 8037 Appendix A, as transcribed in ``vectors/rfc/rfc_examples.json``.
- RFC 7520 (JOSE Cookbook) §3 keys and §4 compact signatures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jwkverify import (
    JWK,
    JOSEError,
    JWKSet,
    MalformedToken,
    UnsupportedAlgorithm,
    verify_jws,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth"}


def load(relative: str) -> Any:
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def public(jwk: dict[str, Any]) -> dict[str, Any]:
    """The public form of a JWK as an RFC prints it (oct keys keep ``k``)."""
    return {name: value for name, value in jwk.items() if name not in PRIVATE_MEMBERS}


# -- Project Wycheproof ---------------------------------------------------------------

EXPECTATIONS = load("wycheproof/expectations.json")
WYCHEPROOF_FILES = {
    name: load(f"wycheproof/{name}")
    for name in ("json_web_signature_test.json", "json_web_key_test.json")
}


def _wycheproof_case(entry: dict[str, Any]) -> tuple[dict[str, Any], str]:
    group = WYCHEPROOF_FILES[entry["file"]]["testGroups"][entry["group"]]
    test = next(t for t in group["tests"] if t["tcId"] == entry["tcId"])
    return group, test["jws"]


def _wycheproof_key(group: dict[str, Any], min_rsa_bits: int) -> JWK | JWKSet:
    material = group.get("public") or group["private"]
    if "keys" in material:
        return JWKSet.from_dict({"keys": [public(k) for k in material["keys"]]},
                                min_rsa_bits=min_rsa_bits)
    return JWK.from_dict(public(material), min_rsa_bits=min_rsa_bits)


def _verdict(group: dict[str, Any], token: str, min_rsa_bits: int = 2048) -> str:
    """"valid" when the key loads and the token verifies; any JOSEError is "invalid"."""
    try:
        verify_jws(token, _wycheproof_key(group, min_rsa_bits))
    except JOSEError:
        return "invalid"
    return "valid"


@pytest.mark.parametrize(
    "entry",
    EXPECTATIONS["tests"],
    ids=[f"{e['file'].split('_test')[0]}-{e['tcId']}-{e['comment']}" for e in EXPECTATIONS["tests"]],
)
def test_wycheproof(entry: dict[str, Any]) -> None:
    group, token = _wycheproof_case(entry)
    assert _verdict(group, token) == entry["expected"], entry.get("why") or entry.get("reasons")


def test_wycheproof_small_rsa_key_verifies_when_the_floor_is_lowered() -> None:
    lowered = [e for e in EXPECTATIONS["tests"] if "with_options" in e]
    assert lowered, "the expectations name the 1024-bit case"
    for entry in lowered:
        group, token = _wycheproof_case(entry)
        options = dict(entry["with_options"])
        expected = options.pop("expected")
        assert options == {"min_rsa_bits": 1024}
        assert _verdict(group, token, min_rsa_bits=1024) == expected


def test_wycheproof_expectations_cover_every_upstream_test() -> None:
    upstream = {(name, t["tcId"]) for name, doc in WYCHEPROOF_FILES.items()
                for g in doc["testGroups"] for t in g["tests"]}
    curated = {(e["file"], e["tcId"]) for e in EXPECTATIONS["tests"]}
    assert curated == upstream


# -- RFC examples ---------------------------------------------------------------------

RFC = load("rfc/rfc_examples.json")


@pytest.mark.parametrize("example", RFC["jws"], ids=[e["id"] for e in RFC["jws"]])
def test_rfc_jws_examples(example: dict[str, Any]) -> None:
    # A.5 (alg "none") has no key: it must fail whatever key is offered.
    material = example["key"] or next(e for e in RFC["jws"] if e["id"] == "rfc7515-A.1")["key"]
    key = JWK.from_dict(public(material))
    if example["result"] == "valid":
        verified = verify_jws(example["token"], key)
        assert verified.header == example["header"]
        payload = example.get("payload")
        if payload is not None:
            assert verified.payload == payload.encode("utf-8")
        if "claims" in example:
            assert json.loads(verified.payload) == example["claims"]
    else:
        with pytest.raises(JOSEError):
            verify_jws(example["token"], key)


def test_rfc7515_a5_unsecured_jws_is_refused_as_unsupported_algorithm() -> None:
    example = next(e for e in RFC["jws"] if e["id"] == "rfc7515-A.5")
    key = JWK.from_dict(public(next(e for e in RFC["jws"] if e["id"] == "rfc7515-A.1")["key"]))
    with pytest.raises(UnsupportedAlgorithm, match="none"):
        verify_jws(example["token"], key)


def test_rfc7797_unencoded_payload_is_refused() -> None:
    example = next(e for e in RFC["jws"] if e["id"] == "rfc7797-4.2")
    with pytest.raises(MalformedToken, match="crit"):
        verify_jws(example["token"], JWK.from_dict(public(example["key"])))


def _rfc_key(identifier: str) -> dict[str, Any]:
    return next(k for k in RFC["keys"] + RFC["thumbprints"] if k["id"] == identifier)


def test_rfc7517_a1_public_key_set() -> None:
    keys = JWKSet.from_dict(_rfc_key("rfc7517-A.1")["jwks"])
    assert [k.kty for k in keys] == ["EC", "RSA"]
    ec_key, rsa_key = keys
    assert (ec_key.kid, ec_key.use, ec_key.crv) == ("1", "enc", "P-256")
    assert ec_key.algorithms == frozenset()  # use "enc": never verifies
    assert (rsa_key.kid, rsa_key.alg) == ("2011-04-29", "RS256")
    assert rsa_key.algorithms == frozenset({"RS256"})
    assert keys.skipped == ()


def test_rfc7517_a3_symmetric_key_set_skips_the_key_wrapping_key() -> None:
    document = _rfc_key("rfc7517-A.3")["jwks"]
    keys = JWKSet.from_dict(document)
    assert len(keys) == 1
    assert next(iter(keys)).kid == document["keys"][1]["kid"]
    (skipped,) = keys.skipped
    assert skipped.index == 0
    assert "A128KW" in skipped.reason


def test_rfc7517_b_key_with_x5c_loads_and_ignores_the_chain() -> None:
    key = JWK.from_dict(_rfc_key("rfc7517-B")["jwk"])
    assert (key.kty, key.kid, key.use) == ("RSA", "1b94c", "sig")
    assert "x5c" not in key.to_dict()


def test_rfc8037_a1_private_members_are_dropped() -> None:
    key = JWK.from_dict(_rfc_key("rfc8037-A.1")["jwk"])
    assert key.to_dict() == _rfc_key("rfc8037-A.2")["jwk"]


@pytest.mark.parametrize("example", RFC["thumbprints"], ids=[e["id"] for e in RFC["thumbprints"]])
def test_rfc_thumbprints(example: dict[str, Any]) -> None:
    key = JWK.from_dict(example["jwk"])
    assert key.thumbprint(example["hash"]) == example["thumbprint"]


# -- RFC 7520 (JOSE Cookbook) ------------------------------------------------------------

COOKBOOK_COMPACT = [
    "jws/4_1.rsa_v15_signature.json",
    "jws/4_2.rsa-pss_signature.json",
    "jws/4_3.ecdsa_signature.json",
    "jws/4_4.hmac-sha2_integrity_protection.json",
    "curve25519/jws.json",
]


@pytest.mark.parametrize("name", COOKBOOK_COMPACT)
def test_cookbook_compact_signatures(name: str) -> None:
    case = load(f"jose-cookbook/{name}")
    verified = verify_jws(case["output"]["compact"], JWK.from_dict(public(case["input"]["key"])))
    assert verified.payload == case["input"]["payload"].encode("utf-8")
    assert verified.header["alg"] == case["input"]["alg"]


def test_cookbook_4_5_detached_content_is_refused() -> None:
    # The compact form has an empty payload segment; jwkverify does not do detached
    # content (RFC 7515 Appendix F), so the signature is checked over "" and fails.
    case = load("jose-cookbook/jws/4_5.signature_with_detached_content.json")
    with pytest.raises(JOSEError):
        verify_jws(case["output"]["compact"], JWK.from_dict(public(case["input"]["key"])))


def test_cookbook_4_8_rebuilt_compact_signatures_verify_with_the_whole_set() -> None:
    case = load("jose-cookbook/jws/4_8.multiple_signatures.json")
    keys = JWKSet.from_dict({"keys": [public(k) for k in case["input"]["key"]]})
    payload_segment = case["output"]["json"]["payload"]
    rebuilt = 0
    for signature in case["output"]["json"]["signatures"]:
        if "protected" not in signature or "kid" not in {**signature.get("header", {})}:
            continue
        protected = json.loads(_decode(signature["protected"]))
        if "kid" in protected or protected["alg"] == "HS256":
            continue  # HS256 is the 4.4 key, which is not in this set
        token = f"{signature['protected']}.{payload_segment}.{signature['signature']}"
        # The kid sits in the unprotected header, which a compact JWS cannot carry:
        # the kid-less token is tried against the keys that fit its algorithm.
        assert verify_jws(token, keys).key.kid == signature["header"]["kid"]
        rebuilt += 1
    assert rebuilt >= 1


def test_cookbook_rfc7797_b64_false_is_refused() -> None:
    case = load("jose-cookbook/rfc7797/hmac-sha2_b64_false.json")
    with pytest.raises(MalformedToken):
        verify_jws(case["output"]["compact"], JWK.from_dict(public(case["input"]["key"])))


@pytest.mark.parametrize("name", ["3_1.ec_public_key.json", "3_3.rsa_public_key.json",
                                  "3_5.symmetric_key_mac_computation.json"])
def test_cookbook_keys_load(name: str) -> None:
    jwk = load(f"jose-cookbook/jwk/{name}")
    key = JWK.from_dict(jwk)
    assert key.kid == jwk["kid"]
    assert key.to_dict() == public(jwk)


def _decode(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
