"""jwkverify.dpop: every check of RFC 9449 §4.3 with a proof that fails only that check,
RFC 9449's own examples, the iat window's edges, nonces and replay through the verifier."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from dpop_proofs import ABSENT, NOW, TOKEN, URL, Client, ath, client, sign, thumbprint
from signing import b64, make_key, segment

from jwkverify import JWK, JOSEError
from jwkverify.dpop import (
    DEFAULT_ALGORITHMS,
    DPoPVerifier,
    HMACNonceSource,
    InvalidDPoPProof,
    MemoryReplayCache,
    ReplayStoreUnavailable,
    UseDPoPNonce,
    VerifiedProof,
    access_token_hash,
    token_jkt,
)

RFC9449 = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "rfc" / "rfc9449_examples.json")
                     .read_text(encoding="utf-8"))["examples"]


@pytest.fixture(scope="module")
def es() -> Client:
    return client("ES256")


def check(verifier: DPoPVerifier, proof: Any, who: Client, **request: Any) -> VerifiedProof:
    """``verifier.verify`` for ``GET URL`` with ``TOKEN`` bound to ``who`` at ``NOW``."""
    arguments: dict[str, Any] = {"method": "GET", "url": URL, "access_token": TOKEN, "jkt": who.jkt,
                                 "now": NOW}
    arguments.update(request)
    return verifier.verify(proof, **arguments)


def refused(
    check_name: str, verifier: DPoPVerifier, proof: Any, who: Client, **request: Any
) -> InvalidDPoPProof:
    with pytest.raises(InvalidDPoPProof) as caught:
        check(verifier, proof, who, **request)
    assert caught.value.check == check_name, str(caught.value)
    assert caught.value.code == "invalid_dpop_proof" and caught.value.status_hint == 401
    return caught.value


# -- RFC 9449's own examples (vectors/rfc/rfc9449_examples.json) ----------------------------------


def test_the_resource_request_of_section_7_1_is_accepted_for_its_request() -> None:
    example, jkt = RFC9449["resource_request_proof"], RFC9449["jkt"]["value"]
    assert access_token_hash(example["access_token"]) == example["ath"]
    proof = DPoPVerifier().verify(example["proof"], method=example["htm"], url=example["htu"],
                                  access_token=example["access_token"], jkt=jkt, now=example["iat"])
    assert proof.thumbprint == jkt and proof.header["alg"] == "ES256"
    assert proof.claims["ath"] == example["ath"] and proof.jti == "e1j3V_bKic8-LAEB"
    assert proof.iat == example["iat"] and proof.next_nonce is None


def test_the_section_7_1_proof_is_refused_for_another_request_or_time() -> None:
    example, jkt = RFC9449["resource_request_proof"], RFC9449["jkt"]["value"]
    request = {"method": "GET", "url": example["htu"], "access_token": example["access_token"], "jkt": jkt,
               "now": example["iat"]}
    cases = [("htm", {"method": "POST"}), ("htu", {"url": "https://resource.example.org/other"}),
             ("ath", {"access_token": "another-token"}), ("jkt", {"jkt": "x" * 43}),
             ("iat", {"now": example["iat"] + 301}), ("iat", {"now": example["iat"] - 6})]
    for expected, change in cases:
        with pytest.raises(InvalidDPoPProof) as caught:
            DPoPVerifier().verify(example["proof"], **{**request, **change})
        assert caught.value.check == expected


@pytest.mark.parametrize("name", ["token_request_proof", "refresh_request_proof"])
def test_token_request_proofs_of_sections_4_1_and_5_are_refused_at_a_resource(name: str) -> None:
    example, resource = RFC9449[name], RFC9449["resource_request_proof"]
    common = {"access_token": resource["access_token"], "jkt": RFC9449["jkt"]["value"], "now": example["iat"]}
    # Their own request, but with an access token: no ath (RFC 9449 §7).
    with pytest.raises(InvalidDPoPProof) as caught:
        DPoPVerifier().verify(example["proof"], method=example["htm"], url=example["htu"], **common)
    assert caught.value.check == "ath"
    # At the resource: another method and URI.
    with pytest.raises(InvalidDPoPProof) as caught:
        DPoPVerifier().verify(example["proof"], method="POST", url=resource["htu"], **common)
    assert caught.value.check == "htu"


def test_the_thumbprint_of_section_6_1() -> None:
    header = json.loads(_decode(RFC9449["resource_request_proof"]["proof"].split(".")[0]))
    assert JWK.from_dict(header["jwk"]).thumbprint() == RFC9449["jkt"]["value"]
    assert thumbprint(header["jwk"]) == RFC9449["jkt"]["value"]  # the tests' own computation agrees


def _decode(segment_text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment_text + "=" * (-len(segment_text) % 4))


# -- a good proof, for every algorithm ----------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519", "Ed448",
                                 "RS256", "PS256", "PS512"])
def test_a_good_proof_passes_every_check(alg: str) -> None:
    who = client(alg)
    proof = check(DPoPVerifier(), who.proof(), who)
    assert proof.thumbprint == who.jkt and proof.key.thumbprint() == who.jkt
    assert proof.claims["htu"] == URL and dict(proof.header["jwk"]) == who.jwk


def test_the_verified_proof_is_immutable(es: Client) -> None:
    proof = check(DPoPVerifier(), es.proof(extra={"nested": [1, {"a": 2}]}), es)
    with pytest.raises(TypeError):
        proof.claims["jti"] = "other"  # type: ignore[index]
    with pytest.raises(TypeError):
        proof.header["jwk"]["x"] = "other"  # type: ignore[index]
    with pytest.raises(TypeError):
        proof.claims["extra"]["nested"][1]["a"] = 3
    assert proof.claims["extra"]["nested"] == (1, {"a": 2})
    with pytest.raises(AttributeError):
        proof.thumbprint = "other"  # type: ignore[misc]


# -- RFC 9449 §4.3, one check at a time --------------------------------------------------------


def test_1_exactly_one_proof(es: Client) -> None:
    good = es.proof()
    for proofs in ([], [good, es.proof()], None):
        refused("count", DPoPVerifier(), proofs, es)
    assert check(DPoPVerifier(), [good], es).thumbprint == es.jkt
    assert check(DPoPVerifier(), (good.encode(),), es).thumbprint == es.jkt


def test_2_a_single_well_formed_jwt(es: Client) -> None:
    good = es.proof()
    header, payload, signature = good.split(".")
    cases = ["", "not a jwt", f"{header}.{payload}", f"{good}.extra.segment",
             f"{header}.{payload}.{signature}=",
             f"{header}.{payload}.{signature}+", f" {good}", f"{good}\n", "é" + good, f"{good},{good}",
             f"{header}.{payload}.{signature[:-1]}", b"\xff" + good.encode(), 42,
             f"{b64(b'not json')}.{payload}.{signature}", f"{segment([es.header()])}.{payload}.{signature}"]
    for proof in cases:
        refused("format", DPoPVerifier(), proof, es)
    for body in (b"{nope", b"[1, 2]", b'{"jti": "a", "jti": "b"}', b"\xff"):  # signed, but not a JSON object
        signing_input = f"{segment(es.header())}.{b64(body)}"
        signed = f"{signing_input}.{b64(es.signer.sign(signing_input.encode()))}"
        refused("format", DPoPVerifier(), signed, es)
    assert len(good) > 256
    refused("format", DPoPVerifier(max_proof_size=256), good, es)


def test_3_every_required_claim_with_its_type(es: Client) -> None:
    cases: list[dict[str, Any]] = [{"jti": ABSENT}, {"htm": ABSENT}, {"htu": ABSENT}, {"iat": ABSENT},
                                   {"jti": 7}, {"jti": ""}, {"jti": "j" * 257}, {"htm": None},
                                   {"htm": ["GET"]},
                                   {"htu": {"u": URL}}, {"iat": str(NOW)}, {"iat": True}, {"iat": None},
                                   {"ath": 5}, {"nonce": 5}]
    for change in cases:
        refused("claims", DPoPVerifier(), es.proof(**change), es)
    assert check(DPoPVerifier(), es.proof(jti="j" * 256, iat=NOW + 0.5), es).jti == "j" * 256


def test_4_typ_is_dpop_jwt(es: Client) -> None:
    for typ in ("JWT", "at+jwt", "dpop", None, 1, "application/jwt"):
        refused("typ", DPoPVerifier(), es.proof(header=es.header(typ=typ if typ is not None else ABSENT)), es)
    for typ in ("DPoP+JWT", "application/dpop+jwt"):  # RFC 7515 §4.1.9: a media type
        assert check(DPoPVerifier(), es.proof(header=es.header(typ=typ)), es).thumbprint == es.jkt


def test_5_alg_is_asymmetric_allowed_and_never_none(es: Client) -> None:
    unsigned = f"{segment(es.header(alg='none'))}.{segment(es.claims())}."
    refused("alg", DPoPVerifier(), unsigned, es)
    hs = make_key("HS256", kid=None)
    refused("alg", DPoPVerifier(), sign(es.header(alg="HS256"), es.claims(), hs), es)
    refused("alg", DPoPVerifier(), es.proof(header=es.header(alg="XS256")), es)
    refused("alg", DPoPVerifier(algorithms=["EdDSA"]), es.proof(), es)
    rsa = client("RS256")
    refused("alg", DPoPVerifier(algorithms=["ES256", "PS256"]), rsa.proof(), rsa)
    assert check(DPoPVerifier(algorithms="ES256"), es.proof(), es).header["alg"] == "ES256"


def test_6_the_signature_verifies_with_the_jwk(es: Client) -> None:
    other = make_key("ES256", kid=None)
    refused("signature", DPoPVerifier(), es.proof(signer=other), es)  # the token's key, another's signature
    good = es.proof()
    header, payload, signature = good.split(".")
    flipped = bytearray(_decode(signature))
    flipped[5] ^= 1
    refused("signature", DPoPVerifier(), f"{header}.{payload}.{b64(bytes(flipped))}", es)
    der_length = f"{header}.{payload}.{b64(_decode(signature) + b'x')}"
    refused("signature", DPoPVerifier(), der_length, es)


def test_7_the_jwk_is_a_public_key_that_fits_alg(es: Client) -> None:
    private = {**es.jwk, "d": b64(es.signer.private.private_numbers().private_value.to_bytes(32, "big"))}
    p384 = client("ES384")
    cases = [es.header(jwk=ABSENT), es.header(jwk="a key"), es.header(jwk=private),
             es.header(jwk={**es.jwk, "use": "enc"}), es.header(jwk={**es.jwk, "key_ops": ["sign"]}),
             es.header(jwk={**es.jwk, "alg": "ES384"}), es.header(jwk=p384.jwk),
             es.header(jwk={**es.jwk, "x": es.jwk["y"]}), es.header(jwk={"kty": "oct", "k": b64(b"s" * 32)}),
             es.header(jwk={**es.jwk, "kty": "RSA"}), es.header(jwk={**es.jwk, "crv": "P-384"}),
             es.header(jwk={**es.jwk, "kty": ["EC"]}), es.header(jwk={**es.jwk, "crv": 256})]
    for header in cases:
        refused("jwk", DPoPVerifier(), es.proof(header=header), es, jkt=None)
    rsa = client("RS256", rsa_bits=1024)
    refused("jwk", DPoPVerifier(), rsa.proof(), rsa)  # RSA under 2048 bits
    for member in ("p", "q", "dp", "dq", "qi", "oth", "k"):
        header = es.header(jwk={**es.jwk, member: "AQAB"})
        refused("jwk", DPoPVerifier(), es.proof(header=header), es, jkt=None)
    # Public members that do not define the key are fine: kid, use "sig", alg that fits.
    fine = es.header(jwk={**es.jwk, "kid": "k", "use": "sig", "alg": "ES256"})
    assert check(DPoPVerifier(), es.proof(header=fine), es).thumbprint == es.jkt


def test_8_htm_matches_the_method_case_sensitively(es: Client) -> None:
    for method in ("get", "POST", "Get"):
        refused("htm", DPoPVerifier(), es.proof(), es, method=method)
    assert check(DPoPVerifier(), es.proof(htm="DELETE"), es, method="DELETE").claims["htm"] == "DELETE"


@pytest.mark.parametrize("claimed, requested", [
    (URL, URL + "?q=1#f"),  # query and fragment ignored on both sides
    (URL + "?other=2", URL),
    ("HTTPS://API.Example.TEST/notes", URL),  # scheme and host case
    ("https://api.example.test:443/notes", URL),  # default port
    ("https://api.example.test:/notes", URL),  # empty port
    ("http://api.example.test:80/", "http://api.example.test"),  # empty path is "/"
    ("https://api.example.test/%6eotes", URL),  # an unreserved character percent-encoded
    ("https://api.example.test/a%2fb", "https://api.example.test/a%2Fb"),  # percent-encoding case
    ("https://api.example.test/x/../notes", URL),  # dot segments
    ("https://api.example.test/./notes", URL),
])
def test_9_htu_matches_after_rfc_3986_normalisation(es: Client, claimed: str, requested: str) -> None:
    assert check(DPoPVerifier(), es.proof(htu=claimed), es, url=requested).claims["htu"] == claimed


@pytest.mark.parametrize("claimed", [
    "https://api.example.test/notes/", "https://api.example.test/Notes", "http://api.example.test/notes",
    "https://api.example.test:8443/notes", "https://other.example.test/notes", "https://api.example.test/a%2Fnotes",
    "https://user@api.example.test/notes", "/notes", "api.example.test/notes", "", "https://api.example.test/%zz",
    "ftp://api.example.test/notes", "https://api.example.test/no tes", "https://api.example.test:99999/notes",
])
def test_9_htu_for_another_uri_is_refused(es: Client, claimed: str) -> None:
    refused("htu", DPoPVerifier(), es.proof(htu=claimed), es)


def test_10_nonce_when_the_server_provides_nonces(es: Client) -> None:
    nonces = HMACNonceSource(b"n" * 32, period=60)
    verifier = DPoPVerifier(nonces=nonces)
    current = nonces.current(NOW)
    assert verifier.requires_nonce and verifier.current_nonce(NOW) == current
    for change in ({}, {"nonce": "a-nonce-of-our-own"}, {"nonce": nonces.current(NOW - 120)}):
        with pytest.raises(UseDPoPNonce) as caught:
            check(verifier, es.proof(**change), es)
        assert caught.value.nonce == current and caught.value.code == "use_dpop_nonce"
        assert caught.value.status_hint == 401
    assert check(verifier, es.proof(nonce=current), es).next_nonce is None
    # The previous period's nonce still passes, and the response should carry the new one.
    assert check(verifier, es.proof(nonce=nonces.current(NOW - 60)), es).next_nonce == current
    # Without nonces, a nonce in the proof is neither required nor checked.
    assert check(DPoPVerifier(), es.proof(nonce="anything"), es).next_nonce is None
    assert DPoPVerifier().current_nonce() is None


def test_11_iat_window_edges(es: Client) -> None:
    verifier = DPoPVerifier(max_age=300, leeway=5)
    assert check(verifier, es.proof(iat=NOW - 300), es).iat == NOW - 300  # as old as allowed
    assert check(verifier, es.proof(iat=NOW + 5), es).iat == NOW + 5  # as early as allowed
    refused("iat", verifier, es.proof(iat=NOW - 300.001), es)
    refused("iat", verifier, es.proof(iat=NOW + 5.001), es)
    refused("iat", verifier, es.proof(iat=NOW + 300), es)  # not symmetric: the future only by leeway
    refused("iat", verifier, es.proof(iat=10**100), es)
    refused("iat", verifier, es.proof(iat=-(10**100)), es)
    exact = DPoPVerifier(leeway=0)
    assert check(exact, es.proof(iat=NOW), es).iat == NOW
    refused("iat", exact, es.proof(iat=NOW + 0.001), es)
    aware = datetime.fromtimestamp(NOW, tz=timezone.utc)
    minute = DPoPVerifier(max_age=timedelta(minutes=1))
    assert check(minute, es.proof(iat=NOW - 60), es, now=aware).iat == NOW - 60


def test_12_ath_is_the_hash_of_the_access_token(es: Client) -> None:
    refused("ath", DPoPVerifier(), es.proof(ath=ABSENT), es)
    refused("ath", DPoPVerifier(), es.proof(ath=ath("another-token")), es)
    refused("ath", DPoPVerifier(), es.proof(), es, access_token="another-token")
    refused("ath", DPoPVerifier(), es.proof(), es, access_token="tökén")
    assert access_token_hash(TOKEN) == ath(TOKEN)


def test_12_the_proof_key_is_the_key_the_token_is_bound_to(es: Client) -> None:
    thief = client("ES256")
    refused("jkt", DPoPVerifier(), thief.proof(), es)  # the token is es's, the proof the thief's
    refused("jkt", DPoPVerifier(), es.proof(), es, jkt=thief.jkt)
    # jkt=None: the token names no key; the proof itself is still checked.
    assert check(DPoPVerifier(), thief.proof(), es, jkt=None).thumbprint == thief.jkt


def test_a_proof_is_accepted_once(es: Client) -> None:
    verifier, proof = DPoPVerifier(), es.proof()
    check(verifier, proof, es)
    refused("replay", verifier, proof, es)
    refused("replay", verifier, proof, es, now=NOW + 1)
    with pytest.raises(InvalidDPoPProof) as caught:
        asyncio.run(verifier.verify_async(proof, method="GET", url=URL, access_token=TOKEN, jkt=es.jkt,
                                          now=NOW))
    assert caught.value.check == "replay"
    # Two verifiers sharing a cache refuse it too; one with a cache of its own does not.
    shared = MemoryReplayCache()
    another = es.proof()
    check(DPoPVerifier(replay=shared), another, es)
    refused("replay", DPoPVerifier(replay=shared), another, es)
    assert check(DPoPVerifier(), another, es).thumbprint == es.jkt


def test_a_proof_is_recorded_only_once_every_other_check_passed(es: Client) -> None:
    verifier, proof = DPoPVerifier(), es.proof()
    refused("htu", verifier, proof, es, url="https://api.example.test/other")
    refused("ath", verifier, proof, es, access_token="another-token")
    refused("jkt", verifier, proof, es, jkt=client("ES256").jkt)
    refused("iat", verifier, proof, es, now=NOW + 400)
    assert check(verifier, proof, es).thumbprint == es.jkt  # none of those recorded its jti
    nonces = HMACNonceSource(b"n" * 32)
    with_nonces = DPoPVerifier(nonces=nonces)
    lacking = es.proof()
    with pytest.raises(UseDPoPNonce):
        check(with_nonces, lacking, es)
    with pytest.raises(UseDPoPNonce):  # still a nonce problem, not a replay
        check(with_nonces, lacking, es)


def test_verify_async_applies_the_same_checks(es: Client) -> None:
    verifier = DPoPVerifier()

    async def run(proof: str, **change: Any) -> VerifiedProof:
        arguments: dict[str, Any] = {"method": "GET", "url": URL, "access_token": TOKEN, "jkt": es.jkt,
                                     "now": NOW, **change}
        return await verifier.verify_async(proof, **arguments)

    assert asyncio.run(run(es.proof())).thumbprint == es.jkt
    for proof, change, expected in [(es.proof(), {"method": "PUT"}, "htm"), (es.proof(jti=1), {}, "claims"),
                                    (es.proof(iat=NOW - 400), {}, "iat")]:
        with pytest.raises(InvalidDPoPProof) as caught:
            asyncio.run(run(proof, **change))
        assert caught.value.check == expected


def test_the_key_cache_is_per_verifier_policy(es: Client) -> None:
    proof_a, proof_b = es.proof(), es.proof()
    assert check(DPoPVerifier(algorithms=["ES256"]), proof_a, es).thumbprint == es.jkt
    refused("alg", DPoPVerifier(algorithms=["EdDSA"]), proof_b, es)
    verifier = DPoPVerifier()
    for _ in range(300):  # more distinct keys than the cache holds: it is emptied, never wrong
        who = client("Ed25519")
        assert check(verifier, who.proof(), who).thumbprint == who.jkt
    assert check(verifier, es.proof(), es).thumbprint == es.jkt
    # A header too long to keep (an extension member of 3,000 characters) is checked every time.
    long_header = es.header(x5u_note="n" * 3000)
    for _ in range(2):
        assert check(verifier, es.proof(header=long_header), es).header["x5u_note"] == "n" * 3000
    assert all(len(segment) <= 2048 for segment in verifier._keys)  # type: ignore[attr-defined]


# -- the errors, the options, and the token's cnf -----------------------------------------------


def test_errors_are_jose_errors_and_never_server_errors() -> None:
    for kind in (InvalidDPoPProof, UseDPoPNonce, ReplayStoreUnavailable):
        assert issubclass(kind, JOSEError) and not issubclass(kind, ValueError)
    assert InvalidDPoPProof("x", check="htu").status_hint == 401
    assert UseDPoPNonce("x", nonce="n").nonce == "n"
    assert ReplayStoreUnavailable("x").status_hint == 503
    assert ReplayStoreUnavailable.code == "replay_store_unavailable"


@pytest.mark.parametrize("options, error", [
    ({"algorithms": ["HS256"]}, ValueError), ({"algorithms": ["none"]}, ValueError),
    ({"algorithms": ["ES999"]}, ValueError), ({"algorithms": []}, ValueError),
    ({"algorithms": [256]}, TypeError),
    ({"max_age": 0}, ValueError), ({"max_age": -1}, ValueError), ({"max_age": float("nan")}, ValueError),
    ({"max_age": "300"}, TypeError), ({"leeway": -1}, ValueError), ({"leeway": True}, TypeError),
    ({"max_proof_size": 100}, ValueError), ({"max_proof_size": 1e4}, TypeError),
    ({"replay": {}}, TypeError), ({"nonces": b"secret"}, TypeError),
])
def test_option_mistakes_are_reported_at_construction(
    options: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        DPoPVerifier(**options)


def test_algorithms_in_order_for_the_challenge() -> None:
    assert DPoPVerifier().algorithms == DEFAULT_ALGORITHMS
    assert not any(name.startswith("HS") for name in DEFAULT_ALGORITHMS)
    assert DPoPVerifier(algorithms=["EdDSA", "ES256", "EdDSA"]).algorithms == ("EdDSA", "ES256")


def test_argument_mistakes_are_type_errors(es: Client) -> None:
    for change in ({"method": b"GET"}, {"url": None}, {"access_token": 1}, {"jkt": 5}, {"now": "now"},
                   {"now": float("inf")}):
        with pytest.raises(TypeError):
            check(DPoPVerifier(), es.proof(), es, **change)
    with pytest.raises(ValueError, match="timezone-aware"):
        check(DPoPVerifier(), es.proof(), es, now=datetime(2024, 1, 1))


def test_token_jkt_reads_cnf() -> None:
    assert token_jkt({"cnf": {"jkt": "abc"}}) == "abc"
    assert token_jkt({"sub": "a"}) is None and token_jkt({"cnf": {"x5t#S256": "t"}}) is None
    for claims in ({"cnf": "abc"}, {"cnf": {"jkt": 5}}, {"cnf": {"jkt": ""}}, {"cnf": ["jkt"]}):
        with pytest.raises(JOSEError) as caught:
            token_jkt(claims)
        assert getattr(caught.value, "claim", None) == "cnf"
