"""RSASSA-PKCS1-v1_5 and RSASSA-PSS verification (RFC 8017), in pure Python.

PKCS #1 v1.5 never parses the recovered block: it builds the one encoded message
a valid signature can have (§9.2) and compares the two. PSS runs EMSA-PSS-VERIFY
(§9.1.2) in full with MGF1 over the same hash and a salt exactly as long as the
hash (RFC 7518 §3.5), which is what the ``cryptography`` backend asks OpenSSL for.
"""

from __future__ import annotations

import hashlib
import hmac

from ..algorithms import DIGEST_INFO_PREFIX

__all__ = ["RSAPublicKey", "pkcs1v15_prefix", "pkcs1v15_verify", "pss_verify"]



class RSAPublicKey:
    """An RSA public key (n, e) with the lengths RFC 8017 derives from n."""

    __slots__ = ("e", "k", "mod_bits", "n")

    n: int
    e: int
    #: Length in octets of n, and so of a signature (RFC 8017 §8.1.2, §8.2.2).
    k: int
    mod_bits: int

    def __init__(self, n: int, e: int) -> None:
        """Raises ValueError unless n is odd and at least 3, and e is odd with 3 <= e < n."""
        # RFC 8017 §3.1; the same rules as cryptography's RSAPublicNumbers.public_key().
        if n < 3 or n % 2 == 0:
            raise ValueError("the modulus must be odd and at least 3")
        if not 3 <= e < n or e % 2 == 0:
            raise ValueError("the public exponent must be odd, at least 3 and below n")
        self.n = n
        self.e = e
        self.mod_bits = n.bit_length()
        self.k = (self.mod_bits + 7) // 8

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, name):
            raise AttributeError("RSAPublicKey objects are immutable")
        object.__setattr__(self, name, value)

    def recover(self, signature: bytes) -> int | None:
        """RSAVP1 (§5.2.2) on a k-octet signature: s^e mod n, or None if s >= n."""
        if len(signature) != self.k:  # §8.1.2 / §8.2.2 step 1
            return None
        s = int.from_bytes(signature, "big")
        if s >= self.n:  # §5.2.2 step 1: "signature representative out of range"
            return None
        return pow(s, self.e, self.n)


def pkcs1v15_prefix(key: RSAPublicKey, hash_name: str) -> bytes | None:
    """EM up to the hash: 0x00 0x01 PS 0x00 DigestInfo-prefix (§9.2 steps 2-5).

    ``None`` when k < tLen + 11 ("intended encoded message length too short").
    """
    prefix = DIGEST_INFO_PREFIX[hash_name]
    t_len = len(prefix) + hashlib.new(hash_name).digest_size
    if key.k < t_len + 11:
        return None
    return b"\x00\x01" + b"\xff" * (key.k - t_len - 3) + b"\x00" + prefix


def pkcs1v15_verify(key: RSAPublicKey, hash_name: str, prefix: bytes | None, signature: bytes,
                    message: bytes) -> bool:
    """RSASSA-PKCS1-V1_5-VERIFY (§8.2.2) with the EM prefix from :func:`pkcs1v15_prefix`."""
    m = key.recover(signature)
    if m is None or prefix is None:
        return False
    expected = prefix + hashlib.new(hash_name, message).digest()
    return hmac.compare_digest(m.to_bytes(key.k, "big"), expected)


def pss_verify(key: RSAPublicKey, hash_name: str, signature: bytes, message: bytes) -> bool:
    """RSASSA-PSS-VERIFY (§8.1.2) with MGF1(hash) and sLen = hLen."""
    m = key.recover(signature)
    if m is None:
        return False
    em_bits = key.mod_bits - 1
    em_len = (em_bits + 7) // 8
    if m >> (8 * em_len):  # §8.1.2 step 2c: I2OSP(m, emLen) fails
        return False
    return _emsa_pss_verify(hash_name, message, m.to_bytes(em_len, "big"), em_bits)


def _emsa_pss_verify(hash_name: str, message: bytes, em: bytes, em_bits: int) -> bool:
    # RFC 8017 §9.1.2; step numbers below are that section's.
    m_hash = hashlib.new(hash_name, message).digest()  # step 2
    h_len = s_len = len(m_hash)
    em_len = len(em)
    if em_len < h_len + s_len + 2:  # step 3
        return False
    if em[-1] != 0xBC:  # step 4
        return False
    db_len = em_len - h_len - 1
    masked_db, h = em[:db_len], em[db_len:-1]  # step 5
    unused = 8 * em_len - em_bits
    if masked_db[0] >> (8 - unused):  # step 6: the leftmost bits must be zero
        return False
    db = bytearray(_xor(masked_db, _mgf1(hash_name, h, db_len)))  # steps 7-8
    db[0] &= 0xFF >> unused  # step 9
    pad_len = em_len - h_len - s_len - 2
    if any(db[:pad_len]) or db[pad_len] != 0x01:  # step 10
        return False
    salt = bytes(db[db_len - s_len:])  # step 11
    h_prime = hashlib.new(hash_name, b"\x00" * 8 + m_hash + salt).digest()  # steps 12-13
    return hmac.compare_digest(h, h_prime)  # step 14


def _mgf1(hash_name: str, seed: bytes, length: int) -> bytes:
    # RFC 8017 §B.2.1.
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.new(hash_name, seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:length])


def _xor(one: bytes, two: bytes) -> bytes:
    return (int.from_bytes(one, "big") ^ int.from_bytes(two, "big")).to_bytes(len(one), "big")
