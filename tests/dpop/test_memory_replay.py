"""jwkverify._dpop.replay: the in-memory replay cache, bounded, never letting a replay through."""

from __future__ import annotations

import asyncio
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jwkverify._dpop.replay import replay_key
from jwkverify.dpop import InvalidDPoPProof, MemoryReplayCache, ReplayCache


def test_a_key_is_remembered_until_its_window_ends() -> None:
    cache = MemoryReplayCache()
    assert isinstance(cache, ReplayCache)
    assert cache.remember("k", now=100, expires_at=200)
    assert not cache.remember("k", now=150, expires_at=250)
    assert not cache.remember("k", now=199.9, expires_at=300)
    assert cache.remember("k", now=200, expires_at=300)  # its window ended: a new proof may reuse it
    assert len(cache) == 1
    assert asyncio.run(cache.remember_async("j", now=100, expires_at=200))
    assert not asyncio.run(cache.remember_async("j", now=100, expires_at=200))


def test_when_full_the_earliest_ending_is_forgotten_and_proofs_like_it_are_refused() -> None:
    cache = MemoryReplayCache(max_entries=3)
    for index, ends in enumerate((300, 310, 320)):
        assert cache.remember(f"k{index}", now=100, expires_at=ends)
    assert cache.remember("k3", now=100, expires_at=330)  # full: k0 (ends 300) is forgotten
    assert len(cache) == 3
    with pytest.raises(InvalidDPoPProof) as caught:  # it might be k0 again: refused, never accepted
        cache.remember("k0", now=100, expires_at=300)
    assert caught.value.check == "replay" and "full" in str(caught.value)
    with pytest.raises(InvalidDPoPProof):
        cache.remember("other", now=100, expires_at=299)
    assert not cache.remember("k1", now=100, expires_at=310)  # still remembered: a replay
    assert cache.remember("fresh", now=100, expires_at=400)  # a fresh proof still passes
    assert cache.remember("later", now=315, expires_at=600)  # k1 ended; room without forgetting


def test_size_option() -> None:
    for wrong, error in ((0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(error):
            MemoryReplayCache(max_entries=wrong)  # type: ignore[arg-type]


def test_threads_racing_with_one_proof_record_it_once() -> None:
    cache = MemoryReplayCache()
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        results.append(cache.remember("same", now=0, expires_at=10))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_replay_keys_are_fixed_size_and_per_client_key() -> None:
    assert len(replay_key("thumb", "j" * 256)) == 64
    assert replay_key("a", "jti") != replay_key("b", "jti")
    assert replay_key("a", "\udc80") == replay_key("a", "\udc80")


_OPERATION = st.tuples(st.integers(0, 12), st.integers(0, 30))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 6), st.lists(st.integers(1, 40), min_size=13, max_size=13),
       st.lists(_OPERATION, max_size=60))
def test_a_full_cache_never_accepts_a_replay(
    size: int, ends: list[int], operations: list[tuple[int, int]]
) -> None:
    """Against a model that remembers everything: whenever the bounded cache accepts a
    key, the key was not accepted before. A key stands for one proof, so its window's
    end is fixed (its iat plus the window); the verifier asks only while it is open."""
    cache = MemoryReplayCache(max_entries=size)
    accepted: set[str] = set()  # the model
    now = 0.0
    for key_number, step in operations:
        now += step / 10
        key, expires_at = f"k{key_number}", float(ends[key_number])
        if expires_at <= now:
            continue  # out of the window: the verifier refuses it before asking
        try:
            recorded = cache.remember(key, now=now, expires_at=expires_at)
        except InvalidDPoPProof:
            continue  # refused for want of memory: always safe
        assert recorded == (key not in accepted), f"{key} at {now}"
        accepted.add(key)
        assert len(cache) <= size
