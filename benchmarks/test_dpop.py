"""DPoP: the whole proof check (RFC 9449 §4.3) against one signature verification of its alg.

For ES256, EdDSA and RS256 (2048-bit) proofs, side by side in one run:

- ``cryptography``: the bare ``public_key.verify`` of the proof's signature (the floor);
- ``signature``: jwkverify's own verification of it (``JWK.verify_signature``), what the
  proof check spends on the signature;
- ``minimum``: the floor, then the least any checker must do: base64 and
  ``json.loads`` of the claims, ``htm``/``htu``/``iat`` compared, ``ath`` recomputed
  (SHA-256 of the token): no strictness, no replay cache;
- ``proof check``: ``DPoPVerifier.verify``: split, header (cached per client key),
  ``jkt``, signature, claims, ``htm``/``htu``/``iat``/``ath``, and the replay cache.

Every round gets a proof signed just before it (outside the timing: ``pedantic``'s
setup), since a proof is accepted once. The goal is a check within 1.3x the signature.
Checked before timing: a fresh proof verifies, with the thumbprint computed here; its
replay is refused, and a tampered one too.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

import pytest
from bench_tokens import KeyPair, b64, b64decode, generate, sign
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from jwkverify import JWK
from jwkverify.dpop import DPoPVerifier, InvalidDPoPProof

URL = "https://api.example.com/mcp"
#: An access token of a realistic size (a JWT of about 900 characters): its hash is ath.
TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0." + "e" * 560 + "." + "s" * 342
CASES = {"ES256": "P-256", "EdDSA": "Ed25519", "RS256": "RSA-2048"}
ROUNDS = 1000
_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}


class Client:
    """A DPoP client key and fresh proofs signed with it (``cryptography`` only)."""

    def __init__(self, alg: str) -> None:
        self.alg = alg
        self.pair: KeyPair = generate(CASES[alg], "unused", alg)
        kty = self.pair.jwk["kty"]
        self.jwk = {name: self.pair.jwk[name] for name in _MEMBERS[kty]}
        canonical = json.dumps(self.jwk, sort_keys=True, separators=(",", ":")).encode()
        self.jkt = b64(hashlib.sha256(canonical).digest())  # RFC 7638
        self.header = b64(json.dumps({"typ": "dpop+jwt", "alg": alg, "jwk": self.jwk}).encode())
        self.ath = b64(hashlib.sha256(TOKEN.encode()).digest())

    def proof(self) -> str:
        claims = {"jti": str(uuid.uuid4()), "htm": "GET", "htu": URL, "iat": int(time.time()),
                  "ath": self.ath}
        signing_input = f"{self.header}.{b64(json.dumps(claims).encode())}"
        return f"{signing_input}.{b64(sign(self.alg, self.pair.private, signing_input.encode()))}"


def split(proof: str) -> tuple[bytes, bytes]:
    signing_input, _, signature = proof.rpartition(".")
    return b64decode(signature), signing_input.encode()


def floor_verifier(client: Client) -> Any:
    """The bare `cryptography` verification (raw R || S re-encoded as DER for ECDSA)."""
    public = client.pair.public
    if client.alg == "ES256":
        def verify(signature: bytes, data: bytes) -> None:
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            der = encode_dss_signature(r, s)
            public.verify(der, data, ec.ECDSA(hashes.SHA256()))
    elif client.alg == "RS256":
        def verify(signature: bytes, data: bytes) -> None:
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        def verify(signature: bytes, data: bytes) -> None:
            public.verify(signature, data)
    return verify


def minimum_check(client: Client) -> Any:
    """The floor plus the work no proof check can skip, with nothing strict."""
    floor = floor_verifier(client)

    def check(proof: str) -> None:
        signing_input, _, signature = proof.rpartition(".")
        floor(b64decode(signature), signing_input.encode())
        claims = json.loads(b64decode(signing_input.partition(".")[2]))
        ath = b64(hashlib.sha256(TOKEN.encode()).digest())
        now = time.time()
        if claims["htm"] != "GET" or claims["htu"] != URL or claims["ath"] != ath or claims["iat"] > now:
            raise AssertionError("refused")

    return check


@pytest.mark.parametrize("column", ["cryptography", "signature", "minimum", "proof check"])
@pytest.mark.parametrize("alg", list(CASES))
def test_dpop(benchmark: Any, alg: str, column: str) -> None:
    client = Client(alg)
    verifier = DPoPVerifier()
    key = JWK.from_dict(client.jwk)

    def check(proof: str) -> Any:
        return verifier.verify(proof, method="GET", url=URL, access_token=TOKEN, jkt=client.jkt)

    good = client.proof()
    assert check(good).thumbprint == client.jkt
    with pytest.raises(InvalidDPoPProof):
        check(good)  # its replay
    tampered = good.replace(".", ".e", 1)
    with pytest.raises(InvalidDPoPProof):
        check(tampered)
    assert key.verify_signature(alg, *split(client.proof()))
    assert not key.verify_signature(alg, *split(tampered))
    floor_verifier(client)(*split(client.proof()))
    minimum_check(client)(client.proof())

    benchmark.group = f"dpop {alg}"
    benchmark.extra_info.update(kind="dpop", algorithm=alg, column=column)
    if column == "proof check":
        benchmark.pedantic(check, setup=lambda: ((client.proof(),), {}), rounds=ROUNDS, warmup_rounds=20)
    elif column == "minimum":
        benchmark.pedantic(minimum_check(client), setup=lambda: ((client.proof(),), {}), rounds=ROUNDS,
                           warmup_rounds=20)
    elif column == "signature":
        benchmark.pedantic(lambda signature, data: key.verify_signature(alg, signature, data),
                           setup=lambda: (split(client.proof()), {}), rounds=ROUNDS, warmup_rounds=20)
    else:
        benchmark.pedantic(floor_verifier(client), setup=lambda: (split(client.proof()), {}), rounds=ROUNDS,
                           warmup_rounds=20)
