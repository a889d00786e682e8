"""Concurrency: N threads verifying RS256 (and ES256) tokens with one shared ``JWTVerifier``.

    python benchmarks/concurrency.py [--seconds 0.5] [--repeat 3] [--json PATH]

For N = 1, 2, 4 threads, each thread verifies the same token as many times as one
thread does in ``--seconds``, with the one verifier (built once, as a server shares it). The wall time
until the last thread is done, median of ``--repeat`` runs, gives the throughput.
The bare ``cryptography`` call (the floor) runs the same way, to separate what the
GIL and OpenSSL allow from what jwkverify adds; N forked processes (each with its
own verifier) show what the cores could give without the GIL. Prints Markdown; writes JSON (default
``results/concurrency.json``) that ``report.py`` appends to its report.

Ratios only (shared machine): throughput with N threads / with 1 thread, and per
core = that divided by min(N, usable cores).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_columns import build_column, check_column
from bench_machine import machine_facts
from bench_tokens import make_case

WORKERS = (1, 2, 4)
#: RS256 as asked; ES256 as a contrast: cryptography releases the GIL around ECDSA verify.
CASES = (("RS256-2048", "RS256", "RSA-2048"), ("ES256", "ES256", "P-256"))


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_threads(call: Callable[[], Any], threads: int, per_thread: int) -> float:
    """Seconds from a common start until every thread has done ``per_thread`` calls."""
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            for _ in range(per_thread):
                call()
        except BaseException as exc:  # reported below; a thread must not die silently
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"a worker thread failed: {errors[0]!r}") from errors[0]
    return elapsed


_WORKER: dict[str, Any] = {}  # what a forked process verifies with (set before forking)


def _process_work(barrier: Any, per_thread: int) -> tuple[float, float]:
    call = _WORKER["call"]
    barrier.wait()
    start = time.perf_counter()  # CLOCK_MONOTONIC: comparable across processes
    for _ in range(per_thread):
        call()
    return start, time.perf_counter()


def run_processes(call: Callable[[], Any], processes: int, per_thread: int) -> float:
    """Like :func:`run_threads` with forked processes, each with its own copy of ``call``."""
    context = multiprocessing.get_context("fork")
    _WORKER["call"] = call
    with context.Manager() as manager:
        barrier = manager.Barrier(processes)
        with context.Pool(processes) as pool:
            spans = pool.starmap(_process_work, [(barrier, per_thread)] * processes)
    return max(end for _, end in spans) - min(start for start, _ in spans)


def measure(seconds: float, repeat: int) -> dict[str, Any]:
    cores = usable_cores()
    load_before = os.getloadavg()[0]
    runs = []
    for label, alg, kind in CASES:
        case = make_case(label, alg, kind)
        plans = [
            (f"{label} floor (cryptography), threads", "floor", run_threads),
            (f"{label} JWTVerifier.verify, threads sharing one verifier", "jwkverify", run_threads),
            (f"{label} JWTVerifier.verify, processes (reference)", "jwkverify", run_processes),
        ]
        for title, what, runner in plans:
            column = build_column(what, case)
            check_column(column, case)
            args = column.args(case.token)

            def call(column: Any = column, args: tuple[Any, ...] = args) -> Any:
                return column.call(*args)

            single = run_threads(call, 1, 200) / 200  # warm up and size the runs
            count = max(200, round(seconds / single))
            # Interleave the thread counts and compare within a repeat, so a change in
            # the machine's other load hits the 1-worker baseline as much as the others.
            walls: dict[int, list[float]] = {workers: [] for workers in WORKERS}
            for _ in range(repeat):
                for workers in WORKERS:
                    walls[workers].append(runner(call, workers, count))
            for workers in WORKERS:
                speedup = statistics.median(
                    (workers / wall) / (1 / one) for wall, one in zip(walls[workers], walls[1], strict=True)
                )
                runs.append({"what": title, "workers": workers, "speedup": speedup,
                             "per_core_vs_1": speedup / min(workers, cores)})
    return {"label": " and ".join(label for label, _, _ in CASES), "seconds": seconds,
            "repeat": repeat, "cores": cores, "load_average": [load_before, os.getloadavg()[0]],
            "machine": machine_facts(), "runs": runs}


def markdown(result: dict[str, Any]) -> str:
    load = result.get("load_average", [float("nan"), float("nan")])
    lines = [
        f"## Concurrency: {result['label']}, one shared verifier, about {result['seconds']:g} s "
        "of verifications per worker",
        "",
        f"Usable cores: {result['cores']}; 1-minute load average {load[0]:.1f} before the run, "
        f"{load[1]:.1f} after. `throughput` = verifications per second with N workers "
        "divided by the same with 1 (median over interleaved repeats); `per core` = that divided by "
        "min(N, cores). The process rows "
        "(own verifier each, no GIL shared) show how much parallelism the machine gave at the time: "
        "it is shared, so other jobs may hold a core.",
        "",
        "| what | N | throughput | per core |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {r['what']} | {r['workers']} | {r['speedup']:.2f}x | {r['per_core_vs_1']:.2f}x |"
              for r in result["runs"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=0.5,
                        help="how long one worker runs (sets the verifications per worker)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per thread count (median taken)")
    parser.add_argument("--json", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "concurrency.json")
    args = parser.parse_args(argv)
    result = measure(args.seconds, args.repeat)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
