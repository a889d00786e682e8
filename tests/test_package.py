"""The package as a whole: public surface, vendoring, nothing at import time."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from importlib import metadata
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


def test_one_version_source() -> None:
    # pyproject.toml reads jwkverify.__version__ (setuptools' dynamic version): the
    # installed metadata and the attribute agree, and CHANGELOG.md has that release.
    assert metadata.version("jwkverify") == jwkverify.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", jwkverify.__version__)
    changelog = (Path(__file__).parent.parent / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{jwkverify.__version__}]" in changelog


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


# -- vendoring, proved (issue 5) -----------------------------------------------------------------


def test_no_module_imports_the_package_by_its_own_name() -> None:
    """Relative imports only: a vendored copy under another name never reaches for ``jwkverify``."""
    import ast

    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > len(list(PACKAGE.glob("*.py")))  # the private folders are read too
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            assert not any(name == "jwkverify" or name.startswith("jwkverify.") for name in names), (
                f"{module.relative_to(PACKAGE)}:{node.lineno} imports the package by its own name")


def test_the_package_has_no_data_files() -> None:
    files = {path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*")
             if path.is_file() and "__pycache__" not in path.parts}
    assert {name for name in files if not name.endswith(".py")} == {"py.typed"}


_SIDE_EFFECTS = textwrap.dedent("""
    import json, logging, os, signal, socket, sys, threading, warnings
    sys.path[:0] = [{root!r}, {tests!r}]

    def state():
        return {{
            "threads": threading.active_count(), "environ": dict(os.environ), "cwd": os.getcwd(),
            "sys.path": list(sys.path), "meta_path": list(map(repr, sys.meta_path)),
            "path_hooks": list(map(repr, sys.path_hooks)), "warnings": list(map(repr, warnings.filters)),
            "loggers": sorted(logging.Logger.manager.loggerDict), "root handlers": logging.root.handlers[:],
            "signals": [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)],
            "recursion": sys.getrecursionlimit(), "excepthook": sys.excepthook, "socket timeout":
            socket.getdefaulttimeout(), "stdio": (sys.stdout, sys.stderr),
        }}

    # Code may be read from the interpreter's own tree, its site-packages and the app (with its copy).
    readable = tuple({{os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, *sys.path)
                       if os.path.isdir(p)}})
    CODE = (".py", ".pyc", ".so", ".pyd")
    FORBIDDEN = ("socket.", "subprocess.", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork",
                 "os.putenv", "os.unsetenv", "os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.chmod",
                 "os.truncate", "os.kill", "ctypes.", "urllib.Request", "http.client.connect", "shutil.")
    seen = []

    def audit(event, args):
        if event == "open":
            path, mode = os.path.realpath(str(args[0])), args[1]
            if not (path.endswith(CODE) and path.startswith(readable) and mode in ("r", "rb", None)):
                seen.append(f"open {{path}} {{mode}}")
        elif event.startswith(FORBIDDEN):
            seen.append(event)

    def counting(start):  # threads that start and end during the import count too
        def wrapper(*args, **kwargs):
            seen.append("thread started")
            return start(*args, **kwargs)
        return wrapper

    for name in ("_start_new_thread", "_start_joinable_thread"):  # 3.10-3.12, 3.13
        if hasattr(threading, name):
            setattr(threading, name, counting(getattr(threading, name)))
    before = state()
    sys.addaudithook(audit)
    import myapp._vendor.jwk as vendored_package
    changed = sorted(name for name, value in state().items() if value != before[name])
    imported_crypto = sorted(m for m in sys.modules if m.split(".")[0] == "cryptography")

    # Using it still touches nothing but code: keys, a remote set (no fetch), a verification.
    from signing import make_key
    key = make_key("EdDSA", kid="v")
    verifier = vendored_package.JWTVerifier(vendored_package.JWKSet.from_dict({{"keys": [key.jwk]}}))
    assert verifier.verify(key.token({{"sub": "a"}})) == {{"sub": "a"}}
    vendored_package.RemoteJWKSet("https://idp.example/jwks")
    print(json.dumps({{"changed": changed, "crypto at import": imported_crypto, "events": seen,
                      "logger": "myapp._vendor.jwk.remote" in logging.Logger.manager.loggerDict,
                      "original": sorted(m for m in sys.modules if m.split(".")[0] == "jwkverify")}}))
""")


def test_a_vendored_copy_has_no_import_time_side_effects(tmp_path: Path) -> None:
    """Copy the code only (no py.typed: nothing is read at run time) under another name, import
    it in an isolated interpreter under an audit hook: no file but code is opened, no socket,
    process or environment change, no thread, logger, warning filter, signal or path hook is
    added, cryptography is not imported; then it verifies, names its logger after itself, and
    ``jwkverify`` itself is never imported."""
    vendored = tmp_path / "myapp" / "_vendor" / "jwk"
    shutil.copytree(PACKAGE, vendored, ignore=shutil.ignore_patterns("__pycache__", "py.typed"))
    for parent in (tmp_path / "myapp", tmp_path / "myapp" / "_vendor"):
        (parent / "__init__.py").write_text("")
    script = _SIDE_EFFECTS.format(root=str(tmp_path), tests=str(Path(__file__).parent))
    result = subprocess.run([sys.executable, "-I", "-B", "-c", script], capture_output=True, text=True,
                            cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    import json

    found = json.loads(result.stdout)
    assert found == {"changed": [], "crypto at import": [], "events": [], "logger": True, "original": []}
    assert not list(vendored.rglob("__pycache__"))  # nothing was written, bytecode included


def test_import_time_is_small() -> None:
    """``import jwkverify`` costs tens of milliseconds (docs/zero-dependency.md, "Vendoring");
    the bound here is loose enough for a busy CI machine, tight enough to catch crypto or I/O."""
    best = None
    for _ in range(3):
        result = subprocess.run([sys.executable, "-X", "importtime", "-c", "import jwkverify"],
                                capture_output=True, text=True, check=True)
        line = next(line for line in result.stderr.splitlines() if line.rstrip().endswith("| jwkverify"))
        cumulative = int(line.split("|")[1])  # microseconds, the package and what it imports
        best = cumulative if best is None else min(best, cumulative)
    assert best is not None and best < 250_000, f"import jwkverify took {best / 1000:.0f} ms"
