"""Refreshes off the request path: a daemon thread for a sync caller, a task for an async one.

Lifecycle. A background refresh is one attempt, bounded by the transport's
``timeout`` per request (two requests when discovery runs first), so it ends on
its own within about ``2 x timeout``; nothing here runs longer or loops. A thread
is a daemon (it never holds up the interpreter's exit) and ends with its attempt.
A task belongs to the event loop of the caller that started it: when that loop
shuts down (``asyncio.run`` returning, a server stopping) the task is cancelled
with the loop's other tasks, and the attempt is abandoned. :meth:`Background.close`
and :meth:`Background.aclose` cancel the tasks and wait for the threads, so that
nothing is left running after the owner is closed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio
    import logging

__all__ = ["Background"]

_NAME = "jwkverify-refresh"


class Background:
    """The background refreshes of one remote key set that are still running."""

    __slots__ = ("_lock", "_log", "_tasks", "_threads")

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> int:
        """How many background threads and tasks are running now."""
        with self._lock:
            return len(self._threads) + len(self._tasks)

    def start_thread(self, run: Callable[[], None], failed_to_start: Callable[[], None]) -> None:
        """Run ``run`` in a new daemon thread; ``failed_to_start`` if no thread can be started."""
        thread = threading.Thread(target=self._thread_body, args=(run,), name=_NAME, daemon=True)
        with self._lock:
            self._threads.add(thread)
        try:
            thread.start()
        except RuntimeError:  # the interpreter is shutting down, or a thread limit is reached
            with self._lock:
                self._threads.discard(thread)
            self._log.warning("could not start a background refresh thread; the stale set stays in use")
            failed_to_start()

    def _thread_body(self, run: Callable[[], None]) -> None:
        try:
            run()
        except Exception:  # pragma: no cover - the runner turns every failure into an outcome
            self._log.exception("a background refresh failed unexpectedly")
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def start_task(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coroutine`` as a task of the running loop, referenced until it is done."""
        import asyncio

        task = asyncio.get_running_loop().create_task(coroutine, name=_NAME)
        with self._lock:
            self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        with self._lock:
            self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:  # pragma: no cover - as above
            self._log.error("a background refresh failed unexpectedly", exc_info=task.exception())

    def close(self, timeout: float) -> None:
        """Cancel every task, and wait up to ``timeout`` seconds in all for the threads to end."""
        with self._lock:
            threads, tasks = list(self._threads), list(self._tasks)
        for task in tasks:
            _cancel_soon(task)
        _join(threads, timeout)

    async def aclose(self, timeout: float) -> None:
        """Cancel every task and wait for those of this loop; wait for the threads off the loop."""
        import asyncio

        with self._lock:
            threads, tasks = list(self._threads), list(self._tasks)
        loop = asyncio.get_running_loop()
        mine = [task for task in tasks if task.get_loop() is loop]
        for task in tasks:
            if task.get_loop() is loop:
                task.cancel()
            else:
                _cancel_soon(task)
        if mine:
            await asyncio.wait(mine, timeout=timeout)
        if threads:
            await asyncio.to_thread(_join, threads, timeout)


def _cancel_soon(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` from any thread, unless its loop has already closed."""
    loop = task.get_loop()
    if not loop.is_closed():
        with suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(task.cancel)


def _join(threads: list[threading.Thread], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for thread in threads:
        if thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
