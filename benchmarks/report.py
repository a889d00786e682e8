"""Turn a pytest-benchmark JSON file into Markdown tables of ratios and a chart.

    python benchmarks/report.py benchmarks/results/latest.json > benchmarks/results/latest.md

Ratios only: the machine is shared and noisy, so absolute times are not quoted,
except in the token-cache section (a cache hit and the claims-copy options are
sub-microsecond figures; they are given in ns, with ratios). Every ratio is of
medians. The server section (``report_server.py``) quotes µs, as its budgets do. The
chart goes to ``results/chart.png`` beside this
script (matplotlib), or ``results/chart.svg`` drawn by hand when matplotlib is not
installed; ``--chart PATH`` overrides. A ``concurrency.json`` written by
``concurrency.py`` next to the input file is appended when present.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_columns import COLUMNS, MINIMUM, PEERS, REMOTE
from bench_machine import PACKAGES, machine_facts
from bench_tokens import LABELS
from report_server import server_medians, server_section, write_server_chart

DASH = "—"
Medians = dict[tuple[str, str], float]  # (row, column) -> median seconds


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _medians(benchmarks: Iterable[Mapping[str, Any]], kind: str, row: str) -> Medians:
    out: Medians = {}
    for bench in benchmarks:
        info = bench.get("extra_info", {})
        if info.get("kind") == kind:
            out[(str(info[row]), str(info["column"]))] = float(bench["stats"]["median"])
    return out


def _x(value: float | None) -> str:
    """A ratio with two decimals, or three significant digits when it is very small."""
    if value is None:
        return DASH
    if value >= 100:
        return f"{value:.0f}x"
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.3g}x"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# -- sections -------------------------------------------------------------------------


def machine_section(data: Mapping[str, Any]) -> str:
    info = data.get("machine_info", {})
    facts = machine_facts()  # fallback for a JSON written without conftest's hook
    packages = info.get("packages") or facts["packages"]
    commit = data.get("commit_info", {})
    dirty = " with uncommitted changes" if commit.get("dirty") else ""
    lines = [
        "## Machine",
        "",
        f"- CPU: {info.get('cpu_model') or facts['cpu_model']} "
        f"({info.get('cpu_count') or facts['cpu_count']} logical CPUs)",
        f"- Python: {info.get('python') or facts['python']}",
        f"- Run: {data.get('datetime', 'unknown')}; jwkverify at commit "
        f"{str(commit.get('id', 'unknown'))[:12]}{dirty}",
        "- Packages: " + ", ".join(f"{name} {packages.get(name, '?')}" for name in PACKAGES),
        f"- jwkverify's base64url decoder: {info.get('base64_decoder') or facts['base64_decoder']}",
    ]
    return "\n".join(lines)


def verify_section(medians: Medians) -> tuple[str, dict[str, dict[str, float]]]:
    """The hot-path table: each column's median / the floor's, per algorithm."""
    header = ["algorithm", *COLUMNS, "jwkverify vs fastest peer"]
    rows, ratios = [], {}
    for label in LABELS:
        floor = medians.get((label, "floor"))
        if floor is None:
            continue
        ratios[label] = {c: medians[(label, c)] / floor for c in COLUMNS if (label, c) in medians}
        cells = [label] + [_x(ratios[label].get(c)) for c in COLUMNS]
        ours = medians.get((label, "jwkverify"))
        peers = {p: medians[(label, p)] for p in PEERS if (label, p) in medians}
        if ours is not None and peers:
            best = min(peers, key=peers.__getitem__)
            cells.append(f"**{peers[best] / ours:.2f}x** faster than {best}")
        else:
            cells.append(DASH)
        rows.append(cells)
    if not rows:
        return "", ratios
    text = "\n".join([
        "## Hot path: verify one token against a 10-key set",
        "",
        "Each cell is the column's median time divided by the floor's median time for the same",
        "signature (1.00x = the bare `cryptography`/`hmac` call; lower is better). The last column",
        "is the fastest peer's median divided by jwkverify's (`JWTVerifier.verify`). "
        f"{DASH} = skipped.",
        f"`{REMOTE}` is the same verifier over a fresh `RemoteJWKSet` that fetched this set once",
        "from a local HTTP server before timing (it refuses a set of `oct` keys, so no HS256).",
        f"`{MINIMUM}` is the floor plus stdlib base64 and `json.loads` and four comparisons, nothing",
        "strict: the least a pure-Python verifier returning checked claims can do.",
        "",
        _table(header, rows),
    ])
    return text, ratios


def _fastest_peer(medians: Medians, label: str) -> tuple[str, float] | None:
    peers = {p: medians[(label, p)] for p in PEERS if (label, p) in medians}
    if not peers:
        return None
    best = min(peers, key=peers.__getitem__)
    return best, peers[best]


def summary_section(medians: Medians) -> str:
    """The short hot-path table the top-level README quotes: jwkverify (local and remote
    key set) and the fastest peer, each ÷ the floor, and jwkverify's speed-up."""
    rows = []
    for label in LABELS:
        floor, ours = medians.get((label, "floor")), medians.get((label, "jwkverify"))
        fastest = _fastest_peer(medians, label)
        if floor is None or ours is None or fastest is None:
            continue
        remote, minimum = medians.get((label, REMOTE)), medians.get((label, MINIMUM))
        best, theirs = fastest
        rows.append([label, _x(minimum / floor) if minimum else DASH, _x(ours / floor),
                     _x(remote / floor) if remote else DASH,
                     f"{_x(theirs / floor)} ({best})", f"**{theirs / ours:.2f}x**"])
    if not rows:
        return ""
    return "\n".join([
        "## Summary: hot path",
        "",
        "Median time ÷ the bare `cryptography`/`hmac` call on the same signature (lower is better),",
        "for `JWTVerifier.verify` over a local `JWKSet` (`jwkverify`) and over a fresh `RemoteJWKSet`",
        f"served from 127.0.0.1 (`{REMOTE}`), and for the fastest peer; the last column is that",
        f"peer's median ÷ jwkverify's. {DASH}: `RemoteJWKSet` refuses a fetched set of secret (`oct`) keys.",
        f"`{MINIMUM}` is the floor plus the standard library's base64 and `json.loads` of the payload",
        "and four claim comparisons, with no strictness at all: the least any pure-Python verifier",
        "that returns checked claims does (`minimum_column` in `bench_columns.py`).",
        "",
        _table(["algorithm", f"{MINIMUM} ÷ floor", "jwkverify ÷ floor", f"{REMOTE} ÷ floor",
                "fastest peer ÷ floor", "jwkverify speed-up over it"], rows),
    ])


def _ns(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    ns = seconds * 1e9
    return f"{ns:,.0f} ns" if ns < 10_000 else f"{ns / 1000:,.1f} µs"


def cache_section(data: Mapping[str, Any], verify: Medians) -> str:
    """Verified-token cache: hit (ns and ratios), miss overhead, nested claims, copy options."""
    benchmarks = data.get("benchmarks", [])
    hits = _medians(benchmarks, "cache-hit", "algorithm")
    misses = _medians(benchmarks, "cache-miss", "algorithm")
    nested = _medians(benchmarks, "cache-nested", "algorithm")
    copies = _medians(benchmarks, "claims-copy", "shape")
    if not (hits or misses or nested or copies):
        return ""
    info = data.get("machine_info", {})
    parts = [
        "## Verified-token cache: `JWTVerifier(..., cache_size=1024)`",
        "",
        "Absolute times in this section are medians on this machine only "
        f"({info.get('cpu_model', 'unknown CPU')}, {info.get('python', 'unknown Python')}); "
        "the ratios are what carries over.",
    ]
    rows = []
    for label in LABELS:
        hit = hits.get((label, "hit"))
        if hit is None:
            continue
        ours, floor = verify.get((label, "jwkverify")), verify.get((label, "floor"))
        fastest = _fastest_peer(verify, label)
        rows.append([label, _ns(hit),
                     f"{ours / hit:.0f}x" if ours else DASH,
                     f"{fastest[1] / hit:.0f}x ({fastest[0]})" if fastest else DASH,
                     _x(hit / floor) if floor else DASH])
    if rows:
        parts += [
            "",
            "### Hit: the same token again",
            "",
            "The time checks are re-evaluated and the claims copied on every hit; no signature is",
            "checked. `÷` columns: the uncached `jwkverify` column (cache off) and the fastest peer of",
            "the hot-path table above, each divided by the hit; the last is the hit ÷ the floor.",
            "",
            _table(["algorithm", "hit (median)", "uncached jwkverify ÷ hit", "fastest peer ÷ hit",
                    "hit ÷ floor"], rows),
        ]
    rows = []
    for label in LABELS:
        off, on = misses.get((label, "cache off")), misses.get((label, "cache on"))
        if off and on:
            rows.append([label, "1.00x", _x(on / off), f"{(on / off - 1) * 100:+.0f} %"])
    if rows:
        parts += [
            "",
            "### Miss: a stream of distinct valid tokens",
            "",
            "2,000 pre-signed tokens (same claims, own `jti`) cycled through a cache of 1,024, so every",
            "call misses, verifies, stores and evicts the oldest entry; against the same stream with the",
            "cache off (median ÷ cache off).",
            "",
            _table(["algorithm", "cache off", "cache on, every call a miss", "miss overhead"], rows),
        ]
    flat, deep = nested.get(("RS256-2048", "flat")), nested.get(("RS256-2048", "nested"))
    if flat and deep:
        parts += [
            "",
            "### Hit with nested claims",
            "",
            "The same hit with the flat access-token claims and with two claims more: `roles` (an array",
            "of 5 strings) and an organisation object. Each hit copies nested values so that no caller can",
            "change what the next one gets.",
            "",
            _table(["claims", "hit (median)", "÷ flat"],
                   [["flat (10 claims, strings and numbers)", _ns(flat), "1.00x"],
                    ["nested (+ `roles` array, + object)", _ns(deep), _x(deep / flat)]]),
        ]
    options = [("copy_claims", "a `dict`; nested arrays and objects copied (the library's choice)"),
               ("MappingProxyType", "a read-only view: top level immutable, nested lists and dicts "
                                    "**shared and mutable**; not a `dict` (`json.dumps` refuses it)"),
               ("copy.deepcopy", "a `dict`; everything copied")]
    base = copies.get(("nested", "copy_claims"))
    rows = [[f"`{name}`", _ns(copies.get(("flat", name))), _ns(copies.get(("nested", name))),
             _x(copies[("nested", name)] / base) if base and ("nested", name) in copies else DASH, what]
            for name, what in options if ("flat", name) in copies or ("nested", name) in copies]
    if rows:
        parts += [
            "",
            "### Copy or immutable mapping: handing out cached claims",
            "",
            "Side-by-side micro-benchmark on the claims dict as jwkverify parsed it (flat: the 10",
            "access-token claims; nested: plus the `roles` array and the object).",
            "",
            _table(["option", "flat claims", "nested claims", "nested ÷ copy_claims", "the caller gets"],
                   rows),
        ]
    return "\n".join(parts)


def cold_section(medians: Medians, label: str) -> str:
    """Cold path: each library's median / jwkverify's, per mode."""
    modes = ["load", "load+verify"]
    if not medians:
        return ""
    columns = [c for c in COLUMNS if any(col == c for _, col in medians)]
    rows = []
    for column in columns:
        cells = [column]
        for mode in modes:
            ours, theirs = medians.get((mode, "jwkverify")), medians.get((mode, column))
            cells.append(_x(theirs / ours) if ours and theirs else DASH)
        rows.append(cells)
    return "\n".join([
        f"## Cold path: JWKS JSON text (10 keys, {label}) -> ready verifier",
        "",
        "Each library's median divided by jwkverify's (above 1.00x = slower than jwkverify).",
        "`load` = parse the set and build what the library verifies with; `load+verify` = that",
        "plus the first token (authlib builds its key objects on first use, so `load` flatters it).",
        "",
        _table(["library", *modes], rows),
    ])


def scaling_section(medians: Medians, title: str, what: str) -> str:
    """Per library: median at each set size / its own median at the smallest size."""
    sizes = sorted({int(row) for row, _ in medians})
    if not sizes:
        return ""
    columns = [c for c in COLUMNS if any(col == c for _, col in medians)]
    first, last = sizes[0], sizes[-1]
    rows = []
    for column in columns:
        base = medians.get((str(first), column))
        cells = [column]
        for size in sizes:
            value = medians.get((str(size), column))
            cells.append(_x(value / base) if base and value else DASH)
        ours, theirs = medians.get((str(last), "jwkverify")), medians.get((str(last), column))
        cells.append(_x(theirs / ours) if ours and theirs else DASH)
        rows.append(cells)
    header = ["library", *[f"{s} key{'s' if s > 1 else ''}" for s in sizes], f"÷ jwkverify at {last}"]
    return "\n".join([
        f"## {title}",
        "",
        f"{what} Each cell is the library's median divided by its own median with {first} "
        f"key{'s' if first > 1 else ''}; the last column divides it by jwkverify's at {last} keys.",
        "",
        _table(header, rows),
    ])


def concurrency_section(path: Path) -> str:
    """The table written by concurrency.py (same Markdown), when its JSON is there."""
    if not path.exists():
        return ""
    from concurrency import markdown

    return markdown(_load(path)).rstrip()


# -- chart ----------------------------------------------------------------------------


def write_chart(ratios: Mapping[str, Mapping[str, float]], path: Path) -> Path:
    """Grouped bars of ratio-to-floor per algorithm; PNG by matplotlib, else hand SVG."""
    columns = [c for c in COLUMNS if c != "floor"]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return _write_svg(ratios, columns, path.with_suffix(".svg"))
    labels = list(ratios)
    width = 0.8 / len(columns)
    fig, ax = plt.subplots(figsize=(13, 5.5))
    for index, column in enumerate(columns):
        xs = [i + (index - (len(columns) - 1) / 2) * width for i in range(len(labels))]
        ys = [ratios[label].get(column, 0.0) for label in labels]
        ax.bar(xs, ys, width, label=column, color=_COLOURS[index % len(_COLOURS)])
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    top = max(v for r in ratios.values() for v in r.values())
    ticks = [t for t in (1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100, 200) if t <= top * 1.2]
    ax.set_yticks(ticks, [f"{t:g}x" for t in ticks])
    ax.minorticks_off()
    ax.set_xticks(range(len(labels)), labels)
    ax.tick_params(axis="x", length=0)
    ax.set_ylabel("median time / floor (log scale; lower is better)")
    ax.set_title("JWT verification against a 10-key set, relative to the bare cryptography call")
    ax.legend(ncol=min(len(columns), 5), fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.08),
              frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


#: One per chart column: jwkverify's three in greens, the peers in other hues.
_COLOURS = ["#bababa", "#1b7837", "#5aae61", "#a6dba0", "#762a83", "#af8dc3", "#e08214", "#2166ac",
            "#b2182b", "#878787"]


def _write_svg(ratios: Mapping[str, Mapping[str, float]], columns: list[str], path: Path) -> Path:
    """The same chart without matplotlib: grouped bars on a log scale, drawn by hand."""
    labels = list(ratios)
    top = max((v for r in ratios.values() for c, v in r.items() if c != "floor"), default=2.0) * 1.1
    width, left, base_y, plot_h = 1100, 70, 380, 320
    group_w = (width - left - 20) / max(len(labels), 1)
    bar_w = group_w * 0.8 / len(columns)

    def height_of(value: float) -> float:  # log scale from 1x (the floor) to ``top``
        return plot_h * math.log(max(value, 1.0)) / math.log(top)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{base_y + 70}" '
           'font-family="sans-serif" font-size="11">',
           f'<text x="{width / 2}" y="24" text-anchor="middle" font-size="14">JWT verification against '
           "a 10-key set: median time / floor (log scale; lower is better)</text>"]
    for tick in (1, 1.5, 2, 3, 5, 10, 20, 50, 100, 200):
        if tick > top:
            break
        y = base_y - height_of(tick)
        out.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}x</text>')
    for g, label in enumerate(labels):
        x0 = left + g * group_w + group_w * 0.1
        for i, column in enumerate(columns):
            value = ratios[label].get(column)
            if value is None:
                continue
            h = height_of(value)
            out.append(f'<rect x="{x0 + i * bar_w:.1f}" y="{base_y - h:.1f}" width="{bar_w:.1f}" '
                       f'height="{h:.1f}" fill="{_COLOURS[i % len(_COLOURS)]}"><title>{label} {column}: '
                       f"{value:.2f}x</title></rect>")
        middle = x0 + group_w * 0.4
        out.append(f'<text x="{middle:.1f}" y="{base_y + 16}" text-anchor="middle">{label}</text>')
    for i, column in enumerate(columns):
        x, colour = left + i * 110, _COLOURS[i % len(_COLOURS)]
        out.append(f'<rect x="{x}" y="{base_y + 40}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="{base_y + 49}">{column}</text>')
    out.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")
    return path


# -- main -----------------------------------------------------------------------------


def render(data: Mapping[str, Any], chart: Path | None, concurrency: Path) -> str:
    benchmarks = data.get("benchmarks", [])
    verify_medians = _medians(benchmarks, "verify", "algorithm")
    verify_text, ratios = verify_section(verify_medians)
    sections = [
        "# jwkverify benchmark results",
        "Generated by `benchmarks/report.py` from pytest-benchmark output. Ratios of medians only:\n"
        "the machine is shared and noisy, so absolute times are not quoted, except for the\n"
        "sub-microsecond token-cache figures and the server section, whose budgets are in µs.",
        machine_section(data),
        summary_section(verify_medians),
        verify_text,
        cache_section(data, verify_medians),
        cold_section(_medians(benchmarks, "cold", "mode"), _cold_label(benchmarks)),
        scaling_section(_medians(benchmarks, "scaling", "keys"),
                        "Key-set size: verify (ES256, signing key last)",
                        "Verify one token whose key is the last of the set."),
        scaling_section(_medians(benchmarks, "scaling-load", "keys"),
                        "Key-set size: load (ES256 JWKS text -> ready verifier)",
                        "Parse the set and build its keys (the cold path at each refresh)."),
        concurrency_section(concurrency),
        server_section(data, concurrency.parent / "server_profile.json"),
    ]
    server_chart = (write_server_chart(server_medians(benchmarks), chart.parent / "server.png")
                    if chart is not None else None)
    if server_chart is not None:
        sections.append(f"![what each face adds per request]({server_chart.name})")
    if chart is not None and ratios:
        written = write_chart(ratios, chart)
        sections.append(f"![ratio to floor per algorithm]({written.name})")
    return "\n\n".join(s for s in sections if s) + "\n"


def _cold_label(benchmarks: Iterable[Mapping[str, Any]]) -> str:
    for bench in benchmarks:
        info = bench.get("extra_info", {})
        if info.get("kind") == "cold":
            return str(info["algorithm"])
    return "cold"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json", type=Path, help="a pytest-benchmark --benchmark-json file")
    default_chart = Path(__file__).resolve().parent / "results" / "chart.png"
    parser.add_argument("--chart", type=Path, default=default_chart,
                        help="where to write the chart (.png, or .svg without matplotlib)")
    parser.add_argument("--no-chart", action="store_true", help="write no chart")
    parser.add_argument("--concurrency", type=Path, default=None,
                        help="concurrency.json to append (default: next to the input file)")
    args = parser.parse_args(argv)
    data = _load(args.json)
    concurrency = args.concurrency or args.json.parent / "concurrency.json"
    sys.stdout.write(render(data, None if args.no_chart else args.chart, concurrency))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
