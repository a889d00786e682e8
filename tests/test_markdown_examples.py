"""The examples of README.md and docs/: which files run, and what the skip markers do."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_examples import ROOT, MarkedPythonBlocks, collects, missing_from_extra
from sybil import Sybil
from sybil.example import SybilFailure

FENCE = "```"


def _examples(tmp_path: Path, markdown: str, extras: str = "") -> list:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f'[project]\nname = "demo"\n[project.optional-dependencies]\n{extras}\n')
    page = tmp_path / "page.md"
    page.write_text(markdown)
    sybil = Sybil(parsers=[MarkedPythonBlocks(pyproject)], patterns=["*.md"], path=str(tmp_path))
    document = sybil.parse(page)
    document.namespace["cleanup"] = None
    return list(document.examples())


def _block(code: str, language: str = "python") -> str:
    return f"{FENCE}{language}\n{code}\n{FENCE}\n"


def test_python_blocks_run_in_order_in_one_namespace(tmp_path: Path) -> None:
    first, second = _examples(tmp_path, "# Page\n\n" + _block("x = 20") + "\ntext\n\n"
                              + _block("y = x + 22") + _block("echo not run", "sh"))
    first.evaluate()
    second.evaluate()
    assert first.namespace["y"] == 42


def test_a_failing_block_fails(tmp_path: Path) -> None:
    (example,) = _examples(tmp_path, _block("assert 1 + 1 == 3, 'arithmetic'"))
    with pytest.raises(AssertionError, match="arithmetic"):
        example.evaluate()


def test_not_runnable_skips_with_its_reason(tmp_path: Path) -> None:
    (example, after) = _examples(
        tmp_path, "<!-- not-runnable: needs a real Entra tenant -->\n" + _block("raise SystemExit(1)")
        + "\n" + _block("ran = True"))
    with pytest.raises(pytest.skip.Exception, match=r"^not runnable: needs a real Entra tenant$"):
        example.evaluate()
    after.evaluate()  # the marker covers one block only
    assert after.namespace["ran"] is True


def test_a_marker_covers_every_example_of_a_doctest_block(tmp_path: Path) -> None:
    examples = _examples(tmp_path, "<!-- not-runnable: shows a session -->\n"
                         + _block(">>> 1 + 1\n3\n>>> print('x')\ny") + _block(">>> 2 * 3\n6"))
    assert len(examples) == 3
    for example in examples[:2]:
        with pytest.raises(pytest.skip.Exception, match="shows a session"):
            example.evaluate()
    examples[2].evaluate()


def test_a_doctest_block_compares_its_output(tmp_path: Path) -> None:
    passing, failing = _examples(tmp_path, _block(">>> print('a long line')\na ... line")
                                 + _block(">>> 1 + 1\n3"))
    passing.evaluate()
    with pytest.raises(SybilFailure, match="Expected:"):
        failing.evaluate()


def test_not_runnable_needs_a_reason(tmp_path: Path) -> None:
    (example,) = _examples(tmp_path, "<!-- not-runnable: -->\n" + _block("x = 1"))
    with pytest.raises(SybilFailure, match="must say why"):
        example.evaluate()


@pytest.mark.parametrize("markdown", [
    "<!-- not-runnable: a shell block never runs anyway -->\n" + _block("ls", "sh"),
    "<!-- not-runnable: nothing follows -->\n\nJust prose.\n",
    "<!-- requires: asgi-test -->\nprose in between\n\n" + _block("x = 1"),
])
def test_a_marker_not_before_a_python_block_fails(tmp_path: Path, markdown: str) -> None:
    examples = _examples(tmp_path, markdown)
    stray = [example for example in examples if getattr(example.region.evaluator, "__name__", "") == "_stray"]
    assert len(stray) == 1
    with pytest.raises(SybilFailure, match=r"not on the line right before a ```python block"):
        stray[0].evaluate()


def test_requires_skips_with_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWKVERIFY_REQUIRE_INTEROP", raising=False)
    (example,) = _examples(tmp_path, "<!-- requires: web-test -->\n" + _block("ran = True"),
                           'web-test = ["no-such-distribution-jwkverify>=1"]')
    expected = r'needs no-such-distribution-jwkverify>=1: pip install -e "\.\[web-test\]"'
    with pytest.raises(pytest.skip.Exception, match=expected):
        example.evaluate()
    assert "ran" not in example.namespace


def test_requires_fails_in_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWKVERIFY_REQUIRE_INTEROP", "1")
    (example,) = _examples(tmp_path, "<!-- requires: web-test -->\n" + _block("ran = True"),
                           'web-test = ["no-such-distribution-jwkverify"]')
    with pytest.raises(SybilFailure, match="JWKVERIFY_REQUIRE_INTEROP=1 makes this a failure"):
        example.evaluate()


def test_requires_runs_the_block_when_installed(tmp_path: Path) -> None:
    # pytest is installed wherever this runs; an extra may name another of the project's extras.
    (example,) = _examples(tmp_path, "<!-- requires: outer -->\n" + _block("ran = True"),
                           'inner = ["pytest>=1"]\nouter = ["demo[inner]"]')
    example.evaluate()
    assert example.namespace["ran"] is True


def test_requires_an_extra_that_exists(tmp_path: Path) -> None:
    (example,) = _examples(tmp_path, "<!-- requires: nothing-test -->\n" + _block("x = 1"),
                           'web-test = ["pytest"]')
    with pytest.raises(SybilFailure, match=r"pyproject\.toml has no extra 'nothing-test'"):
        example.evaluate()


def test_the_project_extras_resolve() -> None:
    # mcp-test names jwkverify[asgi-test]: both extras' distributions are looked for.
    missing = missing_from_extra("mcp-test")
    assert all(isinstance(name, str) for name in missing)
    with pytest.raises(LookupError):
        missing_from_extra("no-such-extra")


def test_which_files_run() -> None:
    assert collects(ROOT / "README.md")
    assert collects(ROOT / "docs" / "index.md")
    assert collects(ROOT / "docs" / "frameworks" / "asgi.md")
    assert collects(ROOT / "docs" / "a" / "new" / "page.md")  # any page added later
    assert not collects(ROOT / "benchmarks" / "README.md")
    assert not collects(ROOT / "CONTRIBUTING.md")
    assert not collects(ROOT / "docs" / "chart.png")
