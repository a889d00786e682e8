"""What a remote key set tells its operator: one log record and one observer event per key-set event.

Events are those of :data:`jwkverify.observe.KEYSET_EVENTS`. Each goes to the
observer, if one is set, and to the log at a level that fits it:

=================  ======================================================  ==================
event              when                                                    log level
=================  ======================================================  ==================
fetched            a fetched set is put in use                             INFO (DEBUG if
                                                                           unchanged)
rotated            ... and its keys differ from the set it replaces        (in fetched's
                                                                           record)
not_modified       a 304 revalidated the cached set                        DEBUG
fetch_failed       an attempt failed                                       WARNING while a
                                                                           usable set is
                                                                           served, else ERROR
refresh_started    a background refresh began (stale-while-revalidate)     DEBUG
stale_served       a request was answered from a set past its freshness    none: counted only
=================  ======================================================  ==================

Attempts are bounded by the cooldown and the backoff, so no event but
``stale_served`` can come faster than about one per second, whatever requests
arrive: a flood of garbage tokens or unknown ``kid`` values adds no record.
``stale_served`` comes once per request during an outage, so it is only counted.
Called outside the lock (a handler or an observer may do I/O); never a token or
a URL's query in a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import KeySetFetchError, clip
from .http import redact
from .snapshot import NotModified, Outcome, Snapshot

if TYPE_CHECKING:
    import logging

    from ..jwk import JWK
    from ..observe import Observer

__all__ = ["Reporter"]

_SHOWN_KIDS = 5  # kids named in a rotation's record, at most, per direction


class Reporter:
    """Logs a remote key set's events and passes them to its observer."""

    __slots__ = ("_log", "_observer", "_observer_failed", "_source", "_where")

    def __init__(self, log: logging.Logger, observer: Observer | None, where: Callable[[], str],
                 source: Callable[[], str]) -> None:
        self._log = log
        self._observer = observer
        self._observer_failed = False
        self._where = where
        self._source = source

    def event(self, name: str) -> None:
        """Pass ``name`` to the observer; an exception it raises is logged, never raised."""
        observer = self._observer
        if observer is None:
            return
        try:
            observer.keyset_event(name, self._source())
        except Exception:
            # Logged loudly once, then quietly: a broken observer must not flood the log.
            level = 10 if self._observer_failed else 30  # DEBUG, then WARNING
            self._observer_failed = True
            self._log.log(level, "the observer of the key set of %s raised on %r; ignored", self._where(),
                          name, exc_info=True)

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

    def refresh_started(self, stale: Snapshot | None, now: float) -> None:
        """A refresh began off the request path while ``stale`` is served."""
        self.event("refresh_started")
        if stale is not None:
            self._log.debug("the JWK Set from %s is past its freshness (fetched %.0f s ago): refreshing "
                            "in the background, serving it meanwhile", self._where(),
                            now - stale.freshness.fetched_at)

    def stale_served(self) -> None:
        """A request was answered from a set past its freshness (counted, not logged)."""
        self.event("stale_served")

    def settled(self, result: Outcome | KeySetFetchError, applied: bool, before: Snapshot | None,
                after: Snapshot | None, *, now: float, retry_at: float) -> None:
        """One attempt finished with ``result``; ``applied`` unless a newer outcome was in use."""
        where, log = self._where(), self._log
        if isinstance(result, KeySetFetchError):
            self.event("fetch_failed")
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
            self.event("not_modified")
            log.debug("the JWK Set at %s is unchanged (304); fresh for %.0f s", where,
                      after.freshness.lifetime)
        else:
            self._fetched(before, after, where)

    def _fetched(self, before: Snapshot | None, after: Snapshot, where: str) -> None:
        log = self._log
        self.event("fetched")
        old, new = (frozenset(before.keyset) if before is not None else frozenset()), frozenset(after.keyset)
        rotated = before is not None and old != new
        if rotated:
            self.event("rotated")
        changed = before is None or before.document != after.document
        (log.info if changed else log.debug)(
            "fetched the JWK Set from %s: %d keys, %d entries skipped%s%s; fresh for %.0f s",
            where, len(after.keyset), len(after.keyset.skipped), "" if changed else " (unchanged)",
            f"; rotated: {_kids(new - old, 'added')}, {_kids(old - new, 'removed')}" if rotated else "",
            after.freshness.lifetime)
        for skipped in after.keyset.skipped if changed else ():
            log.warning("the JWK Set at %s: entry %d skipped: %s", where, skipped.index, skipped.reason)


def _kids(keys: frozenset[JWK], what: str) -> str:
    names = sorted(clip(key.kid, 40) if key.kid is not None else "(no kid)" for key in keys)
    more = f" and {len(names) - _SHOWN_KIDS} more" if len(names) > _SHOWN_KIDS else ""
    return f"{len(names)} {what}" + (f" ({', '.join(names[:_SHOWN_KIDS])}{more})" if names else "")
