"""Running the one attempt of a remote key set: a sync and an async edge over one exchange.

The lookups that missed the hot path, and forced refreshes, come here: they ask
the :class:`.engine.Engine` what to do, then run the attempt (driving the sans-I/O
exchange with the :class:`.transport.Transport`) or wait for the one in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from ..jwk import JWK
from .engine import Engine, Turn
from .flight import Flight
from .http import Request
from .snapshot import Snapshot, step

__all__ = ["close", "close_async", "in_task", "in_thread", "lookup", "lookup_async", "refresh",
           "refresh_async", "run", "run_async"]


def lookup(engine: Engine, alg: str, kid: str | None) -> Sequence[JWK]:
    """The keys for a lookup that missed the hot path, fetching or waiting as the policy says.

    Raises:
        KeyNotFound, AlgorithmNotAllowed, KeySetFetchError: as ``RemoteJWKSet.keys_for``.
    """
    final = False
    while True:
        turn = engine.plan(alg, kid, final=final, launch=in_thread)
        if not isinstance(turn, Turn):
            return turn
        if turn.leads:
            run(engine, turn.flight)
        else:
            turn.flight.wait(engine.policy.wait_limit)
        final = True


async def lookup_async(engine: Engine, alg: str, kid: str | None) -> Sequence[JWK]:
    """Async form of :func:`lookup`: fetches and waits without blocking the loop.

    Raises:
        KeyNotFound, AlgorithmNotAllowed, KeySetFetchError: as ``RemoteJWKSet.keys_for``.
    """
    final = False
    while True:
        turn = engine.plan(alg, kid, final=final, launch=in_task)
        if not isinstance(turn, Turn):
            return turn
        if turn.leads:
            await run_async(engine, turn.flight)
        else:
            await turn.flight.wait_async(engine.policy.wait_limit)
        final = True


def refresh(engine: Engine) -> None:
    """Fetch now, or join the fetch in flight.

    Raises:
        KeySetFetchError: the fetch failed or did not finish in time.
    """
    turn = engine.claim()
    if turn.leads:
        run(engine, turn.flight)
    else:
        turn.flight.wait(engine.policy.wait_limit)
    engine.raise_for(turn.flight)


async def refresh_async(engine: Engine) -> None:
    """Async form of :func:`refresh`.

    Raises:
        KeySetFetchError: the fetch failed or did not finish in time.
    """
    turn = engine.claim()
    if turn.leads:
        await run_async(engine, turn.flight)
    else:
        await turn.flight.wait_async(engine.policy.wait_limit)
    engine.raise_for(turn.flight)


def in_thread(engine: Engine, flight: Flight[Snapshot]) -> None:
    """Run ``flight``'s attempt off the request path of a sync caller: in a daemon thread."""
    engine.background.start_thread(partial(run, engine, flight), partial(engine.abandon, flight))


def in_task(engine: Engine, flight: Flight[Snapshot]) -> None:
    """Run ``flight``'s attempt off the request path of an async caller: in a task of its loop."""
    flight.task = engine.background.start_task(attempt_async(engine, flight))


def close(engine: Engine) -> None:
    """Start no fetch from now on; cancel the background tasks and wait for the threads."""
    engine.close()
    engine.background.close(engine.policy.wait_limit)


async def close_async(engine: Engine) -> None:
    """Async form of :func:`close`: waits for this loop's tasks, and for the threads off the loop."""
    engine.close()
    await engine.background.aclose(engine.policy.wait_limit)


def run(engine: Engine, flight: Flight[Snapshot]) -> None:
    """Run ``flight``'s attempt in this thread and settle it."""
    try:
        attempt = engine.exchange(flight)
        state = step(attempt, None)
        while isinstance(state, Request):
            state = step(attempt, engine.transport.send(state))
    except BaseException:
        engine.abandon(flight)
        raise
    engine.settle(flight, state)


async def run_async(engine: Engine, flight: Flight[Snapshot]) -> None:
    """Run ``flight``'s attempt as a task of this loop; a cancelled caller does not cancel it."""
    import asyncio

    task = asyncio.ensure_future(attempt_async(engine, flight))
    flight.task = task  # referenced until done
    await asyncio.shield(task)


async def attempt_async(engine: Engine, flight: Flight[Snapshot]) -> None:
    """The body of :func:`run_async`'s task."""
    import asyncio

    try:
        attempt = engine.exchange(flight)
        # Checking and parsing responses is CPU work: it runs off the event loop.
        state = await asyncio.to_thread(step, attempt, None)
        while isinstance(state, Request):
            reply = await engine.transport.send_async(state)
            state = await asyncio.to_thread(step, attempt, reply)
    except BaseException:
        engine.abandon(flight)
        raise
    engine.settle(flight, state)
