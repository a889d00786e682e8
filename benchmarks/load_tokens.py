"""The token mix of the load test, signed with `cryptography` alone (``bench_tokens``), never jwkverify.

Eight classes, two that a server must accept and six it must refuse:
``repeated_valid`` (16 tokens reused: what token caches see), ``fresh_valid`` (each
sent once), ``expired``, ``wrong_audience``, ``forged_signature`` (the provider's
current ``kid``, an attacker's key), ``unknown_kid``, ``alg_none`` and ``garbage``.
Fresh tokens are signed in a process pool (an RSA signature costs ~1 ms).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench_tokens import KeyPair, b64, claims_now, compact, generate
from cryptography.hazmat.primitives import serialization

__all__ = ["ACCEPT", "CLASSES", "KIND", "make_keys", "write_tokens"]

CLASSES = ("repeated_valid", "fresh_valid", "expired", "wrong_audience", "forged_signature",
           "unknown_kid", "alg_none", "garbage")
ACCEPT = frozenset({"repeated_valid", "fresh_valid"})
KIND = {"RS256": "RSA-2048", "ES256": "P-256", "EdDSA": "Ed25519"}
GARBAGE = ("garbage", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30", "Bearer", "..", "eyJ.eyJ.eyJ",
           "x" * 600, "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.bm90IGpzb24.c2ln")


def make_keys(alg: str, count: int) -> list[KeyPair]:
    """The provider's keys ``k1`` ... ``k<count>``."""
    return [generate(KIND[alg], f"k{index}", alg) for index in range(1, count + 1)]


def _pem(private: Any) -> bytes:
    return bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def _sign_batch(pem: bytes, alg: str, kid: str, claims: list[dict[str, Any]]) -> list[str]:
    private = serialization.load_pem_private_key(pem, None)
    return [compact(alg, private, kid, each) for each in claims]


def _claims(issuer: str, audience: str, **changes: Any) -> dict[str, Any]:
    return {**claims_now(), "iss": issuer, "aud": audience, **changes}


def write_tokens(path: Path, key: KeyPair, attacker: KeyPair, *, alg: str, issuer: str, audience: str,
                 fresh: int, pool: ProcessPoolExecutor | None = None) -> Path:
    """Write ``class<TAB>token`` lines for ``key`` (the provider's current signing key) to ``path``."""
    kid = str(key.jwk["kid"])
    lines: list[tuple[str, str]] = [("alg", alg)]
    base = _claims(issuer, audience)
    repeated = [{**base, "jti": f"repeated-{n}", "sub": f"user-{n}"} for n in range(16)]
    nonce = time.monotonic_ns()
    fresh_claims = [{**base, "jti": f"fresh-{nonce}-{n}"} for n in range(fresh)]
    batches = [fresh_claims[start:start + 500] for start in range(0, fresh, 500)]
    pem = _pem(key.private)
    signed: Iterable[list[str]] = (pool.map(_sign_batch, [pem] * len(batches), [alg] * len(batches),
                                            [kid] * len(batches), batches)
                                   if pool is not None else
                                   (_sign_batch(pem, alg, kid, batch) for batch in batches))
    lines += [("repeated_valid", compact(alg, key.private, kid, each)) for each in repeated]
    lines += [("fresh_valid", token) for batch in signed for token in batch]
    past = int(time.time()) - 7200
    lines += [("expired", compact(alg, key.private, kid, {**base, "iat": past - 60, "nbf": past - 60,
                                                            "exp": past, "jti": f"expired-{n}"}))
              for n in range(8)]
    lines += [("wrong_audience", compact(alg, key.private, kid, {**base, "aud": f"https://other-{n}.test",
                                                                   "jti": f"aud-{n}"})) for n in range(8)]
    lines += [("forged_signature", compact(alg, attacker.private, kid, {**base, "jti": f"forged-{n}"}))
              for n in range(8)]
    lines += [("unknown_kid", compact(alg, attacker.private, f"unknown-{n}", {**base, "jti": f"u-{n}"}))
              for n in range(64)]
    header = b64(b'{"alg":"none","typ":"JWT"}')
    lines += [("alg_none", f"{header}.{b64(json.dumps({**base, 'jti': f'none-{n}'}).encode())}.")
              for n in range(8)]
    lines += [("garbage", text) for text in GARBAGE]
    path.write_text("".join(f"{name}\t{token}\n" for name, token in lines))
    return path
