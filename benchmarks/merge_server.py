"""Put a later run of the server rows into a full run's results, without timing everything again.

    python -m pytest benchmarks/test_server.py benchmarks/test_frameworks.py --benchmark-only \\
        --benchmark-max-time=1 --benchmark-min-rounds=20 --benchmark-json=/tmp/server.json
    python benchmarks/merge_server.py benchmarks/results/latest.json /tmp/server.json

The server rows (``extra_info.kind == "server"``: ``test_server.py`` and
``test_frameworks.py``, timed side by side in one run) of ``full`` are replaced by those of
``server``; every other row stays. The merged file records where the server rows come
from (``server_run``: that run's date, commit and machine), and the report's server
section says so, so no figure is quoted as if it came from a run it did not.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _is_server(bench: dict[str, Any]) -> bool:
    return bool(bench.get("extra_info", {}).get("kind") == "server")


def merge(full: dict[str, Any], server: dict[str, Any]) -> dict[str, Any]:
    """``full`` with its server rows replaced by ``server``'s (which must have some), where they were."""
    rows = [bench for bench in server.get("benchmarks", []) if _is_server(bench)]
    if not rows:
        raise ValueError("the second file has no server rows (test_server.py, test_frameworks.py)")
    benchmarks = full.get("benchmarks", [])
    at = next((index for index, bench in enumerate(benchmarks) if _is_server(bench)), len(benchmarks))
    before = [bench for bench in benchmarks[:at] if not _is_server(bench)]
    after = [bench for bench in benchmarks[at:] if not _is_server(bench)]
    merged = dict(full, benchmarks=before + rows + after)
    machine = server.get("machine_info", {})
    merged["server_run"] = {
        "datetime": server.get("datetime"), "commit": server.get("commit_info", {}).get("id"),
        "dirty": server.get("commit_info", {}).get("dirty"),
        "cpu_model": machine.get("cpu_model"), "python": machine.get("python"),
    }
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("full", type=Path, help="the full run's --benchmark-json file (rewritten)")
    parser.add_argument("server", type=Path, help="a run of test_server.py and test_frameworks.py")
    args = parser.parse_args(argv)
    merged = merge(json.loads(args.full.read_text()), json.loads(args.server.read_text()))
    args.full.write_text(json.dumps(merged, indent=4))  # as pytest-benchmark writes it
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
