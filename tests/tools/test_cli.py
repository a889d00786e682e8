"""The command line: verify, inspect, thumbprint; --help everywhere, errors on stderr, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from jwks_server import JWKSServer, Reply
from signing import make_key

from jwkverify._tools.cli import main

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://issuer.test"
KEY = make_key("ES256", kid="k1")
def now() -> int:
    """The time a token is made at: the CLI runs in real time, long after collection."""
    return int(time.time())


def token(**changes: Any) -> str:
    claims = {"iss": ISSUER, "aud": "api", "sub": "alice", "iat": now(), "exp": now() + 600}
    claims.update(changes)
    return str(KEY.token({k: v for k, v in claims.items() if v is not None}))


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jwkverify", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=60, check=False)


@pytest.fixture
def jwks_file(tmp_path: Path) -> str:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [KEY.jwk]}))
    return str(path)


# -- verify ------------------------------------------------------------------------------------


def test_verify_prints_the_claims_as_json(jwks_file: str) -> None:
    result = run("verify", token(), "--jwks", jwks_file, "--issuer", ISSUER, "--audience", "api")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sub"] == "alice"
    assert result.stderr == ""


def test_verify_reads_the_token_from_stdin_with_or_without_bearer(jwks_file: str) -> None:
    for text in (token() + "\n", f"Bearer {token()}\n"):
        result = run("verify", "--jwks", jwks_file, "--any-audience", stdin=text)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["aud"] == "api"


def test_a_refused_token_exits_1_with_class_claim_and_reason_on_stderr(jwks_file: str) -> None:
    result = run("verify", token(exp=now() - 3600), "--jwks", jwks_file, "--audience", "api")
    assert result.returncode == 1
    assert result.stdout == ""
    expected = "refused: ExpiredToken (code=expired_token, claim=exp, reason=expired): the token expired"
    assert expected in result.stderr
    wrong = run("verify", token(), "--jwks", jwks_file, "--audience", "other")
    assert wrong.returncode == 1 and "InvalidAudience" in wrong.stderr
    issuer = run("verify", token(), "--jwks", jwks_file, "--audience", "api", "--issuer", "https://x.test")
    assert issuer.returncode == 1
    assert "InvalidIssuer (code=invalid_issuer, claim=iss, reason=mismatch)" in issuer.stderr
    impostor = make_key("ES256", kid="k1").token({"aud": "api"})
    forged = run("verify", impostor, "--jwks", jwks_file, "--any-audience")
    assert forged.returncode == 1 and "InvalidSignature" in forged.stderr


def test_verify_options_algorithm_typ_require(jwks_file: str) -> None:
    refused = run("verify", token(), "--jwks", jwks_file, "--any-audience", "--algorithm", "RS256")
    assert refused.returncode == 1 and "AlgorithmNotAllowed" in refused.stderr
    typ = run("verify", token(), "--jwks", jwks_file, "--any-audience", "--typ", "at+jwt")
    assert typ.returncode == 1 and "claim=typ" in typ.stderr
    required = run("verify", token(), "--jwks", jwks_file, "--any-audience", "--require", "jti")
    assert required.returncode == 1 and "MissingClaim" in required.stderr
    leeway = run("verify", token(exp=now() - 5), "--jwks", jwks_file, "--any-audience", "--leeway", "60")
    assert leeway.returncode == 0, leeway.stderr


def test_verify_with_one_jwk_file(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(KEY.jwk))
    assert run("verify", token(), "--jwks", str(path), "--audience", "api").returncode == 0


def test_verify_against_a_jwks_url_and_by_issuer_discovery() -> None:
    server = JWKSServer()
    try:
        issuer = server.url("")
        discovery = json.dumps({"issuer": issuer, "jwks_uri": server.url("/jwks")}).encode()
        keys = json.dumps({"keys": [KEY.jwk]}).encode()
        server.respond = lambda request: Reply(200, discovery if "openid" in request.path else keys)
        by_url = run("verify", token(), "--jwks", server.url("/jwks"), "--allow-http", "--audience", "api")
        assert by_url.returncode == 0, by_url.stderr
        discovered = run("verify", token(iss=issuer), "--issuer", issuer, "--allow-http", "--audience", "api")
        assert discovered.returncode == 0, discovered.stderr
        assert json.loads(discovered.stdout)["iss"] == issuer
    finally:
        server.close()


def test_verify_with_a_provider_preset() -> None:
    server = JWKSServer()
    try:
        rsa = make_key("RS256", kid="r1")
        server.respond = lambda request: Reply(200, json.dumps({"keys": [rsa.jwk]}).encode())
        issuer = server.url("/oauth2/default")
        claims = {"iss": issuer, "aud": "api://default", "cid": "0oa1", "scp": ["a"], "iat": now(),
                  "exp": now() + 600}
        accepted = run("verify", rsa.token(claims), "--provider", "okta", "--with", f"issuer={issuer}",
                       "--audience", "api://default", "--allow-http")
        assert accepted.returncode == 0, accepted.stderr
        assert json.loads(accepted.stdout)["cid"] == "0oa1"
        assert [request.path for request in server.requests] == ["/oauth2/default/v1/keys"]
        no_cid = run("verify", rsa.token({**claims, "cid": None}), "--provider", "okta", "--with",
                     f"issuer={issuer}", "--audience", "api://default", "--allow-http")
        assert no_cid.returncode == 1 and "MissingClaim (code=missing_claim, claim=cid" in no_cid.stderr
    finally:
        server.close()


@pytest.mark.parametrize(("args", "message"), [
    (["--provider", "okta", "--with", "issuer=https://dev.okta.com"], "org authorization server"),
    (["--provider", "entra", "--with", "tenant=organizations"], "allowed_tenants"),
    (["--provider", "entra", "--with", "tenant"], "NAME=VALUE"),
    (["--provider", "okta", "--issuer", "https://dev.okta.com/oauth2/default"], "drop --jwks and --issuer"),
    (["--provider", "cognito", "--with", "region=eu-west-1"], "user_pool_id"),
    (["--provider", "nobody"], "invalid choice"),
])
def test_provider_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = run("verify", "x.y.z", "--audience", "6e74172b-be56-4843-9ff4-e66a39bb12e3", *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_keys_that_cannot_be_had_exit_3(tmp_path: Path) -> None:
    missing = run("verify", token(), "--jwks", str(tmp_path / "nope.json"), "--audience", "api")
    assert missing.returncode == 3 and "cannot read" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"keys": 1}')
    assert run("verify", token(), "--jwks", str(bad), "--audience", "api").returncode == 3
    server = JWKSServer()
    try:
        server.respond = lambda request: Reply(500)
        down = run("verify", token(), "--jwks", server.url(), "--allow-http", "--audience", "api",
                   "--timeout", "2")
        assert down.returncode == 3 and "keys unavailable: KeySetFetchError" in down.stderr
    finally:
        server.close()


@pytest.mark.parametrize("args", [
    ["verify", "x.y.z", "--jwks", "k.json"],                                  # no --audience / --any-audience
    ["verify", "x.y.z", "--audience", "a"],                                   # no keys
    ["verify", "x.y.z", "--jwks", "k.json", "--audience", "a", "--any-audience"],
    ["verify", "x.y.z", "--jwks", "http://example.test/jwks", "--audience", "a"],  # http without --allow-http
    ["verify", "x.y.z", "--jwks", "k.json", "--audience", "a", "--algorithm", "none"],
    ["verify", "--jwks", "k.json", "--audience", "a"],                        # empty stdin
])
def test_usage_errors_exit_2(args: list[str], jwks_file: str) -> None:
    args = [jwks_file if arg == "k.json" else arg for arg in args]
    result = run(*args, stdin="")
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and result.stderr


# -- inspect -----------------------------------------------------------------------------------


def test_inspect_shows_header_and_claims_marked_unverified_with_readable_times() -> None:
    result = run("inspect", token(iat=0, exp=1_700_000_000))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("UNVERIFIED: ")
    assert '"alg": "ES256"' in out and '"kid": "k1"' in out and '"sub": "alice"' in out
    assert "iat  1970-01-01T00:00:00+00:00 (" in out and " ago)" in out
    assert "exp  2023-11-14T22:13:20+00:00" in out and "the token has expired" in out


def test_inspect_json_and_a_token_that_would_never_verify() -> None:
    none_token = token().split(".")
    unsigned = f"{none_token[0]}.{none_token[1]}."
    result = run("inspect", "--json", stdin=unsigned)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["verified"] is False and document["claims"]["sub"] == "alice"
    assert document["signature_bytes"] == 0 and "exp" in document["times"]


def test_inspect_shows_what_a_token_is_bound_to(capsys: pytest.CaptureFixture[str]) -> None:
    jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"  # RFC 9449 §6.1
    bound = token(cnf={"jkt": jkt, "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"})
    assert main(["inspect", f"DPoP {bound}"]) == 0  # pasted with its Authorization scheme
    out = capsys.readouterr().out
    assert "bound to (cnf):" in out and f'jkt  "{jkt}"' in out and "DPoP (RFC 9449)" in out
    assert "mutual TLS (RFC 8705)" in out
    assert main(["inspect", "--json", bound]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["confirmation"][0] == {"member": "jkt", "value": jkt, "meaning": _meaning("jkt")}
    assert main(["inspect", "--json", token(cnf="not an object")]) == 0
    assert "malformed" in json.loads(capsys.readouterr().out)["confirmation"][0]["meaning"]
    assert main(["inspect", "--json", token(cnf={"future": 1})]) == 0
    assert json.loads(capsys.readouterr().out)["confirmation"][0]["meaning"] == "unknown confirmation method"
    assert main(["inspect", "--json", token()]) == 0
    assert "confirmation" not in json.loads(capsys.readouterr().out)
    assert main(["inspect", token()]) == 0 and "bound to" not in capsys.readouterr().out


def _meaning(member: str) -> str:
    from jwkverify._tools.cli_inspect import CONFIRMATIONS as _CONFIRMATIONS

    return _CONFIRMATIONS[member]


@pytest.mark.parametrize("bad", ["abc", "a.b", "!!.e30.", "e30.bm90IGpzb24.", "e30.e30.sig!"])
def test_inspect_undecodable_exits_1(bad: str) -> None:
    result = run("inspect", bad)
    assert result.returncode == 1 and result.stdout == "" and result.stderr


# -- thumbprint --------------------------------------------------------------------------------


def rfc_thumbprints() -> list[dict[str, Any]]:
    document = json.loads((ROOT / "vectors" / "rfc" / "rfc_examples.json").read_text())
    return [case for case in document["thumbprints"] if case.get("hash", "sha256") == "sha256"]


def test_thumbprint_of_the_rfc_7638_example_as_text_file_and_stdin(tmp_path: Path) -> None:
    case = rfc_thumbprints()[0]
    text = json.dumps(case["jwk"])
    assert run("thumbprint", text).stdout.strip() == case["thumbprint"]
    path = tmp_path / "jwk.json"
    path.write_text(text)
    assert run("thumbprint", str(path)).stdout.strip() == case["thumbprint"]
    assert run("thumbprint", "-", stdin=text).stdout.strip() == case["thumbprint"]


def test_thumbprint_of_each_key_in_a_set() -> None:
    other = make_key("EdDSA", kid="k2")
    result = run("thumbprint", json.dumps({"keys": [KEY.jwk, other.jwk]}), "--hash", "sha384")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and lines[0].endswith("  kid=k1") and lines[1].endswith("  kid=k2")
    assert len(lines[0].split()[0]) == 64  # 48 bytes of SHA-384, base64url


def test_thumbprint_of_a_bad_key_exits_1() -> None:
    result = run("thumbprint", '{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}')
    assert result.returncode == 1 and "InvalidKey" in result.stderr


# -- help, exit codes, entry points ------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["verify"], ["inspect"], ["thumbprint"], ["demo"]])
def test_help_on_every_command(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ")
    if command != ["demo"]:
        assert "exit codes:" in out


def test_console_script_is_installed_and_names_itself() -> None:
    script = shutil.which("jwkverify", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("the jwkverify console script is not installed (pip install -e . again)")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and result.stdout.startswith("usage: jwkverify ")
