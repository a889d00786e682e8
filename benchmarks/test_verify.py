"""Hot path: one token per algorithm against a 10-key set, every column side by side.

Each column is first checked (right claims back, tampered token refused), then timed.
"""

from __future__ import annotations

from typing import Any

import pytest
from bench_columns import COLUMNS, Unsupported, build_column, check_column
from bench_tokens import LABELS, Case


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("label", LABELS)
def test_verify(benchmark: Any, cases: dict[str, Case], label: str, column: str) -> None:
    case = cases[label]
    try:
        timed = build_column(column, case)
    except Unsupported as exc:
        pytest.skip(str(exc))
    check_column(timed, case)
    benchmark.group = f"verify {label}"
    benchmark.extra_info.update(kind="verify", algorithm=label, column=column)
    benchmark(timed.call, *timed.args(case.token))
