"""ECDSA verification over the short Weierstrass curves, in pure Python.

P-256, P-384 and P-521 (FIPS 186-5, SEC 2) and secp256k1 (SEC 2), each of prime
order (cofactor 1). Verification (SEC 1 v2 §4.1.4) computes ``u1*G + u2*Q`` as a sum
of precomputed points: the generator and each public key get a signed fixed-window
table (``_pure_window``), so a verification is about ``bits/8 + bits/5`` mixed
Jacobian additions and no doublings. The generator's table is built on first use
and cached per curve; a key's table is built on the key's first verification and
kept in the key (a public key is public, so nothing here needs constant time).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from .pure_window import positions, signed_digits

__all__ = ["WEIERSTRASS_CURVES", "ECPublicKey", "WeierstrassCurve", "ecdsa_verify"]

#: Window widths. The generator's table is shared (8 bits: bits/8 additions, 128
#: points per window, 4-9k points per curve); a key's is built per key (5 bits:
#: bits/5 additions, 16 points per window, 850-1700 points), so it stays cheap to
#: build on a key's first verification.
GENERATOR_WIDTH = 8
KEY_WIDTH = 5

_Affine = tuple[int, int]
_Jacobian = tuple[int, int, int]
_Table = tuple[tuple[_Affine, ...], ...]


@dataclass(frozen=True, slots=True)
class WeierstrassCurve:
    """``y^2 = x^3 + a*x + b`` over GF(p) with generator (gx, gy) of prime order n."""

    name: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int
    #: Octets of a coordinate and of each half of a P1363 signature.
    size: int


# FIPS 186-5 / SP 800-186 §3.2.1 (P-256, P-384, P-521) and SEC 2 v2 §2.4.1 (secp256k1).
WEIERSTRASS_CURVES: MappingProxyType[str, WeierstrassCurve] = MappingProxyType({
    "P-256": WeierstrassCurve(
        "P-256",
        p=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
        a=-3,
        b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
        gx=0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
        gy=0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
        n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        size=32,
    ),
    "P-384": WeierstrassCurve(
        "P-384",
        p=int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFE"
              "FFFFFFFF0000000000000000FFFFFFFF", 16),
        a=-3,
        b=int("B3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875A"
              "C656398D8A2ED19D2A85C8EDD3EC2AEF", 16),
        gx=int("AA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A38"
               "5502F25DBF55296C3A545E3872760AB7", 16),
        gy=int("3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C0"
               "0A60B1CE1D7E819D7A431D7C90EA0E5F", 16),
        n=int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
              "581A0DB248B0A77AECEC196ACCC52973", 16),
        size=48,
    ),
    "P-521": WeierstrassCurve(
        "P-521",
        p=2**521 - 1,
        a=-3,
        b=int("0051953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF1"
              "09E156193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B50"
              "3F00", 16),
        gx=int("00C6858E06B70404E9CD9E3ECB662395B4429C648139053FB521F828AF606B4D"
               "3DBAA14B5E77EFE75928FE1DC127A2FFA8DE3348B3C1856A429BF97E7E31C2E5"
               "BD66", 16),
        gy=int("011839296A789A3BC0045C8A5FB42C7D1BD998F54449579B446817AFBD17273E"
               "662C97EE72995EF42640C550B9013FAD0761353C7086A272C24088BE94769FD1"
               "6650", 16),
        n=int("01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
              "FFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E9138"
              "6409", 16),
        size=66,
    ),
    "secp256k1": WeierstrassCurve(
        "secp256k1",
        p=2**256 - 2**32 - 977,
        a=0,
        b=7,
        gx=0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
        gy=0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
        n=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
        size=32,
    ),
})


class ECPublicKey:
    """A validated public point Q on a curve; its multiples table is built on first use."""

    __slots__ = ("_table", "curve", "x", "y")

    curve: WeierstrassCurve
    x: int
    y: int
    _table: _Table | None

    def __init__(self, curve: WeierstrassCurve, x: int, y: int) -> None:
        """Validate Q = (x, y) per SEC 1 v2 §3.2.2.1.

        Raises:
            ValueError: a coordinate is outside [0, p-1] or the point is not on the
                curve. The point at infinity has no affine coordinates, so it cannot
                be given; with cofactor 1 every point on the curve has order n, so
                the check ``n*Q = O`` of step 4 holds for every point that passes.
        """
        p = curve.p
        if not (0 <= x < p and 0 <= y < p):
            raise ValueError("a coordinate is not below the field prime")
        if (y * y - (x * x * x + curve.a * x + curve.b)) % p:
            raise ValueError("the point (x, y) is not on the curve")
        self.curve = curve
        self.x = x
        self.y = y
        self._table = None

    def table(self) -> _Table:
        """Q's signed-window table, built on the first call and then reused.

        Two threads that race here both build the same immutable table; either
        assignment wins and both results are correct.
        """
        table = self._table
        if table is None:
            table = _fixed_base_table(self.curve, self.x, self.y, KEY_WIDTH)
            self._table = table
        return table


def ecdsa_verify(key: ECPublicKey, hash_name: str, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` (P1363 ``r || s``) is key's ECDSA signature over ``message``."""
    curve = key.curve
    n, p, size = curve.n, curve.p, curve.size
    if len(signature) != 2 * size:
        return False
    r = int.from_bytes(signature[:size], "big")
    s = int.from_bytes(signature[size:], "big")
    # SEC 1 §4.1.4 step 1: r and s in [1, n-1].
    if not (0 < r < n and 0 < s < n):
        return False
    e = _bits2int(hashlib.new(hash_name, message).digest(), n.bit_length())
    w = pow(s, -1, n)
    points: list[_Affine] = []
    _select(points, _generator_table(curve.name), e * w % n, GENERATOR_WIDTH, p)
    _select(points, key.table(), r * w % n, KEY_WIDTH, p)
    x, z = (_sum_p521 if p == _P521 else _sum)(points, p, curve.a)
    if not z:  # step 5: R is the point at infinity
        return False
    # Steps 6-8 without an inversion: x_R = X/Z^2 and x_R mod n == r, where x_R < p < 2n
    # leaves x_R = r or x_R = r + n.
    zz = z * z % p
    if (r * zz - x) % p == 0:
        return True
    return r + n < p and ((r + n) * zz - x) % p == 0


def _bits2int(digest: bytes, qlen: int) -> int:
    # SEC 1 §4.1.3 step 5 / FIPS 186-5 §6.4.1: the leftmost qlen bits of the hash.
    e = int.from_bytes(digest, "big")
    excess = 8 * len(digest) - qlen
    return e >> excess if excess > 0 else e


def _select(out: list[_Affine], table: _Table, scalar: int, width: int, p: int) -> None:
    """Append the table points whose sum is ``scalar`` times the table's base."""
    for row, digit in zip(table, signed_digits(scalar, width, len(table)), strict=True):
        if digit > 0:
            out.append(row[digit - 1])
        elif digit < 0:
            x, y = row[-digit - 1]
            out.append((x, p - y))


def _sum(points: list[_Affine], p: int, a: int) -> tuple[int, int]:
    """X and Z of the Jacobian sum of affine points (Z == 0 for the point at infinity)."""
    x1 = y1 = z1 = 0
    for x2, y2 in points:
        if not z1:
            x1, y1, z1 = x2, y2, 1
            continue
        # Mixed addition (Jacobian + affine), Cohen-Miyaji-Ono; the exceptional
        # cases (equal or opposite points) are handled, not assumed away.
        zz = z1 * z1 % p
        h = (x2 * zz - x1) % p
        r = (y2 * zz % p * z1 - y1) % p
        if not h:
            if r:
                z1 = 0
            else:
                x1, y1, z1 = _double(x1, y1, z1, p, a)
            continue
        hh = h * h % p
        hhh = h * hh  # H^3 and V = X1*H^2 stay unreduced: each is only summed or
        v = x1 * hh  # multiplied once more before the next reduction
        x1 = (r * r - hhh - 2 * v) % p
        y1 = (r * (v - x1) - y1 * hhh) % p
        z1 = z1 * h % p
    return x1, z1


_P521 = 2**521 - 1


def _sum_p521(points: list[_Affine], p: int, a: int) -> tuple[int, int]:
    """:func:`_sum` for P-521, reducing modulo the Mersenne prime by folding.

    ``t mod (2**521 - 1)`` is ``(t & p) + (t >> 521)``, far cheaper than ``%``.
    Values stay non-negative and below ``2**521 + 32`` (two folds after each
    product); a difference first gets a multiple of p that exceeds what it
    subtracts. ``h`` is then 0 modulo p exactly when it is 0 or p.
    """
    m = p
    x1 = y1 = z1 = 0
    for x2, y2 in points:
        if not z1:
            x1, y1, z1 = x2, y2, 1
            continue
        t = z1 * z1
        t = (t & m) + (t >> 521)
        zz = (t & m) + (t >> 521)
        t = x2 * zz + 2 * m - x1
        t = (t & m) + (t >> 521)
        h = (t & m) + (t >> 521)
        t = y2 * zz
        t = (t & m) + (t >> 521)
        t = ((t & m) + (t >> 521)) * z1 + 2 * m - y1
        t = (t & m) + (t >> 521)
        r = (t & m) + (t >> 521)
        if not h or h == m:
            x1, y1, z1 = x1 % p, y1 % p, z1 % p
            if r % p:
                z1 = 0
            else:
                x1, y1, z1 = _double(x1, y1, z1, p, a)
            continue
        t = h * h
        t = (t & m) + (t >> 521)
        hh = (t & m) + (t >> 521)
        t = h * hh
        t = (t & m) + (t >> 521)
        hhh = (t & m) + (t >> 521)
        t = x1 * hh
        t = (t & m) + (t >> 521)
        v = (t & m) + (t >> 521)
        t = r * r + 4 * m - hhh - 2 * v
        t = (t & m) + (t >> 521)
        x1 = (t & m) + (t >> 521)
        t = r * (v + 2 * m - x1) + (m << 523) - y1 * hhh
        t = (t & m) + (t >> 521)
        y1 = (t & m) + (t >> 521)
        t = z1 * h
        t = (t & m) + (t >> 521)
        z1 = (t & m) + (t >> 521)
    return x1 % p, z1 % p


def _double(x: int, y: int, z: int, p: int, a: int) -> _Jacobian:
    if not y or not z:
        return (0, 0, 0)
    yy = y * y % p
    s = 4 * x * yy % p
    m = (3 * x * x + a * pow(z, 4, p)) % p
    x3 = (m * m - 2 * s) % p
    return (x3, (m * (s - x3) - 8 * yy * yy) % p, 2 * y * z % p)


def _add_affine(point: _Jacobian, x2: int, y2: int, p: int, a: int) -> _Jacobian:
    x1, y1, z1 = point
    zz = z1 * z1 % p
    h = x2 * zz % p - x1
    r = y2 * zz * z1 % p - y1
    if not h:
        return (0, 0, 0) if r else _double(x1, y1, z1, p, a)
    hh = h * h % p
    hhh = h * hh % p
    v = x1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    return (x3, (r * (v - x3) - y1 * hhh) % p, z1 * h % p)


@cache
def _generator_table(name: str) -> _Table:
    """The generator's table for curve ``name``: built once per process, on first use."""
    curve = WEIERSTRASS_CURVES[name]
    return _fixed_base_table(curve, curve.gx, curve.gy, GENERATOR_WIDTH)


def _fixed_base_table(curve: WeierstrassCurve, x: int, y: int, width: int) -> _Table:
    """Rows j of ``m * 2**(width*j) * (x, y)`` for m in 1 .. 2**(width-1), affine."""
    p, a = curve.p, curve.a
    half = 1 << (width - 1)
    rows: list[list[_Jacobian]] = []
    bx, by = x, y
    for _ in range(positions(curve.n.bit_length(), width)):
        acc: _Jacobian = (bx, by, 1)
        row = [acc]
        for _ in range(half - 1):
            acc = _add_affine(acc, bx, by, p, a)
            row.append(acc)
        rows.append(row)
        # The next row's base is 2**width times this one's: twice ``half`` times it.
        bx, by = _to_affine(_double(*acc, p, a), p)
    return _batch_to_affine(rows, p)


def _to_affine(point: _Jacobian, p: int) -> _Affine:
    x, y, z = point
    zi = pow(z, -1, p)
    zi2 = zi * zi % p
    return (x * zi2 % p, y * zi2 * zi % p)


def _batch_to_affine(rows: list[list[_Jacobian]], p: int) -> _Table:
    """Every point to affine with one inversion (Montgomery's simultaneous inversion)."""
    flat = [point for row in rows for point in row]
    prefix = []
    acc = 1
    for _, _, z in flat:
        acc = acc * z % p
        prefix.append(acc)
    inverse = pow(acc, -1, p)
    out: list[_Affine] = [(0, 0)] * len(flat)
    for i in range(len(flat) - 1, -1, -1):
        x, y, z = flat[i]
        zi = inverse * prefix[i - 1] % p if i else inverse
        inverse = inverse * z % p
        zi2 = zi * zi % p
        out[i] = (x * zi2 % p, y * zi2 * zi % p)
    width = len(rows[0])
    return tuple(tuple(out[i:i + width]) for i in range(0, len(out), width))
