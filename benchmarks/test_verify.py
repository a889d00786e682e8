"""Hot path: one token per algorithm against a 10-key set, every column side by side.

Each column is first checked (right claims back, tampered token refused), then timed.
The ``jwkverify-remote`` column fetches its set from the session's HTTP server once,
before the check; the server's request count shows the timed calls fetched nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from bench_columns import COLUMNS, REMOTE, Unsupported, build_column, check_column
from bench_server import JWKSServer, jwks_path
from bench_tokens import LABELS, Case


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("label", LABELS)
def test_verify(benchmark: Any, request: pytest.FixtureRequest, cases: dict[str, Case], label: str,
                column: str) -> None:
    case = cases[label]
    server: JWKSServer | None = request.getfixturevalue("jwks_server") if column == REMOTE else None
    path = jwks_path(label)
    fetched = server.count(path) if server is not None else 0
    try:
        timed = build_column(column, case, server.url(path) if server is not None else None)
    except Unsupported as exc:
        pytest.skip(str(exc))
    check_column(timed, case)
    benchmark.group = f"verify {label}"
    benchmark.extra_info.update(kind="verify", algorithm=label, column=column)
    benchmark(timed.call, *timed.args(case.token))
    if server is not None:  # one fetch (the warm-up refresh), none while checking or timing
        assert server.count(path) == fetched + 1, f"{column} fetched during the run"
