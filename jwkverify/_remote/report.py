"""What a remote key set tells its operator: log records and observer events.

Called outside the lock (a handler or an observer may do I/O). Never a token or
a URL's query in a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import KeySetFetchError
from .http import redact
from .snapshot import NotModified, Outcome, Snapshot

if TYPE_CHECKING:
    import logging

    from ..observe import Observer

__all__ = ["Reporter"]


class Reporter:
    """Logs the outcomes of a remote key set's fetches."""

    __slots__ = ("_log", "_observer", "_where")

    def __init__(self, log: logging.Logger, observer: Observer | None, where: Callable[[], str]) -> None:
        self._log = log
        self._observer = observer
        self._where = where

    def discovered(self, issuer: str | None, url: str) -> None:
        """Discovery found the set's URL."""
        self._log.info("issuer %r publishes its JWK Set at %s", issuer, redact(url))

    def imported(self, url: str, keys: int, age: float) -> None:
        """An exported set was imported."""
        self._log.info("imported the JWK Set of %s: %d keys, fetched %.0f s ago", redact(url), keys, age)

    def not_imported(self, url: str) -> None:
        """An export for another set was offered."""
        self._log.warning("not importing a JWK Set exported for %s into the key set of %s",
                          redact(url), self._where())

    def settled(self, result: Outcome | KeySetFetchError, applied: bool, before: Snapshot | None,
                after: Snapshot | None, *, now: float, retry_at: float) -> None:
        """One attempt finished with ``result``; ``applied`` unless a newer outcome was in use."""
        where, log = self._where(), self._log
        if not applied:
            log.debug("an outcome from %s was discarded: a newer one is in use (%s)", where, result)
        elif isinstance(result, KeySetFetchError):
            retry = max(0.0, retry_at - now)
            if after is not None and now < after.freshness.usable_until:
                log.warning("refreshing the JWK Set from %s failed: %s; serving the set fetched %.0f s "
                            "ago (usable for %.0f s more); next retry in %.0f s", where, result,
                            now - after.freshness.fetched_at, after.freshness.usable_until - now, retry)
            else:
                log.error("fetching the JWK Set from %s failed: %s; no usable set; next retry in "
                          "%.0f s", where, result, retry)
        elif after is None:  # pragma: no cover - an applied response always leaves a set
            pass
        elif isinstance(result, NotModified):
            log.debug("the JWK Set at %s is unchanged (304); fresh for %.0f s", where,
                      after.freshness.lifetime)
        else:
            changed = before is None or before.document != after.document
            (log.info if changed else log.debug)(
                "fetched the JWK Set from %s: %d keys, %d entries skipped%s; fresh for %.0f s",
                where, len(after.keyset), len(after.keyset.skipped), "" if changed else " (unchanged)",
                after.freshness.lifetime)
            for skipped in after.keyset.skipped if changed else ():
                log.warning("the JWK Set at %s: entry %d skipped: %s", where, skipped.index, skipped.reason)
