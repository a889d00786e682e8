"""jwkverify.observe: the counting observer."""

from __future__ import annotations

import threading

import pytest

from jwkverify.observe import Counters, Observer


def test_counters_count_and_snapshot_is_read_only() -> None:
    counters = Counters()
    assert isinstance(counters, Observer)
    counters.verdict("accepted", None)
    counters.verdict("invalid_token", "expired_token")
    counters.verdict("invalid_token", "expired_token")
    counters.keyset_event("fetched", "https://idp.example/jwks")
    snap = counters.snapshot()
    assert snap.verdicts == {("accepted", None): 1, ("invalid_token", "expired_token"): 2}
    assert snap.keyset_events == {("fetched", "https://idp.example/jwks"): 1}
    with pytest.raises(TypeError):
        snap.verdicts[("accepted", None)] = 5  # type: ignore[index]
    counters.verdict("accepted", None)
    assert snap.verdicts[("accepted", None)] == 1  # a snapshot does not move


def test_counters_lose_nothing_across_threads() -> None:
    counters = Counters()

    def work() -> None:
        for _ in range(2000):
            counters.verdict("accepted", None)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counters.snapshot().verdicts[("accepted", None)] == 8000
