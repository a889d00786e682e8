"""Interop: what PyJWT, joserfc, jwcrypto and panva's jose make, jwkverify verifies; and back.

- Tokens signed by each peer, for every algorithm both support, verify; the same
  tokens expired, not yet valid, for another audience or issuer, under an unknown
  kid, signed by another key under the same kid, or tampered with are refused with
  the right error. Algorithms a peer signs that jwkverify does not verify (``none``,
  PyJWT's ``ES521``, ML-DSA) are refused as unsupported.
- Key sets shaped like Okta's, Auth0's, Entra ID's and Keycloak's load as published
  (unusable entries skipped, encryption keys never verifying), directly and through
  ``RemoteJWKSet`` and discovery, and every peer's tokens for them verify.
- The reverse: each peer imports the key set jwkverify exports and verifies with it;
  each peer's exported JWK is read by jwkverify, and the RFC 7638 thumbprints agree.

Peers are test-only dependencies (``pip install -e '.[interop]'``; ``npm ci --prefix
interop/node``). Locally a missing peer skips its tests; ``.ci/run`` sets
``JWKVERIFY_REQUIRE_INTEROP=1`` so that there it fails instead.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from interop_peers import (
    AUDIENCE,
    CASES,
    CLAIMS,
    ISSUER,
    NOW,
    VARIANTS,
    Case,
    Jose,
    Joserfc,
    Jwcrypto,
    Peer,
    PyJWT,
    family_key,
    node_sign_requests,
    private_jwk,
    run_node,
    unavailable,
)
from interop_providers import PROVIDERS, Provider
from signing import SigningKey, b64, make_key

from jwkverify import (
    JWK,
    AlgorithmNotAllowed,
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    InvalidSignature,
    JOSEError,
    JWKSet,
    JWTVerifier,
    KeyNotFound,
    NotYetValid,
    RemoteJWKSet,
    UnsupportedAlgorithm,
    verify_jws,
    verify_jwt,
)

FAMILIES = ("RSA", "P-256", "P-384", "P-521", "secp256k1", "Ed25519", "Ed448", "oct")


@cache
def key_set(family: str) -> JWKSet:
    """The published set a case's token is verified against: every public key, or the secret alone."""
    if family == "oct":
        return JWKSet.from_dict({"keys": [family_key("oct").jwk]})
    return JWKSet.from_dict({"keys": [family_key(name).jwk for name in FAMILIES if name != "oct"]})


def verifier(case: Case, **options: Any) -> JWTVerifier:
    return JWTVerifier(key_set(case.family), issuer=ISSUER, audience=AUDIENCE, now=NOW, **options)


# -- the session's one Node run ---------------------------------------------------------------


def _leading_zero_key(alg: str) -> SigningKey:
    """An EC key whose x coordinate starts with a zero octet (it must keep it: RFC 7518 §6.2.1.2)."""
    while True:
        key = make_key(alg, kid=f"{alg}-zero-x")
        if key.jwk["x"].startswith("AA"):
            return key


@cache
def export_keys() -> dict[str, SigningKey]:
    """Keys whose public JWK each peer exports and thumbprints: one per family, and edge cases."""
    keys = {family: family_key(family) for family in FAMILIES}
    keys["P-256 zero-led x"] = _leading_zero_key("ES256")
    keys["P-521 zero-led x"] = _leading_zero_key("ES512")
    keys["RSA-3072"] = make_key("RS256", kid="rsa-3072", rsa_bits=3072)
    return keys


_JOSE_IMPORT_ALG = {"RSA": "RS256", "oct": "HS256", "P-256": "ES256", "P-384": "ES384", "P-521": "ES512",
                    "secp256k1": "ES256K", "Ed25519": "Ed25519", "Ed448": "EdDSA"}


def _jose_alg(key: SigningKey) -> str:
    jwk = key.jwk
    return _JOSE_IMPORT_ALG[jwk.get("crv", {"RSA": "RSA", "oct": "oct"}.get(jwk["kty"], ""))]


def independent_token(case: Case) -> str:
    """A token from tests/signing.py, jwkverify's own independent signer."""
    key = family_key(case.family)
    return SigningKey(case.alg, key.private, key.jwk).token(CLAIMS)


def node_job() -> dict[str, Any]:
    """Everything the jose tests need, asked in one job."""
    provider_signs = []
    for name, build in PROVIDERS.items():
        provider = build()
        first = next(iter(provider.signers))  # the rogue key claims the first signer's kid
        for kid, key in {**provider.signers, "rogue": rogue(provider)}.items():
            provider_signs.append({"id": f"provider:{name}:{kid}", "alg": key.alg, "jwk": private_jwk(key),
                                   "header": {**provider.header, "kid": first if kid == "rogue" else kid},
                                   "claims": provider.claims})
    return {
        "sign": node_sign_requests() + provider_signs,
        "generate": [{"id": f"generate:{case.id}", "alg": case.alg,
                      "crv": case.family if case.family.startswith("Ed") else None,
                      "header": {"kid": "jose-generated"}, "claims": CLAIMS} for case in CASES],
        "export": [{"id": f"export:{name}", "jwk": key.jwk, "alg": _jose_alg(key)}
                   for name, key in export_keys().items()],
        "verify": [{"id": f"verify:{case.id}", "jwks": key_set(case.family).to_dict(),
                    "token": independent_token(case), "issuer": ISSUER, "audience": AUDIENCE,
                    "algorithms": [case.alg], "now": NOW} for case in CASES],
        "unsecured": [{"id": "unsecured", "claims": CLAIMS}],
    }


@cache
def node_answers() -> dict[str, Any]:
    return run_node(node_job())


JOSE = Jose(node_answers)
PEERS: dict[str, Peer] = {"PyJWT": PyJWT(), "joserfc": Joserfc(), "jwcrypto": Jwcrypto(), "jose": JOSE}
PEER_IDS = list(PEERS)
CASE_IDS = [case.id for case in CASES]


# -- tokens from peers ------------------------------------------------------------------------

#: What each variant must give: ``None`` for the claims, else the error class.
OUTCOMES: dict[str, type[JOSEError] | None] = {
    "valid": None,
    "no-kid": None,
    "expired": ExpiredToken,
    "not-yet-valid": NotYetValid,
    "wrong-audience": InvalidAudience,
    "wrong-issuer": InvalidIssuer,
    "unknown-kid": KeyNotFound,
    "same-kid-other-key": InvalidSignature,
    "tampered-payload": InvalidSignature,
    "tampered-header": InvalidSignature,
    "tampered-signature": InvalidSignature,
    "algorithm-not-allowed": AlgorithmNotAllowed,
}
assert set(VARIANTS) <= set(OUTCOMES)


def tampered(token: str, part: str) -> str:
    """``token`` with its payload, header or signature changed and the rest kept."""
    header, payload, signature = token.split(".")
    if part == "payload":
        claims = json.loads(_decode(payload))
        payload = b64(json.dumps({**claims, "sub": "mallory"}).encode())
    elif part == "header":
        header = b64(json.dumps({**json.loads(_decode(header)), "x": 1}).encode())
    else:  # one character in the middle: the encoding stays canonical
        middle = len(signature) // 2
        signature = signature[:middle] + ("B" if signature[middle] == "A" else "A") + signature[middle + 1:]
    return f"{header}.{payload}.{signature}"


def _decode(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def peer_token(peer: Peer, case: Case, variant: str) -> str:
    if variant.startswith("tampered-"):
        return tampered(peer.token(case, "valid"), variant.removeprefix("tampered-"))
    if variant == "algorithm-not-allowed":
        return peer.token(case, "valid")
    return peer.token(case, variant)


@pytest.mark.parametrize("variant", list(OUTCOMES))
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("peer", PEERS.values(), ids=PEER_IDS)
def test_peer_tokens_verify_or_are_refused(peer: Peer, case: Case, variant: str) -> None:
    token = peer_token(peer, case, variant)
    expected = OUTCOMES[variant]
    narrowed = ["PS256"] if case.alg == "RS256" else ["RS256"]
    check = verifier(case, algorithms=narrowed if variant == "algorithm-not-allowed" else None)
    if expected is None:
        assert check.verify(token) == CLAIMS
        assert asyncio.run(check.verify_async(token)) == CLAIMS
        assert verify_jwt(token, key_set(case.family), algorithms=[case.alg], issuer=ISSUER,
                          audience=AUDIENCE, now=NOW) == CLAIMS
        verified = verify_jws(token, key_set(case.family))
        assert verified.header["alg"] == case.alg
        assert verified.key == JWK.from_dict(family_key(case.family).jwk)
    else:
        with pytest.raises(expected):
            check.verify(token)


def test_every_peer_covers_the_common_algorithms() -> None:
    """Skips for algorithms a peer lacks must not hide a peer that signs nothing."""
    for peer in PEERS.values():
        if isinstance(peer, Jose):
            answers = {case.alg for case in CASES
                       if "token" in JOSE.result(f"sign:{case.id}:valid")}
        else:
            peer.load()
            answers = set(peer.algorithms())
        assert {"RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA", "HS256"} <= answers, peer.name


def _pyjwt_extras(alg: str) -> str | None:
    import jwt

    if alg == "ES521":  # PyJWT's own name for ES512; not registered with IANA
        return jwt.encode(CLAIMS, family_key("P-521").private, algorithm="ES521")
    return None


def _jwcrypto_extras(alg: str) -> str | None:
    from jwcrypto import jwk, jwt

    if not alg.startswith("ML-DSA"):
        return None
    try:
        key = jwk.JWK.generate(kty="AKP", alg=alg)
    except Exception as exc:  # an older cryptography without ML-DSA
        pytest.skip(f"jwcrypto cannot make {alg} keys here: {exc}")
    token = jwt.JWT(header={"alg": alg, "kid": "pq"}, claims=CLAIMS)
    token.make_signed_token(key)
    assert JWKSet.from_dict({"keys": [key.export_public(as_dict=True)]}).skipped[0].kty == "AKP"
    return str(token.serialize())


_EXTRAS: dict[str, Callable[[str], str | None]] = {"PyJWT": _pyjwt_extras, "jwcrypto": _jwcrypto_extras}


@pytest.mark.parametrize("name", ["PyJWT", "joserfc", "jwcrypto"])
def test_algorithms_only_a_peer_signs_are_refused(name: str) -> None:
    """Whatever a peer signs beyond jwkverify's table is refused as unsupported."""
    from jwkverify.algorithms import ALGORITHMS

    peer = PEERS[name]
    peer.load()
    unknown = []
    for alg in sorted(peer.algorithms() - set(ALGORITHMS)):
        token = _EXTRAS[name](alg) if name in _EXTRAS else None
        if token is None:
            unknown.append(alg)
            continue
        with pytest.raises(UnsupportedAlgorithm):
            verifier(CASES[0]).verify(token)
    if unknown:
        warnings.warn(f"{name} signs {unknown}, which this test does not know how to sign", stacklevel=1)


def unsecured_tokens() -> dict[str, str]:
    import jwt
    from joserfc import jwt as joserfc_jwt
    from joserfc.jwk import OctKey
    from joserfc.jws import JWSRegistry

    tokens = {"PyJWT": jwt.encode(CLAIMS, None, algorithm="none")}
    with warnings.catch_warnings():  # joserfc warns that "none" is deprecated
        warnings.simplefilter("ignore")
        tokens["joserfc"] = joserfc_jwt.encode({"alg": "none"}, CLAIMS, OctKey.generate_key(256),
                                               registry=JWSRegistry(algorithms=["none"]))
    return tokens


@pytest.mark.parametrize("name", ["PyJWT", "joserfc", "jose"])
def test_unsecured_tokens_from_peers_are_refused(name: str) -> None:
    if name == "jose":
        token = str(JOSE.result("unsecured")["token"])
    else:
        PEERS[name].load()
        token = unsecured_tokens()[name]
    assert token.endswith(".")
    for case in (CASES[0], CASES[-2]):  # a public key set, and a secret
        with pytest.raises(UnsupportedAlgorithm):
            verifier(case).verify(token)
        with pytest.raises(UnsupportedAlgorithm):
            verify_jws(token, key_set(case.family))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_tokens_and_keys_jose_generates_verify(case: Case) -> None:
    """jose generates the key, signs, exports the public JWK; jwkverify reads both."""
    found = JOSE.result(f"generate:{case.id}")
    if "error" in found:
        pytest.skip(f"jose does not generate {case.id}: {found['error']}")
    key = JWK.from_dict({**found["jwk"], "kid": "jose-generated"})  # exportJWK adds no kid
    assert key.thumbprint() == found["thumbprints"]["sha256"]
    assert verify_jwt(found["token"], JWKSet([key]), issuer=ISSUER, audience=AUDIENCE, now=NOW) == CLAIMS
    rogue = JWK.from_dict({**family_key(case.family).jwk, "kid": "jose-generated"})
    with pytest.raises(InvalidSignature):
        verify_jwt(found["token"], rogue, issuer=ISSUER, audience=AUDIENCE, now=NOW)


# -- provider-shaped key sets -----------------------------------------------------------------

PROVIDER_IDS = list(PROVIDERS)


def rogue(provider: Provider) -> SigningKey:
    """A key of the same type as the provider's first signer, claiming its kid."""
    return _rogue(provider.name)


@cache
def _rogue(name: str) -> SigningKey:
    kid, key = next(iter(PROVIDERS[name]().signers.items()))
    return make_key(key.alg, kid=kid)


def audience(provider: Provider) -> str:
    aud = provider.claims["aud"]
    return str(aud[0] if isinstance(aud, list) else aud)


def provider_token(peer: Peer, provider: Provider, kid: str) -> str:
    key = rogue(provider) if kid == "rogue" else provider.signers[kid]
    if isinstance(peer, Jose):
        found = JOSE.result(f"provider:{provider.name}:{kid}")
        assert "token" in found, found
        return str(found["token"])
    peer.load()
    header = {**provider.header, "kid": next(iter(provider.signers)) if kid == "rogue" else kid}
    return peer.sign(key.alg, key, header, provider.claims)


def _served(provider: Provider) -> Callable[[str, Any, float], tuple[int, dict[str, str], bytes]]:
    """A ``fetch`` that answers like the provider: discovery metadata and the key set."""
    def fetch(url: str, headers: Any, timeout: float) -> tuple[int, dict[str, str], bytes]:
        if url == provider.issuer.rstrip("/") + "/.well-known/openid-configuration":
            metadata = {"issuer": provider.issuer, "jwks_uri": provider.jwks_uri,
                        "id_token_signing_alg_values_supported": ["RS256"]}
            return 200, {"content-type": "application/json"}, json.dumps(metadata).encode()
        if url == provider.jwks_uri:
            return 200, provider.http_headers, json.dumps(provider.document).encode()
        return 404, {}, b""
    return fetch


@pytest.mark.parametrize("name", PROVIDER_IDS)
def test_provider_key_sets_load_as_published(name: str) -> None:
    provider = PROVIDERS[name]()
    keys = JWKSet.from_dict(provider.document)
    entries = provider.document["keys"]
    assert len(keys) + len(keys.skipped) == len(entries)
    skipped = {entry.kid: entry.reason for entry in keys.skipped}
    for entry in entries:
        kid = entry["kid"]
        verdict = provider.refused.get(kid, "")
        if verdict.startswith("skipped: "):
            assert verdict.removeprefix("skipped: ") in skipped[kid]
            continue
        assert kid not in skipped, skipped.get(kid)
        key = keys.get(kid)
        assert key is not None
        if verdict.startswith("never verifies: "):
            assert key.algorithms == frozenset()
            with pytest.raises(KeyNotFound, match=verdict.removeprefix("never verifies: ")):
                keys.keys_for("RS256", kid)
        else:
            assert key.algorithms, kid
            # x5c, x5t and provider extras are not key material: the export leaves them out.
            assert JWK.from_dict(key.to_dict()) == key
            assert "x5c" not in key.to_dict()


@pytest.mark.parametrize("peer", PEERS.values(), ids=PEER_IDS)
@pytest.mark.parametrize("name", PROVIDER_IDS)
def test_provider_tokens_from_every_peer(name: str, peer: Peer) -> None:
    provider = PROVIDERS[name]()
    local = JWKSet.from_dict(provider.document)
    remote = RemoteJWKSet(provider.jwks_uri, fetch=_served(provider))
    discovered = RemoteJWKSet.from_issuer(provider.issuer, fetch=_served(provider))
    options: dict[str, Any] = {"issuer": provider.issuer, "audience": audience(provider), "now": NOW}
    for kid, key in provider.signers.items():
        if peer.name in ("PyJWT", "joserfc", "jwcrypto") and key.alg not in peer.algorithms():
            continue
        token = provider_token(peer, provider, kid)
        for source in (local, remote, discovered):
            check = JWTVerifier(source, **options)
            if kid in provider.refused:  # encryption keys: skipped, or loaded but never verifying
                with pytest.raises(KeyNotFound):
                    check.verify(token)
            else:
                assert check.verify(token) == provider.claims
                assert asyncio.run(check.verify_async(token)) == provider.claims
    for source in (local, remote):
        with pytest.raises(InvalidSignature):
            JWTVerifier(source, **options).verify(provider_token(peer, provider, "rogue"))
    assert remote.state.key_count == len(local)


@pytest.mark.parametrize("name", PROVIDER_IDS)
def test_provider_kids_of_unusable_entries_are_not_found(name: str) -> None:
    provider = PROVIDERS[name]()
    keys = JWKSet.from_dict(provider.document)
    signer = next(iter(provider.signers.values()))
    for kid, verdict in provider.refused.items():
        token = signer.token(provider.claims, header={"kid": kid})
        with pytest.raises(KeyNotFound) as caught:
            JWTVerifier(keys, issuer=provider.issuer, audience=audience(provider), now=NOW).verify(token)
        if verdict.startswith("skipped: "):
            assert "skipped" in str(caught.value)


# -- the reverse: peers read what jwkverify exports -------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("peer", PEERS.values(), ids=PEER_IDS)
def test_peers_verify_with_the_key_set_jwkverify_exports(peer: Peer, case: Case) -> None:
    exported = key_set(case.family).to_dict()
    assert JWKSet.from_dict(exported).to_dict() == exported
    if isinstance(peer, Jose):
        found = JOSE.result(f"verify:{case.id}")
        if "error" in found and "token" not in JOSE.result(f"sign:{case.id}:valid"):
            pytest.skip(f"jose does not support {case.id}")
        assert found.get("payload") == CLAIMS, found
        return
    peer.load()
    if case.alg not in peer.algorithms():
        pytest.skip(f"{peer.name} does not verify {case.alg}")
    assert peer.verify(independent_token(case), exported, case.alg) == CLAIMS


HASHES = ("sha256", "sha384", "sha512")


@pytest.mark.parametrize("name", list(export_keys()))
@pytest.mark.parametrize("peer", PEERS.values(), ids=PEER_IDS)
def test_peer_exported_jwks_parse_and_thumbprints_agree(peer: Peer, name: str) -> None:
    key = export_keys()[name]
    ours = JWK.from_dict(key.jwk)
    if isinstance(peer, Jose):
        found = JOSE.result(f"export:{name}")
        if "error" in found:
            pytest.skip(f"jose cannot import {name}: {found['error']}")
        exported, prints = found["jwk"], {h: found[h] for h in HASHES}
    else:
        peer.load()
        exported = peer.export(key)
        prints = {h: peer.thumbprint(key.jwk, h) for h in HASHES}
    theirs = JWK.from_dict(exported)
    assert verify_jws(key.token(CLAIMS), theirs).key == theirs  # it verifies what the key signs
    for hash_name, printed in prints.items():
        assert theirs.thumbprint(hash_name) == ours.thumbprint(hash_name)
        if printed is not None:
            assert printed == ours.thumbprint(hash_name), hash_name


def test_interop_needs_peers_in_ci() -> None:
    """A self-check of the switch .ci/run relies on."""
    from interop_peers import REQUIRED, node_problem

    if REQUIRED:
        assert node_problem() is None
    elif node_problem() is not None:
        unavailable(str(node_problem()))
