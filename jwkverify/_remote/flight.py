"""The one fetch in flight of a remote key set, which threads and tasks can wait for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from ..errors import KeySetFetchError
from .cache_policy import Attempt

if TYPE_CHECKING:
    import asyncio
    from concurrent.futures import Future

__all__ = ["Flight"]

_Base = TypeVar("_Base")


class Flight(Generic[_Base]):
    """An attempt being run by one caller, and the means for others to wait for it.

    Waiting threads block on a ``concurrent.futures.Future``; waiting tasks await it
    through ``asyncio.wrap_future``, on whichever event loop they run, so sync and
    async callers share the one fetch. ``base`` is the cached value the attempt
    revalidates. The future is marked running at once so that a waiter giving up
    can never cancel it for the others.
    """

    __slots__ = ("_future", "attempt", "base", "error", "task")

    def __init__(self, attempt: Attempt, base: _Base | None) -> None:
        from concurrent.futures import Future

        self.attempt = attempt
        self.base = base
        self.error: KeySetFetchError | None = None
        self.task: asyncio.Future[None] | None = None  # keeps an async runner referenced
        self._future: Future[None] = Future()
        self._future.set_running_or_notify_cancel()

    @property
    def done(self) -> bool:
        """Whether the attempt has finished (successfully or not)."""
        return self._future.done()

    def finish(self, error: KeySetFetchError | None) -> None:
        """Record the outcome and wake every waiter (only the first call counts)."""
        if not self._future.done():
            self.error = error
            self._future.set_result(None)

    def wait(self, timeout: float) -> None:
        """Block this thread until the attempt finishes or ``timeout`` seconds pass."""
        from concurrent.futures import wait

        wait((self._future,), timeout)

    async def wait_async(self, timeout: float) -> None:
        """Suspend this task, without blocking its loop, until the attempt finishes or times out."""
        import asyncio

        await asyncio.wait((asyncio.wrap_future(self._future),), timeout=timeout)
