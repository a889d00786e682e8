"""The code examples of README.md and docs/ as tests (sybil), and the markers that skip one.

Every ```python block of README.md and of each ``.md`` file under ``docs/`` runs, in
order, in one namespace per file: a later block sees what an earlier one defined.
A block that starts with ``>>>`` is a doctest: its output is
compared (``...`` matches anything). Shell and other blocks never run. sybil's invisible blocks
(``<!-- invisible-code-block: python ... -->``) run as well: the set-up a reader need
not see, such as a locally generated key or a loopback key-set server. An HTML
comment on the line right before a block changes whether it runs:

- ``<!-- not-runnable: REASON -->``: never run; pytest reports it skipped, with REASON.
- ``<!-- requires: EXTRA -->``: run only where the distributions of that extra of
  ``pyproject.toml`` are installed (``asgi-test``, ``mcp-test``, ...); elsewhere
  skipped, saying what to install, and a failure when ``JWKVERIFY_REQUIRE_INTEROP=1``
  is set, as in CI.

A marker that is not followed by a ```python block, or a ``not-runnable`` without a
reason, is reported as a failing example. Each file's namespace holds ``__file__`` (the
page's path) and ``cleanup``, a
:class:`contextlib.ExitStack` closed after the file's last example: invisible blocks
register what they start there (``cleanup.callback(server.close)``).
"""

from __future__ import annotations

import contextlib
import doctest
import os
import re
import sys
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown import PythonCodeBlockParser

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

__all__ = [
    "MarkedPythonBlocks",
    "collect_file_hook",
    "collects",
    "examples_of",
    "markdown_sybil",
    "missing_from_extra",
]

ROOT = Path(__file__).resolve().parent.parent

# One marker, alone on its line, then only blank space until the block it applies to.
_MARKER = re.compile(r"<!--[ \t]*(not-runnable|requires)[ \t]*:?([^\n]*?)-->")
_MARKER_BEFORE = re.compile(r"<!--[ \t]*(not-runnable|requires)[ \t]*:?([^\n]*?)-->\s*\Z")


class MarkedPythonBlocks:
    """A sybil parser: the python blocks of a Markdown file, each under the marker before it."""

    def __init__(self, pyproject: Path = ROOT / "pyproject.toml") -> None:
        self._blocks = PythonCodeBlockParser(doctest_optionflags=doctest.ELLIPSIS)
        self._pyproject = pyproject

    def __call__(self, document: Document) -> Iterator[Region]:
        text = document.text
        document.namespace["__file__"] = document.path  # a page may check its own text
        claimed: set[int] = set()
        # A doctest block yields one region per example: each takes the marker of its block.
        blocks = [(block.start, block.end) for block in self._blocks.codeblock_parser(document)]
        for region in self._blocks(document):
            start = next((begin for begin, end in blocks if begin <= region.start < end), region.start)
            marker = _MARKER_BEFORE.search(text, 0, start)
            if marker is not None:
                claimed.add(marker.start())
                region.evaluator = self._marked(marker[1], marker[2].strip(), region.evaluator)
            yield region
        for marker in _MARKER.finditer(text):
            if marker.start() not in claimed:
                yield Region(marker.start(), marker.end(), marker[0], _stray)

    def _marked(self, kind: str, argument: str, run: Any) -> Any:
        if kind == "not-runnable":
            if not argument:
                return _fails("a <!-- not-runnable: REASON --> marker must say why the block cannot run")

            def skip(example: Example) -> None:
                raise _skipped(f"not runnable: {argument}")

            return skip
        pyproject = self._pyproject

        def run_if_installed(example: Example) -> str | None:
            try:
                missing = missing_from_extra(argument, pyproject)
                elsewhere = not_for_this_python(argument, pyproject)
            except LookupError as exc:
                return str(exc)
            if elsewhere:  # e.g. FastMCP 4 on Python 3.10: skipped in CI too, as its tests are
                raise _skipped(f"needs {', '.join(elsewhere)}, which the {argument} extra installs only "
                               f"where its environment marker holds (not on Python {sys.version.split()[0]})")
            if missing:
                message = (f"needs {', '.join(missing)}: pip install -e \".[{argument}]\" "
                           "(CI installs every *-test extra)")
                if os.environ.get("JWKVERIFY_REQUIRE_INTEROP") == "1":
                    return f"{message}; JWKVERIFY_REQUIRE_INTEROP=1 makes this a failure"
                raise _skipped(message)
            result: str | None = run(example)
            return result

        return run_if_installed


def missing_from_extra(extra: str, pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The requirements of ``extra`` (and the extras it names of this project) not installed.

    Raises:
        LookupError: ``pyproject.toml`` declares no such extra.
    """
    return [str(requirement) for requirement in _requirements(extra, str(pyproject))
            if not _installed(requirement)]


def not_for_this_python(extra: str, pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The packages ``extra`` names only under environment markers false here.

    ``"fastmcp>=4; python_version >= '3.11'"`` on Python 3.10: the extra cannot provide
    it, so an example that needs it cannot run here, in CI either. (A package named twice
    under complementary markers, as Django is, is provided either way.)
    """
    provided = {requirement.name for requirement in _requirements(extra, str(pyproject))}
    return sorted({requirement.name for requirement in _excluded(extra, str(pyproject))} - provided)


@cache
def _excluded(extra: str, pyproject: str) -> tuple[Requirement, ...]:
    with open(pyproject, "rb") as file:
        project = tomllib.load(file)["project"]
    found: list[Requirement] = []
    for line in project.get("optional-dependencies", {}).get(extra, ()):
        requirement = Requirement(line)
        if requirement.name == project["name"]:
            for inner in sorted(requirement.extras):
                found += _excluded(inner, pyproject)
        elif requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            found.append(requirement)
    return tuple(found)


@cache
def _requirements(extra: str, pyproject: str) -> tuple[Requirement, ...]:
    with open(pyproject, "rb") as file:
        project = tomllib.load(file)["project"]
    extras = project.get("optional-dependencies", {})
    if extra not in extras:
        raise LookupError(f"<!-- requires: {extra} -->: pyproject.toml has no extra {extra!r} "
                          f"(it has {', '.join(sorted(extras))})")
    found: list[Requirement] = []
    for line in extras[extra]:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue  # e.g. "django>=6; python_version >= '3.12'" on 3.11: not part of it here
        if requirement.name == project["name"]:  # "jwkverify[asgi-test]": that extra's too
            for inner in sorted(requirement.extras):
                found += _requirements(inner, pyproject)
        else:
            found.append(requirement)
    return tuple(found)


def _installed(requirement: Requirement) -> bool:
    try:
        version = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        return False
    return requirement.specifier.contains(version, prereleases=True)


def _skipped(reason: str) -> BaseException:
    """pytest's skip, reported at the page and line of the example rather than here."""
    return pytest.skip.Exception(reason, _use_item_location=True)


def _stray(example: Example) -> str:
    return (f"{example.parsed.strip()} is not on the line right before a ```python block; "
            "move it there, or remove it (only ```python blocks run)")


def _fails(message: str) -> Any:
    def fail(example: Example) -> str:
        return message

    return fail


def _setup(namespace: dict[str, Any]) -> None:
    namespace["cleanup"] = contextlib.ExitStack()


def _teardown(namespace: dict[str, Any]) -> None:
    namespace["cleanup"].close()


def markdown_sybil() -> Sybil:
    """The sybil that collects README.md and every ``.md`` file under ``docs/``."""
    return Sybil(parsers=[MarkedPythonBlocks()], patterns=["*.md"], path=str(ROOT),
                 setup=_setup, teardown=_teardown)


def collects(path: Path) -> bool:
    """Whether ``path`` is one of the Markdown files whose examples run."""
    path = Path(path).resolve()
    return path.suffix == ".md" and (path == ROOT / "README.md" or ROOT / "docs" in path.parents)


def collect_file_hook(sybil: Sybil) -> Any:
    """A ``pytest_collect_file`` hook that hands sybil only the files :func:`collects` names."""
    collect = sybil.pytest()

    def pytest_collect_file(file_path: Path, parent: Any) -> Any:
        return collect(file_path, parent) if collects(file_path) else None

    return pytest_collect_file


def examples_of(path: Path) -> Iterable[Example]:
    """The examples of one Markdown file, for tests of the markers themselves."""
    return markdown_sybil().parse(Path(path)).examples()
