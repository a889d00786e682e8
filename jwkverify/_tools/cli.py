"""The command line: ``jwkverify`` / ``python -m jwkverify`` with verify, inspect, thumbprint, demo.

Results go to stdout, everything else to stderr. Exit codes (also in ``--help``):
0 success; 1 the token or key was refused; 2 usage error; 3 the keys could not be
read or fetched.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, TextIO

from .._codec.base64url import Base64Error, b64url_decode
from .._codec.strict_json import JSONError, loads_object
from ..claims import ANY_AUDIENCE
from ..errors import ClaimError, InvalidKeySet, JOSEError, KeySetFetchError

__all__ = ["main"]

OK, REFUSED, USAGE, KEYS_UNAVAILABLE = 0, 1, 2, 3
_PROVIDERS = ("okta", "auth0", "entra", "keycloak", "cognito", "google")

_EXIT_CODES = """exit codes:
  0  success
  1  the token (or key) was refused, or could not be decoded
  2  usage error
  3  the keys could not be read or fetched"""


class _Failure(Exception):
    """Ends a command: ``message`` to stderr, ``code`` as the exit status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


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
            return _verify(args, sys.stdout)
        if command == "inspect":
            return _inspect(args, sys.stdout)
        return _thumbprint(args, sys.stdout)
    except _Failure as failure:
        print(f"{parser.prog} {command}: {failure}", file=sys.stderr)
        return failure.code


# -- verify ----------------------------------------------------------------------


def _read_token(argument: str) -> str:
    text = sys.stdin.read() if argument == "-" else argument
    token = text.strip()
    scheme, _, rest = token.partition(" ")
    if rest and scheme.lower() in ("bearer", "dpop"):  # pasted with its Authorization scheme
        token = rest.strip()
    if not token:
        raise _Failure(USAGE, "no token: pass it as an argument or on stdin")
    return token


def _key_source(args: argparse.Namespace) -> Any:
    from ..jwk import JWK
    from ..keyset import JWKSet
    from ..remote import RemoteJWKSet

    try:
        if args.jwks is None:
            if args.issuer is None:
                raise _Failure(USAGE, "give --jwks FILE|URL, or --issuer URL to discover the keys")
            return RemoteJWKSet.from_issuer(args.issuer, allow_http=args.allow_http, timeout=args.timeout)
        if args.jwks.startswith(("https://", "http://")):
            return RemoteJWKSet(args.jwks, allow_http=args.allow_http, timeout=args.timeout)
    except (TypeError, ValueError) as exc:
        raise _Failure(USAGE, str(exc)) from exc
    text = _read_file(args.jwks)
    try:
        document = loads_object(text, "the key file")
        return JWKSet.from_dict(document) if "keys" in document else JWK.from_dict(document)
    except JOSEError as exc:
        raise _Failure(KEYS_UNAVAILABLE, f"{args.jwks}: {type(exc).__name__}: {exc}") from exc


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(1 << 22)
    except OSError as exc:
        raise _Failure(KEYS_UNAVAILABLE, f"cannot read {path}: {exc.strerror or exc}") from exc


def _verify(args: argparse.Namespace, out: TextIO) -> int:
    from ..jwt import JWTVerifier

    token = _read_token(args.token)
    verifier: Any
    try:
        if args.provider is not None:
            verifier = _preset(args)
        else:
            verifier = JWTVerifier(
                _key_source(args), issuer=args.issuer,
                audience=ANY_AUDIENCE if args.any_audience else args.audience,
                algorithms=args.algorithm, leeway=args.leeway, typ=args.typ, required_claims=args.require,
            )
    except (TypeError, ValueError) as exc:
        raise _Failure(USAGE, str(exc)) from exc
    try:
        claims = verifier.verify(token)
    except (KeySetFetchError, InvalidKeySet) as exc:
        raise _Failure(KEYS_UNAVAILABLE, f"keys unavailable: {_describe(exc)}") from exc
    except JOSEError as exc:
        raise _Failure(REFUSED, f"refused: {_describe(exc)}") from exc
    out.write(json.dumps(claims, indent=2, ensure_ascii=False) + "\n")
    return OK


def _preset(args: argparse.Namespace) -> Any:
    """The verifier of ``--provider`` with its ``--with`` arguments and the shared options."""
    from .. import providers

    if args.jwks is not None or args.issuer is not None:
        raise ValueError("--provider finds the keys and the issuer itself: drop --jwks and --issuer "
                         "(Okta's issuer is --with issuer=...)")
    arguments: dict[str, Any] = {}
    for item in args.preset_args:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise ValueError(f"--with takes NAME=VALUE, not {item!r}")
        arguments[name] = int(value) if name == "version" and value.isdigit() else value
    recipient = "client_id" if args.provider in ("cognito", "google") else "audience"
    arguments[recipient] = ANY_AUDIENCE if args.any_audience else args.audience
    if args.algorithm:
        arguments["algorithms"] = args.algorithm
    try:
        return getattr(providers, args.provider)(
            **arguments, leeway=args.leeway, typ=args.typ, required_claims=args.require,
            allow_http=args.allow_http, timeout=args.timeout)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"--provider {args.provider}: {exc}") from exc


def _describe(exc: JOSEError) -> str:
    details = [f"code={exc.code}"]
    if isinstance(exc, ClaimError):
        details += [f"claim={exc.claim}", f"reason={exc.reason}"]
    return f"{type(exc).__name__} ({', '.join(details)}): {exc}"


# -- inspect ---------------------------------------------------------------------

_WARNING = "UNVERIFIED: decoded only; the signature and the claims have NOT been checked."


def _decode(token: str) -> tuple[dict[str, Any], dict[str, Any], int]:
    segments = token.split(".")
    if len(segments) != 3:
        raise _Failure(REFUSED, f"a compact JWS has 3 segments, this token has {len(segments)}")
    parts: list[dict[str, Any]] = []
    for name, segment in zip(("header", "payload"), segments, strict=False):
        try:
            parts.append(loads_object(b64url_decode(segment), f"the {name}"))
        except Base64Error as exc:
            raise _Failure(REFUSED, f"the {name} segment is {exc}") from exc
        except JSONError as exc:
            raise _Failure(REFUSED, str(exc)) from exc
    try:
        signature = b64url_decode(segments[2])
    except Base64Error as exc:
        raise _Failure(REFUSED, f"the signature segment is {exc}") from exc
    return parts[0], parts[1], len(signature)


def _times(claims: dict[str, Any], now: float) -> dict[str, str]:
    times: dict[str, str] = {}
    for name in ("iat", "nbf", "exp"):
        value = claims.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        try:
            when = datetime.fromtimestamp(value, tz=timezone.utc).isoformat(timespec="seconds")
        except (OverflowError, OSError, ValueError):
            times[name] = f"{value!r} (out of range)"
            continue
        times[name] = f"{when} ({_relative(value - now)})"
    return times


def _relative(delta: float) -> str:
    size = abs(delta)
    for unit, seconds in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if size >= seconds or unit == "s":
            amount = f"{size / seconds:.0f} {unit}"
            return f"in {amount}" if delta > 0 else f"{amount} ago"
    return "now"  # pragma: no cover


#: What each confirmation method of a token's ``cnf`` claim binds it to.
_CONFIRMATIONS = {
    "jkt": "DPoP (RFC 9449): only with a proof signed by the key of this RFC 7638 thumbprint",
    "x5t#S256": "mutual TLS (RFC 8705): only over TLS with the client certificate of this hash",
    "jwk": "proof of possession of this key (RFC 7800)",
    "jku": "proof of possession of a key at this URL (RFC 7800)",
    "kid": "proof of possession of the key with this kid (RFC 7800)",
}


def _confirmation(claims: dict[str, Any]) -> list[dict[str, Any]] | None:
    """What the token is bound to (its ``cnf`` claim, RFC 7800), member by member."""
    if "cnf" not in claims:
        return None
    cnf = claims["cnf"]
    if not isinstance(cnf, dict):
        return [{"member": None, "value": cnf, "meaning": "malformed: cnf must be a JSON object"}]
    unknown = "unknown confirmation method"
    return [{"member": name, "value": value, "meaning": _CONFIRMATIONS.get(name, unknown)}
            for name, value in cnf.items()]


def _inspect(args: argparse.Namespace, out: TextIO) -> int:
    import time

    header, claims, signature_size = _decode(_read_token(args.token))
    times = _times(claims, time.time())
    expired = isinstance(claims.get("exp"), int | float) and claims["exp"] <= time.time()
    bound = _confirmation(claims)
    if args.json:
        document = {"verified": False, "header": header, "claims": claims, "times": times,
                    "signature_bytes": signature_size}
        if bound is not None:
            document["confirmation"] = bound
        out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return OK
    lines = [_WARNING, "", "header:", json.dumps(header, indent=2, ensure_ascii=False), "",
             "claims:", json.dumps(claims, indent=2, ensure_ascii=False), ""]
    if times:
        lines.append("times (UTC):")
        lines += [f"  {name}  {text}" for name, text in times.items()]
        if expired:
            lines.append("  (exp has passed: the token has expired)")
        lines.append("")
    if bound is not None:
        lines.append("bound to (cnf):")
        lines += [f"  {entry['member'] or 'cnf'}  {json.dumps(entry['value'], ensure_ascii=False)}"
                  f"\n    {entry['meaning']}" for entry in bound]
        lines.append("")
    lines.append(f"signature: {signature_size} bytes, not checked")
    out.write("\n".join(lines) + "\n")
    return OK


# -- thumbprint ------------------------------------------------------------------


def _thumbprint(args: argparse.Namespace, out: TextIO) -> int:
    from ..jwk import JWK
    from ..keyset import JWKSet

    source: str = args.jwk
    if source == "-":
        text: str | bytes = sys.stdin.read()
    elif source.lstrip().startswith("{"):
        text = source
    else:
        text = _read_file(source)
    try:
        document = loads_object(text, "the JWK")
        if "keys" not in document:
            out.write(JWK.from_dict(document).thumbprint(args.hash) + "\n")
            return OK
        keyset = JWKSet.from_dict(document)
    except JOSEError as exc:
        raise _Failure(REFUSED, f"{type(exc).__name__}: {exc}") from exc
    for key in keyset:
        out.write(f"{key.thumbprint(args.hash)}  kid={key.kid if key.kid is not None else '-'}\n")
    for skipped in keyset.skipped:
        print(f"skipped entry {skipped.index} (kid={skipped.kid}): {skipped.reason}", file=sys.stderr)
    return OK if not keyset.skipped else REFUSED
