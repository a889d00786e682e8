"""What an operator sees of a remote key set: observer events, counts and log records.

A real loopback provider, a fake clock, and jwkverify.observe.Counters as the observer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import pytest
from jwks_server import Clock, JWKSServer, Recorded, Reply, keys_body
from signing import make_key

from jwkverify import JWTVerifier, KeyNotFound, KeySetFetchError, RemoteJWKSet
from jwkverify.observe import KEYSET_EVENTS, Counters

KEY_A = make_key("ES256", kid="a")
KEY_B = make_key("ES256", kid="b")



@pytest.fixture
def clock() -> Clock:
    return Clock()


def settle(keys: RemoteJWKSet) -> None:
    deadline = time.monotonic() + 5
    while keys._engine.background.running:
        assert time.monotonic() < deadline
        time.sleep(0.002)


def events(counters: Counters) -> dict[str, int]:
    return {event: count for (event, _), count in counters.snapshot().keyset_events.items()}


def records(caplog: pytest.LogCaptureFixture, level: int = logging.DEBUG) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records
            if r.name == "jwkverify.remote" and r.levelno >= level]


def test_every_event_is_counted_and_logged_once(server: JWKSServer, clock: Clock,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="jwkverify.remote")
    counters = Counters()
    validators = {"ETag": '"v1"'}

    release = server.hold()  # the revalidation waits for it: every request meanwhile is served stale

    def publish(*jwks: dict[str, Any], etag: str) -> None:
        body = keys_body(*jwks)

        def respond(request: Recorded) -> Reply:
            if request.headers.get("if-none-match") == etag:
                return Reply(304, content_type=None, hold=release)
            return Reply(200, body, {"ETag": etag})

        server.respond = respond

    publish(KEY_A.jwk, etag=validators["ETag"])
    keys = RemoteJWKSet(server.url(), allow_http=True, clock=clock, wall_clock=clock.wall, cache_ttl=10,
                        cooldown=5, observer=counters)
    verifier = JWTVerifier(keys)
    verifier.verify(KEY_A.token({}))                       # fetched
    clock.advance(11)
    for _ in range(3):
        verifier.verify(KEY_A.token({}))                   # 3 x stale_served, 1 x refresh_started
    release.set()
    settle(keys)                                           # not_modified
    publish(KEY_A.jwk, KEY_B.jwk, etag='"v2"')
    clock.advance(5)
    verifier.verify(KEY_B.token({}))                       # unknown kid: fetched + rotated
    server.respond = lambda request: Reply(500)
    clock.advance(11)
    verifier.verify(KEY_B.token({}))                       # stale_served, refresh_started
    settle(keys)                                           # fetch_failed
    assert events(counters) == {"fetched": 2, "rotated": 1, "not_modified": 1, "stale_served": 4,
                                "refresh_started": 2, "fetch_failed": 1}
    assert set(events(counters)) == set(KEYSET_EVENTS)
    assert {source for _, source in counters.snapshot().keyset_events} == {server.url()}
    logged = records(caplog)
    assert [level for level, _ in logged] == ["INFO", "DEBUG", "DEBUG", "INFO", "DEBUG", "WARNING"]
    assert "rotated: 1 added ('b'), 0 removed" in logged[3][1]
    assert "unchanged (304)" in logged[2][1] and "HTTP 500" in logged[5][1]


def test_an_unknown_kid_flood_adds_no_warning_and_bounded_events(server: JWKSServer, clock: Clock,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="jwkverify.remote")
    server.serve_keys(KEY_A.jwk)
    counters = Counters()
    keys = RemoteJWKSet(server.url(), allow_http=True, clock=clock, cooldown=30, observer=counters)
    verifier = JWTVerifier(keys)
    verifier.verify(KEY_A.token({}))
    garbage = [make_key("ES256", kid=f"attacker-{n}").token({}) for n in range(20)]
    for round_ in range(4):
        for token in garbage * 10:
            with pytest.raises(KeyNotFound):
                verifier.verify(token)
        assert server.count == round_ + 1  # each cooldown allows one refetch, whatever the flood
        clock.advance(30)
    assert records(caplog, logging.WARNING) == []
    assert len(records(caplog)) == 4  # the first fetch (INFO), then one DEBUG per refetch
    assert events(counters) == {"fetched": 4}


def test_a_failing_observer_is_logged_once_and_never_breaks_a_lookup(
        server: JWKSServer, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def keyset_event(self, event: str, source: str) -> None:
            raise RuntimeError("exporter down")

    server.serve_keys(KEY_A.jwk)
    keys = RemoteJWKSet(server.url(), allow_http=True, clock=clock, cache_ttl=10, observer=Broken())
    verifier = JWTVerifier(keys)
    for _ in range(3):
        verifier.verify(KEY_A.token({}))
        clock.advance(11)
        settle(keys)
    warnings = [message for level, message in records(caplog, logging.WARNING)]
    assert len(warnings) == 1 and "observer" in warnings[0] and "raised on 'fetched'" in warnings[0]


def test_an_observer_is_checked(server: JWKSServer) -> None:
    with pytest.raises(TypeError, match="keyset_event"):
        RemoteJWKSet(server.url(), allow_http=True, observer=object())  # type: ignore[arg-type]


def test_from_issuer_reports_under_the_issuer_until_discovery(server: JWKSServer, clock: Clock) -> None:
    issuer = server.url("")
    metadata = json.dumps({"issuer": issuer, "jwks_uri": server.url("/keys")}).encode()
    server.respond = lambda request: Reply(503)
    counters = Counters()
    keys = RemoteJWKSet.from_issuer(issuer, allow_http=True, clock=clock, observer=counters)
    with pytest.raises(KeySetFetchError):
        asyncio.run(keys.refresh_async())
    server.respond = lambda request: Reply(200, metadata if "well-known" in request.path
                                           else keys_body(KEY_A.jwk))
    asyncio.run(keys.refresh_async())
    assert dict(counters.snapshot().keyset_events) == {("fetch_failed", f"issuer {issuer}"): 1,
                                                       ("fetched", server.url("/keys")): 1}
