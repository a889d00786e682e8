"""The hot path of RemoteJWKSet (fresh set, known kid) against a local JWKSet.

    python benchmarks/remote_hot_path.py

Both sources hold the same keys; the remote one was filled by a canned ``fetch``
(no network). Prints the best per-call time of several runs: the key lookup alone,
a whole ``JWTVerifier.verify``, and a verify answered by the verifier's token cache
(which still asks the key source whether the key is present). The remote hot path
adds one clock read to the local lookup: no lock, no I/O.
"""

from __future__ import annotations

import json
import sys
import timeit
from collections.abc import Callable, Mapping
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "tests")]

from signing import make_key  # noqa: E402

from jwkverify import JWKSet, JWTVerifier, RemoteJWKSet  # noqa: E402


def best(call: Callable[[], object], number: int, repeat: int = 7) -> float:
    """Best seconds per call over ``repeat`` runs of ``number`` calls."""
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number


def main() -> None:
    signers = [make_key(alg, kid=f"k-{alg}") for alg in ("ES256", "EdDSA", "RS256")]
    document = {"keys": [signer.jwk for signer in signers]}
    body = json.dumps(document).encode()

    def fetch(url: str, headers: Mapping[str, str], timeout: float) -> tuple[int, dict[str, str], bytes]:
        return 200, {"content-type": "application/json"}, body

    local = JWKSet.from_dict(document)
    remote = RemoteJWKSet("https://idp.example/jwks", fetch=fetch)
    remote.refresh()

    print(f"{'what':<28}{'JWKSet':>12}{'RemoteJWKSet':>14}{'ratio':>8}")
    lookups = {name: best(lambda s=source: s.keys_for("ES256", "k-ES256"), 200_000)
               for name, source in (("local", local), ("remote", remote))}
    print(f"{'keys_for (known kid)':<28}{lookups['local'] * 1e9:>10.0f}ns{lookups['remote'] * 1e9:>12.0f}ns"
          f"{lookups['remote'] / lookups['local']:>8.2f}")
    for signer in signers:
        token = signer.token({"sub": "alice", "aud": "api"})
        times = {}
        for name, source in (("local", local), ("remote", remote)):
            verifier = JWTVerifier(source, audience="api")
            times[name] = best(lambda v=verifier, t=token: v.verify(t), 2_000)
        print(f"{'verify ' + signer.alg:<28}{times['local'] * 1e6:>10.1f}us{times['remote'] * 1e6:>12.1f}us"
              f"{times['remote'] / times['local']:>8.2f}")
    token = signers[0].token({"sub": "alice", "aud": "api"})
    hits = {}
    for name, source in (("local", local), ("remote", remote)):
        cached = JWTVerifier(source, audience="api", cache_size=100)
        cached.verify(token)
        hits[name] = best(lambda v=cached: v.verify(token), 100_000)
    print(f"{'verify, token-cache hit':<28}{hits['local'] * 1e9:>10.0f}ns{hits['remote'] * 1e9:>12.0f}ns"
          f"{hits['remote'] / hits['local']:>8.2f}")


if __name__ == "__main__":
    main()
