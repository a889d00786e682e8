"""``JWK.from_pem``: PEM public keys read by jwkverify's own DER reader (``_jwk/pem.py``).

Each key type is checked against ``cryptography``'s export of the same key as a JWK;
private keys and certificates are refused with how to get the public key; the
reader is fuzzed (only ``JOSEError`` escapes) and checked against ``cryptography``'s
loader on every single-octet mutation of each key's DER and on random ones.
"""

from __future__ import annotations

import base64
import datetime
import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from signing import b64, make_key

from jwkverify import JWK, InvalidKey, JOSEError, verify_jws
from jwkverify._codec.pem import MAX_PEM_SIZE

REPO = Path(__file__).resolve().parents[2]
#: Algorithm of a test key -> the key type, as make_key names them.
KEY_ALGS = ("RS256", "ES256", "ES384", "ES512", "ES256K", "Ed25519", "Ed448")
SPKI = (ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
_JWK_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521", "secp256k1": "secp256k1"}


def armor(der: bytes, label: str = "PUBLIC KEY") -> str:
    body = base64.encodebytes(der).decode("ascii")
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n"


def spki_der(public: Any) -> bytes:
    return bytes(public.public_bytes(ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo))


# -- every key type, against cryptography's own export ------------------------------------


@pytest.mark.parametrize("alg", KEY_ALGS)
def test_each_key_type_reads_as_the_jwk_cryptography_exports(alg: str) -> None:
    key = make_key(alg, kid=None)
    public = key.private.public_key()
    expected = JWK.from_dict(key.jwk)
    for pem in (public.public_bytes(*SPKI), public.public_bytes(*SPKI).decode("ascii")):
        read = JWK.from_pem(pem)
        assert read == expected
        assert read.thumbprint() == expected.thumbprint()
        assert read.to_dict() == expected.to_dict()
    token = key.token(payload=b'{"n":1}', alg=alg)
    assert verify_jws(token, JWK.from_pem(public.public_bytes(*SPKI))).payload == b'{"n":1}'


def test_pkcs1_rsa_public_key() -> None:
    key = make_key("RS256", kid=None)
    pem = key.private.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.PKCS1)
    assert pem.startswith(b"-----BEGIN RSA PUBLIC KEY-----")
    assert JWK.from_pem(pem) == JWK.from_dict(key.jwk)


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1(), ec.SECP256K1()])
def test_compressed_ec_points_are_decompressed(curve: ec.EllipticCurve) -> None:
    for _ in range(4):  # both parities of y, most likely
        public = ec.generate_private_key(curve).public_key()
        der = spki_der(public)
        point = public.public_bytes(ser.Encoding.X962, ser.PublicFormat.UncompressedPoint)
        compressed = public.public_bytes(ser.Encoding.X962, ser.PublicFormat.CompressedPoint)
        algorithm = der[2 if der[1] < 0x80 else 3:der.index(point) - (3 if len(point) < 127 else 4)]
        bits = bytes([0x03, len(compressed) + 1, 0]) + compressed
        body = algorithm + bits
        der_compressed = bytes([0x30, len(body)]) + body
        assert ser.load_der_public_key(der_compressed).public_numbers() == public.public_numbers()
        assert JWK.from_pem(armor(der_compressed)) == JWK.from_pem(public.public_bytes(*SPKI))


def test_kid_and_alg_are_set_and_alg_is_checked_as_from_dict_does() -> None:
    key = make_key("ES256", kid=None)
    pem = key.private.public_key().public_bytes(*SPKI)
    read = JWK.from_pem(pem, kid="2024-01", alg="ES256")
    assert read == JWK.from_dict({**key.jwk, "kid": "2024-01", "alg": "ES256"})
    assert (read.kid, read.alg, read.algorithms) == ("2024-01", "ES256", frozenset({"ES256"}))
    for alg in ("RS256", "ES384", "HS256", "none", "es256"):
        with pytest.raises(InvalidKey) as from_pem:
            JWK.from_pem(pem, alg=alg)
        with pytest.raises(InvalidKey) as from_dict:
            JWK.from_dict({**key.jwk, "alg": alg})
        assert str(from_pem.value) == str(from_dict.value)
    with pytest.raises(TypeError, match="kid must be a str"):
        JWK.from_pem(pem, kid=7)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="alg must be a str"):
        JWK.from_pem(pem, alg=["ES256"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pem must be str or bytes, not dict"):
        JWK.from_pem(key.jwk)  # type: ignore[arg-type]


def test_the_jwk_rules_still_hold() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    with pytest.raises(InvalidKey, match="1024-bit modulus; at least 2048"):
        JWK.from_pem(weak.public_bytes(*SPKI))
    assert JWK.from_pem(weak.public_bytes(*SPKI), min_rsa_bits=1024).kty == "RSA"


# -- refused: private keys, certificates, other key types ------------------------------------


def _private_pems() -> list[bytes]:
    out = []
    for private in (rsa.generate_private_key(public_exponent=65537, key_size=2048),
                    ec.generate_private_key(ec.SECP256R1()), ed25519.Ed25519PrivateKey.generate()):
        out.append(private.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption()))
        out.append(private.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8,
                                         ser.BestAvailableEncryption(b"secret")))
        out.append(private.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH, ser.NoEncryption()))
        if not isinstance(private, ed25519.Ed25519PrivateKey):
            out.append(private.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.TraditionalOpenSSL,
                                             ser.NoEncryption()))
    return out


@pytest.mark.parametrize("pem", _private_pems(), ids=lambda pem: pem.splitlines()[0].decode().strip("-"))
def test_private_keys_are_refused_with_how_to_pass_the_public_key(pem: bytes) -> None:
    with pytest.raises(InvalidKey, match=r"private key \(.*PRIVATE KEY\); pass the public key instead: "
                                         r"'openssl pkey -in key.pem -pubout'"):
        JWK.from_pem(pem)


def test_certificates_are_refused_with_how_to_extract_the_key() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(private.public_key()).serial_number(1)
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                   .sign(private, hashes.SHA256()))
    with pytest.raises(InvalidKey, match=r"certificate; .*'openssl x509 -in cert\.pem -pubkey -noout'"):
        JWK.from_pem(certificate.public_bytes(ser.Encoding.PEM))


@pytest.mark.parametrize(("kind", "problem"), [
    ("X25519", "X25519 key, which is for key agreement"),
    ("X448", "X448 key, which is for key agreement"),
    ("DSA", "a DSA key"),
    ("P-224", r"EC curve 1\.3\.132\.0\.33 is not supported"),
])
def test_other_key_types_are_refused_by_name(kind: str, problem: str) -> None:
    with warnings.catch_warnings():  # cryptography deprecates DSA
        warnings.simplefilter("ignore")
        public = {"X25519": lambda: x25519.X25519PrivateKey.generate().public_key(),
                  "X448": lambda: x448.X448PrivateKey.generate().public_key(),
                  "DSA": lambda: dsa.generate_private_key(key_size=2048).public_key(),
                  "P-224": lambda: ec.generate_private_key(ec.SECP224R1()).public_key()}[kind]()
    with pytest.raises(InvalidKey, match=problem):
        JWK.from_pem(public.public_bytes(*SPKI))


def test_rsa_pss_and_unknown_algorithms_are_refused() -> None:
    der = spki_der(make_key("RS256").private.public_key())
    pss = der.replace(bytes.fromhex("2a864886f70d010101"), bytes.fromhex("2a864886f70d01010a"), 1)
    with pytest.raises(InvalidKey, match=r"RSASSA-PSS key .* alg='PS256'"):
        JWK.from_pem(armor(pss))
    unknown = der.replace(bytes.fromhex("2a864886f70d010101"), bytes.fromhex("2a864886f70d01010f"), 1)
    with pytest.raises(InvalidKey, match=r"algorithm 1\.2\.840\.113549\.1\.1\.15 is not supported"):
        JWK.from_pem(armor(unknown))


def test_deliberately_stricter_than_cryptography() -> None:
    """Two encodings cryptography (OpenSSL) loads and RFCs forbid: refused here, by name."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = bytearray(spki_der(public))
    hybrid = der.index(b"\x03\x42\x00\x04") + 3
    der[hybrid] = 0x06 | (public.public_numbers().y & 1)  # X9.62 hybrid form
    assert ser.load_der_public_key(bytes(der)).public_numbers() == public.public_numbers()
    with pytest.raises(InvalidKey, match=r"hybrid form .* RFC 5480 §2\.2 forbids"):
        JWK.from_pem(armor(bytes(der)))
    rsa_der = spki_der(make_key("RS256").private.public_key())
    # rsaEncryption without its NULL parameters (RFC 3279 §2.3.1 says MUST be NULL).
    body = b"\x30\x0b" + rsa_der[6:17] + rsa_der[19:]
    no_params = b"\x30\x82" + len(body).to_bytes(2, "big") + body
    assert ser.load_der_public_key(no_params).public_numbers().n > 0
    with pytest.raises(InvalidKey, match="ends where its rsaEncryption parameters"):
        JWK.from_pem(armor(no_params))


def test_size_is_bounded_before_parsing() -> None:
    pem = make_key("RS256").private.public_key().public_bytes(*SPKI).decode()
    with pytest.raises(InvalidKey, match=f"at most {MAX_PEM_SIZE} are read"):
        JWK.from_pem(pem + " " * MAX_PEM_SIZE)


# -- fuzz: only JOSEError escapes ----------------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=600) | st.text(max_size=600))
def test_arbitrary_input_raises_only_jose_errors(data: bytes | str) -> None:
    try:
        key = JWK.from_pem(data)
    except JOSEError as exc:
        assert str(exc).startswith("PEM key: ")  # says what is wrong with the PEM
    else:
        assert isinstance(key, JWK)


@FUZZ
@given(st.binary(max_size=400), st.sampled_from(["PUBLIC KEY", "RSA PUBLIC KEY"]))
def test_arbitrary_der_in_armor_raises_only_jose_errors(der: bytes, label: str) -> None:
    with pytest.raises(JOSEError):
        JWK.from_pem(armor(der, label))


# -- differential: the DER reader and cryptography's loader agree --------------------------------


def cryptography_reading(pem: str) -> JWK | None:
    """cryptography's loader, then jwkverify's JWK rules: ``None`` where either refuses."""
    try:
        public = ser.load_pem_public_key(pem.encode())
    except Exception:  # any refusal by cryptography counts as one
        return None
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        jwk = {"kty": "RSA", "n": b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
               "e": b64(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big"))}
    elif isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name in _JWK_CURVES:
        size = (public.curve.key_size + 7) // 8
        point = public.public_numbers()
        jwk = {"kty": "EC", "crv": _JWK_CURVES[public.curve.name],
               "x": b64(point.x.to_bytes(size, "big")), "y": b64(point.y.to_bytes(size, "big"))}
    elif isinstance(public, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        crv = "Ed25519" if isinstance(public, ed25519.Ed25519PublicKey) else "Ed448"
        jwk = {"kty": "OKP", "crv": crv, "x": b64(public.public_bytes_raw())}
    else:
        return None
    try:
        return JWK.from_dict(jwk)
    except InvalidKey:
        return None


def jwkverify_reading(pem: str) -> JWK | None:
    try:
        return JWK.from_pem(pem)
    except InvalidKey as exc:
        # The two refusals that are deliberate (see test_deliberately_stricter_than_cryptography).
        if "hybrid form" in str(exc) or "rsaEncryption parameters" in str(exc):
            return cryptography_reading(pem)
        return None


def _base_ders() -> list[tuple[str, bytes]]:
    public = {alg: make_key(alg).private.public_key() for alg in KEY_ALGS}
    ders = [(alg, spki_der(key)) for alg, key in public.items()]
    pkcs1 = public["RS256"].public_bytes(ser.Encoding.DER, ser.PublicFormat.PKCS1)
    return [*ders, ("RSA PUBLIC KEY", bytes(pkcs1))]


BASE_DERS = _base_ders()


def _label(name: str) -> str:
    return "RSA PUBLIC KEY" if name == "RSA PUBLIC KEY" else "PUBLIC KEY"


@pytest.mark.parametrize(("name", "der"), BASE_DERS, ids=[name for name, _ in BASE_DERS])
def test_every_single_octet_mutation_is_read_alike(name: str, der: bytes) -> None:
    """Each octet flipped three ways, each truncation, each octet dropped: same verdict, same key."""
    mutated: list[bytes] = [der, *(der[:cut] for cut in range(len(der)))]
    for index in range(len(der)):
        mutated.append(der[:index] + der[index + 1:])
        for mask in (0x01, 0x80, 0xFF):
            mutated.append(der[:index] + bytes([der[index] ^ mask]) + der[index + 1:])
    mutated.append(der + b"\x00")
    accepted = 0
    for candidate in mutated:
        pem = armor(candidate, _label(name))
        ours, theirs = jwkverify_reading(pem), cryptography_reading(pem)
        assert ours == theirs, (name, candidate.hex())
        accepted += ours is not None
    # The key itself; and flips inside n or an Ed key are still keys (an EC point flipped leaves the curve).
    assert accepted >= (1 if name.startswith("ES") else 2)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(BASE_DERS), st.data())
def test_random_mutations_are_read_alike(base: tuple[str, bytes], data: st.DataObject) -> None:
    name, der = base
    octets = bytearray(der)
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(octets) - 1))
        action = data.draw(st.sampled_from(["set", "insert", "delete"]))
        if action == "set":
            octets[index] = data.draw(st.integers(0, 255))
        elif action == "insert":
            octets.insert(index, data.draw(st.integers(0, 255)))
        elif len(octets) > 1:
            del octets[index]
    pem = armor(bytes(octets), _label(name))
    assert jwkverify_reading(pem) == cryptography_reading(pem)


# -- zero-dependency mode --------------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import json, sys

    class BlockCryptography:
        def find_spec(self, name, path=None, target=None):
            if name == "cryptography" or name.startswith("cryptography."):
                raise ImportError(f"{name} is blocked for this test")
            return None

    sys.meta_path.insert(0, BlockCryptography())
    sys.path.insert(0, sys.argv[1])
    from jwkverify import JWK, InvalidKey, backend_name, verify_jws

    assert backend_name() == "pure", backend_name()
    for case in json.load(sys.stdin):
        key = JWK.from_pem(case["pem"], kid="k", alg=case["alg"])
        assert key == JWK.from_dict({**case["jwk"], "kid": "k", "alg": case["alg"]}), case["alg"]
        assert verify_jws(case["token"], key).payload == b'{"n":1}', case["alg"]
    try:
        JWK.from_pem(case["private"])
    except InvalidKey as exc:
        assert "pass the public key" in str(exc)
    else:
        raise AssertionError("a private key was read")
    assert not [m for m in sys.modules if m.startswith("cryptography")]
    print("read", backend_name())
""")


def test_zero_dependency_mode_reads_pem_too() -> None:
    cases = []
    for alg in KEY_ALGS:
        key = make_key(alg, kid="k")
        private = key.private
        cases.append({
            "alg": alg, "jwk": {k: v for k, v in key.jwk.items() if k != "kid"},
            "pem": private.public_key().public_bytes(*SPKI).decode(),
            "token": key.token(payload=b'{"n":1}', alg=alg),
            "private": private.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8,
                                             ser.NoEncryption()).decode(),
        })
    result = subprocess.run([sys.executable, "-c", CHILD, str(REPO)], input=json.dumps(cases),
                            capture_output=True, text=True, check=False, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "read pure"
