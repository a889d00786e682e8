"""``jwkverify verify``: a token checked against a key file, a JWK Set URL, an issuer or a provider preset."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from .._codec.strict_json import loads_object
from ..claims import ANY_AUDIENCE
from ..errors import ClaimError, InvalidKeySet, JOSEError, KeySetFetchError
from .cli_common import KEYS_UNAVAILABLE, OK, REFUSED, USAGE, Failure, read_file, read_token

__all__ = ["describe", "run_verify"]


def _key_source(args: argparse.Namespace) -> Any:
    from ..jwk import JWK
    from ..keyset import JWKSet
    from ..remote import RemoteJWKSet

    try:
        if args.jwks is None:
            if args.issuer is None:
                raise Failure(USAGE, "give --jwks FILE|URL, or --issuer URL to discover the keys")
            return RemoteJWKSet.from_issuer(args.issuer, allow_http=args.allow_http, timeout=args.timeout)
        if args.jwks.startswith(("https://", "http://")):
            return RemoteJWKSet(args.jwks, allow_http=args.allow_http, timeout=args.timeout)
    except (TypeError, ValueError) as exc:
        raise Failure(USAGE, str(exc)) from exc
    text = read_file(args.jwks)
    try:
        document = loads_object(text, "the key file")
        return JWKSet.from_dict(document) if "keys" in document else JWK.from_dict(document)
    except JOSEError as exc:
        raise Failure(KEYS_UNAVAILABLE, f"{args.jwks}: {type(exc).__name__}: {exc}") from exc


def run_verify(args: argparse.Namespace, out: TextIO) -> int:
    from ..jwt import JWTVerifier

    token = read_token(args.token)
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
        raise Failure(USAGE, str(exc)) from exc
    try:
        claims = verifier.verify(token)
    except (KeySetFetchError, InvalidKeySet) as exc:
        raise Failure(KEYS_UNAVAILABLE, f"keys unavailable: {describe(exc)}") from exc
    except JOSEError as exc:
        raise Failure(REFUSED, f"refused: {describe(exc)}") from exc
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


def describe(exc: JOSEError) -> str:
    details = [f"code={exc.code}"]
    if isinstance(exc, ClaimError):
        details += [f"claim={exc.claim}", f"reason={exc.reason}"]
    return f"{type(exc).__name__} ({', '.join(details)}): {exc}"
