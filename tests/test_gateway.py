"""Gateway propagation end to end: ``examples/gateway.py``'s gateway and upstream on loopback.

The gateway verifies the token for its audience and forwards the original
``Authorization`` header; the upstream verifies the same JWT again for its own
audience and serves the user the token names.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from asgi_server import base_url, listener, serve  # noqa: E402
from signing import make_key  # noqa: E402

from jwkverify import JWKSet  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "https://issuer.test"
KEY = make_key("ES256", kid="k1")
KEYS = JWKSet.from_dict({"keys": [KEY.jwk]})


def load_example() -> Any:
    sys.path.insert(0, str(ROOT / "examples"))
    spec = importlib.util.spec_from_file_location("gateway_example", ROOT / "examples" / "gateway.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE = load_example()


class Pair:
    def __init__(self, gateway: str, upstream: str) -> None:
        self.gateway, self.upstream = gateway, upstream

    def token(self, audience: Any, sub: str = "alice", **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": audience, "sub": sub, "scope": "notes:read", "iat": now,
                "exp": now + 600, **claims}
        return str(KEY.token(body))

    def get(self, base: str, path: str, token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return httpx.get(base + path, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    up_sock, gw_sock = listener(), listener()
    upstream, gateway = base_url(up_sock), base_url(gw_sock)
    with serve(EXAMPLE.build_upstream(KEYS, issuer=ISSUER, resource=upstream), up_sock), \
            serve(EXAMPLE.build_gateway(KEYS, issuer=ISSUER, resource=gateway, upstream=upstream), gw_sock):
        yield Pair(gateway, upstream)


def test_a_token_for_both_passes_both_and_upstream_serves_its_user(pair: Pair) -> None:
    for user in ("alice", "bob"):
        response = pair.get(pair.gateway, "/notes", pair.token([pair.gateway, pair.upstream], sub=user))
        assert response.status_code == 200, response.text
        assert response.json() == {"owner": user, "notes": EXAMPLE.NOTES[user], "service": "upstream"}


def test_upstream_refuses_a_token_minted_only_for_the_gateway(pair: Pair) -> None:
    token = pair.token(pair.gateway)
    response = pair.get(pair.gateway, "/notes", token)  # the gateway accepts it, the upstream does not
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert 'error_description="the token was not issued for this resource"' in challenge
    assert pair.get(pair.upstream, "/notes", token).status_code == 401


def test_the_gateway_refuses_a_token_minted_only_for_the_upstream(pair: Pair) -> None:
    token = pair.token(pair.upstream)
    response = pair.get(pair.gateway, "/notes", token)
    assert response.status_code == 401
    assert pair.gateway in response.headers["www-authenticate"]  # the gateway's own challenge
    assert pair.get(pair.upstream, "/notes", token).status_code == 200  # fine for the upstream alone


def test_no_token_is_stopped_at_the_gateway(pair: Pair) -> None:
    response = pair.get(pair.gateway, "/notes", None)
    assert response.status_code == 401
    assert "error" not in response.headers["www-authenticate"]


def test_upstream_authorizes_on_the_users_roles(pair: Pair) -> None:
    audience = [pair.gateway, pair.upstream]
    denied = pair.get(pair.gateway, "/admin/notes", pair.token(audience))
    assert denied.status_code == 403 and 'error="insufficient_scope"' in denied.headers["www-authenticate"]
    allowed = pair.get(pair.gateway, "/admin/notes", pair.token(audience, roles=["admin"]))
    assert allowed.status_code == 200 and allowed.json() == EXAMPLE.NOTES


def test_an_expired_token_is_refused_at_the_gateway(pair: Pair) -> None:
    token = pair.token([pair.gateway, pair.upstream], exp=int(time.time()) - 60)
    assert pair.get(pair.gateway, "/notes", token).status_code == 401
