"""Fuzz target: arbitrary bytes as a DPoP proof, and as the URI its ``htu`` is compared with.

Property: :meth:`DPoPVerifier.verify` accepts or raises a ``JOSEError`` whose
``status_hint`` is below 500 (nothing in a proof is the server's fault); a proof it
accepts verifies with the key in its own header, whose thumbprint it reports, and is
refused the second time. ``normalise_htu`` never raises and is idempotent.

The first byte picks the request the proof is checked against (RFC 9449 §7.1's, or
the seeds' own) and whether the verifier wants nonces; the rest is the proof.
"""

from __future__ import annotations

import json
from functools import cache

from _common import Reader, b64decode, instrumented, main, vector_tokens

with instrumented():
    from jwkverify import JWK, JOSEError
    from jwkverify.dpop import DPoPVerifier, HMACNonceSource, normalise_htu

NOW = 1_700_000_000
URL = "https://api.example.test/notes"
TOKEN = "fuzz-access-token"
#: RFC 9449 §7.1 (vectors/rfc/rfc9449_examples.json): its request, token and time.
RFC_REQUEST = ("GET", "https://resource.example.org/protectedresource",
               "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU", 1562262618)
NONCES = HMACNonceSource(b"fuzz" * 8)


def check(data: bytes) -> None:
    reader = Reader(data)
    choice = reader.byte()
    raw = reader.rest()
    proof = raw.decode("utf-8", "surrogateescape") if choice & 1 else raw.decode("latin-1")
    method, url, token, now = RFC_REQUEST if choice & 2 else ("GET", URL, TOKEN, NOW)
    verifier = DPoPVerifier(nonces=NONCES if choice & 4 else None, max_age=300)
    arguments = {"method": method, "url": url, "access_token": token, "jkt": None, "now": now}
    try:
        accepted = verifier.verify(proof, **arguments)
    except JOSEError as exc:
        assert exc.status_hint < 500, f"{type(exc).__name__} hints {exc.status_hint}"
    else:
        header = json.loads(b64decode(proof.split(".")[0]))
        assert accepted.thumbprint == JWK.from_dict(header["jwk"]).thumbprint()
        try:
            verifier.verify(proof, **arguments)
        except JOSEError as exc:
            assert getattr(exc, "check", None) == "replay"
        else:
            raise AssertionError("a proof was accepted twice")
    normal = normalise_htu(proof)
    if normal is not None:
        assert normalise_htu(normal) == normal


@cache
def _signed() -> tuple[str, ...]:
    """Fresh proofs for the seeds' request, one per DPoP-worthy algorithm."""
    import hashlib

    from signing import b64, make_key, segment

    ath = b64(hashlib.sha256(TOKEN.encode()).digest())
    proofs = []
    for alg in ("ES256", "EdDSA", "RS256", "PS256", "ES384"):
        signer = make_key(alg, kid=None)
        for claims in ({"jti": "j", "htm": "GET", "htu": URL, "iat": NOW, "ath": ath},
                       {"jti": "n", "htm": "GET", "htu": URL, "iat": NOW, "ath": ath,
                        "nonce": NONCES.current(NOW)}):
            signing_input = f"{segment({'typ': 'dpop+jwt', 'alg': alg, 'jwk': signer.jwk})}.{segment(claims)}"
            proofs.append(f"{signing_input}.{b64(signer.sign(signing_input.encode()))}")
    return tuple(proofs)


def seeds() -> list[bytes]:
    proofs = [*vector_tokens(), *_signed(), URL, "HTTPS://API.example.test:443/a/./b/../notes?q#f"]
    return [bytes([flag]) + proof.encode() for proof in proofs for flag in (0, 2, 4)]


if __name__ == "__main__":
    main(check)
