"""Command line: ``python -m jwkverify demo`` runs the newcomer demo."""

from __future__ import annotations

import argparse
import sys

from ._demo import run_demo

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m jwkverify",
        description="jwkverify: strict, fast verification of JWTs against JWK sets.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="verify good and bad tokens against an embedded key set")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command named in ``argv``; the exit status is returned, not raised.

    Returns 0 on success, 1 when the demo saw a mismatch, 2 for a usage error.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on bad usage (2)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command == "demo":
        return run_demo(sys.stdout)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
