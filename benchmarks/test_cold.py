"""Cold path: JWKS JSON text of 10 RS256 keys -> a ready verifier (``load``), and the
same plus the first verified token (``load+verify``), which levels libraries that
defer building key objects until first use (authlib does)."""

from __future__ import annotations

from typing import Any

import pytest
from bench_columns import LOADERS, Column, Unsupported, _rejects, check_column
from bench_tokens import Case

COLD_LABEL = "RS256-2048"
COLD_COLUMNS = tuple(name for name in LOADERS if name != "verify_jwt")  # same set parse as jwkverify


@pytest.mark.parametrize("column", COLD_COLUMNS)
@pytest.mark.parametrize("mode", ["load", "load+verify"])
def test_cold(benchmark: Any, cases: dict[str, Case], mode: str, column: str) -> None:
    case = cases[COLD_LABEL]
    loader = LOADERS[column]
    text, alg, token = case.jwks_json, case.alg, case.token
    try:
        verify = loader(text, alg)
    except Unsupported as exc:
        pytest.skip(str(exc))
    check_column(Column(column, verify, lambda t: (t,), _rejects(column)), case)

    def load() -> object:
        return loader(text, alg)

    def load_and_verify() -> object:
        return loader(text, alg)(token)

    benchmark.group = f"cold {COLD_LABEL} {mode}"
    benchmark.extra_info.update(kind="cold", algorithm=COLD_LABEL, mode=mode, column=column)
    benchmark(load if mode == "load" else load_and_verify)
