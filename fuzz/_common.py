"""What the fuzz targets share: paths, a byte reader, seed material from ``vectors/``.

Each target is a module ``fuzz_<name>.py`` with ``check(data: bytes) -> None``: the
property, which raises (anything but a ``JOSEError`` escaping, or an explicit
``AssertionError``) when jwkverify misbehaves on ``data``, and ``seeds()``: its seed
corpus. ``fuzz/run.py`` drives them with atheris, or with Hypothesis where atheris
is not installed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "vectors"
sys.path.insert(0, str(ROOT / "tests"))  # signing.py: the tests' independent signer

T = TypeVar("T")
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")


def instrumented() -> contextlib.AbstractContextManager[object]:
    """Import jwkverify inside this to let atheris see its branches (a no-op without atheris)."""
    if os.environ.get("JWKVERIFY_FUZZ_SEEDS_ONLY"):  # fuzz/run.py writing seeds: no instrumenting
        return contextlib.nullcontext()
    try:
        import atheris
    except ImportError:
        return contextlib.nullcontext()
    return atheris.instrument_imports(include=["jwkverify"])  # type: ignore[no-any-return]


def main(check: Any) -> None:
    """Run ``check`` under atheris with the command-line options libFuzzer takes."""
    import atheris

    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


class Reader:
    """Fuzzer bytes read as choices; past the end, every read gives zeros."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def byte(self) -> int:
        value = self.data[self.at] if self.at < len(self.data) else 0
        self.at += 1
        return value

    def below(self, bound: int) -> int:
        """A number in ``range(bound)``; ``bound`` up to 65536."""
        value = self.byte() if bound <= 256 else self.byte() << 8 | self.byte()
        return value % bound

    def flag(self) -> bool:
        return self.byte() & 1 == 1

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def take(self, size: int) -> bytes:
        chunk = self.data[self.at:self.at + size]
        self.at += size
        return chunk

    def until(self, separator: int) -> bytes:
        """The bytes up to the next ``separator`` (or the end), which is consumed too."""
        end = self.data.find(bytes([separator]), self.at)
        end = len(self.data) if end < 0 else end
        chunk = self.data[self.at:end]
        self.at = end + 1
        return chunk

    def rest(self) -> bytes:
        chunk = self.data[self.at:]
        self.at = len(self.data)
        return chunk


# -- seed material from vectors/ ---------------------------------------------------------------


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


@cache
def vector_documents() -> tuple[Any, ...]:
    return tuple(json.loads(path.read_text(encoding="utf-8")) for path in sorted(VECTORS.rglob("*.json")))


@cache
def vector_tokens() -> tuple[str, ...]:
    """Every compact JWS in vectors/, valid or not."""
    found = {value for document in vector_documents() for value in _walk(document)
             if isinstance(value, str) and _COMPACT.fullmatch(value) and len(value) > 20}
    return tuple(sorted(found))


def public(jwk: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in jwk.items() if name not in PRIVATE_MEMBERS}


@cache
def vector_jwks() -> tuple[dict[str, Any], ...]:
    """Every JWK in vectors/ (public members only), and every JWK Set document."""
    found: dict[str, dict[str, Any]] = {}
    for document in vector_documents():
        for value in _walk(document):
            if isinstance(value, dict) and ("kty" in value or isinstance(value.get("keys"), list)):
                shown = public(value) if "kty" in value else {
                    **value, "keys": [public(k) if isinstance(k, dict) else k for k in value["keys"]]}
                found[json.dumps(shown, sort_keys=True)] = shown
    return tuple(found[text] for text in sorted(found))


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@cache
def generated() -> tuple[Any, ...]:
    """One fresh key per algorithm jwkverify verifies (tests/signing.py), as ``SigningKey``s."""
    from signing import ALL_ALGORITHMS, make_key

    return tuple(make_key(alg, kid=f"fuzz-{alg}") for alg in ALL_ALGORITHMS)


@cache
def valid_pairs() -> tuple[tuple[str, Any], ...]:
    """``(token, JWK)`` pairs that verify: from vectors/ (fixed) and freshly signed ones."""
    from jwkverify import JWK, JOSEError, verify_jws

    keys = []
    for jwk in vector_jwks():
        with contextlib.suppress(JOSEError):
            keys.append(JWK.from_dict(jwk, min_rsa_bits=1024))
    pairs: dict[str, tuple[str, Any]] = {}
    for token in vector_tokens():
        try:
            header = json.loads(b64decode(token.split(".")[0]))
        except ValueError:
            continue
        if not isinstance(header, dict):
            continue
        for key in keys:
            if header.get("alg") not in key.algorithms or header.get("kid", key.kid) != key.kid:
                continue
            with contextlib.suppress(JOSEError):
                verify_jws(token, key)
                pairs.setdefault(token, (token, key))
    for signer in generated():
        token = signer.token({"sub": "fuzz", "n": 1})
        pairs[token] = (token, JWK.from_dict(signer.jwk))
    return tuple(pairs.values())
