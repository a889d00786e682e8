"""Signed fixed-window recoding of scalars, shared by the pure-Python curves.

A base point ``P`` gets a table, built once, of ``m * 2**(w*j) * P`` for every
window position ``j`` and every ``m`` in ``1 .. 2**(w-1)``. A scalar recoded into
signed digits ``d_j`` in ``[-(2**(w-1) - 1), 2**(w-1)]`` then costs one table
look-up and one point addition per non-zero digit, with no doublings at all:
``k * P = sum(d_j * 2**(w*j) * P)``. Negative digits use the negated table entry.
"""

from __future__ import annotations

__all__ = ["positions", "signed_digits"]


def positions(bits: int, width: int) -> int:
    """How many windows a scalar of ``bits`` bits needs (one more for the last carry)."""
    return -(-bits // width) + 1


def signed_digits(scalar: int, width: int, count: int) -> list[int]:
    """``scalar`` as ``count`` signed base-``2**width`` digits, least significant first.

    ``sum(d * 2**(width*j))`` equals ``scalar``; each digit lies in
    ``[-(2**(width-1) - 1), 2**(width-1)]``. ``scalar`` must be non-negative and
    fit ``count`` windows (see :func:`positions`).
    """
    mask = (1 << width) - 1
    half = 1 << (width - 1)
    full = 1 << width
    digits = []
    carry = 0
    for _ in range(count):
        digit = (scalar & mask) + carry
        scalar >>= width
        if digit > half:
            digits.append(digit - full)
            carry = 1
        else:
            digits.append(digit)
            carry = 0
    if scalar or carry:
        raise ValueError("the scalar does not fit the window count")
    return digits
