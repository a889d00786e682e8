"""The package as a whole: public surface, vendoring, nothing at import time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import jwkverify

PACKAGE = Path(jwkverify.__file__).parent


def test_public_surface_is_explicit() -> None:
    assert sorted(jwkverify.__all__) == sorted(set(jwkverify.__all__))
    for name in jwkverify.__all__:
        assert hasattr(jwkverify, name), name
    for error in ("MalformedToken", "UnsupportedAlgorithm", "AlgorithmNotAllowed", "KeyNotFound",
                  "InvalidSignature", "InvalidKey", "InvalidKeySet", "KeySetFetchError",
                  "ClaimError", "ExpiredToken", "NotYetValid", "InvalidIssuer",
                  "InvalidAudience", "MissingClaim"):
        assert issubclass(getattr(jwkverify, error), jwkverify.JOSEError)
    assert (PACKAGE / "py.typed").exists()


def test_import_does_no_crypto_or_network_work() -> None:
    code = ("import sys; before = set(sys.modules); import jwkverify; "
            "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in "
            "('cryptography', 'urllib', 'ssl', 'asyncio', 'socket', 'http')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_vendored_copy_under_another_name_works(tmp_path: Path) -> None:
    target = tmp_path / "myapp" / "_vendor" / "jwk"
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    for parent in (tmp_path / "myapp", tmp_path / "myapp" / "_vendor"):
        (parent / "__init__.py").write_text("")
    tests = Path(__file__).parent
    script = textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(tmp_path)!r}, {str(tests)!r}]
        sys.modules.pop("jwkverify", None)
        from myapp._vendor.jwk import JWKSet, JWTVerifier, JOSEError
        from signing import make_key
        key = make_key("ES256", kid="v")
        verifier = JWTVerifier(JWKSet.from_dict({{"keys": [key.jwk]}}), audience="me")
        assert verifier.verify(key.token({{"aud": "me"}})) == {{"aud": "me"}}
        try:
            verifier.verify(key.token({{"aud": "other"}}))
        except JOSEError as exc:
            print("refused", type(exc).__name__)
        assert not any(m == "jwkverify" or m.startswith("jwkverify.") for m in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "refused InvalidAudience"
