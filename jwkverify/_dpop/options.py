"""The options of a :class:`~jwkverify.dpop.DPoPVerifier`, checked once and compiled.

Mistakes are ``TypeError``/``ValueError`` at construction, saying what to pass instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from ..algorithms import ALGORITHMS, Family

__all__ = [
    "DEFAULT_ALGORITHMS",
    "DEFAULT_LEEWAY",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_PROOF_SIZE",
    "ProofPolicy",
    "Seconds",
]

Seconds = float | int | timedelta

#: RFC 9449 §4.2: asymmetric algorithms only; every one jwkverify verifies, in the
#: order a challenge's ``algs`` lists them (the common ones first).
DEFAULT_ALGORITHMS: Final = ("ES256", "EdDSA", "Ed25519", "ES384", "ES512", "PS256", "PS384", "PS512",
                             "RS256", "RS384", "RS512", "Ed448", "ES256K")
#: RFC 9449 §11.1: proofs are accepted "for a relatively brief period"; 5 minutes.
DEFAULT_MAX_AGE: Final = 300.0
#: How far in the future a proof's ``iat`` may lie (the client's clock running fast).
DEFAULT_LEEWAY: Final = 5.0
#: Longest proof accepted, in characters: an RSA-4096 proof is about 2 KiB, an EC one 0.6 KiB.
DEFAULT_MAX_PROOF_SIZE: Final = 8 * 1024
_MIN_PROOF_SIZE: Final = 256


@dataclass(frozen=True, slots=True)
class ProofPolicy:
    """What a verifier accepts, with every option validated."""

    #: The accepted algorithms, in the order given (for ``algs`` in a challenge).
    algorithms: tuple[str, ...]
    allowed: frozenset[str]
    max_age: float
    leeway: float
    max_proof_size: int

    @classmethod
    def build(
        cls, algorithms: Iterable[str] | str, max_age: Seconds, leeway: Seconds, max_proof_size: int
    ) -> ProofPolicy:
        names = compile_algorithms(algorithms)
        age = seconds("max_age", max_age)
        if age <= 0:
            raise ValueError("max_age must be more than 0 seconds (RFC 9449 §11.1: a few seconds or minutes)")
        if isinstance(max_proof_size, bool) or not isinstance(max_proof_size, int):
            raise TypeError("max_proof_size must be an int (characters)")
        if max_proof_size < _MIN_PROOF_SIZE:
            raise ValueError(f"max_proof_size must be at least {_MIN_PROOF_SIZE} characters")
        return cls(names, frozenset(names), age, seconds("leeway", leeway), max_proof_size)


def compile_algorithms(algorithms: Iterable[str] | str) -> tuple[str, ...]:
    """The accepted DPoP algorithms, without repeats; ``ValueError`` for a symmetric,
    unknown or ``none`` algorithm (RFC 9449 §4.2, §11.6)."""
    names = [algorithms] if isinstance(algorithms, str) else list(algorithms)
    if not names:
        raise ValueError("algorithms must name at least one asymmetric algorithm, e.g. ['ES256']")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"algorithms must be strings, not {type(name).__name__}")
        if name.lower() == "none":
            raise ValueError("'none' is never allowed (RFC 9449 §11.6)")
        algorithm = ALGORITHMS.get(name)
        if algorithm is None:
            known = ", ".join(DEFAULT_ALGORITHMS)
            raise ValueError(f"unknown algorithm {name!r}; DPoP proofs may use {known}")
        if algorithm.family is Family.HMAC:
            raise ValueError(f"{name} is symmetric; a DPoP proof is signed with an asymmetric key "
                             f"(RFC 9449 §4.2): use e.g. ES256 or EdDSA")
    return tuple(dict.fromkeys(names))


def seconds(option: str, value: Seconds) -> float:
    """A finite, non-negative number of seconds from a number or a ``timedelta``."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{option} must be a number of seconds or a timedelta")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{option} must be a finite number of seconds, at least 0")
    return float(value)
