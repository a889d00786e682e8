"""Stale-while-revalidate: a usable set answers at once while one refresh runs off the request path.

Against the real loopback server of ``jwks_server.py`` with real faults (a reply held
past the timeout, 500, garbage JSON, an oversized body, a set without the current
key, nobody listening). Freshness runs on the injected clock; real time only bounds
how long a request may take (a small fraction of the fetch timeout).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from jwks_server import Clock, JWKSServer, Reply, keys_body
from signing import make_key

from jwkverify import JWTVerifier, KeyNotFound, KeySetFetchError, RemoteJWKSet

KEY_A = make_key("ES256", kid="a")
KEY_B = make_key("ES256", kid="b")
TIMEOUT = 1.5
FRACTION = 0.15  # no request may wait more than this share of the timeout while a usable set exists



@pytest.fixture
def clock() -> Clock:
    return Clock()


def stale_keys(server: JWKSServer, clock: Clock, **options: Any) -> RemoteJWKSet:
    """A set that fetched key "a", then went stale (fresh for 10 s, usable for 1000 more)."""
    server.serve_keys(KEY_A.jwk)
    keys = RemoteJWKSet(server.url(), allow_http=True, clock=clock, wall_clock=clock.wall, cache_ttl=10,
                        cooldown=5, max_stale=1000, timeout=TIMEOUT, **options)
    keys.refresh()
    clock.advance(11)
    return keys


def refused(error: type[Exception], call: Callable[..., Any], *args: Any) -> None:
    with pytest.raises(error):
        call(*args)


def refresh_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "jwkverify-refresh"]


def slowest(calls: list[Callable[[], Any]], workers: int = 8, kinds: list[str] | None = None,
            ) -> float:
    """Run ``calls`` on ``workers`` threads; the longest single call (of ``kinds[0]``, if given), in s."""
    durations: list[tuple[int, float]] = []
    lock = threading.Lock()
    pending = list(enumerate(calls))

    def work() -> None:
        while True:
            with lock:
                if not pending:
                    return
                index, call = pending.pop()
            started = time.monotonic()
            call()
            with lock:
                durations.append((index, time.monotonic() - started))

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(durations) == len(calls)
    return max(seconds for index, seconds in durations if kinds is None or kinds[index] == kinds[0])


def test_a_hanging_provider_delays_no_request_and_gets_one_request(server: JWKSServer,
                                                                  clock: Clock) -> None:
    keys = stale_keys(server, clock)
    verifier = JWTVerifier(keys)
    release = server.hold()
    server.respond = lambda request: Reply(200, keys_body(KEY_A.jwk), hold=release)
    tokens = [KEY_A.token({"n": n}) for n in range(200)]
    worst = slowest([lambda token=token: verifier.verify(token) for token in tokens])
    assert worst < FRACTION * TIMEOUT
    server.wait_for(2)
    assert keys.state.fetching and server.count == 2  # the start-up fetch and one refresh, in flight
    assert [thread.daemon for thread in refresh_threads()] == [True]
    release.set()
    keys.close()
    assert not refresh_threads()
    assert keys.state.status == "fresh" and server.count == 2


def test_an_async_caller_refreshes_in_a_task_and_the_loop_never_waits(server: JWKSServer,
                                                                      clock: Clock) -> None:
    keys = stale_keys(server, clock)
    verifier = JWTVerifier(keys)
    release = server.hold()
    server.respond = lambda request: Reply(200, keys_body(KEY_A.jwk), hold=release)

    async def main() -> float:
        async def one(n: int) -> float:
            started = time.monotonic()
            assert await verifier.verify_async(KEY_A.token({"n": n})) == {"n": n}
            return time.monotonic() - started

        worst = max(await asyncio.gather(*(one(n) for n in range(200))))
        await asyncio.to_thread(server.wait_for, 2)
        names = [task.get_name() for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        assert names == ["jwkverify-refresh"]
        await keys.aclose()  # cancels the refresh task and waits for it
        assert [task for task in asyncio.all_tasks() if task is not asyncio.current_task()] == []
        release.set()  # let the abandoned request end, so that the loop's executor shuts down at once
        return worst

    assert asyncio.run(main()) < FRACTION * TIMEOUT
    assert server.count == 2 and keys._engine.background.running == 0
    assert keys.state.status == "stale" and not keys.state.fetching  # the cancelled refresh was dropped


def hang(server: JWKSServer) -> Reply:
    return Reply(200, keys_body(KEY_A.jwk), delay=TIMEOUT + 1)


FAULTS: dict[str, Callable[[JWKSServer], Reply]] = {
    "hang": hang,
    "500": lambda server: Reply(500, b"oops", content_type="text/plain"),
    "garbage": lambda server: Reply(200, b"{\"keys\": [garbage"),
    "oversized": lambda server: Reply(200, b" " * (64 * 1024) + keys_body(KEY_A.jwk)),
}


@pytest.mark.parametrize("fault", [*FAULTS, "down"])
def test_every_fault_keeps_the_stale_set_in_use_and_the_provider_load_bounded(
        server: JWKSServer, clock: Clock, fault: str) -> None:
    keys = stale_keys(server, clock, max_bytes=32 * 1024)
    verifier = JWTVerifier(keys)
    if fault == "down":
        server.close()
    else:
        server.respond = lambda request, make=FAULTS[fault]: make(server)
    token = KEY_A.token({"sub": "alice"})
    stranger = KEY_B.token({"sub": "mallory"})
    calls = [lambda: verifier.verify(token), lambda: refused(KeyNotFound, verifier.verify, stranger)]
    calls *= 100
    started = time.monotonic()
    assert slowest(calls, kinds=["known", "unknown"] * 100) < FRACTION * TIMEOUT
    keys._engine.background.close(TIMEOUT + 2)  # let the failing refresh settle
    assert keys.state.failure_count == 1 and keys.state.status == "stale"
    assert keys.state.last_error is not None
    # An unknown kid may wait for the first refresh (the provider was healthy until then); once
    # it has failed, every request is answered at once.
    assert slowest(calls) < FRACTION * TIMEOUT
    if fault != "down":
        assert server.count == 2  # the start-up fetch and one refresh: backoff holds the rest
    clock.advance(1)  # the backoff has passed: one more attempt, off the request path again
    assert slowest(calls) < FRACTION * TIMEOUT
    keys.close()
    assert keys.state.failure_count == 2 and not refresh_threads()
    assert time.monotonic() - started < 3 * TIMEOUT + 2


def test_a_refresh_that_drops_the_current_key_takes_effect(server: JWKSServer, clock: Clock) -> None:
    keys = stale_keys(server, clock)
    verifier = JWTVerifier(keys)
    server.serve_keys(KEY_B.jwk)  # the provider withdrew "a"
    assert verifier.verify(KEY_A.token({})) == {}  # stale: still served while refreshing
    keys._engine.background.close(TIMEOUT)
    with pytest.raises(KeyNotFound):
        verifier.verify(KEY_A.token({}))
    assert verifier.verify(KEY_B.token({})) == {}
    assert keys.state.kids == ("b",) and server.count == 2


def test_an_unknown_kid_flood_while_the_provider_hangs_costs_one_request(server: JWKSServer,
                                                                         clock: Clock) -> None:
    keys = stale_keys(server, clock)
    verifier = JWTVerifier(keys)
    release = server.hold()
    server.respond = lambda request: Reply(200, keys_body(KEY_A.jwk), hold=release)
    strangers = [make_key("ES256", kid=f"x{n}").token({}) for n in range(4)]
    threads = [threading.Thread(target=refused, args=(KeySetFetchError, keys.refresh))]
    threads[0].start()  # a forced refresh is in flight: the provider looked healthy
    server.wait_for(2)
    joined = [threading.Thread(target=refused, args=(KeyNotFound, verifier.verify, token))
              for token in strangers * 5]
    for thread in joined:
        thread.start()
    time.sleep(0.1)
    assert all(thread.is_alive() for thread in joined)  # they wait for the fetch in flight...
    for thread in threads + joined:
        thread.join(TIMEOUT + 2)  # ... which times out
    assert keys.state.consecutive_failures == 1
    clock.advance(1)
    worst = slowest([lambda token=token: refused(KeyNotFound, verifier.verify, token)
                     for token in strangers * 50])
    assert worst < FRACTION * TIMEOUT  # failing provider, usable set: nobody waits any more
    server.wait_for(3)  # one retry, in the background
    release.set()
    keys.close()
    assert not refresh_threads() and server.count == 3


def test_a_closed_set_serves_what_it_has_and_fetches_nothing(server: JWKSServer, clock: Clock) -> None:
    with stale_keys(server, clock) as keys:
        verifier = JWTVerifier(keys)
    assert verifier.verify(KEY_A.token({})) == {}  # stale, usable: served
    with pytest.raises(KeyNotFound):
        verifier.verify(KEY_B.token({}))
    with pytest.raises(KeySetFetchError, match="closed"):
        keys.refresh()
    clock.advance(1000)
    with pytest.raises(KeySetFetchError, match="closed"):
        verifier.verify(KEY_A.token({}))  # expired, and no fetch may start
    assert server.count == 1 and not refresh_threads()
    keys.close()  # idempotent


def test_async_context_manager_and_loop_shutdown_leave_no_task(server: JWKSServer, clock: Clock) -> None:
    release = server.hold()

    async def main() -> None:
        async with stale_keys(server, clock) as keys:
            server.respond = lambda request: Reply(200, keys_body(KEY_A.jwk), hold=release)
            assert await JWTVerifier(keys).verify_async(KEY_A.token({})) == {}
            await asyncio.to_thread(server.wait_for, 2)
        assert keys._engine.background.running == 0
        release.set()

    asyncio.run(main())
    release = server.hold()

    async def leave_running(keys: RemoteJWKSet) -> None:
        assert await JWTVerifier(keys).verify_async(KEY_A.token({})) == {}

    keys = stale_keys(server, clock)
    server.respond = lambda request: Reply(200, keys_body(KEY_A.jwk), hold=release)
    threading.Timer(0.3, release.set).start()  # after the loop has cancelled its tasks
    asyncio.run(leave_running(keys))  # the loop ends with the refresh task pending: cancelled
    assert keys._engine.background.running == 0 and not keys.state.fetching


def test_a_refresh_thread_that_cannot_start_leaves_the_stale_set_in_use(
        server: JWKSServer, clock: Clock, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    keys = stale_keys(server, clock)
    start = threading.Thread.start

    def refuse(thread: threading.Thread) -> None:
        if thread.name == "jwkverify-refresh":
            raise RuntimeError("can't start new thread")
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert JWTVerifier(keys).verify(KEY_A.token({})) == {}
    assert not keys.state.fetching and keys._engine.background.running == 0
    assert "could not start a background refresh thread" in caplog.text
    monkeypatch.undo()
    assert JWTVerifier(keys).verify(KEY_A.token({})) == {}  # the next request tries again
    keys.close()
    assert server.count == 2 and keys.state.status == "fresh"


def test_close_cancels_a_refresh_task_of_a_loop_in_another_thread(server: JWKSServer, clock: Clock) -> None:
    keys = stale_keys(server, clock)
    release = server.hold()
    server.respond = lambda request: Reply(200, keys_body(KEY_A.jwk), hold=release)
    started, stop = threading.Event(), threading.Event()

    async def serve() -> None:
        assert await JWTVerifier(keys).verify_async(KEY_A.token({})) == {}
        started.set()
        await asyncio.to_thread(stop.wait, 5)

    loop_thread = threading.Thread(target=asyncio.run, args=(serve(),))
    loop_thread.start()
    assert started.wait(5)
    assert keys._engine.background.running == 1
    keys.close()  # from this thread: the task is cancelled in its own loop
    deadline = time.monotonic() + 5
    while keys._engine.background.running:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    release.set()
    stop.set()
    loop_thread.join(5)
    assert not keys.state.fetching and keys.state.fetch_count == 2 and server.count <= 2


def test_aclose_waits_for_a_refresh_thread_without_blocking_the_loop(server: JWKSServer,
                                                                     clock: Clock) -> None:
    keys = stale_keys(server, clock)
    release = server.hold()
    server.respond = lambda request: Reply(200, keys_body(KEY_A.jwk), hold=release)
    assert JWTVerifier(keys).verify(KEY_A.token({})) == {}  # a sync caller: a refresh thread
    server.wait_for(2)

    async def main() -> int:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        asyncio.get_running_loop().call_later(0.2, release.set)
        await keys.aclose()
        ticker.cancel()
        return ticks

    assert asyncio.run(main()) >= 5  # the loop ran while aclose waited for the thread
    assert not refresh_threads() and keys.state.status == "fresh"
