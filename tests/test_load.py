"""The load and fault test, short: uvicorn + Starlette + MCP behind jwkverify, wrk, a failing provider.

Runs ``benchmarks/load.py --short`` (about 45 s): 12 phases of 3 s with 64 connections
and the token mix, through a provider that is down, answers 500, hangs past the
timeout, sends garbage, an oversized body, and a set without the current key. Needs
wrk (Debian: ``apt-get install wrk``) and the ``mcp-test`` extra; it skips without
them, except in CI (``JWKVERIFY_REQUIRE_INTEROP=1``), where it fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# A real server under wrk for ~40 s: .ci/run runs it once, with the README's test command,
# and leaves it out (-m "not load") of the runs on the other Python versions.
pytestmark = pytest.mark.load

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = os.environ.get("JWKVERIFY_REQUIRE_INTEROP") == "1"


def missing() -> str | None:
    if shutil.which("wrk") is None:
        return "needs wrk (Debian: apt-get install wrk)"
    for module in ("uvicorn", "starlette", "mcp"):
        if importlib.util.find_spec(module) is None:
            return f'needs {module}: pip install -e ".[mcp-test]"'
    return None


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    reason = missing()
    if reason is not None:
        if REQUIRED:
            pytest.fail(f"the load test cannot run in CI: {reason}")
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("load")
    command = [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--short", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT,
                          stdin=subprocess.DEVNULL, check=False)  # the report says what failed
    path = out / "load-short.json"
    assert path.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    data: dict[str, Any] = json.loads(path.read_text())
    data["markdown"] = (out / "load-short.md").read_text()
    data["exit"] = done.returncode
    return data


def phase(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(record for record in report["phases"] if record["phase"] == name)


def test_no_wrong_verdict_and_no_500(report: dict[str, Any]) -> None:
    verdict = report["verdict"]
    counts = verdict["wrong"], verdict["errors_500"], verdict["unexpected_503"]
    assert counts == (0, 0, 0), report["markdown"]
    assert report["exit"] == 0
    for record in report["phases"]:
        classes = record["wrk"]["classes"]
        assert sum(per["n"] for per in classes.values()) > 100, record["phase"]  # load really flowed
        assert record["wrk"]["errors"]["timeout"] == 0, record["phase"]


def test_provider_requests_stay_within_what_the_cache_promises(report: dict[str, Any]) -> None:
    assert report["verdict"]["over_bound"] == 0, report["markdown"]
    for record in report["phases"]:
        assert all(count <= record["provider_bound"] for count in record["provider"].values())


def test_a_usable_set_is_served_through_every_fault(report: dict[str, Any]) -> None:
    for name in ("down", "500", "hang", "garbage", "oversized"):
        record = phase(report, name)
        assert [stats["status"] for stats in record["server"]] == ["stale"], name
        valid = record["wrk"]["classes"]["repeated_valid"]
        assert set(valid["status"]) == {"200"}, name
    # The provider hangs past the 1 s timeout; a repeated valid token never waits for it.
    hang = phase(report, "hang")["wrk"]["classes"]["repeated_valid"]
    assert hang["p99_us"] < report["timeout"] * 1e6, report["markdown"]


def test_nothing_usable_means_503_and_a_withdrawn_key_is_refused(report: dict[str, Any]) -> None:
    cold = phase(report, "cold-down")["wrk"]["classes"]
    assert set(cold["repeated_valid"]["status"]) == {"503"}
    assert set(cold["garbage"]["status"]) == {"401"}  # refused before any key is needed
    dropped = phase(report, "drop-current")
    assert [stats["kids"] for stats in dropped["server"]] == [["k3"]]
    assert dropped["wrk"]["classes"]["repeated_valid"]["status"].get("401", 0) > 0
    assert [stats["status"] for stats in phase(report, "recover")["server"]] == ["fresh"]


def test_the_mcp_server_behind_jwkverify_gives_the_same_verdicts(report: dict[str, Any]) -> None:
    for name in ("mcp-steady", "mcp-hang"):
        classes = phase(report, name)["wrk"]["classes"]
        assert set(classes["fresh_valid"]["status"]) == {"200"}
        assert set(classes["forged_signature"]["status"]) == {"401"}
