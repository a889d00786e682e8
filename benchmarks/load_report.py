"""Judging and reporting a load run (``load.py``): verdicts, provider bounds, tables and a chart.

A verdict is *wrong* when a token that must be refused was accepted, or a valid token
was refused while a usable key set exists (``expect="healthy"``). While nothing usable
exists (``"no_set"``) a valid token must get ``503``; after the provider withdrew the
current key (``"withdrawn"``) ``200`` and ``401`` are both right (the stale set serves
it until the refresh lands). A ``500`` is always a failure, and so is a ``503`` while a
usable set exists. Provider requests are compared, per worker, with what the cache
promises: at most one attempt per ``cache_ttl`` plus one per ``cooldown`` while the
provider is healthy, and no more than the backoff schedule allows while it fails.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from load_tokens import ACCEPT

__all__ = ["judge", "judge_run", "provider_bound", "write_report"]

#: The jwkverify column ratios are taken against: refusal records off (see load_apps.py).
REFERENCE = "jwkverify-quiet"
LABELS = {"none": "no auth", "jwkverify": "jwkverify\n(INFO per\nrefusal)", "jwkverify-quiet": "jwkverify",
          "pyjwt": "PyJWT\nPyJWKClient", "fastmcp": "FastMCP\nJWTVerifier", "floor": "floor\n(a bound)"}


def rate(record: dict[str, Any]) -> float:
    summary = record["wrk"]
    return float(summary["requests"] / (summary["duration_us"] / 1e6))


def per_cpu(record: dict[str, Any]) -> float:
    """Requests per CPU-second of the server's workers: steadier than req/s on a shared machine.

    0 (shown as "-") with several workers: ``/_stats`` reaches a random worker, so the CPU
    time of each is not reliably read before and after.
    """
    if record.get("workers", 1) > 1 or not record.get("cpu_s"):
        return 0.0
    return float(record["wrk"]["requests"] / record["cpu_s"])


def lag(record: dict[str, Any]) -> str:
    return "/".join(f"{stats.get('loop_lag_max_ms', 0):.0f}" for stats in record["server"])


def judge(expect: str, cls: str, status: str) -> str:
    """``"right"``, ``"wrong"``, ``"error"`` (a 5xx other than 503) or ``"unexpected_503"``."""
    if status.startswith("5") and status != "503":
        return "error"
    if expect == "none":
        return "right"
    if cls in ACCEPT:
        wanted = {"healthy": {"200"}, "no_set": {"503"}, "after_outage": {"200", "503"},
                  "withdrawn": {"200", "401"}}[expect]
        return "right" if status in wanted else "wrong"
    if status == "200":
        return "wrong"
    if status == "503":
        return "right" if expect in ("no_set", "after_outage") else "unexpected_503"
    return "right"


def backoff_attempts(seconds: float, cooldown: float) -> int:
    """Most attempts a failing provider can see in ``seconds``: the first, then 1, 2, 4 ... s apart."""
    count, elapsed, failures = 1, 0.0, 0
    while True:
        failures += 1
        elapsed += min(cooldown, 2.0 ** (failures - 1))
        if elapsed >= seconds:
            return count
        count += 1


def provider_bound(record: dict[str, Any], results: dict[str, Any]) -> int:
    """The most provider requests one worker may make in this phase (+1 for discovery, +1 at the edges)."""
    seconds, ttl, cooldown = record["seconds"], results["cache_ttl"], results["cooldown"]
    if record["mode"] == "healthy":
        attempts = math.floor(seconds / ttl) + math.floor(seconds / cooldown) + 1
    else:
        attempts = backoff_attempts(seconds, cooldown)
    return attempts + 2


def judge_record(record: dict[str, Any]) -> dict[str, int]:
    tally = {"right": 0, "wrong": 0, "error": 0, "unexpected_503": 0, "missing_retry_after": 0}
    for cls, per in record["wrk"]["classes"].items():
        for status, count in per["status"].items():
            tally[judge(record["expect"], cls, status)] += count
        tally["missing_retry_after"] += per["status"].get("503", 0) - per["retry_after"]
    return tally


def judge_run(results: dict[str, Any]) -> dict[str, Any]:
    """Totals over the run, and whether it passed."""
    wrong = errors = unexpected = over = missing = 0
    rounds = [each for record in results.get("agent", ()) for each in record.get("all", [record])]
    for record in [*results.get("phases", ()), *results.get("compared", ()), *rounds]:
        tally = judge_record(record)
        record["verdicts"] = tally
        missing += tally["missing_retry_after"]
        errors += tally["error"]
        if record.get("variant", "jwkverify").startswith("jwkverify"):
            wrong += tally["wrong"]
            unexpected += tally["unexpected_503"]
    for record in results.get("agent", ()):  # a median round stands for its rounds: their totals
        record["verdicts"] = {name: sum(each["verdicts"][name] for each in record.get("all", [record]))
                              for name in record.get("all", [record])[0]["verdicts"]}
    for record in results.get("phases", ()):
        record["provider_bound"] = bound = provider_bound(record, results)
        over += sum(1 for count in record["provider"].values() if count > bound)
    wrong += results.get("memory", {}).get("wrong", 0)
    return {"wrong": wrong, "errors_500": errors, "unexpected_503": unexpected, "over_bound": over,
            "missing_retry_after": missing, "ok": wrong == errors == unexpected == over == 0}


def _ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def _class(record: dict[str, Any], cls: str, key: str) -> str:
    per = record["wrk"]["classes"].get(cls)
    return _ms(per[key]) if per else "-"


def phase_table(results: dict[str, Any]) -> list[str]:
    steady = next(r for r in results["phases"] if r["phase"] == "steady")
    rows = ["| phase | provider | req/s | req per server CPU-s | worst loop lag ms | wrong | statuses | "
            "503 without Retry-After | provider requests "
            "(bound) | p50 / p99 / max ms, all | p99 / max ms, repeated valid | p99 ratio to steady | "
            "p99 / max ms, unknown kid | key set | server log WARNING / ERROR |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- | --- | --- | ---: | --- | --- "
            "| --- |"]
    for record in results["phases"]:
        summary, tally = record["wrk"], record["verdicts"]
        statuses: dict[str, int] = {}
        for per in summary["classes"].values():
            for status, count in per["status"].items():
                statuses[status] = statuses.get(status, 0) + count
        base = steady["wrk"]["classes"]["repeated_valid"]["p99_us"]
        ratio = record["wrk"]["classes"]["repeated_valid"]["p99_us"] / base if base else 0
        provider = ", ".join(str(count) for count in record["provider"].values()) or "0"
        state = ", ".join(f"{s['status']} {'/'.join(s.get('kids', []))}" for s in record["server"])
        rows.append(
            f"| {record['phase']} | {record['mode']} | {rate(record):.0f} | {per_cpu(record):.0f} | "
            f"{lag(record)} | {tally['wrong']} | "
            + " ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
            + f" | {tally['missing_retry_after']} | {provider} ({record['provider_bound']}) | "
            f"{_ms(summary['p50_us'])} / {_ms(summary['p99_us'])} / {_ms(summary['max_us'])} | "
            f"{_class(record, 'repeated_valid', 'p99_us')} / {_class(record, 'repeated_valid', 'max_us')} | "
            f"{ratio:.1f}x | {_class(record, 'unknown_kid', 'p99_us')} / "
            f"{_class(record, 'unknown_kid', 'max_us')} | {state} | "
            f"{record['log']['WARNING']} / {record['log']['ERROR']} |")
    return rows


def compared_table(results: dict[str, Any]) -> list[str]:
    records = results["compared"]
    none = next(rate(r) for r in records if r["variant"] == "none")
    ours = next(rate(r) for r in records if r["variant"] == REFERENCE and r["workers"] == 1)
    none_cpu = next(per_cpu(r) for r in records if r["variant"] == "none")
    ours_cpu = next(per_cpu(r) for r in records if r["variant"] == REFERENCE and r["workers"] == 1)
    rows = ["| server | workers | req/s | vs no auth | jwkverify-quiet ÷ it | req per server CPU-s | "
            "vs no auth | jwkverify-quiet ÷ it | p50 ms | p99 ms | max ms | wrong verdicts | "
            "provider requests |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for record in records:
        summary, value = record["wrk"], rate(record)
        provider = ", ".join(f"{count}" for count in record["provider"].values()) or "0"
        cpu = per_cpu(record)
        cpu_text = f"{cpu:.0f} | {cpu / none_cpu:.2f}x | {ours_cpu / cpu:.2f}x" if cpu else "- | - | -"
        rows.append(f"| {record['variant']} | {record['workers']} | {value:.0f} | {value / none:.2f}x | "
                    f"{ours / value:.2f}x | {cpu_text} | "
                    f"{_ms(summary['p50_us'])} | {_ms(summary['p99_us'])} | "
                    f"{_ms(summary['max_us'])} | "
                    f"{record['verdicts']['wrong'] if record['variant'] != 'none' else 'n/a'} | {provider} |")
    return rows


def agent_table(results: dict[str, Any]) -> list[str]:
    records = results["agent"]
    none = next(r for r in records if r["variant"] == "none")
    floor = next(r for r in records if r["variant"] == "floor")
    rows = ["| server | req/s, median round | every round | vs no auth | vs floor | req per server CPU-s | "
            "vs no auth | µs per request over no auth | p50 ms | p99 ms | wrong verdicts |",
            "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for record in records:
        value, cpu, summary = rate(record), per_cpu(record), record["wrk"]
        cpu_text = f"{cpu:.0f} | {cpu / per_cpu(none):.2f}x" if cpu and per_cpu(none) else "- | -"
        every = ", ".join(f"{each:.0f}" for each in record.get("rounds", [value]))
        rows.append(f"| {record['variant']} | {value:.0f} | {every} | {value / rate(none):.2f}x | "
                    f"{value / rate(floor):.2f}x | {cpu_text} | {1e6 / value - 1e6 / rate(none):.1f} | "
                    f"{_ms(summary['p50_us'])} | {_ms(summary['p99_us'])} | "
                    f"{record['verdicts']['wrong'] if record['variant'] != 'none' else 'n/a'} |")
    return rows


def memory_table(results: dict[str, Any]) -> list[str]:
    rows = ["| distinct tokens sent | RSS MiB |", "| ---: | ---: |"]
    rows += [f"| {point['tokens']:,} | {point['rss_kib'] / 1024:.1f} |"
             for point in results["memory"]["points"]]
    return rows


def write_report(results: dict[str, Any], verdict: dict[str, Any], json_path: Path, md_path: Path,
                 chart_path: Path | None) -> None:
    json_path.write_text(json.dumps({"verdict": verdict, **results}, indent=1) + "\n")
    lines = [f"# Load and fault test ({'short' if results['short'] else 'full'} run)", "",
             f"{results['alg']} tokens, wrk with {results['connections']} connections, uvicorn, "
             f"{results['cpus']} cores shared by server, load generator and provider. RemoteJWKSet: "
             f"timeout {results['timeout']:g} s, cache_ttl {results['cache_ttl']:g} s, cooldown "
             f"{results['cooldown']:g} s.", "",
             f"Wrong verdicts: **{verdict['wrong']}**; 500s: **{verdict['errors_500']}**; 503 while a usable "
             f"set exists: **{verdict['unexpected_503']}**; workers over the provider bound: "
             f"**{verdict['over_bound']}**; 503 without Retry-After: {verdict['missing_retry_after']}.", "",
             "## Phases (jwkverify, one worker)", "", *phase_table(results), ""]
    if "compared" in results:
        lines += ["## The steady mix, side by side", "",
                  "`jwkverify-quiet` is jwkverify with its `jwkverify` logger at WARNING. The MCP SDK's "
                  "`MCPServer` installs a rich INFO handler on the root logger, and the ASGI middleware logs "
                  "each refused token at INFO, so `jwkverify` (the default) pays one rich log record per "
                  "refusal; without the MCP SDK's logging set-up (no INFO handler) jwkverify runs as "
                  "`jwkverify-quiet`.", "", *compared_table(results), ""]
    if "agent" in results:
        lines += ["## The agent mix: every request a repeated valid token", "",
                  "What one agent's session sends: the same token with every tool call. `floor` is the "
                  "least any verifying middleware does per request (a dict lookup of a token it let "
                  "through before; no expiry, key or scope check, no view; `load_apps.Floor`): a bound, "
                  "not a safe middleware. The three take turns, three rounds each; each keeps its "
                  "median round.",
                  "", *agent_table(results), ""]
    if "memory" in results:
        lines += ["## Memory over distinct tokens (one worker)", "", *memory_table(results), ""]
    md_path.write_text("\n".join(lines))
    if chart_path is not None and "compared" in results:
        draw(results, chart_path)


def draw(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    records = results["compared"]
    labels = [f"{LABELS[r['variant']]}\nx{r['workers']}" for r in records]
    values = [rate(r) for r in records]
    colours = {"none": "#999999", "jwkverify": "#2a7ab0", "jwkverify-quiet": "#5aa0d0", "pyjwt": "#d98c2b",
               "fastmcp": "#8a5bb5", "floor": "#55aa55"}
    bars = left.bar(labels, values, color=[colours[r["variant"]] for r in records])
    for bar, value in zip(bars, values, strict=True):
        left.annotate(f"{value / values[0]:.2f}x", (bar.get_x() + bar.get_width() / 2, value),
                      ha="center", va="bottom")
    left.set_ylabel("requests/s (steady token mix)")
    left.tick_params(axis="x", labelsize=7)
    left.set_title("Throughput; ratio to no auth")
    phases = [r for r in results["phases"] if r["target"] == "api"]
    names = [r["phase"] for r in phases]
    for cls, colour in (("repeated_valid", "#2a7ab0"), ("unknown_kid", "#d98c2b")):
        right.plot(names, [r["wrk"]["classes"][cls]["p99_us"] / 1000 for r in phases], "o-", color=colour,
                   label=f"p99, {cls.replace('_', ' ')}")
        right.plot(names, [r["wrk"]["classes"][cls]["max_us"] / 1000 for r in phases], "x--", color=colour,
                   label=f"max, {cls.replace('_', ' ')}")
    right.axhline(results["timeout"] * 1000, color="#aa3333", linewidth=0.8, label="fetch timeout")
    right.set_yscale("log")
    right.set_ylabel("latency, ms")
    right.set_title("Latency per phase (jwkverify, one worker)")
    right.tick_params(axis="x", rotation=45)
    right.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":  # rewrite the Markdown and the chart from a run's JSON
    import sys

    source = Path(sys.argv[1])
    data = json.loads(source.read_text())
    verdict = data.pop("verdict")
    write_report(data, verdict, source, source.with_suffix(".md"),
                 None if data["short"] else source.with_suffix(".png"))
