"""Fuzz target: arbitrary header and payload octets, validly signed, through the JWT checks.

The input is ``options byte, header octets, 0xFF, payload octets`` (0xFF never
occurs in UTF-8, so seeds split cleanly). The token is signed with HS256, so every
input reaches header parsing after the size and segment checks, and the claim
checks after the signature: the code that a bare token fuzzer rarely gets past.

Property: only a ``JOSEError`` escapes; an accepted token's claims are exactly its
payload parsed as JSON, and the header returned is its header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

from _common import Reader, b64decode, instrumented, main, vector_tokens

with instrumented():
    from jwkverify import ANY_AUDIENCE, JWK, JOSEError, JWTVerifier, verify_jws, verify_jwt

SECRET = bytes(range(32))
KEY = JWK.from_dict({"kty": "oct", "kid": "fuzz",
                     "k": base64.urlsafe_b64encode(SECRET).rstrip(b"=").decode()})
NOW = 1_700_000_000
ISSUERS = (None, "https://issuer.example", ["https://issuer.example", "https://other.example"])
AUDIENCES = (ANY_AUDIENCE, None, "api", ["api", "other"])
TYPS = (None, "JWT", "at+jwt")
REQUIRED = ((), ("exp",), ("sub", "iat"))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign(header: bytes, payload: bytes) -> str:
    signing_input = f"{b64(header)}.{b64(payload)}"
    return f"{signing_input}.{b64(hmac.digest(SECRET, signing_input.encode(), hashlib.sha256))}"


def check(data: bytes) -> None:
    reader = Reader(data)
    options: dict[str, Any] = {
        "issuer": reader.pick(ISSUERS), "audience": reader.pick(AUDIENCES), "typ": reader.pick(TYPS),
        "required_claims": reader.pick(REQUIRED), "leeway": reader.pick((0, 30, timedelta(days=1))),
        "max_age": reader.pick((None, 60, 1e12)), "now": reader.pick((NOW, float(NOW), lambda: NOW)),
    }
    header, payload = reader.until(0xFF), reader.rest()
    token = sign(header, payload)
    try:
        verified = verify_jws(token, KEY, max_token_size=1 << 20)
    except JOSEError:
        verified = None
    if verified is not None:
        assert verified.payload == payload
        assert verified.header == json.loads(header)
    for verifier in (lambda t: verify_jwt(t, KEY, max_token_size=1 << 20, **options),
                     JWTVerifier(KEY, cache_size=2, max_token_size=1 << 20, **options).verify):
        for _ in range(2):
            try:
                claims = verifier(token)
            except JOSEError:
                continue
            assert verified is not None, "verify_jwt accepted what verify_jws refused"
            assert claims == json.loads(payload)


def seeds() -> list[bytes]:
    found = []
    for token in vector_tokens():
        header, payload, _ = token.split(".")
        try:
            found.append(b"\x00\x00\x00\x00\x00\x00\x00" + b64decode(header) + b"\xff" + b64decode(payload))
        except ValueError:
            continue
    claims = {"iss": "https://issuer.example", "aud": ["api"], "sub": "s", "iat": NOW - 10,
              "nbf": NOW - 10, "exp": NOW + 60, "scope": "a b"}
    for options in (b"\x01\x02\x01\x01\x01\x01\x00", b"\x00\x00\x00\x00\x00\x00\x00"):
        found.append(options + b'{"alg":"HS256","typ":"JWT","kid":"fuzz"}\xff' + json.dumps(claims).encode())
    return found


if __name__ == "__main__":
    main(check)
