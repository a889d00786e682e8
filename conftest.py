"""The code examples of README.md and of every page under docs/ run as tests.

``testpaths`` in pyproject.toml names README.md and docs/ beside tests/, so the
README's test command (``python -m pytest``) runs them; tests/markdown_examples.py
says how, and which HTML comments skip a block (also in CONTRIBUTING.md).
"""

import sys
from pathlib import Path

# The helper modules in tests/ (signing.py, jwks_server.py, ...) import as plain modules,
# for the examples' invisible set-up blocks as for the tests.
sys.path.insert(0, str(Path(__file__).parent / "tests"))

from markdown_examples import collect_file_hook, markdown_sybil

pytest_collect_file = collect_file_hook(markdown_sybil())
