"""JWK Sets (RFC 7517 §5) and the key-source seam the JWS core reads keys through.

A key source answers one question: which keys may verify a token with this
``alg`` and ``kid``? :class:`JWK` and :class:`JWKSet` answer it from memory; a
remote key set answers it from a cache it refreshes over HTTP. The JWS core
only ever talks to :class:`KeySource`, so it never imports the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol, runtime_checkable

from ._codec.strict_json import JSONError, loads_object
from ._crypto.choice import default_backend
from ._crypto.seam import SignatureBackend
from .algorithms import ALGORITHMS
from .errors import InvalidKey, InvalidKeySet, KeyNotFound, clip
from .jwk import DEFAULT_MIN_RSA_BITS, JWK, check_min_rsa_bits, parse_jwk

__all__ = ["DEFAULT_MAX_KEYS", "JWKSet", "KeySource", "SkippedKey"]

#: Largest number of entries a key set document may hold. Providers publish a
#: handful of keys; a thousand leaves room for aggregated multi-tenant sets while
#: bounding the parse cost of a hostile document.
DEFAULT_MAX_KEYS = 1000


@runtime_checkable
class KeySource(Protocol):
    """Where the JWS core gets keys: a JWK, a JWK Set, or a remote key set.

    ``keys_for`` returns the keys that may verify ``alg`` for ``kid`` (every key
    that fits ``alg`` when ``kid`` is ``None``), or raises :class:`KeyNotFound` /
    :class:`AlgorithmNotAllowed` saying why there is none. ``keys_for_async`` is the
    same for async callers; a remote source may do I/O there without blocking.
    """

    def keys_for(self, alg: str, kid: str | None) -> Sequence[JWK]: ...

    async def keys_for_async(self, alg: str, kid: str | None) -> Sequence[JWK]: ...


@dataclass(frozen=True, slots=True)
class SkippedKey:
    """A key-set entry that was not loaded, and why (RFC 7517 §5: ignored, not fatal)."""

    index: int
    kid: str | None
    kty: str | None
    reason: str
    alg: str | None = None


class JWKSet:
    """An immutable set of JWKs, indexed by ``kid`` and algorithm once, at construction.

    ``len()``, iteration and :meth:`get` see the loaded keys; :attr:`skipped` lists
    the entries that were ignored (unsupported ``kty``/``crv``/``alg``, bad or weak
    material) with the reason, for diagnostics.
    """

    __slots__ = ("_by_kid", "_candidates", "_contested", "_keys", "skipped")

    _keys: tuple[JWK, ...]
    _by_kid: Mapping[str | None, JWK]  # the first key with each kid
    _candidates: Mapping[tuple[str, str | None], tuple[JWK, ...]]
    _contested: Mapping[tuple[str, str], SkippedKey]
    skipped: tuple[SkippedKey, ...]

    def __init__(self, keys: Iterable[JWK], *, skipped: Iterable[SkippedKey] = ()) -> None:
        """Build a set from already-parsed :class:`JWK` objects.

        Secret (``oct``) keys in a set that also holds public keys are left out and
        listed in :attr:`skipped`: a published key set must never carry a secret,
        and mixing the two invites algorithm confusion.
        """
        dropped = list(skipped)
        loaded = _without_mixed_secrets(list(keys), dropped)
        by_kid, unique = _index_by_kid(loaded)
        candidates = _index_candidates(unique)
        # Only a slot that a loaded key fills can be contested; a kid whose every
        # entry was skipped is simply not found.
        contested = {slot: rival for slot, rival in _contested(dropped).items()
                     if candidates.pop(slot, None) is not None}
        _set = object.__setattr__
        _set(self, "_keys", tuple(loaded))
        _set(self, "skipped", tuple(dropped))
        _set(self, "_by_kid", by_kid)
        _set(self, "_candidates", candidates)
        _set(self, "_contested", contested)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("JWKSet objects are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("JWKSet objects are immutable")

    @classmethod
    def from_json(
        cls,
        text: str | bytes,
        *,
        min_rsa_bits: int = DEFAULT_MIN_RSA_BITS,
        max_keys: int = DEFAULT_MAX_KEYS,
        backend: SignatureBackend | None = None,
    ) -> JWKSet:
        """Parse a JWK Set document from JSON text.

        Raises:
            InvalidKeySet: the text is not UTF-8 JSON, not an object with a ``keys``
                array, or holds more than ``max_keys`` entries.
        """
        try:
            document = loads_object(text, "JWK Set")
        except JSONError as exc:
            raise InvalidKeySet(str(exc)) from exc
        return cls.from_dict(document, min_rsa_bits=min_rsa_bits, max_keys=max_keys,
                             backend=backend)

    @classmethod
    def from_dict(
        cls,
        document: Mapping[str, Any],
        *,
        min_rsa_bits: int = DEFAULT_MIN_RSA_BITS,
        max_keys: int = DEFAULT_MAX_KEYS,
        backend: SignatureBackend | None = None,
    ) -> JWKSet:
        """Build a set from a parsed ``{"keys": [...]}`` document.

        Entries that are not valid, supported signature keys are skipped and listed
        in :attr:`skipped`, as RFC 7517 §5 asks.

        Raises:
            InvalidKeySet: ``document`` is not an object with a ``keys`` array, or the
                array holds more than ``max_keys`` entries.
        """
        if not isinstance(document, Mapping):
            raise InvalidKeySet(f"a JWK Set must be a JSON object, not {type(document).__name__}")
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise InvalidKeySet("a JWK Set must have a 'keys' member holding an array (RFC 7517 §5)")
        if len(entries) > max_keys:
            raise InvalidKeySet(f"the JWK Set holds {len(entries)} keys; at most {max_keys} are accepted")
        if entries:  # as JWK.from_dict would for the first entry
            check_min_rsa_bits(min_rsa_bits)
        backend = backend or default_backend()
        keys: list[JWK] = []
        skipped: list[SkippedKey] = []
        for index, entry in enumerate(entries):
            try:
                keys.append(parse_jwk(entry, min_rsa_bits, backend))
            except InvalidKey as exc:
                skipped.append(_skipped(index, entry, str(exc)))
        return cls(keys, skipped=skipped)

    # -- collection behaviour -----------------------------------------------

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[JWK]:
        return iter(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __repr__(self) -> str:
        return f"JWKSet({len(self._keys)} keys, {len(self.skipped)} skipped)"

    def get(self, kid: str, default: JWK | None = None) -> JWK | None:
        """The first key whose ``kid`` equals ``kid``, or ``default``."""
        if kid is None:  # a None kid is the index's entry for kid-less keys
            return default
        return self._by_kid.get(kid, default)

    def to_dict(self) -> dict[str, Any]:
        """The set as a JWK Set document of the loaded keys' public members."""
        return {"keys": [key.to_dict() for key in self._keys]}

    # -- key source -----------------------------------------------------------

    def keys_for(self, alg: str, kid: str | None) -> Sequence[JWK]:
        """Key-source protocol: the keys that may verify ``alg`` for ``kid``.

        Raises:
            KeyNotFound: no key has that ``kid`` (or none fits, for a token without
                ``kid``), or the key with that ``kid`` may not verify.
            AlgorithmNotAllowed: the key with that ``kid`` does not take ``alg``.
        """
        found = self._candidates.get((alg, kid))
        if found is not None:
            return found
        return self._explain_miss(alg, kid)

    async def keys_for_async(self, alg: str, kid: str | None) -> Sequence[JWK]:
        """Async form of :meth:`keys_for` (no I/O for a local set)."""
        return self.keys_for(alg, kid)

    def _explain_miss(self, alg: str, kid: str | None) -> NoReturn:
        if kid is None:
            raise KeyNotFound(f"the token has no kid and no key in the set verifies {alg}")
        rival = self._contested.get((alg, kid))
        if rival is not None:
            raise KeyNotFound(f"kid {clip(kid)} is ambiguous for {alg}: entry {rival.index} of the set "
                              f"has the same kid but was skipped ({rival.reason})")
        same_kid = self._by_kid.get(kid)
        if same_kid is None:
            raise KeyNotFound(f"no key in the set has kid {clip(kid)}{self._skip_hint(kid)}")
        same_kid._explain_refusal(alg)

    def _skip_hint(self, kid: str) -> str:
        reasons = [s.reason for s in self.skipped if s.kid == kid]
        return f" (an entry with that kid was skipped: {reasons[0]})" if reasons else ""


def _without_mixed_secrets(keys: list[JWK], dropped: list[SkippedKey]) -> list[JWK]:
    """``keys`` less the secret ones if public ones are there too (each listed in ``dropped``)."""
    secret = public = False
    for key in keys:
        if not isinstance(key, JWK):
            raise TypeError(f"JWKSet holds JWK objects, not {type(key).__name__}")
        if key.kty == "oct":
            secret = True
        else:
            public = True
    if not (secret and public):
        return keys
    reason = "a secret (oct) key in a set with public keys is never used"
    dropped.extend(SkippedKey(index, key.kid, key.kty, reason, key.alg)
                   for index, key in enumerate(keys) if key.kty == "oct")
    return [key for key in keys if key.kty != "oct"]


def _index_by_kid(keys: Sequence[JWK]) -> tuple[dict[str | None, JWK], list[JWK]]:
    """The first key for each kid (``None`` for kid-less keys), and ``keys`` in order
    without exact duplicate entries (which are not ambiguity)."""
    first: dict[str | None, JWK] = {}
    # Equal keys share their kid, so only a kid that several entries carry needs
    # comparing, and only there is a key hashed: in a dict keyed by the JWK, which
    # keeps the check constant-time per key however many entries share the kid.
    shared: dict[str | None, dict[JWK, None]] = {}
    unique: list[JWK] = []
    for key in keys:
        kid = key.kid
        earlier = first.get(kid)
        if earlier is None:
            first[kid] = key
        else:  # the same object twice is a duplicate too: dict lookups try identity first
            seen = shared.setdefault(kid, {earlier: None})
            if key in seen:
                continue
            seen[key] = None
        unique.append(key)
    return first, unique


def _index_candidates(keys: Sequence[JWK]) -> dict[tuple[str, str | None], tuple[JWK, ...]]:
    """Map (alg, kid) and (alg, None) to the keys that may verify, built once."""
    slots: dict[tuple[str, str | None], tuple[JWK, ...]] = {}
    by_alg: dict[str, list[JWK]] = {}
    # A kid nearly always names one key: its slot starts as a 1-tuple, and only a
    # kid that several keys share is collected in a list (linear however many).
    shared: dict[tuple[str, str | None], list[JWK]] = {}
    for key in keys:
        kid = key.kid
        for alg in key.algorithms:
            peers = by_alg.get(alg)
            if peers is None:
                by_alg[alg] = [key]
            else:
                peers.append(key)
            if kid is not None:
                slot = (alg, kid)
                if slot in slots:
                    shared.setdefault(slot, list(slots[slot])).append(key)
                else:
                    slots[slot] = (key,)
    for kid_slot, found in shared.items():
        slots[kid_slot] = tuple(found)
    for alg, peers in by_alg.items():
        slots[(alg, None)] = tuple(peers)
    return slots


def _contested(skipped: Iterable[SkippedKey]) -> dict[tuple[str, str], SkippedKey]:
    """(alg, kid) slots that a skipped entry could also have been meant to fill.

    RFC 7517 §4.5 lets keys of different types share a kid, so a skipped entry
    only contests the algorithms its own kty (or alg) names. When it does, the
    issuer meant two keys for that kid and jwkverify cannot tell which one signs:
    the slot is refused rather than resolved to the survivor.
    """
    slots: dict[tuple[str, str], SkippedKey] = {}
    for entry in skipped:
        if entry.kid is None:
            continue
        for algorithm in ALGORITHMS.values():
            claims_alg = entry.alg == algorithm.name if entry.alg is not None else True
            if claims_alg and algorithm.kty == entry.kty:
                slots.setdefault((algorithm.name, entry.kid), entry)
    return slots


def _skipped(index: int, entry: object, reason: str) -> SkippedKey:
    kid = kty = alg = None
    if isinstance(entry, Mapping):
        kid = entry.get("kid") if isinstance(entry.get("kid"), str) else None
        kty = entry.get("kty") if isinstance(entry.get("kty"), str) else None
        alg = entry.get("alg") if isinstance(entry.get("alg"), str) else None
    return SkippedKey(index, kid, kty, reason, alg)
