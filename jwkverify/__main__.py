"""Command line: ``python -m jwkverify COMMAND`` (also the ``jwkverify`` console script).

Commands: ``verify``, ``inspect``, ``thumbprint`` and ``demo``; see ``--help``.
"""

from __future__ import annotations

import sys

from ._tools.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
