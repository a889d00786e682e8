"""The command line: ``jwkverify`` / ``python -m jwkverify`` with verify, inspect, thumbprint, demo.

Results go to stdout, everything else to stderr. Exit codes (also in ``--help``):
0 success; 1 the token or key was refused; 2 usage error; 3 the keys could not be
read or fetched.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .cli_common import USAGE, Failure
from .cli_inspect import run_inspect, run_thumbprint
from .cli_verify import run_verify

__all__ = ["main"]

_PROVIDERS = ("okta", "auth0", "entra", "keycloak", "cognito", "google")

_EXIT_CODES = """exit codes:
  0  success
  1  the token (or key) was refused, or could not be decoded
  2  usage error
  3  the keys could not be read or fetched"""


def _prog() -> str:
    return "jwkverify" if os.path.basename(sys.argv[0] or "") == "jwkverify" else "python -m jwkverify"


def _parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog=_prog(), formatter_class=formatter, epilog=_EXIT_CODES,
        description="jwkverify: strict, fast verification of JWTs against JWK sets.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    verify = commands.add_parser(
        "verify", help="verify a JWT against a JWK Set and print its claims", formatter_class=formatter,
        epilog=_EXIT_CODES,
        description="Verify a JWT (signature and claims) and print its claims as JSON. The keys come "
                    "from --jwks (a file or URL) or are discovered from --issuer.")
    verify.add_argument("token", nargs="?", default="-", help="the JWT; '-' or nothing: read stdin")
    verify.add_argument("--jwks", metavar="FILE|URL", help="a JWK Set (or one JWK) file, or its URL")
    verify.add_argument("--issuer", metavar="URL",
                        help="the expected 'iss'; without --jwks, keys are found by OIDC discovery")
    audience = verify.add_mutually_exclusive_group(required=True)
    audience.add_argument("--audience", metavar="AUD", action="append", help="an accepted 'aud' (repeatable)")
    audience.add_argument("--any-audience", action="store_true", help="do not check 'aud'")
    verify.add_argument("--algorithm", metavar="ALG", action="append", help="an accepted alg (repeatable)")
    verify.add_argument("--leeway", metavar="SECONDS", type=float, default=0.0, help="clock skew allowed")
    verify.add_argument("--typ", help="the expected header typ, e.g. at+jwt")
    verify.add_argument("--require", metavar="CLAIM", action="append", default=[],
                        help="a claim that must be present (repeatable)")
    verify.add_argument("--provider", choices=_PROVIDERS,
                        help="build the verifier with this provider preset (jwkverify.providers) instead of "
                             "--jwks/--issuer; --audience is the preset's audience (client_id for cognito "
                             "and google)")
    verify.add_argument("--with", dest="preset_args", metavar="NAME=VALUE", action="append", default=[],
                        help="an argument of the preset (repeatable), e.g. tenant=..., version=1, "
                             "base_url=... realm=..., region=... user_pool_id=..., domain=..., issuer=...")
    verify.add_argument("--allow-http", action="store_true", help="allow http:// URLs (local test servers)")
    verify.add_argument("--timeout", metavar="SECONDS", type=float, default=5.0,
                        help="per request (default 5)")

    inspect = commands.add_parser(
        "inspect", help="decode a JWT WITHOUT verifying it", formatter_class=formatter, epilog=_EXIT_CODES,
        description="Print a JWT's header and claims, with exp/nbf/iat as UTC times. Nothing is verified.")
    inspect.add_argument("token", nargs="?", default="-", help="the JWT; '-' or nothing: read stdin")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")

    thumbprint = commands.add_parser(
        "thumbprint", help="RFC 7638 thumbprint of a JWK (or of each key of a JWK Set)",
        formatter_class=formatter, epilog=_EXIT_CODES,
        description="Print the RFC 7638 thumbprint of a JWK given as JSON text, a file or '-' (stdin). "
                    "For a JWK Set, one line per key: thumbprint and kid.")
    thumbprint.add_argument("jwk", metavar="JWK|FILE",
                            help="JWK JSON text, a file with a JWK or JWK Set, or '-'")
    thumbprint.add_argument("--hash", choices=("sha256", "sha384", "sha512"), default="sha256")

    commands.add_parser("demo", help="verify good and bad tokens against an embedded key set",
                        description="Run the newcomer demo: nothing to install or configure.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` (default ``sys.argv[1:]``); return the exit status.

    0 success, 1 refused, 2 usage error, 3 keys unavailable.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on bad usage (2)
        return exc.code if isinstance(exc.code, int) else USAGE
    command = args.command
    if command is None:
        parser.print_help(sys.stderr)
        return USAGE
    try:
        if command == "demo":
            from .demo import run_demo

            return run_demo(sys.stdout)
        if command == "verify":
            return run_verify(args, sys.stdout)
        if command == "inspect":
            return run_inspect(args, sys.stdout)
        return run_thumbprint(args, sys.stdout)
    except Failure as failure:
        print(f"{parser.prog} {command}: {failure}", file=sys.stderr)
        return failure.code
