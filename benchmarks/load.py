"""Load and fault test: uvicorn + Starlette + an MCP server behind jwkverify, wrk, a failing provider.

    python benchmarks/load.py                 # the full run (~12 min): phases, comparisons, workers, memory
    python benchmarks/load.py --short         # the CI run (~40 s): the phases only, shorter, ES256

Starts the loopback OpenID provider of ``load_provider.py`` (it rotates its keys and goes
through fault phases), serves the apps of ``load_apps.py`` with uvicorn on 127.0.0.1 in a
subprocess, and drives them with wrk (``load_mix.lua``: 64 connections, the token mix of
``load_tokens.py``). Per phase it records the verdicts by token class and status, latency
per class, provider requests per worker, and the key set's state; then (full run) the
same endpoint without auth, behind PyJWT's ``PyJWKClient`` and behind FastMCP's
``JWTVerifier`` in the same run, ``--workers 2``, and RSS over a million distinct tokens.
Writes ``results/load.json``, ``results/load.md`` and ``results/load.png``
(``load_report.py``); exits non-zero if a verdict was wrong or a 500 was seen.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_tokens import KeyPair, generate  # noqa: E402
from load_provider import Provider  # noqa: E402
from load_report import judge_run, write_report  # noqa: E402
from load_tokens import KIND, make_keys, write_tokens  # noqa: E402

AUDIENCE = "https://api.load.test"
TIMEOUT, CACHE_TTL, COOLDOWN = 1.0, 2.0, 2.0  # the RemoteJWKSet options under test


@dataclass(frozen=True)
class Phase:
    """One stretch of load: the provider's mode and keys, the signing key, what verdicts to expect."""

    name: str
    mode: str
    published: tuple[int, ...]  # indexes into the provider's keys
    signer: int
    # "healthy", "no_set" (nothing usable yet), "after_outage" (nothing usable until the first fetch
    # after the backoff) or "withdrawn" (the current key was dropped)
    expect: str
    target: str = "api"


PHASES = (
    Phase("cold-down", "down", (0, 1), 0, "no_set"),
    Phase("steady", "healthy", (0, 1), 0, "after_outage"),
    Phase("rotate", "healthy", (0, 1, 2), 1, "healthy"),
    Phase("down", "down", (0, 1, 2), 1, "healthy"),
    Phase("500", "500", (0, 1, 2), 1, "healthy"),
    Phase("hang", "hang", (0, 1, 2), 1, "healthy"),
    Phase("garbage", "garbage", (0, 1, 2), 1, "healthy"),
    Phase("oversized", "oversized", (0, 1, 2), 1, "healthy"),
    Phase("drop-current", "healthy", (2,), 1, "withdrawn"),
    Phase("recover", "healthy", (2, 3), 2, "healthy"),
    Phase("mcp-steady", "healthy", (2, 3), 2, "healthy", "mcp"),
    Phase("mcp-hang", "hang", (2, 3), 2, "healthy", "mcp"),
)
COMPARED = ("none", "floor", "jwkverify", "jwkverify-quiet", "pyjwt", "fastmcp")
#: The agent mix (every request a repeated valid token): no auth, the floor, jwkverify.
AGENT = ("none", "floor", "jwkverify-quiet")


@dataclass(frozen=True)
class Run:
    """What every part of a run shares: the provider, its keys, an attacker's key, a scratch folder."""

    provider: Provider
    keys: list[KeyPair]
    attacker: KeyPair
    work: Path
    args: Any
    pool: ProcessPoolExecutor | None

    def tokens(self, name: str, signer: int, fresh: int) -> Path:
        return write_tokens(self.work / f"{name}.tsv", self.keys[signer], self.attacker, alg=self.args.alg,
                            issuer=self.provider.url, audience=AUDIENCE, fresh=fresh, pool=self.pool)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """uvicorn serving ``load_apps:build`` in a subprocess; stopped on exit of the ``with`` block."""

    def __init__(self, variant: str, provider: Provider, *, alg: str, log: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.log = log
        env = {**os.environ, "LOAD_VARIANT": variant, "LOAD_ISSUER": provider.url, "LOAD_AUDIENCE": AUDIENCE,
               "LOAD_ALG": alg, "LOAD_TIMEOUT": str(TIMEOUT), "LOAD_CACHE_TTL": str(CACHE_TTL),
               "LOAD_COOLDOWN": str(COOLDOWN)}
        command = [sys.executable, "-m", "uvicorn", "load_apps:build", "--factory", "--app-dir", str(HERE),
                   "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log", "--log-level", "error"]
        if workers > 1:
            command += ["--workers", str(workers)]
        self.workers = workers
        with log.open("ab") as output:
            self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while self.worker_stats(tries=1) == {}:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn ({variant}) did not start")
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_stats(self, tries: int = 60) -> dict[int, dict[str, Any]]:
        """``/_stats`` of every worker (new connections land on workers at random)."""
        seen: dict[int, dict[str, Any]] = {}
        for _ in range(tries):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/_stats")
                stats = json.loads(connection.getresponse().read())
                connection.close()
            except OSError:
                continue
            seen[stats["pid"]] = stats
            if len(seen) >= self.workers:
                break
        return seen

    def log_offset(self) -> int:
        return self.log.stat().st_size

    def log_levels(self, since: int) -> dict[str, int]:
        """How many WARNING and ERROR records the server logged since ``since`` (a byte offset)."""
        with self.log.open("rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        return {level: len(re.findall(rf"\b{level}\b", text)) for level in ("WARNING", "ERROR")}

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def cpu_seconds(before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]]) -> float:
    """CPU seconds the server's workers used between two ``worker_stats()``."""
    return sum(stats["cpu_s"] - before[pid]["cpu_s"] for pid, stats in after.items() if pid in before)


def wrk(url: str, tokens: Path, seconds: float, *, connections: int, target: str = "api",
        mode: str = "mix", offset: int = 0) -> dict[str, Any]:
    """One wrk run of the token mix; its JSON summary (see ``load_mix.lua``)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        result = Path(out.name)
    try:
        subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                        "-s", str(HERE / "load_mix.lua"), url, "--", str(tokens), str(result), mode,
                        str(offset), target], check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        summary: dict[str, Any] = json.loads(result.read_text())
    finally:
        result.unlink(missing_ok=True)
    return summary


def run_phases(run: Run) -> list[dict[str, Any]]:
    """Every phase against one jwkverify server; a record per phase."""
    provider, keys, args, work = run.provider, run.keys, run.args, run.work
    fresh = int(args.fresh_rate * args.phase_seconds)
    files = [run.tokens(f"phase-{n}", phase.signer, fresh) for n, phase in enumerate(PHASES)]
    records = []
    provider.set_mode("down")  # the server starts while the provider is down: nothing usable
    with Server("jwkverify", provider, alg=args.alg, log=work / "server-phases.log") as server:
        for phase, tokens in zip(PHASES, files, strict=True):
            provider.publish(*(keys[index].jwk for index in phase.published))
            provider.set_mode(phase.mode)
            offset, before = server.log_offset(), server.worker_stats()
            started = time.monotonic()
            summary = wrk(server.url, tokens, args.phase_seconds, connections=args.connections,
                          target=phase.target)
            ended = time.monotonic()
            after = server.worker_stats()
            records.append({"phase": phase.name, "mode": phase.mode, "expect": phase.expect,
                            "target": phase.target, "seconds": ended - started, "wrk": summary,
                            "provider": provider.count(started, ended), "log": server.log_levels(offset),
                            "loadavg": os.getloadavg()[0],
                            "server": list(after.values()), "cpu_s": cpu_seconds(before, after)})
            print(f"  {phase.name:<13} {summary['requests'] / (summary['duration_us'] / 1e6):8.0f} req/s",
                  flush=True)
    provider.set_mode("healthy")
    return records


def run_compared(run: Run) -> list[dict[str, Any]]:
    """The steady mix against each variant, one after the other, then jwkverify on 2 workers."""
    provider, keys, args, work = run.provider, run.keys, run.args, run.work
    provider.publish(keys[2].jwk, keys[3].jwk)
    provider.set_mode("healthy")
    records = []
    for variant, workers in [*((name, 1) for name in COMPARED), ("jwkverify", 2), ("jwkverify-quiet", 2)]:
        tokens = run.tokens(f"cmp-{variant}-{workers}", 2, int(args.fresh_rate * (args.compare_seconds + 2)))
        with Server(variant, provider, alg=args.alg, workers=workers,
                    log=work / f"server-{variant}-{workers}.log") as server:
            wrk(server.url, tokens, 2, connections=args.connections)  # warm up: imports, keys, caches
            before = server.worker_stats()
            started = time.monotonic()
            summary = wrk(server.url, tokens, args.compare_seconds, connections=args.connections)
            ended = time.monotonic()
            after = server.worker_stats()
            records.append({"variant": variant, "workers": workers, "expect": "healthy" if variant != "none"
                            else "none", "wrk": summary, "provider": provider.count(started, ended),
                            "seconds": ended - started, "server": list(after.values()),
                            "cpu_s": cpu_seconds(before, after)})
        rate = summary["requests"] / (summary["duration_us"] / 1e6)
        print(f"  {variant:<10} x{workers} {rate:8.0f} req/s", flush=True)
    return records


def run_agent(run: Run, rounds: int = 3) -> list[dict[str, Any]]:
    """The agent mix (one repeated valid token after another) against no auth, the floor and jwkverify.

    The three take turns, ``rounds`` times (a shared machine drifts by more than the few µs
    per request that separate them); each keeps its median round, with every round's rate.
    """
    provider, keys, args, work = run.provider, run.keys, run.args, run.work
    provider.publish(keys[2].jwk, keys[3].jwk)
    provider.set_mode("healthy")
    tokens = run.tokens("agent", 2, 16)
    taken: dict[str, list[dict[str, Any]]] = {variant: [] for variant in AGENT}
    for _ in range(rounds):
        for variant in AGENT:
            with Server(variant, provider, alg=args.alg, log=work / f"server-agent-{variant}.log") as server:
                wrk(server.url, tokens, 2, connections=args.connections, mode="agent")  # warm up
                before = server.worker_stats()
                started = time.monotonic()
                summary = wrk(server.url, tokens, args.compare_seconds, connections=args.connections,
                              mode="agent")
                ended = time.monotonic()
                after = server.worker_stats()
            taken[variant].append({"variant": variant, "workers": 1, "wrk": summary,
                                   "expect": "healthy" if variant != "none" else "none",
                                   "provider": provider.count(started, ended), "seconds": ended - started,
                                   "server": list(after.values()), "cpu_s": cpu_seconds(before, after)})
            print(f"  {variant:<15} {rate_of(summary):8.0f} req/s", flush=True)
    records = []
    for each in taken.values():
        ordered = sorted(each, key=lambda record: rate_of(record["wrk"]))
        middle = dict(ordered[len(ordered) // 2])
        middle["rounds"] = [rate_of(record["wrk"]) for record in each]
        middle["all"] = each  # every round is judged (load_report.judge_run)
        records.append(middle)
    return records


def rate_of(summary: dict[str, Any]) -> float:
    return float(summary["requests"] / (summary["duration_us"] / 1e6))


def run_memory(run: Run) -> dict[str, Any]:
    """RSS of one jwkverify worker before and during ``args.memory`` distinct tokens."""
    provider, args, work = run.provider, run.args, run.work
    tokens = run.tokens("memory", 2, 20_000)
    points: list[dict[str, Any]] = []
    # Refusals not logged (see load_apps): 3 in 4 of these tokens are refused, and RSS is the point.
    with Server("jwkverify-quiet", provider, alg=args.alg, log=work / "server-memory.log") as server:
        wrk(server.url, tokens, 3, connections=args.connections)  # warm up

        def rss() -> int:
            return int(next(iter(server.worker_stats().values()))["rss_kib"])

        sent, wrong = 0, 0
        points.append({"tokens": 0, "rss_kib": rss()})
        while sent < args.memory:
            summary = wrk(server.url, tokens, 20, connections=args.connections, mode="distinct", offset=sent)
            sent += summary["requests"]
            wrong += sum(count for name, per in summary["classes"].items() for status, count in
                         per["status"].items() if (status == "200") != (name == "fresh_valid"))
            points.append({"tokens": sent, "rss_kib": rss()})
            print(f"  {sent:>9} distinct tokens: RSS {points[-1]['rss_kib'] / 1024:.1f} MiB", flush=True)
    return {"points": points, "wrong": wrong}


def main(argv: list[str] | None = None) -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--short", action="store_true", help="the CI run: 3 s phases, ES256, no comparisons")
    parser.add_argument("--alg", choices=sorted(KIND),
                        help="signing algorithm (default RS256; ES256 with --short)")
    parser.add_argument("--phase-seconds", type=float, help="seconds per phase (default 8; 3 with --short)")
    parser.add_argument("--compare-seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--memory", type=int, help="distinct tokens for the RSS run (default 1,000,000; "
                        "0 to skip; 0 with --short)")
    parser.add_argument("--fresh-rate", type=float, default=1000.0, help="fresh tokens signed per second "
                        "of load (they cycle when used up)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="where load.json/.md/.png go")
    args = parser.parse_args(argv)
    args.alg = args.alg or ("ES256" if args.short else "RS256")
    args.phase_seconds = args.phase_seconds or (3.0 if args.short else 8.0)
    args.memory = (0 if args.short else 1_000_000) if args.memory is None else args.memory
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    provider = Provider(hang_seconds=TIMEOUT + 2)
    keys, attacker = make_keys(args.alg, 4), generate(KIND[args.alg], "k2", args.alg)
    results: dict[str, Any] = {"alg": args.alg, "connections": args.connections, "short": args.short,
                               "timeout": TIMEOUT, "cache_ttl": CACHE_TTL, "cooldown": COOLDOWN,
                               "cpus": os.cpu_count()}
    try:
        # Spawned, not forked: a forked signer would keep the provider's listening socket open.
        spawn = multiprocessing.get_context("spawn")
        with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(2, mp_context=spawn) as pool:
            run = Run(provider, keys, attacker, Path(tmp), args, pool)
            print("phases (jwkverify, 1 worker):", flush=True)
            results["phases"] = run_phases(run)
            if not args.short:
                print("steady mix, side by side:", flush=True)
                results["compared"] = run_compared(run)
                print("agent mix (repeated valid tokens only):", flush=True)
                results["agent"] = run_agent(run)
            if args.memory:
                print("memory:", flush=True)
                results["memory"] = run_memory(run)
    finally:
        provider.close()
    verdict = judge_run(results)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "load-short" if args.short else "load"
    write_report(results, verdict, args.out / f"{name}.json", args.out / f"{name}.md",
                 None if args.short else args.out / f"{name}.png")
    print(f"wrong verdicts: {verdict['wrong']}, 500s: {verdict['errors_500']}, "
          f"over the provider bound: {verdict['over_bound']}")
    return 0 if verdict["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
