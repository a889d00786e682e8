"""``jwkverify inspect`` (a token decoded, never verified) and ``jwkverify thumbprint``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

from .._codec.base64url import Base64Error, b64url_decode
from .._codec.strict_json import JSONError, loads_object
from ..errors import JOSEError
from .cli_common import OK, REFUSED, Failure, read_file, read_token

__all__ = ["CONFIRMATIONS", "run_inspect", "run_thumbprint"]

_WARNING = "UNVERIFIED: decoded only; the signature and the claims have NOT been checked."


def _decode(token: str) -> tuple[dict[str, Any], dict[str, Any], int]:
    segments = token.split(".")
    if len(segments) != 3:
        raise Failure(REFUSED, f"a compact JWS has 3 segments, this token has {len(segments)}")
    parts: list[dict[str, Any]] = []
    for name, segment in zip(("header", "payload"), segments, strict=False):
        try:
            parts.append(loads_object(b64url_decode(segment), f"the {name}"))
        except Base64Error as exc:
            raise Failure(REFUSED, f"the {name} segment is {exc}") from exc
        except JSONError as exc:
            raise Failure(REFUSED, str(exc)) from exc
    try:
        signature = b64url_decode(segments[2])
    except Base64Error as exc:
        raise Failure(REFUSED, f"the signature segment is {exc}") from exc
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
CONFIRMATIONS = {
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
    return [{"member": name, "value": value, "meaning": CONFIRMATIONS.get(name, unknown)}
            for name, value in cnf.items()]


def run_inspect(args: argparse.Namespace, out: TextIO) -> int:
    import time

    header, claims, signature_size = _decode(read_token(args.token))
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


def run_thumbprint(args: argparse.Namespace, out: TextIO) -> int:
    from ..jwk import JWK
    from ..keyset import JWKSet

    source: str = args.jwk
    if source == "-":
        text: str | bytes = sys.stdin.read()
    elif source.lstrip().startswith("{"):
        text = source
    else:
        text = read_file(source)
    try:
        document = loads_object(text, "the JWK")
        if "keys" not in document:
            out.write(JWK.from_dict(document).thumbprint(args.hash) + "\n")
            return OK
        keyset = JWKSet.from_dict(document)
    except JOSEError as exc:
        raise Failure(REFUSED, f"{type(exc).__name__}: {exc}") from exc
    for key in keyset:
        out.write(f"{key.thumbprint(args.hash)}  kid={key.kid if key.kid is not None else '-'}\n")
    for skipped in keyset.skipped:
        print(f"skipped entry {skipped.index} (kid={skipped.kid}): {skipped.reason}", file=sys.stderr)
    return OK if not keyset.skipped else REFUSED
