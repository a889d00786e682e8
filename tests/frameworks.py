"""What the framework-adapter tests share: the skip-or-fail rule and the hostile credentials.

Imported as a plain module by tests/test_fastmcp.py and tests/test_fastapi.py.
"""

from __future__ import annotations

import importlib.util
import os
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from signing import SigningKey, hs_token, make_key

#: Set by .ci/run: a framework that is not installed is a failure there, not a skip.
REQUIRED = os.environ.get("JWKVERIFY_REQUIRE_INTEROP") == "1"


def require(*modules: str, extra: str) -> None:
    """Skip the calling test module (locally) or fail it (in CI) when a module is missing."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if not missing:
        return
    reason = f'{", ".join(missing)} not installed: pip install "jwkverify[{extra}]"'
    if REQUIRED:
        pytest.fail(f"{reason} (JWKVERIFY_REQUIRE_INTEROP=1)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def claims_for(resource: str, **changes: Any) -> dict[str, Any]:
    """Claims of an access token for ``resource``, ``None`` values removed."""
    now = int(time.time())
    claims = {"iss": "https://issuer.test", "aud": resource, "sub": "alice", "client_id": "agent-1",
              "iat": now, "exp": now + 600, "scope": "notes:read"}
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def hostile_credentials(key: SigningKey, resource: str) -> dict[str, str]:
    """``Authorization`` values that must never reach an endpoint, nor end in a 500."""
    claims = claims_for(resource)
    public_pem = key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        "alg none": "Bearer " + key.token(claims, header={"alg": "none"}).rsplit(".", 1)[0] + ".",
        # The classic confusion: HMAC keyed with the provider's public key (RFC 8725 §2.1).
        "HS256 with the public key":
            "Bearer " + hs_token(public_pem, "HS256", {"kid": key.jwk["kid"]}, claims),
        "another key": "Bearer " + make_key(key.alg, kid=key.jwk["kid"]).token(claims),
        "20 KB token": "Bearer " + key.token(claims_for(resource, pad="x" * 15_000)),
        "garbage": "Bearer not.a.jwt",
        "empty segments": "Bearer ..",
    }


#: Credentials that are not one Bearer token: 400 invalid_request (RFC 6750 §3.1).
MALFORMED = ("Bearer", "Bearer a b", "Bearer {json}", "Bearer a,b")
