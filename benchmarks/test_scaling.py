"""Key-set size: ES256 with 1, 10, 100 and 1000 keys, the signing key last.

jwkverify indexes the set by (alg, kid) once, so its verify time must not grow with
the set; a peer that scans its key list per token shows up here.
"""

from __future__ import annotations

from typing import Any

import pytest
from bench_columns import LOADERS, Column, Unsupported, _rejects, check_column
from bench_tokens import Case, make_case

SIZES = (1, 10, 100, 1000)
#: Libraries that look the kid up in their own key-set object (python-jose has none).
SCALING_COLUMNS = ("jwkverify", "pyjwt", "joserfc", "jwcrypto", "authlib", "jwskate")


@pytest.fixture(scope="module")
def sized_cases() -> dict[int, Case]:
    return {size: make_case(f"ES256-{size}", "ES256", "P-256", keys=size, position=size - 1)
            for size in SIZES}


@pytest.mark.parametrize("column", SCALING_COLUMNS)
@pytest.mark.parametrize("size", SIZES)
def test_scaling(benchmark: Any, sized_cases: dict[int, Case], size: int, column: str) -> None:
    case = sized_cases[size]
    assert case.jwks["keys"][-1]["kid"] == case.kid
    try:
        verify = LOADERS[column](case.jwks_json, case.alg)
    except Unsupported as exc:
        pytest.skip(str(exc))
    check_column(Column(column, verify, lambda t: (t,), _rejects(column)), case)
    benchmark.group = f"scaling ES256 {column}"
    benchmark.extra_info.update(kind="scaling", algorithm="ES256", keys=size, column=column)
    benchmark(verify, case.token)


LOAD_SIZES = (10, 100, 1000)


@pytest.mark.parametrize("column", SCALING_COLUMNS)
@pytest.mark.parametrize("size", LOAD_SIZES)
def test_scaling_load(benchmark: Any, sized_cases: dict[int, Case], size: int, column: str) -> None:
    """The cold side of size: JWKS text of ``size`` ES256 keys -> ready verifier.

    A few explicit rounds (``pedantic``): a 1000-key load can take a large fraction
    of a second, and the default calibration would spend the whole time budget on it.
    """
    case = sized_cases[size]
    loader = LOADERS[column]
    try:
        loader(case.jwks_json, case.alg)
    except Unsupported as exc:
        pytest.skip(str(exc))
    benchmark.group = f"scaling-load ES256 {column}"
    benchmark.extra_info.update(kind="scaling-load", algorithm="ES256", keys=size, column=column)
    benchmark.pedantic(loader, args=(case.jwks_json, case.alg), rounds=5 if size >= 1000 else 20,
                       warmup_rounds=1)
