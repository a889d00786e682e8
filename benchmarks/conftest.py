"""Fixtures and run metadata for the benchmarks (see README.md in this folder).

The project's ``testpaths = ["tests"]`` keeps this folder out of a plain
``python -m pytest``; run it with ``python -m pytest benchmarks/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bench_machine import machine_facts
from bench_server import JWKSServer, jwks_path
from bench_tokens import Case, all_cases


def pytest_configure(config: pytest.Config) -> None:
    # joserfc warns on every EdDSA token (RFC 9864 deprecates the name); filtering
    # only hides the message, the per-call cost of the warning stays measured.
    config.addinivalue_line("filterwarnings", "ignore:EdDSA is deprecated")


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    """Record the CPU model and the versions of jwkverify, cryptography and every peer."""
    machine_info.update(machine_facts())


def pytest_benchmark_update_json(config: pytest.Config, benchmarks: Any, output_json: dict[str, Any]) -> None:
    """Drop the per-round timings from --benchmark-json (tens of MB); the stats stay."""
    for bench in output_json.get("benchmarks", []):
        bench.get("stats", {}).pop("data", None)


@pytest.fixture(scope="session")
def cases() -> dict[str, Case]:
    """One token, tampered token and 10-key set per algorithm, made once per run."""
    return all_cases()


@pytest.fixture(scope="session")
def jwks_server(cases: dict[str, Case]) -> Iterator[JWKSServer]:
    """A real ``ThreadingHTTPServer`` on 127.0.0.1 publishing every case's 10-key set
    (the same JSON text the other columns load); shut down at the end of the session."""
    with JWKSServer() as server:
        for label, case in cases.items():
            server.publish(jwks_path(label), case.jwks_json)
        yield server
