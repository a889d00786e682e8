"""Run the fuzz targets: coverage-guided with atheris (libFuzzer), or Hypothesis without it.

    python fuzz/run.py                          # every target, 60 s each, 2 at a time
    python fuzz/run.py --seconds 3600 --corpus fuzz/corpus token remote
    python fuzz/fuzz_token.py fuzz/crashes/token-crash-<sha1>   # replay one input

Each target's seeds (built from vectors/ and freshly signed tokens) are written to
its corpus directory first; libFuzzer adds what it finds there, so a kept
``--corpus`` makes the next run start where this one stopped. Crashing inputs go to
``--artifacts`` (default ``fuzz/crashes/``) as ``<target>-crash-<sha1>``; the run
fails if any target crashed. Without atheris (no wheel for the interpreter), each
target replays its seeds and then runs Hypothesis examples, from seeds and from
scratch, until its time is up.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = ("token", "claims", "jwk", "remote", "mutation", "dpop")
#: Longest input libFuzzer makes per target (the inputs bounds are far below the
#: library's own limits, which the targets lower so a fuzzer can cross them).
MAX_LEN = {"token": 8192, "claims": 4096, "jwk": 8192, "remote": 16384, "mutation": 256, "dpop": 4096}
DICTIONARY = HERE / "jose.dict"


@dataclass
class Result:
    target: str
    engine: str
    ok: bool
    runs: int
    detail: str
    log: str


def has_atheris() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


def write_seeds(target: str, corpus: Path) -> int:
    os.environ["JWKVERIFY_FUZZ_SEEDS_ONLY"] = "1"
    sys.path.insert(0, str(HERE))
    module = importlib.import_module(f"fuzz_{target}")
    corpus.mkdir(parents=True, exist_ok=True)
    seeds = module.seeds()
    for seed in seeds:
        (corpus / f"seed-{hashlib.sha1(seed).hexdigest()}").write_bytes(seed)
    return len(seeds)


def run_atheris(target: str, seconds: int, corpus: Path, artifacts: Path, logs: Path) -> Result:
    log = logs / f"{target}.log"
    environment = {name: value for name, value in os.environ.items() if name != "JWKVERIFY_FUZZ_SEEDS_ONLY"}
    command = [sys.executable, str(HERE / f"fuzz_{target}.py"), str(corpus),
               f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
               f"-max_len={MAX_LEN[target]}", f"-artifact_prefix={artifacts}/{target}-",
               f"-dict={DICTIONARY}", "-print_final_stats=1"]
    with log.open("w") as out:
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False,
                              env=environment).returncode
    text = log.read_text(errors="replace")
    runs = re.findall(r"stat::number_of_executed_units: (\d+)", text)
    cov = re.findall(r"#\d+\s+\w+\s+cov: (\d+) ft: (\d+)", text)
    detail = f"cov {cov[-1][0]} ft {cov[-1][1]}" if cov else ""
    crashes = re.findall(r"Test unit written to (\S+)", text)
    if crashes:
        detail += f"; crash: {', '.join(crashes)}"
    return Result(target, "atheris", code == 0, int(runs[-1]) if runs else 0, detail, str(log))


def run_hypothesis(target: str, seconds: int, corpus: Path, artifacts: Path, logs: Path) -> Result:
    log = logs / f"{target}.log"
    command = [sys.executable, str(Path(__file__).resolve()), "--hypothesis-worker", target,
               "--seconds", str(seconds), "--corpus", str(corpus), "--artifacts", str(artifacts)]
    with log.open("w") as out:
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    text = log.read_text(errors="replace")
    runs = re.findall(r"examples run: (\d+)", text)
    crashes = sorted(artifacts.glob(f"{target}-crash-*")) if code else []
    detail = f"crash: {crashes[-1]}" if crashes else ("" if code == 0 else "error: see the log")
    return Result(target, "hypothesis", code == 0, int(runs[-1]) if runs else 0, detail, str(log))


def hypothesis_worker(target: str, seconds: int, corpus: Path, artifacts: Path) -> None:
    """Replay the seeds, then Hypothesis examples until ``seconds`` have passed."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    sys.path.insert(0, str(HERE))
    check = importlib.import_module(f"fuzz_{target}").check
    seeds = [path.read_bytes() for path in sorted(corpus.iterdir())]
    for seed in seeds:
        check(seed)
    count = len(seeds)

    def splice(seed: bytes, at: int, cut: int, insert: bytes) -> bytes:
        at %= len(seed) + 1
        return seed[:at] + insert + seed[at + cut:]

    inputs = st.one_of(
        st.binary(max_size=MAX_LEN[target]),
        st.builds(splice, st.sampled_from(seeds), st.integers(0, 1 << 16), st.integers(0, 16),
                  st.binary(max_size=16)),
    )

    @settings(max_examples=200, deadline=None, database=None, phases=[Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(inputs)
    def property_holds(data: bytes) -> None:
        try:
            check(data)
        except BaseException:
            artifacts.mkdir(parents=True, exist_ok=True)
            name = f"{target}-crash-{hashlib.sha1(data).hexdigest()}"
            (artifacts / name).write_bytes(data)
            raise

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        property_holds()
        count += 200
        print(f"examples run: {count}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", default=list(TARGETS), help=f"of {', '.join(TARGETS)}")
    parser.add_argument("--seconds", type=int, default=60, help="per target (default 60)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="targets run at once (default: 2, or 1 on one core)")
    parser.add_argument("--corpus", type=Path, help="keep corpora here (default: a temporary directory)")
    parser.add_argument("--artifacts", type=Path, default=HERE / "crashes")
    parser.add_argument("--engine", choices=("auto", "atheris", "hypothesis"), default="auto")
    parser.add_argument("--hypothesis-worker", metavar="TARGET", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hypothesis_worker:
        hypothesis_worker(args.hypothesis_worker, args.seconds, args.corpus, args.artifacts)
        return 0
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}")
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if has_atheris() else "hypothesis"
    elif engine == "atheris" and not has_atheris():
        parser.error("atheris is not installed (pip install atheris)")
    args.artifacts.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jwkverify-fuzz-") as scratch:
        root = args.corpus or Path(scratch) / "corpus"
        logs = Path(scratch) / "logs"
        logs.mkdir()
        runner = run_atheris if engine == "atheris" else run_hypothesis
        for target in args.targets:
            count = write_seeds(target, root / target)
            print(f"fuzz {target}: {count} seeds, {args.seconds} s with {engine}", flush=True)
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            artifacts = args.artifacts.resolve()
            results = list(pool.map(lambda name: runner(name, args.seconds, root / name, artifacts, logs),
                                    args.targets))
        failed = [result for result in results if not result.ok]
        for result in results:
            verdict = "ok" if result.ok else "FAILED"
            print(f"fuzz {result.target:<9} {verdict:<6} {result.runs:>9} inputs  {result.detail}")
        for result in failed:
            print(f"\n--- {result.target} ({result.engine}) log tail ---")
            print("\n".join(Path(result.log).read_text(errors="replace").splitlines()[-60:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
