"""Point arithmetic on the Edwards curves: sums of precomputed points and their tables.

Extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, T = XY/Z, added with the
unified formulas of Hisil-Wong-Carter-Dawson (2008), complete on both curves. A
table holds signed fixed-window multiples of one point (``pure_window``); a scalar
multiple is then a sum of table points, selected by :func:`select`.
"""

from __future__ import annotations

from functools import cache

from .pure_edwards_curves import EDWARDS_CURVES, EdwardsCurve
from .pure_window import positions, signed_digits

__all__ = [
    "BASE_WIDTH", "KEY_WIDTH", "Extended", "Precomputed", "Table",
    "add", "base_table", "fixed_base_table", "select", "sum_448", "sum_25519",
]

#: Window widths: 8 bits for the base point's shared table, 5 for each key's (as in
#: ``pure_ec``).
BASE_WIDTH = 8
KEY_WIDTH = 5

Extended = tuple[int, int, int, int]
#: A table point: (x, y, x + y, d*x*y) mod p, for additions with Z2 = 1.
Precomputed = tuple[int, int, int, int]
Table = tuple[tuple[Precomputed, ...], ...]


def select(out: list[Precomputed], table: Table, scalar: int, width: int, p: int) -> None:
    """Append the table points whose sum is ``scalar`` times the table's base."""
    for row, digit in zip(table, signed_digits(scalar, width, len(table)), strict=True):
        if digit > 0:
            out.append(row[digit - 1])
        elif digit < 0:
            x, y, _, dxy = row[-digit - 1]
            out.append((p - x, y, (y - x) % p, p - dxy))


def sum_448(points: list[Precomputed], curve: EdwardsCurve) -> Extended:
    """The extended-coordinate sum of precomputed points on Ed448 (the identity if none).

    add-2008-hwcd with Z2 = 1 (8 multiplications; complete on this curve), reducing
    modulo 2**448 - 2**224 - 1 by folding (``2**448 = 2**224 + 1``) instead of ``%``.
    Folding keeps the sign, so values may be negative; three folds after each product
    keep them within 2**449 in absolute value, and products within 2**900.
    (``(t & m) + (u := t >> 448) + (u << 224)`` evaluates left to right.)
    """
    p = curve.p
    m = (1 << 448) - 1
    x1, y1, z1, t1 = 0, 1, 1, 0
    for x2, y2, s2, dt2 in points:
        t = x1 * x2
        t = (t & m) + (u := t >> 448) + (u << 224)
        t = (t & m) + (u := t >> 448) + (u << 224)
        aa = (t & m) + (u := t >> 448) + (u << 224)
        t = y1 * y2
        t = (t & m) + (u := t >> 448) + (u << 224)
        t = (t & m) + (u := t >> 448) + (u << 224)
        bb = (t & m) + (u := t >> 448) + (u << 224)
        t = t1 * dt2
        t = (t & m) + (u := t >> 448) + (u << 224)
        t = (t & m) + (u := t >> 448) + (u << 224)
        cc = (t & m) + (u := t >> 448) + (u << 224)
        t = (x1 + y1) * s2 - aa - bb
        t = (t & m) + (u := t >> 448) + (u << 224)
        t = (t & m) + (u := t >> 448) + (u << 224)
        e = (t & m) + (u := t >> 448) + (u << 224)
        f, g, h = z1 - cc, z1 + cc, bb - aa  # a = 1
        t = e * f
        t = (t & m) + (u := t >> 448) + (u << 224)
        t = (t & m) + (u := t >> 448) + (u << 224)
        x1 = (t & m) + (u := t >> 448) + (u << 224)
        t = g * h
        t = (t & m) + (u := t >> 448) + (u << 224)
        t = (t & m) + (u := t >> 448) + (u << 224)
        y1 = (t & m) + (u := t >> 448) + (u << 224)
        t = e * h
        t = (t & m) + (u := t >> 448) + (u << 224)
        t = (t & m) + (u := t >> 448) + (u << 224)
        t1 = (t & m) + (u := t >> 448) + (u << 224)
        t = f * g
        t = (t & m) + (u := t >> 448) + (u << 224)
        t = (t & m) + (u := t >> 448) + (u << 224)
        z1 = (t & m) + (u := t >> 448) + (u << 224)
    return x1 % p, y1 % p, z1 % p, t1 % p


def sum_25519(points: list[Precomputed], curve: EdwardsCurve) -> Extended:
    """The sum of precomputed points on Ed25519 (the identity if none).

    add-2008-hwcd-3 (a = -1, 7 multiplications; complete on this curve), reducing
    modulo 2**255 - 19 by folding (``2**255 = 19``) instead of ``%``.

    The result has every coordinate 4 times the formula's (projectively the same
    point). Folding keeps the sign, so values may be negative; two folds after each
    product keep them within 2**256 in absolute value.
    """
    p = curve.p
    m = (1 << 255) - 1
    x1, y1, z1, t1 = 0, 1, 1, 0
    for x2, y2, s2, dt2 in points:
        t = (y1 - x1) * (y2 - x2)
        t = (t & m) + 19 * (t >> 255)
        aa = (t & m) + 19 * (t >> 255)
        t = (y1 + x1) * s2
        t = (t & m) + 19 * (t >> 255)
        bb = (t & m) + 19 * (t >> 255)
        t = 2 * t1 * dt2
        t = (t & m) + 19 * (t >> 255)
        cc = (t & m) + 19 * (t >> 255)
        dd = 2 * z1
        e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
        t = e * f
        t = (t & m) + 19 * (t >> 255)
        x1 = (t & m) + 19 * (t >> 255)
        t = g * h
        t = (t & m) + 19 * (t >> 255)
        y1 = (t & m) + 19 * (t >> 255)
        t = e * h
        t = (t & m) + 19 * (t >> 255)
        t1 = (t & m) + 19 * (t >> 255)
        t = f * g
        t = (t & m) + 19 * (t >> 255)
        z1 = (t & m) + 19 * (t >> 255)
    return x1 % p, y1 % p, z1 % p, t1 % p


def add(curve: EdwardsCurve, one: Extended, two: Extended) -> Extended:
    """add-2008-hwcd for two extended points (also a doubling when they are equal)."""
    p = curve.p
    x1, y1, z1, t1 = one
    x2, y2, z2, t2 = two
    aa = x1 * x2 % p
    bb = y1 * y2 % p
    cc = curve.d * t1 % p * t2 % p
    dd = z1 * z2 % p
    e = ((x1 + y1) * (x2 + y2) - aa - bb) % p
    f = dd - cc
    g = dd + cc
    h = bb - curve.a * aa
    return (e * f % p, g * h % p, f * g % p, e * h % p)


@cache
def base_table(name: str) -> Table:
    """The base point's table for curve ``name``: built once per process, on first use."""
    curve = EDWARDS_CURVES[name]
    return fixed_base_table(curve, curve.bx, curve.by, BASE_WIDTH)


def fixed_base_table(curve: EdwardsCurve, x: int, y: int, width: int) -> Table:
    """Rows j of ``m * 2**(width*j) * (x, y)`` for m in 1 .. 2**(width-1), precomputed."""
    p = curve.p
    half = 1 << (width - 1)
    base: Extended = (x, y, 1, x * y % p)
    rows: list[list[Extended]] = []
    for _ in range(positions(curve.order.bit_length(), width)):
        acc = base
        row = [acc]
        for _ in range(half - 1):
            acc = add(curve, acc, base)
            row.append(acc)
        rows.append(row)
        base = add(curve, acc, acc)  # 2 * half = 2**width times this row's base
    flat = [point for row in rows for point in row]
    prefix = []
    product = 1
    for point in flat:
        product = product * point[2] % p
        prefix.append(product)
    inverse = pow(product, -1, p)
    out: list[Precomputed] = [(0, 0, 0, 0)] * len(flat)
    d = curve.d
    for i in range(len(flat) - 1, -1, -1):
        px, py, pz, _ = flat[i]
        zi = inverse * prefix[i - 1] % p if i else inverse
        inverse = inverse * pz % p
        ax, ay = px * zi % p, py * zi % p
        out[i] = (ax, ay, (ax + ay) % p, d * ax % p * ay % p)
    return tuple(tuple(out[i:i + half]) for i in range(0, len(out), half))
