"""Properties of jwkverify.dpop: a proof changed in any byte or any member is refused, and
whatever the input, only a JOSEError escapes and never one hinting at a server error."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from dpop_proofs import NOW, TOKEN, URL, Client, client, sign
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from signing import b64, segment

from jwkverify import JOSEError
from jwkverify.dpop import DPoPVerifier, HMACNonceSource, InvalidDPoPProof, UseDPoPNonce

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ %"
NONCES = HMACNonceSource(b"s" * 32)


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@cache
def clients() -> dict[str, Client]:
    return {alg: client(alg) for alg in ("ES256", "EdDSA", "RS256")}


def verify(proof: Any, who: Client, verifier: DPoPVerifier | None = None) -> None:
    (verifier or DPoPVerifier()).verify(proof, method="GET", url=URL, access_token=TOKEN, jkt=who.jkt,
                                        now=NOW)


def refused(proof: Any, who: Client, verifier: DPoPVerifier | None = None) -> JOSEError:
    try:
        verify(proof, who, verifier)
    except JOSEError as exc:
        assert exc.status_hint < 500, exc  # nothing in a proof is the server's fault
        return exc
    raise AssertionError(f"accepted: {proof!r}")


@fuzz(400)
@given(st.sampled_from(("ES256", "EdDSA", "RS256")), st.data())
def test_a_proof_changed_in_any_byte_is_refused(alg: str, data: st.DataObject) -> None:
    who = clients()[alg]
    proof = who.proof()
    verify(proof, who)  # the original passes (each example signs a fresh jti)
    position = data.draw(st.integers(0, len(proof) - 1))
    how = data.draw(st.sampled_from(("replace", "delete", "insert")))
    char = data.draw(st.sampled_from(ALPHABET))
    if how == "replace":
        if char == proof[position]:
            char = "A" if char != "A" else "B"
        changed = proof[:position] + char + proof[position + 1:]
    elif how == "delete":
        changed = proof[:position] + proof[position + 1:]
    else:
        changed = proof[:position] + char + proof[position:]
    # A fresh verifier: the refusal must come from the change, not from the replay cache.
    assert isinstance(refused(changed, who), InvalidDPoPProof)


_HEADER_CHANGES = {
    "typ": ["JWT", None, "dpop+jwt+x"], "alg": ["ES384", "none", "HS256", None],
    "jwk": [None, {"kty": "EC"}, "key"],
}
_CLAIM_CHANGES = {
    "jti": [None, 1, ""], "htm": ["POST", None, "get"], "htu": ["https://other.example/notes", None, 5],
    "iat": [NOW + 3600, NOW - 3600, None, "now"], "ath": [b64(b"x" * 32), None, 7],
    "nonce": ["stale", None, 3],
}


@fuzz(300)
@given(st.sampled_from(("ES256", "EdDSA", "RS256")), st.booleans(), st.data())
def test_a_proof_changed_in_any_member_is_refused(alg: str, in_header: bool, data: st.DataObject) -> None:
    """Change one member (None: drop it) of the header or the claims, then either keep
    the old signature (refused: it no longer verifies) or sign again with the client's own
    key (refused: the check for that member fails)."""
    who = clients()[alg]
    verifier = DPoPVerifier(nonces=NONCES)
    header, claims = who.header(), who.claims(nonce=NONCES.current(NOW))
    table = _HEADER_CHANGES if in_header else _CLAIM_CHANGES
    name = data.draw(st.sampled_from(sorted(table)))
    value = data.draw(st.sampled_from(table[name]))
    target = header if in_header else claims
    if value is None:
        target.pop(name, None)
    else:
        target[name] = value
    resigned = sign(header, claims, who.signer)
    original = sign(who.header(), who.claims(nonce=NONCES.current(NOW)), who.signer)
    kept_signature = f"{segment(header)}.{segment(claims)}.{original.rsplit('.', 1)[1]}"
    for proof in (kept_signature, resigned):
        error = refused(proof, who, verifier)
        assert isinstance(error, InvalidDPoPProof | UseDPoPNonce)


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
_JSON = st.recursive(_SCALARS, lambda children: st.lists(children, max_size=3)
                     | st.dictionaries(st.text(max_size=5), children, max_size=3), max_leaves=8)
_JWK_MEMBERS = st.sampled_from(["kty", "crv", "x", "y", "n", "e", "d", "alg", "use", "key_ops"])
_JWK_VALUES = _JSON | st.sampled_from(["EC", "RSA", "OKP", "P-256", "AQAB", "sig"])
_CLAIMS = {"jti": "j", "htm": "GET", "htu": URL, "iat": NOW}


def _with_key(jwk: dict[str, Any]) -> str:
    """A proof signed by a real key whose header carries an arbitrary jwk."""
    return sign({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}, _CLAIMS, clients()["ES256"].signer)


@fuzz(400)
@given(st.one_of(
    st.text(max_size=300), st.binary(max_size=300), st.lists(st.text(max_size=50), max_size=3),
    st.builds(lambda h, c: f"{segment(h)}.{segment(c)}.{b64(b'x' * 64)}", _JSON, _JSON),
    st.builds(_with_key, st.dictionaries(_JWK_MEMBERS, _JWK_VALUES, max_size=6)),
    st.integers(), st.none(), st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
))
def test_whatever_the_proof_only_a_jose_error_escapes(proof: Any) -> None:
    refused(proof, clients()["ES256"])


@fuzz(200)
@given(st.text(max_size=40), st.text(max_size=80), st.text(max_size=60))
def test_whatever_the_request_only_a_jose_error_escapes(method: str, url: str, token: str) -> None:
    who = clients()["EdDSA"]
    try:
        DPoPVerifier().verify(who.proof(), method=method, url=url, access_token=token, jkt=who.jkt, now=NOW)
    except JOSEError as exc:
        assert exc.status_hint < 500
    else:
        assert method == "GET" and token == TOKEN


def test_claims_of_any_shape_come_back_read_only() -> None:
    who = clients()["ES256"]
    nested = json.loads('{"a": [[{"b": [1, {"c": {}}]}]], "d": {"e": [null, true]}}')
    proof = DPoPVerifier().verify(who.proof(extra=nested), method="GET", url=URL, access_token=TOKEN,
                                  jkt=who.jkt, now=NOW)
    assert proof.claims["extra"]["a"][0][0]["b"][1]["c"] == {}
    assert proof.claims["extra"]["d"]["e"] == (None, True)
