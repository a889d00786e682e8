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

And a whole request through the ASGI middleware (``test_dpop_request``), for ES256 and
EdDSA proofs, with the server section's RS256-2048 access token, repeated (``cache_size``):

- ``bare ASGI app``: the app alone;
- ``Bearer, DPoP off`` / ``Bearer, DPoP on``: the middleware with a Bearer token of the
  same claims, bound to no key (a bound one is refused as Bearer), without and with
  ``dpop=``: DPoP on must cost the Bearer path nothing;
- ``DPoP request``: the bound token with ``Authorization: DPoP`` and a fresh proof;
- ``proof check``: ``DPoPVerifier.verify`` of such a proof alone.

``DPoP request`` minus ``Bearer, DPoP on`` is what DPoP adds to a request; against ``proof
check`` it shows what the middleware adds around the check. Checked before timing:
each row answers 200 with the token the app expects, the DPoP row's token names the
client's key, and its replay is refused.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

import pytest
from bench_faces import Recorder, asgi_call, asgi_scope, bare_asgi
from bench_tokens import AUDIENCE, ISSUER, KeyPair, b64, b64decode, claims_now, compact, generate, sign
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from jwkverify import JWK, JWKSet, JWTVerifier
from jwkverify.asgi import BearerAuthMiddleware
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

    def proof(self, method: str = "GET", ath: str | None = None) -> str:
        claims = {"jti": str(uuid.uuid4()), "htm": method, "htu": URL, "iat": int(time.time()),
                  "ath": ath or self.ath}
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


REQUEST_ROWS = ("bare ASGI app", "Bearer, DPoP off", "Bearer, DPoP on", "DPoP request", "proof check")


class Issuer:
    """The server section's issuer: an RS256-2048 key, and its access tokens for ``AUDIENCE``."""

    def __init__(self) -> None:
        self.pair = generate("RSA-2048", "issuer-1", "RS256")
        self.keys = JWKSet.from_dict({"keys": [self.pair.jwk]})

    def token(self, jkt: str | None = None) -> str:
        claims = claims_now()
        if jkt is not None:
            claims["cnf"] = {"jkt": jkt}  # RFC 9449 §6.1
        return compact("RS256", self.pair.private, "issuer-1", claims)

    def middleware(self, app: Any, dpop: DPoPVerifier | None) -> BearerAuthMiddleware:
        verifier = JWTVerifier(self.keys, algorithms=["RS256"], issuer=ISSUER, audience=AUDIENCE,
                               cache_size=1024)
        return BearerAuthMiddleware(app, verifier, resource=AUDIENCE, authorization_servers=[ISSUER],
                                    required_scopes=["mcp:tools"], dpop=dpop)


def dpop_scope(token: str, proof: str) -> dict[str, Any]:
    """The server section's ``POST /mcp``, with ``Authorization: DPoP`` and the proof."""
    scope = asgi_scope(None)
    scope["headers"] = [*scope["headers"], (b"authorization", f"DPoP {token}".encode()),
                        (b"dpop", proof.encode())]
    return scope


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.mark.parametrize("row", REQUEST_ROWS)
@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_dpop_request(benchmark: Any, issuer: Issuer, alg: str, row: str) -> None:
    client = Client(alg)
    bound, unbound = issuer.token(client.jkt), issuer.token()
    ath = b64(hashlib.sha256(bound.encode()).digest())
    seen: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["auth"])
        await bare_asgi(scope, receive, send)

    recorder = Recorder()
    checked = issuer.middleware(app, DPoPVerifier())
    assert asgi_call(checked, asgi_scope(unbound), recorder) == 200 and seen[-1].dpop_jkt is None
    assert asgi_call(checked, asgi_scope(bound), recorder) == 401  # RFC 9449 §7.2: no downgrade
    replayed = dpop_scope(bound, client.proof("POST", ath))
    assert asgi_call(checked, replayed, recorder) == 200 and seen[-1].dpop_jkt == client.jkt
    assert asgi_call(checked, replayed, recorder) == 401  # the same proof again

    benchmark.group = f"dpop request {alg}"
    benchmark.extra_info.update(kind="dpop request", algorithm=alg, column=row)
    options: dict[str, Any] = {"rounds": ROUNDS, "warmup_rounds": 20}
    if row == "proof check":
        verifier = DPoPVerifier()

        def check(proof: str) -> Any:
            return verifier.verify(proof, method="POST", url=URL, access_token=bound, jkt=client.jkt)

        assert check(client.proof("POST", ath)).thumbprint == client.jkt
        benchmark.pedantic(check, setup=lambda: ((client.proof("POST", ath),), {}), **options)
    elif row == "DPoP request":
        timed = issuer.middleware(bare_asgi, DPoPVerifier())

        def request(scope: dict[str, Any]) -> int:
            return asgi_call(timed, scope, recorder)

        assert request(dpop_scope(bound, client.proof("POST", ath))) == 200
        benchmark.pedantic(request, setup=lambda: ((dpop_scope(bound, client.proof("POST", ath)),), {}),
                           **options)
    else:
        app_only = row == "bare ASGI app"
        timed_app = bare_asgi if app_only else issuer.middleware(
            bare_asgi, DPoPVerifier() if row.endswith("on") else None)
        scope = asgi_scope(unbound)
        assert asgi_call(timed_app, scope, recorder) == 200
        benchmark.pedantic(lambda: asgi_call(timed_app, scope, recorder), **options)
