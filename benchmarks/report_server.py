"""The server section of the report: the rows of ``test_server.py`` and ``test_frameworks.py``,
each face's overhead, the budgets.

Called by ``report.py``. The budgets of issue 16 are in microseconds, so this section
quotes medians in µs (on the machine named at the top of the report) next to the
ratios: each face's overhead is its row minus the bare app (repeated token) or minus
the core's verify of the same token (first-seen). ``server_profile.json``, written by
``server_profile.py``, is appended when present: where the time of a protected
request goes, stage by stage.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

DASH = "—"

#: (what, row, minus rows, budget in µs or None): the overheads the issue budgets.
OVERHEADS: tuple[tuple[str, str, tuple[str, ...], float | None], ...] = (
    ("ASGI middleware over a bare ASGI app, repeated token", "ASGI middleware, repeated",
     ("bare ASGI app",), 2.5),
    ("the same, key set a RemoteJWKSet", "ASGI middleware, repeated, RemoteJWKSet",
     ("bare ASGI app",), 2.5),
    ("WSGI middleware over a bare WSGI app, repeated token", "WSGI middleware, repeated",
     ("bare WSGI app",), 2.5),
    ("MCPTokenVerifier.verify_token, repeated token (whole call)", "MCPTokenVerifier, repeated", (), 2.5),
    ("ASGI middleware, first-seen, over the core's verify", "ASGI middleware, first-seen",
     ("bare ASGI app", "core verify, first-seen"), 3.0),
    ("WSGI middleware, first-seen, over the core's verify", "WSGI middleware, first-seen",
     ("bare WSGI app", "core verify, first-seen"), 3.0),
    ("MCPTokenVerifier, first-seen, over the core's verify", "MCPTokenVerifier, first-seen",
     ("core verify, first-seen",), 3.0),
    ("FastMCPTokenVerifier.verify_token, repeated token (whole call)", "FastMCPTokenVerifier, repeated",
     (), 2.5),
    ("FastMCPTokenVerifier, first-seen, over the core's verify", "FastMCPTokenVerifier, first-seen",
     ("core verify, first-seen",), 3.0),
    ("FastAPI BearerAuth over an empty Security dependency, repeated token", "FastAPI BearerAuth, repeated",
     ("FastAPI, empty Security dependency",), 5.0),
    ("for scale: the ASGI middleware around the same FastAPI app, repeated token",
     "FastAPI, ASGI middleware around it, repeated", ("FastAPI, empty Security dependency",), None),
    ("FastAPI BearerAuth, first-seen, over a dependency calling verify_async by hand",
     "FastAPI BearerAuth, first-seen", ("FastAPI, verify_async by hand, first-seen",), 3.0),
    ("refusal, no credentials: 401 with the challenge", "ASGI refused, no credentials",
     ("bare ASGI app",), None),
    ("refusal, not a JWT: 401 invalid_token, over the core's refusal", "ASGI refused, not a JWT",
     ("bare ASGI app", "core verify, not a JWT"), None),
)

#: (peer row, our row, goal): the peer's median ÷ ours, first-seen token, both returning the same
#: AccessToken class (FastMCP's for FastMCPTokenVerifier, the SDK's for MCPTokenVerifier).
PEERS: tuple[tuple[str, str, float], ...] = (
    ("FastMCP JWTVerifier, first-seen", "FastMCPTokenVerifier, first-seen", 2.3),
    ("FastMCP JWTVerifier jwks_uri, first-seen", "FastMCPTokenVerifier, first-seen", 2.3),
    ("FastMCP JWTVerifier, first-seen", "MCPTokenVerifier, first-seen", 2.3),
    ("FastMCP JWTVerifier jwks_uri, first-seen", "MCPTokenVerifier, first-seen", 2.3),
    ("PyJWT TokenVerifier, first-seen", "MCPTokenVerifier, first-seen", 2.0),
)


def server_medians(benchmarks: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Row name -> median seconds of ``test_server.py``'s benchmarks."""
    return {str(bench["extra_info"]["row"]): float(bench["stats"]["median"]) for bench in benchmarks
            if bench.get("extra_info", {}).get("kind") == "server"}


def _us(seconds: float | None) -> str:
    return DASH if seconds is None else f"{seconds * 1e6:,.2f} µs"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def overheads(medians: Mapping[str, float]) -> list[tuple[str, float, float | None]]:
    """(what, overhead in seconds, budget in µs) for every overhead whose rows ran."""
    found = []
    for what, row, minus, budget in OVERHEADS:
        if row in medians and all(each in medians for each in minus):
            found.append((what, medians[row] - sum(medians[each] for each in minus), budget))
    return found


def server_section(data: Mapping[str, Any], profile: Path) -> str:
    """The Markdown section; empty when the run has no server rows."""
    medians = server_medians(data.get("benchmarks", []))
    if not medians:
        return ""
    info = data.get("machine_info", {})
    from test_frameworks import ROWS as FRAMEWORK_ROWS  # the rows and what each is, in order
    from test_server import ROWS

    rows = [[name, what, _us(medians.get(name))] for name, what in (*ROWS, *FRAMEWORK_ROWS)
            if name in medians]
    budget_rows = []
    for what, seconds, budget in overheads(medians):
        verdict = DASH if budget is None else ("within" if seconds * 1e6 <= budget else "**over**")
        budget_rows.append([what, _us(seconds), DASH if budget is None else f"≤ {budget:g} µs", verdict])
    peer_rows = [[name.removesuffix(", first-seen"), _us(medians[name]), ours.removesuffix(", first-seen"),
                  _us(medians[ours]), f"**{medians[name] / medians[ours]:.2f}x**", f"≥ {goal:g}x"]
                 for name, ours, goal in PEERS if name in medians and ours in medians]
    run = data.get("server_run")
    if run:  # merged by merge_server.py: these rows come from a run of their own
        info = run
        source = ("These rows come from a run of `test_server.py` and `test_frameworks.py` alone, "
                  f"side by side ({run.get('datetime')}, commit {str(run.get('commit'))[:12]}"
                  f"{' with changes' if run.get('dirty') else ''}), merged into the full run above by "
                  "`merge_server.py`.")
    else:
        source = "These rows come from the same run as the sections above."
    parts = [
        "## Server hot path: a protected request per face (RS256-2048, 10-key set)",
        "",
        source,
        "",
        "Medians in µs on this machine only "
        f"({info.get('cpu_model', 'unknown CPU')}, {info.get('python', 'unknown Python')}); the budgets of",
        "issues 14 and 16 are in µs. *Repeated*: `cache_size=1024` and the same token every time (an",
        "agent's token on every tool call); the per-token view (`VerifiedToken`, the SDK's or FastMCP's",
        "`AccessToken`) is reused.",
        "*First-seen*: the cache off, so every call verifies the signature and builds the views. Requests",
        "are driven in process (no socket, no event loop: an ASGI call that awaits nothing real completes",
        "on its first step), so the rows are what each face adds, not a server's throughput.",
        "",
        _table(["row", "what", "median"], rows),
        "",
        "### What each face adds, against the budgets",
        "",
        "Overhead = the row minus the bare app (repeated) and minus the core's verify of the same token",
        "(first-seen); for FastAPI, minus the same endpoint behind an empty `Security` dependency",
        "(repeated) or behind one that awaits `verify_async` itself (first-seen). The refusal rows show",
        "that a refused request costs about what an accepted one does. A first-seen row is about 20 µs,",
        "timed a minute apart from the core's row it is set against: on this shared machine their",
        "difference drifts by up to about 1 µs from run to run, so judge those budgets by the table",
        "timed in turns further down.",
        "",
        _table(["overhead", "median", "budget", ""], budget_rows),
        "",
        "Inside a FastAPI request every step runs colder than alone: the ASGI middleware adds about",
        "2.2 µs to the bare ASGI app but about 5 µs to the FastAPI app (the *for scale* row). The",
        "baseline of the FastAPI first-seen row is the least a dependency can do (the `by hand` row",
        "reads the header and awaits `verify_async`); `BearerAuth`'s own steps on a first-seen token",
        "take about 1 µs alone, the rest of what it adds is FastAPI and those steps running colder",
        "after an RSA verify (the profile below).",
    ]
    if peer_rows:
        parts += [
            "",
            "### Peers, first-seen token: what users write today for an MCP server",
            "",
            "Each peer's median ÷ our adapter's `verify_token` (same token and key set; FastMCP's",
            "`JWTVerifier` against `FastMCPTokenVerifier`, both returning FastMCP's `AccessToken`, and",
            "against `MCPTokenVerifier`, which returns the SDK's). FastMCP's `JWTVerifier` has no token",
            "cache, so for it every token is first-seen.",
            "",
            _table(["peer", "median", "ours", "median", "peer ÷ ours", "goal"], peer_rows),
        ]
    if profile.exists():
        parts += ["", profile_markdown(json.loads(profile.read_text())).rstrip()]
    return "\n".join(parts)


def profile_markdown(profile: Mapping[str, Any]) -> str:
    """The tables ``server_profile.py`` measured: each stage of a request, in µs."""
    parts = []
    if profile.get("overheads"):
        rows = [[each["what"], _us(each["seconds"]),
                 _us(each["fastest"]) if "fastest" in each else DASH,
                 DASH if each["budget"] is None else f"≤ {each['budget']:g} µs",
                 DASH if each["budget"] is None else
                 ("within" if each["seconds"] * 1e6 <= each["budget"] else "**over**")]
                for each in profile["overheads"]]
        parts += ["### The same overheads, timed in turns", "",
                  "`server_profile.py` times every row involved once per round, in turn (21 rounds), and",
                  "takes each overhead as the row minus its baselines in the same round, so that the drift",
                  "of the shared machine between two rows timed a minute apart does not land in their",
                  "difference (on first-seen rows it can be as large as the overhead itself). The budgets",
                  "are judged by the median over the rounds; beside it, each row's fastest round minus its",
                  "baselines' fastest rounds.", "",
                  _table(["overhead", "median of the rounds", "fastest rounds", "budget", ""], rows), ""]
    parts += ["### Where the time goes", "", str(profile.get("note", "")), ""]
    for path in profile.get("paths", []):
        rows = [[stage["stage"], _us(stage["seconds"]), f"{stage['share']:.0%}"] for stage in path["stages"]]
        parts += [f"**{path['title']}** (sum of stages {_us(path['total'])}; measured whole: "
                  f"{_us(path['whole'])})", "", _table(["stage", "µs", "share"], rows), ""]
    return "\n".join(parts)


def write_server_chart(medians: Mapping[str, float], path: Path) -> Path | None:
    """Bars of each face's overhead against its budget (PNG); ``None`` without matplotlib."""
    found = [(what, seconds * 1e6, budget) for what, seconds, budget in overheads(medians)]
    if not found:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(11, 0.55 * len(found) + 1.2))
    labels = [what for what, _, _ in found][::-1]
    values = [value for _, value, _ in found][::-1]
    budgets = [budget for _, _, budget in found][::-1]
    colours = ["#1b7837" if budget is None or value <= budget else "#b2182b"
               for value, budget in zip(values, budgets, strict=True)]
    ax.barh(range(len(found)), values, color=colours)
    for index, budget in enumerate(budgets):
        if budget is not None:
            ax.plot([budget, budget], [index - 0.4, index + 0.4], color="black", linewidth=1.5)
    for index, value in enumerate(values):
        ax.text(value, index, f" {value:.2f}", va="center", fontsize=9)
    ax.set_yticks(range(len(found)), labels, fontsize=9)
    ax.set_xlabel("µs added per request (median); black tick = the issue's budget")
    ax.set_title("Server hot path: what each face adds (RS256-2048)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    path = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
