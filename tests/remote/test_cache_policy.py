"""The sans-I/O cache policy of remote key sets: driven with numbers, no clock, no network."""

from __future__ import annotations

import math

import pytest

from jwkverify._remote.cache_policy import (
    MAX_SERVER_TTL,
    MIN_SERVER_TTL,
    Action,
    CacheControl,
    CachePolicy,
    Freshness,
    parse_cache_control,
    server_lifetime,
)


@pytest.mark.parametrize(("value", "expected"), [
    (None, CacheControl()),
    ("", CacheControl()),
    ("max-age=300", CacheControl(max_age=300)),
    ("public, MAX-AGE=300, must-revalidate", CacheControl(max_age=300)),
    ('max-age="300"', CacheControl(max_age=300)),
    ("max-age=300, max-age=5", CacheControl(max_age=300)),        # RFC 9111 §4.2.1: the first
    ("max-age=99999999999999999999", CacheControl(max_age=2**31)),  # RFC 9111 §1.2.2
    ("max-age=-1", CacheControl(invalid=True)),
    ("max-age=1.5", CacheControl(invalid=True)),
    ("max-age", CacheControl(invalid=True)),
    ("max-age=١٢", CacheControl(invalid=True)),                  # only ASCII digits
    ("no-store", CacheControl(no_store=True)),
    ("No-Cache", CacheControl(no_cache=True)),
    ('no-cache="set-cookie", max-age=60', CacheControl(max_age=60)),  # names fields only
    ("s-maxage=600, private", CacheControl()),
])
def test_parse_cache_control(value: str | None, expected: CacheControl) -> None:
    assert parse_cache_control(value) == expected


@pytest.mark.parametrize(("headers", "lifetime"), [
    ({}, None),
    ({"cache-control": "max-age=300"}, 300),
    ({"cache-control": "max-age=300", "age": "100"}, 200),
    ({"cache-control": "max-age=300", "age": "400"}, 0),
    ({"cache-control": "max-age=300", "age": "junk"}, 300),
    ({"cache-control": "max-age=300, no-cache"}, 0),
    ({"cache-control": "no-store"}, 0),
    ({"cache-control": "max-age=x"}, 0),
    ({"expires": "Thu, 01 Dec 2094 16:00:00 GMT"}, None),  # Expires is not consulted
])
def test_server_lifetime(headers: dict[str, str], lifetime: float | None) -> None:
    assert server_lifetime(headers) == lifetime


@pytest.mark.parametrize(("cache_ttl", "lifetime", "expected"), [
    (600, None, 600),
    (600, 0, MIN_SERVER_TTL),
    (600, 120, 120),
    (600, 10**9, MAX_SERVER_TTL),
    (1, None, 1),            # explicit values are honoured as given
    (1, 0, 1),               # and an explicit short TTL lowers the floor for the server
    (2 * 86400, 10**9, 2 * 86400),
])
def test_freshness_clamps_what_the_server_asks_for(cache_ttl: float, lifetime: float | None,
                                                   expected: float) -> None:
    policy = CachePolicy(cache_ttl=cache_ttl, max_stale=50)
    freshness = policy.freshness(1000, lifetime)
    assert freshness.lifetime == expected
    assert freshness.fresh_until == 1000 + expected
    assert freshness.usable_until == 1000 + expected + 50


def fetched(policy: CachePolicy, now: float, lifetime: float | None = None) -> Freshness:
    attempt = policy.begin(now)
    freshness = policy.succeeded(attempt, now, lifetime)
    assert freshness is not None
    return freshness


def test_nothing_cached_fetches_then_waits_for_the_attempt() -> None:
    policy = CachePolicy()
    assert policy.decide(0, None, False, final=False) is Action.FETCH
    attempt = policy.begin(0)
    assert policy.in_flight(1) is attempt
    assert policy.decide(1, None, False, final=False) is Action.WAIT
    assert policy.decide(1, None, False, final=True) is Action.UNAVAILABLE


def test_fresh_known_serves_unknown_refetches_once_per_cooldown() -> None:
    policy = CachePolicy(cache_ttl=600, cooldown=30)
    cached = fetched(policy, 0)
    assert policy.decide(10, cached, True, final=False) is Action.SERVE
    assert policy.decide(10, cached, False, final=False) is Action.NOT_FOUND  # within the cooldown
    assert policy.decide(30, cached, False, final=False) is Action.FETCH
    policy.begin(30)
    assert policy.decide(31, cached, False, final=False) is Action.WAIT
    assert policy.decide(31, cached, True, final=False) is Action.SERVE  # never waits
    assert policy.decide(31, cached, False, final=True) is Action.NOT_FOUND


def test_a_stale_set_is_served_at_once_and_refreshed_off_the_request_path() -> None:
    policy = CachePolicy(cache_ttl=10, max_stale=100)
    cached = fetched(policy, 0)
    assert policy.decide(11, cached, True, final=False) is Action.REFRESH
    attempt = policy.begin(11)
    assert policy.decide(11, cached, True, final=False) is Action.SERVE  # single flight
    assert policy.failed(attempt, 12, "down") == 1
    assert policy.decide(12.5, cached, True, final=False) is Action.SERVE  # backing off
    assert policy.decide(13, cached, True, final=False) is Action.REFRESH
    assert policy.decide(111, cached, True, final=False) is Action.FETCH  # expired: must fetch
    policy.begin(111)
    assert policy.decide(111, cached, True, final=False) is Action.WAIT
    assert policy.decide(111, cached, True, final=True) is Action.UNAVAILABLE


def test_a_stale_set_is_refreshed_for_an_unknown_kid_regardless_of_the_cooldown() -> None:
    policy = CachePolicy(cache_ttl=60, cooldown=30, max_stale=100)
    cached = fetched(policy, 0)
    policy.abandon(policy.begin(59))  # the last attempt began at 59
    assert policy.decide(61, cached, False, final=False) is Action.FETCH
    assert policy.decide(59.5, cached, False, final=False) is Action.NOT_FOUND  # fresh: cooling down


def test_while_the_provider_fails_nobody_waits_if_a_usable_set_exists() -> None:
    policy = CachePolicy(cache_ttl=60, cooldown=30, max_stale=20, timeout=5)
    cached = fetched(policy, 0)
    attempt = policy.begin(70)
    assert policy.decide(70, cached, False, final=False) is Action.WAIT  # healthy so far: join it
    assert policy.failed(attempt, 71, "down") == 1
    assert policy.decide(71.5, cached, False, final=False) is Action.NOT_FOUND  # backing off
    assert policy.decide(72, cached, False, final=False) is Action.REFRESH  # retried off the path
    policy.begin(72)
    assert policy.decide(73, cached, False, final=False) is Action.NOT_FOUND  # not WAIT
    assert policy.decide(73, cached, True, final=False) is Action.SERVE
    assert policy.decide(81, cached, True, final=False) is Action.WAIT  # nothing usable: it must


def test_a_closed_policy_starts_nothing() -> None:
    policy = CachePolicy(cache_ttl=10, max_stale=100)
    cached = fetched(policy, 0)
    policy.close()
    assert policy.closed
    assert policy.decide(11, cached, True, final=False) is Action.SERVE
    assert policy.decide(11, cached, False, final=False) is Action.NOT_FOUND
    assert policy.decide(200, cached, True, final=False) is Action.UNAVAILABLE
    assert policy.decide(0, None, False, final=False) is Action.UNAVAILABLE


def test_failures_back_off_exponentially_up_to_the_cooldown() -> None:
    policy = CachePolicy(cooldown=30)
    now, delays = 0.0, []
    for _ in range(8):
        assert policy.decide(now, None, False, final=False) is Action.FETCH
        delay = policy.failed(policy.begin(now), now, "refused")
        assert delay is not None
        assert policy.decide(now + delay - 0.001, None, False, final=False) is Action.UNAVAILABLE
        delays.append(delay)
        now += delay
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]
    assert policy.consecutive_failures == 8 and policy.failure_count == 8 and policy.last_error == "refused"
    fetched(policy, now)
    assert policy.consecutive_failures == 0 and policy.retry_at() == -math.inf


def test_a_zero_cooldown_means_no_backoff_and_no_rate_limit() -> None:
    policy = CachePolicy(cooldown=0)
    cached = fetched(policy, 0)
    assert policy.decide(0, cached, False, final=False) is Action.FETCH
    assert policy.failed(policy.begin(0), 0, "x") == 0


def test_an_older_response_never_replaces_a_newer_one() -> None:
    policy = CachePolicy(timeout=5)
    old = policy.begin(0)
    assert policy.in_flight(10.9) is old
    assert policy.in_flight(11) is None  # past 2 x timeout + grace: given up on
    assert policy.wait_limit == 11
    new = policy.begin(11)
    assert policy.succeeded(new, 12, None) is not None
    assert policy.is_newer(new) and not policy.is_newer(old)
    assert policy.succeeded(old, 13, None) is None
    assert policy.failed(old, 13, "late") is None  # and a late failure causes no backoff
    assert policy.consecutive_failures == 0 and policy.last_error is None
    assert policy.fetch_count == 2


def test_abandon_frees_the_slot_without_counting_a_failure() -> None:
    policy = CachePolicy()
    attempt = policy.begin(0)
    policy.abandon(attempt)
    assert policy.in_flight(0) is None
    assert policy.failure_count == 0 and policy.retry_at() == -math.inf
