"""jwkverify.dpop.RedisReplayCache against a real redis-server on 127.0.0.1: replicas share
what they accepted, keys expire with the proof's window, and an outage refuses (503)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dpop_proofs import NOW, TOKEN, URL, Client, ath, client
from redis_server import RedisServer, redis_module

from jwkverify._dpop.replay import replay_key
from jwkverify.dpop import (
    DPoPVerifier,
    InvalidDPoPProof,
    RedisReplayCache,
    ReplayCache,
    ReplayStoreUnavailable,
)

redis = redis_module()  # redis-py, with redis.asyncio


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    running = RedisServer()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def es() -> Client:
    return client("ES256")


def request(who: Client, **change: Any) -> dict[str, Any]:
    return {"method": "GET", "url": URL, "access_token": TOKEN, "jkt": who.jkt, "now": NOW, **change}


def test_a_proof_replayed_to_another_replica_is_refused(server: RedisServer, es: Client) -> None:
    first, second = redis.Redis.from_url(server.url), redis.Redis.from_url(server.url)
    replica_a = DPoPVerifier(replay=RedisReplayCache(first))
    replica_b = DPoPVerifier(replay=RedisReplayCache(second))
    proof = es.proof()
    assert replica_a.verify(proof, **request(es)).thumbprint == es.jkt
    with pytest.raises(InvalidDPoPProof) as caught:
        replica_b.verify(proof, **request(es))
    assert caught.value.check == "replay"
    assert replica_b.verify(es.proof(), **request(es)).thumbprint == es.jkt  # a new proof is fine
    first.close()
    second.close()


def test_async_replicas_share_one_redis(server: RedisServer, es: Client) -> None:
    async def run() -> list[str]:
        clients = [redis.asyncio.Redis.from_url(server.url) for _ in range(2)]
        replicas = [DPoPVerifier(replay=RedisReplayCache(each)) for each in clients]
        proof, outcomes = es.proof(), []
        # Both replicas at once: SET NX lets exactly one record the proof.
        racing = (replica.verify_async(proof, **request(es)) for replica in replicas)
        for result in await asyncio.gather(*racing, return_exceptions=True):
            outcomes.append(result.check if isinstance(result, InvalidDPoPProof) else "accepted")
        for each in clients:
            await each.aclose()
        return outcomes

    assert sorted(asyncio.run(run())) == ["accepted", "replay"]


def test_a_synchronous_client_serves_verify_async_too(server: RedisServer, es: Client) -> None:
    connection = redis.Redis.from_url(server.url)
    verifier, proof = DPoPVerifier(replay=RedisReplayCache(connection)), es.proof()
    assert asyncio.run(verifier.verify_async(proof, **request(es))).thumbprint == es.jkt
    with pytest.raises(InvalidDPoPProof):
        verifier.verify(proof, **request(es))
    connection.close()


def test_the_key_expires_when_the_proof_window_ends(server: RedisServer, es: Client) -> None:
    connection = redis.Redis.from_url(server.url)
    cache = RedisReplayCache(connection, prefix="ttl-test:")
    assert isinstance(cache, ReplayCache)
    verifier = DPoPVerifier(replay=cache, max_age=60, leeway=5)
    proof = verifier.verify(es.proof(iat=NOW - 20), **request(es))
    remaining = connection.pttl("ttl-test:" + replay_key(proof.thumbprint, proof.jti))
    assert 44_000 < remaining <= 46_000  # iat + max_age + leeway - now, and one second for other clocks
    # Another prefix is another namespace: a service of its own on the same Redis.
    other = DPoPVerifier(replay=RedisReplayCache(connection, prefix="other-service:"), max_age=60)
    assert other.verify(es.proof(jti=proof.jti, iat=NOW - 20), **request(es)).jti == proof.jti
    # The key really goes: a short window, then the same key is free again.
    assert cache.remember("short", now=time.time(), expires_at=time.time() + 0.001)
    assert not cache.remember("short", now=time.time(), expires_at=time.time() + 0.001)
    deadline = time.monotonic() + 5
    while connection.exists("ttl-test:short") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.remember("short", now=time.time(), expires_at=time.time() + 10)
    connection.close()


def test_an_outage_refuses_the_request_with_503(es: Client) -> None:
    server = RedisServer()  # this test's own server: it is killed half-way
    try:
        connection = redis.Redis.from_url(server.url, socket_timeout=0.5, socket_connect_timeout=0.5)
        verifier, used = DPoPVerifier(replay=RedisReplayCache(connection)), es.proof()
        verifier.verify(used, **request(es))
        server.kill()
        for proof in (es.proof(), used):  # a new proof and a replay: neither is accepted
            with pytest.raises(ReplayStoreUnavailable) as caught:
                verifier.verify(proof, **request(es))
            assert caught.value.status_hint == 503 and "unavailable" in str(caught.value)

        async def run() -> None:
            remote = redis.asyncio.Redis.from_url(server.url, socket_timeout=0.5, socket_connect_timeout=0.5)
            try:
                await DPoPVerifier(replay=RedisReplayCache(remote)).verify_async(es.proof(), **request(es))
            finally:
                await remote.aclose()

        with pytest.raises(ReplayStoreUnavailable):
            asyncio.run(run())
        connection.close()
    finally:
        server.close()


def test_client_mistakes(server: RedisServer) -> None:
    with pytest.raises(TypeError, match="redis-py client"):
        RedisReplayCache(object())
    with pytest.raises(TypeError):
        RedisReplayCache(redis.Redis.from_url(server.url), prefix=b"p")  # type: ignore[arg-type]
    asynchronous = RedisReplayCache(redis.asyncio.Redis.from_url(server.url))
    with pytest.raises(TypeError, match="verify_async"):
        asynchronous.remember("k", now=0, expires_at=1)


def test_without_redis_py_the_error_names_the_extra() -> None:
    code = ("import sys; sys.modules['redis'] = None\n"
            "from jwkverify.dpop import RedisReplayCache\n"
            "try:\n    RedisReplayCache(object())\n"
            "except ImportError as exc:\n    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 'pip install "jwkverify[redis]"' in result.stdout


def test_the_redis_example_of_the_docs_runs(server: RedisServer, es: Client) -> None:
    """docs/dpop.md's Redis block cannot run where no Redis is; here it runs against one."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "dpop.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- not-runnable: needs a running Redis;[^\n]*-->\n```python\n(.*?)```", page, re.S)
    assert found is not None, "the Redis example of docs/dpop.md moved"

    def new_proof(token: str, **claims: Any) -> str:
        return es.proof(htu="https://api.example.com/notes", iat=int(time.time()), ath=ath(token), **claims)

    namespace: dict[str, Any] = {"REDIS_URL": server.url, "access_token": TOKEN, "client": es,
                                 "new_proof": new_proof, "InvalidDPoPProof": InvalidDPoPProof}
    exec(compile(found.group(1), "docs/dpop.md (Redis example)", "exec"), namespace)
    assert isinstance(namespace["replica_b"], DPoPVerifier)
