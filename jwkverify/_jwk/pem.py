"""A public key in PEM (RFC 7468) as JWK members, read with the strict DER reader.

``PUBLIC KEY`` blocks hold a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) of an RSA
(RFC 3279 §2.3.1, RFC 8017 §A.1.1), EC (RFC 5480 §2) or Ed25519/Ed448 (RFC 8410 §4)
key; ``RSA PUBLIC KEY`` blocks a PKCS#1 RSAPublicKey (RFC 8017 §A.1.1). Private keys,
certificates and anything else are refused with a message saying what to pass.
The same reader serves both backends, so zero-dependency mode reads PEM too.
"""

from __future__ import annotations

from .._codec.base64url import b64url_encode
from .._codec.der import NULL, DERError, Reader, oid_text
from .._codec.pem import PEMError, unarmor
from ..errors import InvalidKey

__all__ = ["pem_mapping", "pem_members"]

_RSA = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1 rsaEncryption
_EC = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1 id-ecPublicKey
_OKP = {bytes.fromhex("2b6570"): "Ed25519", bytes.fromhex("2b6571"): "Ed448"}  # RFC 8410 §3
#: RFC 5480 §2.1.1.1 named curves (and secp256k1, SEC 2 §2.4.1), with their coordinate size.
_CURVES = {
    bytes.fromhex("2a8648ce3d030107"): ("P-256", 32),
    bytes.fromhex("2b81040022"): ("P-384", 48),
    bytes.fromhex("2b81040023"): ("P-521", 66),
    bytes.fromhex("2b8104000a"): ("secp256k1", 32),
}
#: Algorithms jwkverify recognises but cannot verify with, and why.
_REFUSED_ALGORITHMS = {
    bytes.fromhex("2b656e"): "an X25519 key, which is for key agreement, not signatures",
    bytes.fromhex("2b656f"): "an X448 key, which is for key agreement, not signatures",
    bytes.fromhex("2a864886f70d01010a"): (
        "an RSASSA-PSS key (OID 1.2.840.113549.1.1.10); export it as an rsaEncryption "
        "'-----BEGIN PUBLIC KEY-----' block and pass alg='PS256'"),
    bytes.fromhex("2a8648ce380401"): "a DSA key; JWS has no DSA algorithm",
}
_PRIVATE_HINT = ("pass the public key instead: 'openssl pkey -in key.pem -pubout' prints it, or in Python "
                 "private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)")
_CERTIFICATE_HINT = ("jwkverify does not read certificates (it would check none of their validity, "
                     "chain or revocation); pass the public key instead: "
                     "'openssl x509 -in cert.pem -pubkey -noout' prints it")

#: (kty, members) of a key: the JWK's defining members, base64url-encoded.
Members = tuple[str, dict[str, str]]


def pem_mapping(pem: object, kid: object, alg: object) -> dict[str, str]:
    """The JWK mapping of the public key in ``pem``, with ``kid`` and ``alg`` if given.

    Raises:
        TypeError: ``pem`` is not str or bytes, or ``kid``/``alg`` not str (or ``None``).
        InvalidKey: as :func:`pem_members`.
    """
    if not isinstance(pem, str | bytes):
        raise TypeError(f"pem must be str or bytes, not {type(pem).__name__}")
    for name, value in (("kid", kid), ("alg", alg)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a str or None")
    kty, members = pem_members(pem)
    mapping = {"kty": kty, **members}
    if isinstance(kid, str):
        mapping["kid"] = kid
    if isinstance(alg, str):
        mapping["alg"] = alg
    return mapping


def pem_members(pem: str | bytes) -> Members:
    """The key type and JWK members of the public key in ``pem``.

    Raises:
        InvalidKey: not one PEM block, a private key or certificate, an unknown
            algorithm or curve, or DER that is malformed or not strictly DER.
    """
    try:
        label, der = unarmor(pem)
    except PEMError as exc:
        raise InvalidKey(f"PEM key: {exc}") from None
    try:
        if label == "PUBLIC KEY":
            return _spki(der)
        if label == "RSA PUBLIC KEY":
            return _pkcs1(Reader(der, "the RSA PUBLIC KEY"))
    except DERError as exc:
        raise InvalidKey(f"PEM key: {exc}") from None
    if "PRIVATE KEY" in label:
        raise InvalidKey(f"PEM key: this is a private key ({label}); {_PRIVATE_HINT}")
    if label in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"):
        raise InvalidKey(f"PEM key: this is a certificate; {_CERTIFICATE_HINT}")
    raise InvalidKey(f"PEM key: a {label!r} block is not a public key; pass a '-----BEGIN PUBLIC KEY-----' "
                     "(SubjectPublicKeyInfo) or '-----BEGIN RSA PUBLIC KEY-----' (PKCS#1) block")


def _spki(der: bytes) -> Members:
    outer = Reader(der, "the PUBLIC KEY")
    spki = outer.sequence("SubjectPublicKeyInfo")
    outer.finish()
    algorithm = spki.sequence("AlgorithmIdentifier")
    oid = algorithm.oid("algorithm")
    key = spki.bit_string("subjectPublicKey")
    spki.finish()
    if oid == _RSA:
        # RFC 3279 §2.3.1: the parameters MUST be NULL (some encoders leave them out;
        # that is refused too, so the same key has one encoding).
        algorithm.null("rsaEncryption parameters")
        algorithm.finish()
        return _pkcs1(Reader(key, "the RSA public key"))
    if oid == _EC:
        curve_oid = algorithm.oid("namedCurve")  # RFC 5480 §2.1.1: namedCurve only
        algorithm.finish()
        if curve_oid not in _CURVES:
            raise InvalidKey(f"PEM key: EC curve {oid_text(curve_oid)} is not supported "
                             "(supported: P-256, P-384, P-521, secp256k1)")
        crv, size = _CURVES[curve_oid]
        x, y = _ec_point(key, crv, size)
        return "EC", {"crv": crv, "x": b64url_encode(x), "y": b64url_encode(y)}
    if oid in _OKP:
        if algorithm.peek_tag() == NULL:
            raise InvalidKey("PEM key: an EdDSA key's AlgorithmIdentifier has no parameters (RFC 8410 §3)")
        algorithm.finish()
        crv = _OKP[oid]
        size = 32 if crv == "Ed25519" else 57
        if len(key) != size:  # RFC 8410 §4: the raw public key octets
            raise InvalidKey(f"PEM key: an {crv} public key is {size} octets, not {len(key)}")
        return "OKP", {"crv": crv, "x": b64url_encode(key)}
    if oid in _REFUSED_ALGORITHMS:
        raise InvalidKey(f"PEM key: this is {_REFUSED_ALGORITHMS[oid]}")
    raise InvalidKey(f"PEM key: algorithm {oid_text(oid)} is not supported "
                     "(supported: RSA, EC P-256/P-384/P-521/secp256k1, Ed25519, Ed448)")


def _pkcs1(reader: Reader) -> Members:
    """RFC 8017 §A.1.1: RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }."""
    key = reader.sequence("RSAPublicKey")
    reader.finish()
    n = key.integer("modulus")
    e = key.integer("publicExponent")
    key.finish()
    if n == 0 or e == 0:
        raise InvalidKey("PEM key: the RSA modulus and exponent must be positive")
    return "RSA", {"n": _uint(n), "e": _uint(e)}


def _ec_point(octets: bytes, crv: str, size: int) -> tuple[bytes, bytes]:
    """RFC 5480 §2.2 / SEC 1 §2.3.3: 0x04 || X || Y, or 0x02/0x03 || X (compressed)."""
    if len(octets) == 1 + 2 * size and octets[0] == 0x04:
        return octets[1:1 + size], octets[1 + size:]
    if len(octets) == 1 + size and octets[0] in (0x02, 0x03):
        return octets[1:], _decompress(crv, octets[1:], octets[0] & 1)
    if octets[:1] in (b"\x06", b"\x07"):
        raise InvalidKey(f"PEM key: the {crv} public key is in the hybrid form (0x06/0x07), which "
                         "RFC 5480 §2.2 forbids; export it uncompressed")
    raise InvalidKey(f"PEM key: the {crv} public key is not an uncompressed (0x04, {1 + 2 * size} octets) "
                     f"or compressed (0x02/0x03, {1 + size} octets) point")


def _decompress(crv: str, x_octets: bytes, odd: int) -> bytes:
    """y of the point with this x and y's parity (SEC 1 §2.3.4 step 2.4.1)."""
    from .._crypto.pure_ec import WEIERSTRASS_CURVES  # curve constants; imported only for this

    curve = WEIERSTRASS_CURVES[crv]
    p, x = curve.p, int.from_bytes(x_octets, "big")
    if x >= p:
        raise InvalidKey(f"PEM key: x is not a coordinate of {crv} (not below the field prime)")
    rhs = (x * x * x + curve.a * x + curve.b) % p
    y = pow(rhs, (p + 1) // 4, p)  # every supported p is 3 mod 4, so this is a square root if one exists
    if y * y % p != rhs:
        raise InvalidKey(f"PEM key: the compressed point is not on {crv} (no y for this x)")
    if y & 1 != odd:
        y = p - y
    if y == 0 and odd:  # SEC 1 §2.3.4: y = 0 has no odd form
        raise InvalidKey(f"PEM key: the compressed point is not on {crv}")
    return y.to_bytes(curve.size, "big")


def _uint(value: int) -> str:
    """RFC 7518 §6.3.1: Base64urlUInt, the fewest octets."""
    return b64url_encode(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))
