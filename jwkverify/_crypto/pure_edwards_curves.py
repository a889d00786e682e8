"""The Edwards curves of EdDSA (RFC 8032 §5.1 edwards25519, §5.2 edwards448) as data."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["EDWARDS_CURVES", "EdwardsCurve"]


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
