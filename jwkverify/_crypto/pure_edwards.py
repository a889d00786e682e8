"""Ed25519 and Ed448 verification (RFC 8032 §5.1.7, §5.2.7), in pure Python.

Points are in extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, T = XY/Z,
added with the unified formulas of Hisil-Wong-Carter-Dawson (2008), which are
complete on both curves (a is a square and d is not), so no case is exceptional.
``[S]B - [k]A`` is a sum of precomputed points: the base point and each key get a
signed fixed-window table (``pure_edwards_points``); the base point's table is cached per
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

from .pure_edwards_curves import EDWARDS_CURVES, EdwardsCurve
from .pure_edwards_points import (
    BASE_WIDTH,
    KEY_WIDTH,
    Precomputed,
    Table,
    base_table,
    fixed_base_table,
    select,
    sum_448,
    sum_25519,
)

__all__ = ["EDWARDS_CURVES", "EdPublicKey", "EdwardsCurve", "decode_point", "eddsa_verify", "encode_point"]

#: sqrt(-1) mod 2**255 - 19 (RFC 8032 §5.1.3 step 3).
_SQRT_M1_25519 = 19681161376707505956807079304988542015446066515923890162744021073123829784752


class EdPublicKey:
    """A strictly decoded EdDSA public key; its table of -A is built on first use."""

    __slots__ = ("_table", "curve", "encoded", "x", "y")

    curve: EdwardsCurve
    encoded: bytes
    x: int
    y: int
    _table: Table | None

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

    def table(self) -> Table:
        """The table of -A, built on the first call (a race builds it twice, harmlessly)."""
        table = self._table
        if table is None:
            curve = self.curve
            table = fixed_base_table(curve, (curve.p - self.x) % curve.p, self.y, KEY_WIDTH)
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
    points: list[Precomputed] = []
    select(points, base_table(curve.name), s, BASE_WIDTH, p)
    select(points, key.table(), k, KEY_WIDTH, p)
    x, y, z, _ = (sum_25519 if curve.a == -1 else sum_448)(points, curve)  # P = [S]B - [k]A
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
