"""Ed25519 and Ed448 verification (RFC 8032 §5.1.7, §5.2.7), in pure Python.

Points are in extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, T = XY/Z,
added with the unified formulas of Hisil-Wong-Carter-Dawson (2008), which are
complete on both curves (a is a square and d is not), so no case is exceptional.
``[S]B - [k]A`` is a sum of precomputed points: the base point and each key get a
signed fixed-window table (``_pure_window``); the base point's table is cached per
curve on first use and a key's table is built on its first verification.

Which equation is checked, and why:

- Ed25519: the cofactorless ``[S]B = R + [k]A``, as OpenSSL does it: R' = [S]B - [k]A
  is encoded and compared with the signature's R octets. A non-canonical R never
  matches (an encoding computed here is always canonical).
- Ed448: the cofactored ``[4][S]B = [4]R + [4][k]A`` with R decoded strictly, as
  OpenSSL does it (its Ed448 compares points after a 4-isogeny, which forgets the
  4-torsion). Like OpenSSL's decoder, it also refuses the two points with x = 0
  (the identity and the point of order 2) as R or as a public key, which RFC 8032
  would decode. R is not decoded (a square root) but compared, as octets, with
  the four points of ``[S]B - [k]A`` plus the 4-torsion. The two equations agree
  on every signature an honest signer makes.

Both reject S >= L (RFC 8032 §5.1.7 step 1 / §5.2.7 step 1) and decode public keys
strictly (§5.1.3 / §5.2.3): y >= p, x = 0 with the sign bit set, and points off the
curve are refused. Other small-order or mixed-order public keys are not refused
(RFC 8032 does not ask for it; OpenSSL accepts them too).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from .pure_window import positions, signed_digits

__all__ = ["EDWARDS_CURVES", "EdPublicKey", "EdwardsCurve", "decode_point", "eddsa_verify"]

#: Window widths: 8 bits for the base point's shared table, 5 for each key's (as in
#: ``_pure_ec``).
BASE_WIDTH = 8
KEY_WIDTH = 5

_Extended = tuple[int, int, int, int]
#: A table point: (x, y, x + y, d*x*y) mod p, for additions with Z2 = 1.
_Precomputed = tuple[int, int, int, int]
_Table = tuple[tuple[_Precomputed, ...], ...]


@dataclass(frozen=True, slots=True)
class EdwardsCurve:
    """``a*x^2 + y^2 = 1 + d*x^2*y^2`` over GF(p), base point B of prime order L."""

    name: str
    p: int
    a: int
    d: int
    order: int
    bx: int
    by: int
    #: Octets of an encoded point, and of each half of a signature.
    size: int
    #: Ed448 checks the cofactored equation and refuses points with x = 0 (as OpenSSL).
    cofactored: bool
    #: dom(R || A || M) -> the 2*size-octet hash (SHA-512 or SHAKE256 with dom4).
    challenge: Callable[[bytes], bytes]


def _sha512(data: bytes) -> bytes:
    return hashlib.sha512(data).digest()


def _shake256_dom4(data: bytes) -> bytes:
    # RFC 8032 §5.2: dom4(0, "") = "SigEd448" || octet(0) || octet(0) for pure Ed448.
    return hashlib.shake_256(b"SigEd448\x00\x00" + data).digest(114)


# RFC 8032 §5.1 (edwards25519) and §5.2 (edwards448).
EDWARDS_CURVES: MappingProxyType[str, EdwardsCurve] = MappingProxyType({
    "Ed25519": EdwardsCurve(
        "Ed25519",
        p=2**255 - 19,
        a=-1,
        d=37095705934669439343138083508754565189542113879843219016388785533085940283555,
        order=2**252 + 27742317777372353535851937790883648493,
        bx=15112221349535400772501151409588531511454012693041857206046113283949847762202,
        by=46316835694926478169428394003475163141307993866256225615783033603165251855960,
        size=32,
        cofactored=False,
        challenge=_sha512,
    ),
    "Ed448": EdwardsCurve(
        "Ed448",
        p=2**448 - 2**224 - 1,
        a=1,
        d=2**448 - 2**224 - 1 - 39081,
        order=2**446 - 13818066809895115352007386748515426880336692474882178609894547503885,
        bx=int("22458004029592430018760433409989603624678964163256413424612546168695041546"
               "7406032909029192869357953282578032075146446173674602635247710"),
        by=int("29881921007848149267601793044393067343754404015408024209592824137233150618"
               "9835876003536878655418784733982303233503462500531545062832660"),
        size=57,
        cofactored=True,
        challenge=_shake256_dom4,
    ),
})

#: sqrt(-1) mod 2**255 - 19 (RFC 8032 §5.1.3 step 3).
_SQRT_M1_25519 = 19681161376707505956807079304988542015446066515923890162744021073123829784752


class EdPublicKey:
    """A strictly decoded EdDSA public key; its table of -A is built on first use."""

    __slots__ = ("_table", "curve", "encoded", "x", "y")

    curve: EdwardsCurve
    encoded: bytes
    x: int
    y: int
    _table: _Table | None

    def __init__(self, curve: EdwardsCurve, encoded: bytes) -> None:
        """Decode ``encoded`` (RFC 8032 §5.1.3 / §5.2.3).

        Raises:
            ValueError: the encoding has the wrong length or is not a canonical
                encoding of a point on the curve.
        """
        point = decode_point(curve, encoded)
        if point is None:
            raise ValueError("not the canonical encoding of a point on the curve")
        self.curve = curve
        self.encoded = bytes(encoded)
        self.x, self.y = point
        self._table = None

    def table(self) -> _Table:
        """The table of -A, built on the first call (a race builds it twice, harmlessly)."""
        table = self._table
        if table is None:
            curve = self.curve
            table = _fixed_base_table(curve, (curve.p - self.x) % curve.p, self.y, KEY_WIDTH)
            self._table = table
        return table


def decode_point(curve: EdwardsCurve, encoded: bytes) -> tuple[int, int] | None:
    """The affine point an encoding stands for, or ``None`` if decoding fails."""
    p, size = curve.p, curve.size
    if len(encoded) != size:
        return None
    value = int.from_bytes(encoded, "little")
    sign = value >> (8 * size - 1)
    y = value & ((1 << (8 * size - 1)) - 1)
    if y >= p:  # step 1 (for Ed448 this also refuses the 7 unused bits of the last octet)
        return None
    yy = y * y % p
    u = (yy - 1) % p
    if curve.a == -1:
        # §5.1.3 steps 2-3: x = u*v^3 * (u*v^7)^((p-5)/8), then fix up by sqrt(-1).
        v = (curve.d * yy + 1) % p
        v3 = v * v * v % p
        x = u * v3 * pow(u * v3 * v3 * v, (p - 5) // 8, p) % p
        vxx = v * x * x % p
        if vxx != u:
            if vxx != (p - u) % p:
                return None
            x = x * _SQRT_M1_25519 % p
    else:
        # §5.2.3 steps 2-3: x = u^3*v * (u^5*v^3)^((p-3)/4).
        v = (curve.d * yy - 1) % p
        u2 = u * u % p
        x = u2 * u * v * pow(u2 * u2 * u * v * v * v, (p - 3) // 4, p) % p
        if v * x * x % p != u:
            return None
    if x == 0 and (sign or curve.cofactored):  # step 4 (and OpenSSL's Ed448 rule)
        return None
    if x & 1 != sign:
        x = p - x
    return x, y


def encode_point(curve: EdwardsCurve, x: int, y: int) -> bytes:
    """RFC 8032 §5.1.2 / §5.2.2: y little-endian, the low bit of x in the top bit."""
    return (y | ((x & 1) << (8 * curve.size - 1))).to_bytes(curve.size, "little")


def eddsa_verify(key: EdPublicKey, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` (R || S) is key's EdDSA signature over ``message``."""
    curve = key.curve
    size, p, order = curve.size, curve.p, curve.order
    if len(signature) != 2 * size:
        return False
    r_octets = signature[:size]
    s = int.from_bytes(signature[size:], "little")
    if s >= order:  # §5.1.7 / §5.2.7 step 1: S must be canonical
        return False
    k = int.from_bytes(curve.challenge(r_octets + key.encoded + message), "little") % order
    points: list[_Precomputed] = []
    _select(points, _base_table(curve.name), s, BASE_WIDTH, p)
    _select(points, key.table(), k, KEY_WIDTH, p)
    x, y, z, _ = (_sum_25519 if curve.a == -1 else _sum_448)(points, curve)  # P = [S]B - [k]A
    zi = pow(z, -1, p)
    x, y = x * zi % p, y * zi % p
    encoded = int.from_bytes(r_octets, "little")
    sign, r_y = encoded >> (8 * size - 1), encoded & ((1 << (8 * size - 1)) - 1)
    if not curve.cofactored:
        return y == r_y and x & 1 == sign  # encode(P) == R, octet for octet
    # [4]P = [4]R holds exactly when R is P plus a point of the 4-torsion {(0, 1),
    # (0, -1), (1, 0), (-1, 0)}: R is one of (x, y), (-x, -y), (y, -x), (-y, x).
    # Comparing R's octets with their encodings is the same as decoding R strictly
    # (canonical y, on the curve, x != 0 as OpenSSL asks) without a square root.
    for cx, cy in ((x, y), ((p - x) % p, (p - y) % p), (y, (p - x) % p), ((p - y) % p, x)):
        if cy == r_y and cx and cx & 1 == sign:
            return True
    return False


def _select(out: list[_Precomputed], table: _Table, scalar: int, width: int, p: int) -> None:
    """Append the table points whose sum is ``scalar`` times the table's base."""
    for row, digit in zip(table, signed_digits(scalar, width, len(table)), strict=True):
        if digit > 0:
            out.append(row[digit - 1])
        elif digit < 0:
            x, y, _, dxy = row[-digit - 1]
            out.append((p - x, y, (y - x) % p, p - dxy))


def _sum_448(points: list[_Precomputed], curve: EdwardsCurve) -> _Extended:
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


def _sum_25519(points: list[_Precomputed], curve: EdwardsCurve) -> _Extended:
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


def _add(curve: EdwardsCurve, one: _Extended, two: _Extended) -> _Extended:
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
def _base_table(name: str) -> _Table:
    """The base point's table for curve ``name``: built once per process, on first use."""
    curve = EDWARDS_CURVES[name]
    return _fixed_base_table(curve, curve.bx, curve.by, BASE_WIDTH)


def _fixed_base_table(curve: EdwardsCurve, x: int, y: int, width: int) -> _Table:
    """Rows j of ``m * 2**(width*j) * (x, y)`` for m in 1 .. 2**(width-1), precomputed."""
    p = curve.p
    half = 1 << (width - 1)
    base: _Extended = (x, y, 1, x * y % p)
    rows: list[list[_Extended]] = []
    for _ in range(positions(curve.order.bit_length(), width)):
        acc = base
        row = [acc]
        for _ in range(half - 1):
            acc = _add(curve, acc, base)
            row.append(acc)
        rows.append(row)
        base = _add(curve, acc, acc)  # 2 * half = 2**width times this row's base
    flat = [point for row in rows for point in row]
    prefix = []
    product = 1
    for point in flat:
        product = product * point[2] % p
        prefix.append(product)
    inverse = pow(product, -1, p)
    out: list[_Precomputed] = [(0, 0, 0, 0)] * len(flat)
    d = curve.d
    for i in range(len(flat) - 1, -1, -1):
        px, py, pz, _ = flat[i]
        zi = inverse * prefix[i - 1] % p if i else inverse
        inverse = inverse * pz % p
        ax, ay = px * zi % p, py * zi % p
        out[i] = (ax, ay, (ax + ay) % p, d * ax % p * ay % p)
    return tuple(tuple(out[i:i + half]) for i in range(0, len(out), half))
