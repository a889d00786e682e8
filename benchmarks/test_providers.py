"""What a provider preset adds to a JWTVerifier: its rules, run on every call.

Each group times one RS256 access token, verified by a plain ``JWTVerifier`` over the
same remote key set (the baseline: the issuer and audience checks, nothing more) and
by the ``okta`` and ``entra`` presets (Okta: a ``cid`` check; Entra: issuer template,
tenant, ``scp``/``roles``, and the key's own ``issuer``, which needs the header and a
key lookup). ``cache off`` verifies the signature each time; ``cache hit`` repeats a
token a ``cache_size=1024`` verifier has seen, where the preset's rules are most of
the work. Each verifier is checked first: the claims it returns, and a refusal.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from bench_tokens import compact

from jwkverify import InvalidIssuer, JOSEError, JWTVerifier, MissingClaim, RemoteJWKSet
from jwkverify.providers import entra, okta

TID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
OKTA = "https://dev-133337.okta.com/oauth2/default"
ENTRA = f"https://login.microsoftonline.com/{TID}/v2.0"


def _rsa() -> tuple[Any, dict[str, Any]]:
    import base64

    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    n = key.public_key().public_numbers().n
    text = base64.urlsafe_b64encode(n.to_bytes(256, "big")).rstrip(b"=").decode()
    return key, {"kty": "RSA", "use": "sig", "kid": "k1", "n": text, "e": "AQAB",
                 "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"}


KEY, JWK = _rsa()


def _fetch(url: str, headers: Mapping[str, str], timeout: float) -> tuple[int, dict[str, str], bytes]:
    return 200, {"content-type": "application/json"}, json.dumps({"keys": [JWK]}).encode()


def _token(claims: dict[str, Any]) -> str:
    return compact("RS256", KEY, "k1", {name: value for name, value in claims.items() if value is not None})


NOW = int(time.time())
OKTA_CLAIMS = {"iss": OKTA, "aud": "api://default", "cid": "0oa1", "scp": ["orders:read"], "sub": "alice",
               "iat": NOW, "exp": NOW + 86400}
ENTRA_CLAIMS = {"iss": ENTRA, "aud": CLIENT, "tid": TID, "scp": "Orders.Read", "sub": "alice", "ver": "2.0",
                "iat": NOW, "exp": NOW + 86400}


def _verifiers(cache_size: int) -> dict[str, tuple[Callable[[str], dict[str, Any]], str, str,
                                               type[JOSEError]]]:
    """name: (verify, good token, refused token, the refusal)."""
    okta_plain = JWTVerifier(RemoteJWKSet(f"{OKTA}/v1/keys", fetch=_fetch), issuer=OKTA,
                             audience="api://default", algorithms=["RS256"], cache_size=cache_size)
    entra_plain = JWTVerifier(RemoteJWKSet(f"https://login.microsoftonline.com/{TID}/discovery/v2.0/keys",
                                           fetch=_fetch), issuer=ENTRA, audience=CLIENT, algorithms=["RS256"],
                              cache_size=cache_size)
    okta_preset = okta(OKTA, audience="api://default", fetch=_fetch, cache_size=cache_size)
    entra_preset = entra(TID, audience=CLIENT, fetch=_fetch, cache_size=cache_size)
    entra_multi = entra("organizations", audience=CLIENT, allowed_tenants=[TID], fetch=_fetch,
                        cache_size=cache_size)
    okta_good, okta_bad = _token(OKTA_CLAIMS), _token({**OKTA_CLAIMS, "cid": None})
    entra_good = _token(ENTRA_CLAIMS)
    entra_bad = _token({**ENTRA_CLAIMS, "tid": "aaaabbbb-0000-cccc-1111-dddd2222eeee"})
    return {
        "okta JWTVerifier": (okta_plain.verify, okta_good, _token({**OKTA_CLAIMS, "iss": "x"}),
                             InvalidIssuer),
        "okta preset": (okta_preset.verify, okta_good, okta_bad, MissingClaim),
        "entra JWTVerifier": (entra_plain.verify, entra_good, _token({**ENTRA_CLAIMS, "iss": "x"}),
                              InvalidIssuer),
        "entra preset": (entra_preset.verify, entra_good, entra_bad, InvalidIssuer),
        "entra organizations": (entra_multi.verify, entra_good, entra_bad, InvalidIssuer),
    }


@pytest.mark.parametrize("cache", ["cache off", "cache hit"])
@pytest.mark.parametrize("name", ["okta JWTVerifier", "okta preset", "entra JWTVerifier", "entra preset",
                                  "entra organizations"])
def test_preset_overhead(benchmark: Any, cache: str, name: str) -> None:
    verify, good, bad, refusal = _verifiers(1024 if cache == "cache hit" else 0)[name]
    expected = OKTA_CLAIMS if name.startswith("okta") else ENTRA_CLAIMS
    assert verify(good) == expected
    with pytest.raises(refusal):
        verify(bad)
    benchmark.group = f"provider presets, RS256, {cache}"
    benchmark.name = name
    assert benchmark(verify, good) == expected
