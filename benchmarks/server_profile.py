"""Where a protected request's time goes, stage by stage (issue 16's profile).

    python benchmarks/server_profile.py [--json PATH]

Each stage is the library's own call for that step, timed alone on the bench token
(RS256-2048, 10-key set) with ``timeit`` (best of several repeats, so the least
disturbed by other jobs on a shared machine); ``rest`` is the whole minus the stages:
the calls between them, the coroutine frames and the middleware's own code. Writes
``results/server_profile.json``, which ``report.py`` appends, and prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_faces import Recorder, asgi_call, asgi_scope, bare_asgi, run
from bench_tokens import AUDIENCE, ISSUER, make_case

from jwkverify import JWKSet, JWTVerifier
from jwkverify._web.frozen import freeze
from jwkverify.asgi import BearerAuthMiddleware


def best(call: Callable[[], Any], number: int = 2000, repeat: int = 15) -> float:
    """Seconds per call: the least disturbed of ``repeat`` runs of ``number`` calls."""
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number


def path(title: str, whole: float, stages: list[tuple[str, float]],
         rest: str = "rest: calls between the stages, coroutine frames") -> dict[str, Any]:
    total = sum(seconds for _, seconds in stages)
    stages = [*stages, (rest, max(0.0, whole - total))]
    return {"title": title, "whole": whole, "total": max(whole, total),
            "stages": [{"stage": name, "seconds": seconds, "share": seconds / max(whole, total)}
                       for name, seconds in stages]}


def asgi_repeated(case: Any) -> dict[str, Any]:
    verifier = JWTVerifier(JWKSet.from_json(case.jwks_json), algorithms=[case.alg], issuer=ISSUER,
                           audience=AUDIENCE, cache_size=1024)
    middleware = BearerAuthMiddleware(bare_asgi, verifier, resource=AUDIENCE,
                                      authorization_servers=[ISSUER], required_scopes=["mcp:tools"])
    scope, recorder = asgi_scope(case.token), Recorder()
    assert asgi_call(middleware, scope, recorder) == 200
    core, views, token = middleware._core, middleware._views, case.token
    route = core.route("POST", "/mcp")
    claims, entry = views.entry(token)
    view = views.view(token, claims, entry)
    assert core.authorize(view, route.scopes, route.roles) is None

    def scope_copy() -> None:
        inner = dict(scope)
        inner["auth"] = inner["user"] = view

    whole = best(lambda: asgi_call(middleware, scope, recorder), 20000) - best(
        lambda: asgi_call(bare_asgi, scope, recorder), 20000)
    return path("ASGI middleware over the bare app, repeated token", whole, [
        ("route: requirements of (POST, /mcp), remembered", best(lambda: core.route("POST", "/mcp"), 20000)),
        ("credentials: find Authorization among 8 headers, known token",
         best(lambda: middleware._credentials(scope["headers"], route.scopes), 20000)),
        ("verifier: token-cache hit (expiry window, key still there)",
         best(lambda: views.entry(token), 20000)),
        ("view: the token's VerifiedToken, reused", best(lambda: views.view(token, claims, entry), 20000)),
        ("requirements: scopes and roles granted",
         best(lambda: core.authorize(view, route.scopes, route.roles), 20000)),
        ("the app's scope: a copy with auth and user", best(scope_copy, 20000)),
    ])


def mcp_first_seen(case: Any) -> dict[str, Any]:
    from mcp.server.auth.provider import AccessToken

    from jwkverify._web.access_tokens import SharedAccessTokens
    from jwkverify._web.conventions import DEFAULT_CONVENTIONS as CONVENTIONS
    from jwkverify._web.scope_sets import ScopeSets
    from jwkverify.mcp import MCPTokenVerifier

    verifier = JWTVerifier(JWKSet.from_json(case.jwks_json), algorithms=[case.alg], issuer=ISSUER,
                           audience=AUDIENCE)
    adapter = MCPTokenVerifier(verifier, resource=AUDIENCE)
    token = case.token
    assert run(adapter.verify_token(token)).subject == case.claims["sub"]
    claims = verifier.verify(token)
    frozen = freeze(claims)
    shared = SharedAccessTokens(AccessToken, resource=AUDIENCE, audiences=[AUDIENCE])
    sets = ScopeSets(CONVENTIONS)
    scopes = sets.sorted(frozen)
    read = best(lambda: freeze(claims)) + best(lambda: sets.sorted(frozen))
    whole = best(lambda: run(adapter.verify_token(token)), 300)
    return path("MCPTokenVerifier.verify_token, first-seen token (the whole call)", whole, [
        ("core: JWTVerifier.verify (a local key set: called without a coroutine)",
         best(lambda: verifier.verify(token), 300)),
        ("read-only copy of the claims", best(lambda: freeze(claims))),
        ("scopes (scope, else scp), sorted: remembered per scope string",
         best(lambda: sets.sorted(frozen))),
        ("the SDK's AccessToken, put together read-only (no re-validation)",
         best(lambda: shared._make(token, frozen, scopes, "client", "sub"))),
        ("client id, subject, expiry, resource: the rest of from_claims",
         max(0.0, best(lambda: shared.from_claims(token, claims)) - read
             - best(lambda: shared._make(token, frozen, scopes, "client", "sub")))),
    ], rest="rest: the verify_token coroutine, the token-cache and refusal glue")


def fastapi_repeated(case: Any) -> dict[str, Any]:
    """BearerAuth's stages, each alone, against what it adds to a whole FastAPI request."""
    from fastapi.security import SecurityScopes
    from starlette.requests import Request
    from starlette.responses import Response
    from test_frameworks import build_row

    from jwkverify.fastapi import BearerAuth

    verifier = JWTVerifier(JWKSet.from_json(case.jwks_json), algorithms=[case.alg], issuer=ISSUER,
                           audience=AUDIENCE, cache_size=1024)
    auth = BearerAuth(verifier, resource=AUDIENCE)
    core, needed = auth._core, auth._scopes(["mcp:tools"])
    headers = [(b"host", b"api.example.com"), (b"authorization", f"Bearer {case.token}".encode())]
    request, scopes = Request({"type": "http", "headers": headers}), SecurityScopes(["mcp:tools"])
    assert run(auth(request, scopes, Response())).subject == case.claims["sub"]
    values = [f"Bearer {case.token}"]
    found = core.credentials(values, needed)
    view = core.verify(found)  # type: ignore[arg-type]
    with_auth, empty = (build_row(name, case) for name in (
        "FastAPI BearerAuth, repeated", "FastAPI, empty Security dependency"))
    whole = min(best(with_auth, 3000, 5) - best(empty, 3000, 5) for _ in range(3))

    def read() -> list[str]:
        return _authorization(headers)

    return path("FastAPI: what BearerAuth adds to a request, repeated token", whole, [
        ("Security scopes: required + the operation's, remembered per set",
         best(lambda: auth._scopes(["mcp:tools"]), 20000)),
        ("Authorization values from the raw ASGI headers", best(read, 20000)),
        ("credentials: plain 'Bearer <token>'", best(lambda: core.credentials(values, needed), 20000)),
        ("verifier: token-cache hit, the reused VerifiedToken", best(lambda: core.verify(found), 20000)),  # type: ignore[arg-type]
        ("requirements: scopes and roles granted", best(lambda: core.authorize(view, needed, ()), 20000)),  # type: ignore[arg-type]
    ], rest="rest: FastAPI calling the dependency, and the stages run colder inside a FastAPI request "
            "(the ASGI middleware around the same app costs as much)")


def _authorization(headers: list[tuple[bytes, bytes]]) -> list[str]:
    """The ``Authorization`` values, read as ``BearerAuth.__call__`` reads them."""
    values = []
    for name, value in headers:
        if name == b"authorization" or (len(name) == 13 and name.lower() == b"authorization"):
            values.append(value.decode("latin-1"))
    return values


def fastapi_first_seen(case: Any) -> dict[str, Any]:
    """BearerAuth's own steps on a first-seen token, each alone, against what it adds to a
    FastAPI request over a dependency that reads the header and awaits ``verify_async``."""
    from fastapi.security import SecurityScopes
    from starlette.requests import Request
    from starlette.responses import Response
    from test_frameworks import build_row

    from jwkverify.fastapi import BearerAuth

    verifier = JWTVerifier(JWKSet.from_json(case.jwks_json), algorithms=[case.alg], issuer=ISSUER,
                           audience=AUDIENCE)
    auth = BearerAuth(verifier, resource=AUDIENCE)
    core, views, needed, token = auth._core, auth._core.views, auth._scopes(["mcp:tools"]), case.token
    headers = [(b"host", b"api.example.com"), (b"authorization", f"Bearer {token}".encode())]
    request, scopes = Request({"type": "http", "headers": headers}), SecurityScopes(["mcp:tools"])
    assert run(auth(request, scopes, Response())).subject == case.claims["sub"]
    claims, value = verifier.verify(token), f"Bearer {token}"
    view = views._build(token, claims)
    assert view.scopes >= set(needed) and core.authorize(view, needed, ()) is None
    with_auth, by_hand = (build_row(name, case) for name in (
        "FastAPI BearerAuth, first-seen", "FastAPI, verify_async by hand, first-seen"))
    ours = theirs = float("inf")
    for _ in range(11):  # in turns, as interleaved() times them: a 60 µs request drifts more than 2 µs
        ours = min(ours, timeit.timeit(with_auth, number=300) / 300)
        theirs = min(theirs, timeit.timeit(by_hand, number=300) / 300)
    whole = ours - theirs
    return path("FastAPI: what BearerAuth adds to a request, first-seen token", whole, [
        ("Security scopes: required + the operation's, remembered per set",
         best(lambda: auth._needed.get(("mcp:tools",)), 20000)),
        ("Authorization values from the raw ASGI headers", best(lambda: _authorization(headers), 20000)),
        ("plain 'Bearer <token>' taken without a parse", best(lambda: core.quick_token(value), 20000)),
        ("view: the token's VerifiedToken made (scopes remembered per scope string)",
         best(lambda: views._build(token, claims), 20000)),
        ("requirements: scopes and roles granted", best(lambda: core.authorize(view, needed, ()), 20000)),
    ], rest="rest: over the by-hand dependency's own header lookup and verify_async, FastAPI "
            "calling a dependency that takes the response, and the stages run colder after an RSA "
            "verify inside a FastAPI request")


def interleaved(case: Any, rounds: int = 21) -> list[dict[str, Any]]:
    """Each face's overhead from the rows of ``test_server.py`` and ``test_frameworks.py``, timed in turns.

    A first-seen overhead is a few µs on top of a ~20 µs verify, so the drift of a shared
    machine between two separately timed rows can be as large as the overhead itself.
    Here every row involved is timed once per round, in turn (after a few untimed calls,
    so that no row pays for the caches its predecessor left), and an overhead is the row
    minus its baselines in the same round: the median over the rounds is kept, so that a
    round disturbed by another job moves it little (``fastest``: each row's least disturbed
    round, minus its baselines' least disturbed rounds, for comparison).
    """
    import test_frameworks
    import test_server
    from bench_server import JWKSServer
    from report_server import OVERHEADS

    names = sorted({name for _, row, minus, _ in OVERHEADS for name in (row, *minus)
                    if "RemoteJWKSet" not in name})
    with JWKSServer() as server:
        calls = {name: (test_frameworks if name in test_frameworks.NAMES else test_server).build_row(
            name, case, server) for name in names}
        timed: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(rounds):
            for name, call in calls.items():
                number = 300 if "first-seen" in name else 3000
                for _ in range(3):
                    call()
                timed[name].append(timeit.timeit(call, number=number) / number)
    return [{"what": what, "budget": budget,
             "seconds": statistics.median(timed[row][turn] - sum(timed[each][turn] for each in minus)
                                          for turn in range(rounds)),
             "fastest": min(timed[row]) - sum(min(timed[each]) for each in minus)}
            for what, row, minus, budget in OVERHEADS if row in timed]


def markdown(result: dict[str, Any]) -> str:
    from report_server import profile_markdown

    return profile_markdown(result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "server_profile.json")
    args = parser.parse_args(argv)
    case = make_case("RS256-2048", "RS256", "RSA-2048")
    result = {
        "note": "Each stage timed alone (best of 15 repeats); `rest` = the whole call minus the stages. "
                "RS256-2048 token with 10 scopes, 10-key local JWKSet.",
        "paths": [asgi_repeated(case), mcp_first_seen(case), fastapi_repeated(case),
                  fastapi_first_seen(case)],
        "overheads": interleaved(case),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
