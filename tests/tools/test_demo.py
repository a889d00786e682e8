"""The newcomer demo: ``python -m jwkverify demo`` and its in-process entry points."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jwkverify import JWTVerifier
from jwkverify.__main__ import main
from jwkverify._tools import demo as _demo
from jwkverify._tools.demo import run_demo

ROOT = Path(__file__).resolve().parents[2]

#: Every refusal the demo shows, by error class name.
REFUSALS = (
    "ExpiredToken",
    "NotYetValid",
    "InvalidIssuer",
    "InvalidAudience",
    "MalformedToken",
    "UnsupportedAlgorithm",
    "AlgorithmNotAllowed",
    "KeyNotFound",
    "InvalidSignature",
)


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jwkverify", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess[str]:
    return run_module("demo")


def test_demo_exits_0_and_says_so(demo: subprocess.CompletedProcess[str]) -> None:
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert demo.stderr == ""
    lines = demo.stdout.splitlines()
    assert lines[0].startswith("jwkverify demo:")
    verdict = next(index for index, line in enumerate(lines) if line.startswith(("OK: ", "FAILED: ")))
    assert lines[verdict].startswith("OK: all 4 good tokens verified and all ")
    # The closing lines: where the verifier goes in a server, FastMCP and FastAPI by name.
    closing = "\n".join(lines[verdict + 1:])
    assert "jwkverify.fastmcp.FastMCPTokenVerifier(verifier" in closing
    assert "jwkverify.fastapi.BearerAuth(verifier" in closing
    assert all(len(line) <= 110 for line in lines[verdict + 1:])
    assert "MISMATCH" not in demo.stdout


def test_demo_accepts_one_good_token_per_algorithm(demo: subprocess.CompletedProcess[str]) -> None:
    for alg in ("RS256", "ES256", "EdDSA"):
        row = next(line for line in demo.stdout.splitlines() if f"good {alg} token" in line)
        assert " accepted " in row
        assert "us per verify" in row


@pytest.mark.parametrize("name", REFUSALS)
def test_demo_shows_each_refusal(demo: subprocess.CompletedProcess[str], name: str) -> None:
    assert f" refused   {name}: " in demo.stdout


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("issuer prefix attack", "InvalidIssuer"),
        ("alg none", "UnsupportedAlgorithm"),
        ("alg confusion (HS256, RSA JWK)", "AlgorithmNotAllowed"),
        ("NaN in exp", "MalformedToken"),
        ("crit header", "MalformedToken"),
        ("embedded jwk (own key)", "InvalidSignature"),
    ],
)
def test_demo_refuses_attacks_for_the_right_reason(
    demo: subprocess.CompletedProcess[str], case: str, reason: str
) -> None:
    row = next(line for line in demo.stdout.splitlines() if line.strip().startswith(case))
    assert f" refused   {reason}: " in row


def test_no_arguments_prints_usage_and_exits_2() -> None:
    result = run_module()
    assert result.returncode == 2
    assert "usage: python -m jwkverify" in result.stderr
    assert "demo" in result.stderr


def test_unknown_command_exits_2() -> None:
    result = run_module("frobnicate")
    assert result.returncode == 2
    assert "usage: python -m jwkverify" in result.stderr


def test_main_returns_2_for_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert "usage:" in capsys.readouterr().err


def test_run_demo_in_process() -> None:
    out = io.StringIO()
    assert run_demo(out) == 0
    assert "OK: all 4 good tokens verified" in out.getvalue()


def test_importing_the_cli_does_not_import_cryptography() -> None:
    code = "import sys, jwkverify.__main__, jwkverify._tools.demo; print('cryptography' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=60, check=True)
    assert result.stdout.strip() == "False"


class _AcceptsEverything:
    """A broken verifier: the demo must notice that bad tokens get through."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def verify(self, token: str) -> dict[str, Any]:
        return {"sub": "anyone"}


def test_run_demo_returns_1_when_a_bad_token_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_demo, "JWTVerifier", _AcceptsEverything)
    monkeypatch.setattr(_demo, "TIMING_ROUNDS", 3)
    out = io.StringIO()
    assert run_demo(out) == 1
    text = out.getvalue()
    assert "MISMATCH 'alg none': a bad token was accepted, not UnsupportedAlgorithm" in text
    assert text.splitlines()[-1] == "FAILED: 16 of 19 expectations did not hold."


def test_run_demo_returns_1_when_a_good_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def other_issuer(key: Any, **options: Any) -> JWTVerifier:
        return JWTVerifier(key, **{**options, "issuer": "https://someone-else.demo"})

    monkeypatch.setattr(_demo, "JWTVerifier", other_issuer)
    out = io.StringIO()
    assert run_demo(out) == 1
    assert "MISMATCH 'good RS256 token': a good token was refused" in out.getvalue()


def test_the_demo_serves_its_key_set_over_http_and_rotates_a_key() -> None:
    out = io.StringIO()
    assert run_demo(out) == 0
    text = out.getvalue()
    assert "served at http://127.0.0.1:" in text
    assert "bare cryptography verify" in text
    rotation = text[text.index("Key rotation"):]
    assert "new key ec-2 (one refetch)" in rotation and "accepted" in rotation
    assert "retired key rsa-1" in rotation and "KeyNotFound" in rotation
