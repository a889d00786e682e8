"""The newcomer demo behind ``python -m jwkverify demo``.

It needs no identity provider: it generates three keys in memory (RS256, ES256,
EdDSA), publishes their public halves as a JWK Set, mints tokens with its own tiny
signer (``cryptography`` directly, never jwkverify, so the library cannot vouch for
tokens it made itself), and shows which tokens one :class:`JWTVerifier` accepts
and why it refuses the others. ``cryptography`` is imported when the demo runs.
"""

from __future__ import annotations

import base64
import statistics
import sys
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TextIO

from ..errors import JOSEError, KeyNotFound
from ..jwt import JWTVerifier
from ..remote import RemoteJWKSet
from .demo_server import KeySetServer
from .demo_tokens import (
    AUDIENCE,
    ISSUER,
    Case,
    DemoKey,
    claim_cases,
    claims_at,
    ec_key,
    ed25519_key,
    forged_cases,
    good_cases,
    mint,
    rsa_key,
)

__all__ = ["run_demo"]

LEEWAY = 30  # seconds of clock skew the verifier tolerates
TIMING_ROUNDS = 300  # verify calls per good token; the median is shown
_WIDTH = 110  # wrap the detail column to this many characters


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What the verifier did with a case, and the mismatch if it was not expected."""

    case: Case
    result: str
    detail: str
    mismatch: str | None = None


# -- running and reporting ------------------------------------------------------------


def _median_us(call: Callable[[], object]) -> float:
    samples: list[int] = []
    for _ in range(TIMING_ROUNDS):
        start = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def _timing(verifier: JWTVerifier, case: Case) -> str:
    """Median verify time, and the bare cryptography verify of the same signature."""
    library = _median_us(lambda: verifier.verify(case.token))
    text = f"{library:.1f} us per verify"
    floor = case.signer.floor if case.signer is not None else None
    if floor is not None:
        signing_input, _, signature = case.token.rpartition(".")
        raw, data = base64.urlsafe_b64decode(signature + "=="), signing_input.encode()
        bare = _median_us(lambda: floor(raw, data))
        text += f"; bare cryptography verify {bare:.1f} us ({library / bare:.2f}x)"
    return text


def _run_case(verifier: JWTVerifier, case: Case) -> _Outcome:
    try:
        claims = verifier.verify(case.token)
    except JOSEError as exc:
        return _refused(case, exc)
    except Exception as exc:  # every failure should be a JOSEError (house rule 7)
        return _Outcome(case, "CRASHED", f"{type(exc).__name__}: {exc}", "not a JOSEError")
    return _accepted(verifier, case, claims)


def _refused(case: Case, exc: JOSEError) -> _Outcome:
    detail = f"{type(exc).__name__}: {exc}"
    if case.expected is None:
        return _Outcome(case, "REFUSED", detail, "a good token was refused")
    if not isinstance(exc, case.expected):
        return _Outcome(case, "refused", detail, f"refused, but expected {case.expected.__name__}")
    return _Outcome(case, "refused", detail)


def _accepted(verifier: JWTVerifier, case: Case, claims: Mapping[str, Any]) -> _Outcome:
    subject = f"sub={claims.get('sub')!r}"
    if case.expected is not None:
        return _Outcome(case, "ACCEPTED", subject, f"a bad token was accepted, not {case.expected.__name__}")
    return _Outcome(case, "accepted", f"{subject}, {_timing(verifier, case)}")


def _table(outcomes: Sequence[_Outcome]) -> list[str]:
    name_w = max(len("token"), *(len(o.case.name) for o in outcomes))
    alg_w = max(len("alg"), *(len(o.case.alg) for o in outcomes))
    result_w = max(len("result"), *(len(o.result) for o in outcomes))
    indent = name_w + alg_w + result_w + 8
    rows = [("token", "alg", "result", "why / detail"),
            ("-" * name_w, "-" * alg_w, "-" * result_w, "-" * (_WIDTH - indent))]
    rows += [(o.case.name, o.case.alg, o.result, o.detail) for o in outcomes]
    lines = []
    for name, alg, result, detail in rows:
        wrapped = textwrap.wrap(detail, _WIDTH - indent, break_on_hyphens=False) or [""]
        lines.append(f"  {name:<{name_w}}  {alg:<{alg_w}}  {result:<{result_w}}  {wrapped[0]}")
        lines += [" " * indent + more for more in wrapped[1:]]
    return lines


def _rotation(server: KeySetServer, keys: RemoteJWKSet, verifier: JWTVerifier,
              published: list[DemoKey], now: int) -> list[_Outcome]:
    """The issuer rotates: a new key appears, an old one is retired."""
    rsa, ec, ed = published
    new_ec = ec_key("ec-2")
    server.publish([rsa, ec, ed, new_ec])
    before = server.requests
    new_key_token = Case("new key ec-2 (one refetch)", "ES256", mint(new_ec, claims_at("dave", now)),
                          signer=new_ec)
    outcomes = [_run_case(verifier, new_key_token)]
    fetched = server.requests - before
    if fetched != 1 and outcomes[0].mismatch is None:
        outcomes[0] = replace(outcomes[0], mismatch=f"expected one refetch, saw {fetched}")
    server.publish([ec, ed, new_ec])  # rsa-1 retired
    keys.refresh()  # what the end of the set's lifetime (cache_ttl / max-age) does on its own
    retired = Case("retired key rsa-1", "RS256", mint(rsa, claims_at("erin", now)), KeyNotFound)
    return [*outcomes, _run_case(verifier, retired)]


def _intro(url: str, published: Sequence[DemoKey], good: int, bad: int) -> list[str]:
    keys = ", ".join(f"{key.kid} ({key.alg})" for key in published)
    return [
        f"jwkverify demo: {good} good and {bad} bad tokens checked by one JWTVerifier.",
        f"  key set : {keys}, made just now and served at {url}",
        f"  verifier: RemoteJWKSet(url), issuer={ISSUER!r}, audience={AUDIENCE!r}, leeway={LEEWAY}s",
        "",
    ]


def _verdict(outcomes: Sequence[_Outcome], good: int, bad: int) -> list[str]:
    failed = [o for o in outcomes if o.mismatch is not None]
    if not failed:
        return ["", f"OK: all {good} good tokens verified and all {bad} bad tokens were refused, "
                    "each for the expected reason."]
    lines = [""] + [f"MISMATCH {o.case.name!r}: {o.mismatch} ({o.result}: {o.detail})" for o in failed]
    return [*lines, f"FAILED: {len(failed)} of {len(outcomes)} expectations did not hold."]


#: The closing lines when every expectation held: where the same verifier goes in a server.
_IN_A_SERVER = (
    "",
    "In a server, the same verifier guards:",
    '  FastMCP : FastMCP("notes", auth=jwkverify.fastmcp.FastMCPTokenVerifier(verifier, base_url=...))',
    '  FastAPI : Security(jwkverify.fastapi.BearerAuth(verifier, resource=...), scopes=["notes:write"])',
    "  and any ASGI app (jwkverify.asgi), Flask or Django (jwkverify.wsgi), the MCP SDK (jwkverify.mcp)",
)


def run_demo(out: TextIO = sys.stdout) -> int:
    """Run the demo, print its table to ``out``; 0 if every expectation held, else 1."""
    published = [rsa_key("rsa-1"), ec_key("ec-1"), ed25519_key("ed-1")]
    with KeySetServer() as server:
        server.publish(published)
        # cooldown=0 lets the rotation below show at once; the default is 30 s.
        keys = RemoteJWKSet(server.url, allow_http=True, cooldown=0)
        verifier = JWTVerifier(keys, issuer=ISSUER, audience=AUDIENCE, leeway=LEEWAY)
        now = int(time.time())
        good = good_cases(published, now)
        bad = claim_cases(published[0], now) + forged_cases(published, ed25519_key("attacker"), now)
        outcomes = [_run_case(verifier, case) for case in good + bad]
        rotation = _rotation(server, keys, verifier, published, now)
    held = all(o.mismatch is None for o in [*outcomes, *rotation])
    lines = [*_intro(server.url, published, len(good) + 1, len(bad) + 1), *_table(outcomes), "",
             "Key rotation: the issuer publishes ec-2, then retires rsa-1.", *_table(rotation),
             *_verdict([*outcomes, *rotation], len(good) + 1, len(bad) + 1), *(_IN_A_SERVER if held else ())]
    out.write("\n".join(lines) + "\n")
    return 0 if held else 1
