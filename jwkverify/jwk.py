"""JSON Web Keys (RFC 7517): parsed, validated and built once, then immutable.

A :class:`JWK` holds only public material (private members such as ``d`` are
dropped on parse; an ``oct`` key's ``k`` is the secret itself). At parse time it
validates every member, builds the backend public key, and derives the set of
algorithms it may verify. The verifier for an algorithm is built on its first
use and kept, so a verification is a dictionary lookup and a call; a key set of
many keys, most of which never verify anything, costs only the parse.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn, cast

from ._codec.base64url import Base64Error, b64url_decode, b64url_encode
from ._codec.strict_json import JSONError, loads_object
from ._crypto.choice import default_backend
from ._crypto.roca import is_roca_modulus
from ._crypto.seam import BackendKeyError, SignatureBackend, Verifier
from .algorithms import ALGORITHMS, CURVES, KEY_AGREEMENT_CURVES, hmac_verifier
from .errors import AlgorithmNotAllowed, InvalidKey, KeyNotFound, clip

__all__ = ["DEFAULT_MIN_RSA_BITS", "JWK"]

#: RSA moduli below this many bits are refused unless ``min_rsa_bits`` lowers it
#: (NIST SP 800-131A: 2048 bits is the minimum since 2014).
DEFAULT_MIN_RSA_BITS = 2048
_RSA_BITS_FLOOR = 1024  # ``min_rsa_bits`` cannot go below this: 512-bit RSA is factored
_RSA_MAX_BITS = 16384  # OpenSSL's own limit; bounds the cost of one verification
_RSA_MAX_EXPONENT_BITS = 64  # real keys use 65537; a huge e only makes verification slow
_F4 = 65537

#: Public members, per key type, that define the key (RFC 7638 §3.2, RFC 8037 §2).
_REQUIRED_MEMBERS = {
    "RSA": ("e", "n"),
    "EC": ("crv", "x", "y"),
    "OKP": ("crv", "x"),
    "oct": ("k",),
}
_KTY_NAMES = ", ".join(sorted(_REQUIRED_MEMBERS))
_THUMBPRINT_HASHES = frozenset({"sha256", "sha384", "sha512"})
#: The algorithms an RSA key, or a key on a given curve, can verify; and each
#: algorithm alone, for a key whose ``alg`` narrows it. Shared by every key.
_FITTING = {
    "RSA": frozenset(a.name for a in ALGORITHMS.values() if a.kty == "RSA"),
    **{crv: frozenset(a.name for a in ALGORITHMS.values() if crv in a.curves) for crv in CURVES},
}
_ONLY = {name: frozenset({name}) for name in ALGORITHMS}
_NOTHING: frozenset[str] = frozenset()


def _fail(member: str, problem: str, kid: str | None = None) -> NoReturn:
    where = f"JWK {clip(kid)}" if kid is not None else "JWK"
    raise InvalidKey(f"{where}: member {member!r} {problem}")


class JWK:
    """An immutable public (or ``oct``) JSON Web Key, ready to verify signatures.

    Build one with :meth:`from_dict` or :meth:`from_json`. Attributes mirror the
    RFC 7517 members: ``kty``, ``kid``, ``alg``, ``use``, ``key_ops`` and ``crv``;
    ``issuer`` is the non-standard member by which a provider (Microsoft Entra ID)
    binds a key to the issuer it signs for, or ``None``.
    ``algorithms`` is the set of JWS algorithms this key may verify: those that fit
    its type, curve and size, narrowed to its own ``alg`` when it has one, and empty
    when ``use`` or ``key_ops`` forbid verification.
    """

    __slots__ = (
        "_hash",
        "_material",
        "_members",
        "_refusal",
        "_verifiers",
        "alg",
        "algorithms",
        "crv",
        "issuer",
        "key_ops",
        "kid",
        "kty",
        "public_key",
        "use",
    )

    kty: str
    kid: str | None
    alg: str | None
    use: str | None
    key_ops: tuple[str, ...] | None
    crv: str | None
    issuer: str | None
    #: The backend's public key object (a ``cryptography`` key), or ``None`` for ``oct``.
    public_key: object | None
    algorithms: frozenset[str]
    _members: Mapping[str, str]
    _refusal: str | None
    # The only state written after construction, each time with a value derived
    # from the immutable members (so a race between threads is benign: both write
    # the same thing). ``_hash`` stays unset until the first hash() and
    # ``_verifiers`` gains an algorithm's (signature size, verifier) on its first
    # use. Deferring both keeps a key set's parse cheap.
    _hash: int
    _verifiers: dict[str, tuple[int, Verifier]]
    #: What verifiers are built from: the backend (``None`` for ``oct``: HMAC), the
    #: key handle (the public key, or an ``oct`` key's secret) and the signature
    #: size in octets (``None`` for ``oct``: the size is the algorithm's hash's).
    _material: tuple[SignatureBackend | None, object, int | None]

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("build a JWK with JWK.from_dict(...) or JWK.from_json(...)")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("JWK objects are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("JWK objects are immutable")

    # -- construction -----------------------------------------------------

    @classmethod
    def from_json(
        cls,
        text: str | bytes,
        *,
        min_rsa_bits: int = DEFAULT_MIN_RSA_BITS,
        backend: SignatureBackend | None = None,
    ) -> JWK:
        """Parse a JWK from JSON text.

        Raises:
            InvalidKey: the text is not a JSON object, or the key is invalid (see
                :meth:`from_dict`).
        """
        try:
            mapping = loads_object(text, "JWK")
        except JSONError as exc:
            raise InvalidKey(str(exc)) from exc
        return cls.from_dict(mapping, min_rsa_bits=min_rsa_bits, backend=backend)

    @classmethod
    def from_dict(
        cls,
        mapping: Mapping[str, Any],
        *,
        min_rsa_bits: int = DEFAULT_MIN_RSA_BITS,
        backend: SignatureBackend | None = None,
    ) -> JWK:
        """Validate a JWK given as a mapping and build its public key.

        ``min_rsa_bits`` (default 2048, at least 1024) lowers the RSA modulus floor
        for legacy systems.

        Raises:
            InvalidKey: a member is missing, of the wrong type or badly encoded; the
                key type, curve or ``alg`` is not supported for signatures; or the
                material is weak or invalid (short RSA modulus, even exponent, point
                off the curve, short HMAC secret). The message names the member.
        """
        check_min_rsa_bits(min_rsa_bits)
        return parse_jwk(mapping, min_rsa_bits, backend or default_backend())

    # -- verification (used by the JWS core) ---------------------------------

    def keys_for(self, alg: str, kid: str | None) -> Sequence[JWK]:
        """Key-source protocol: this key, if it may verify ``alg`` for ``kid``.

        A token's ``kid`` must equal this key's ``kid`` when both are present.

        Raises:
            KeyNotFound: the ``kid`` differs, or ``use``/``key_ops`` forbid verifying.
            AlgorithmNotAllowed: the key does not take ``alg``.
        """
        if kid is not None and self.kid is not None and kid != self.kid:
            raise KeyNotFound(f"the token's kid {clip(kid)} does not match the key's kid {clip(self.kid)}")
        if alg not in self.algorithms:
            self._explain_refusal(alg)
        return (self,)

    async def keys_for_async(self, alg: str, kid: str | None) -> Sequence[JWK]:
        """Async form of :meth:`keys_for` (no I/O for a local key)."""
        return self.keys_for(alg, kid)

    def verify_signature(self, alg: str, signature: bytes, signing_input: bytes) -> bool:
        """Whether ``signature`` over ``signing_input`` verifies with ``alg``.

        Returns ``False`` for a wrong-length signature and for an algorithm the key
        does not take; key selection has already ruled the latter out.
        """
        entry = self._verifiers.get(alg) or self._first_use(alg)
        if entry is None:
            return False
        size, verify = entry
        return len(signature) == size and verify(signature, signing_input)

    def signature_size(self, alg: str) -> int:
        """Length in octets of an ``alg`` signature by this key (0 if it cannot verify it)."""
        entry = self._verifiers.get(alg) or self._first_use(alg)
        return entry[0] if entry is not None else 0

    def _first_use(self, alg: str) -> tuple[int, Verifier] | None:
        """Build and keep the (signature size, verifier) for ``alg``; ``None`` if the
        key does not verify ``alg``."""
        if alg not in self.algorithms:
            return None
        algorithm = ALGORITHMS[alg]
        backend, handle, size = self._material
        if backend is None or size is None:
            entry = (algorithm.digest_size, hmac_verifier(algorithm, cast(bytes, handle)))
        else:
            entry = (size, backend.verifier(algorithm, handle))
        # Two threads may both build one; setdefault keeps whichever came first.
        return self._verifiers.setdefault(alg, entry)

    def _explain_refusal(self, alg: str) -> NoReturn:
        """Raise the error that says why this key does not verify ``alg``."""
        name = f"key {clip(self.kid)}" if self.kid is not None else f"the {self.kty} key"
        if self._refusal is not None:
            raise KeyNotFound(f"{name} cannot verify signatures: {self._refusal}")
        if self.alg is not None:
            raise AlgorithmNotAllowed(f"{name} is restricted to alg {self.alg}, the token uses {alg}")
        accepted = ", ".join(sorted(self.algorithms))
        raise AlgorithmNotAllowed(f"{name} cannot verify {alg}; it verifies {accepted}")

    # -- value behaviour ----------------------------------------------------

    def thumbprint(self, hash_name: str = "sha256") -> str:
        """The RFC 7638 JWK thumbprint, base64url-encoded.

        ``hash_name`` is ``"sha256"`` (default), ``"sha384"`` or ``"sha512"``.
        """
        if hash_name not in _THUMBPRINT_HASHES:
            raise ValueError(f"hash_name must be one of {sorted(_THUMBPRINT_HASHES)}")
        # RFC 7638 §3.2-3.3: required members only, sorted, no whitespace. The
        # members are base64url or registered names, so the JSON is pure ASCII.
        required = {name: self._members[name] for name in _REQUIRED_MEMBERS[self.kty]}
        required["kty"] = self.kty
        canonical = json.dumps(required, sort_keys=True, separators=(",", ":"))
        return b64url_encode(hashlib.new(hash_name, canonical.encode("ascii")).digest())

    def to_dict(self) -> dict[str, Any]:
        """The key as a JWK mapping with public members only (``k`` for ``oct`` keys)."""
        out: dict[str, Any] = {"kty": self.kty, **self._members}
        for name in ("kid", "alg", "use", "issuer"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.key_ops is not None:
            out["key_ops"] = list(self.key_ops)
        return out

    def _identity(self) -> tuple[object, ...]:
        """What equality compares: the defining members and the metadata."""
        members = tuple(sorted(self._members.items()))
        return (self.kty, members, self.kid, self.alg, self.use, self.key_ops, self.issuer)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JWK):
            return NotImplemented
        return self is other or (hash(self) == hash(other) and self._identity() == other._identity())

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:  # the first hash() of this key (see the slot comment)
            value = hash(self._identity())
            object.__setattr__(self, "_hash", value)
            return value

    def __repr__(self) -> str:
        # Never key material: an oct key's members are its secret.
        parts = [f"kty={self.kty!r}"]
        parts += [f"{n}={getattr(self, n)!r}" for n in ("kid", "alg", "crv", "use")
                  if getattr(self, n) is not None]
        return f"JWK({', '.join(parts)})"


# -- parsing and validation ------------------------------------------------------


def check_min_rsa_bits(min_rsa_bits: int) -> None:
    """Internal (for JWKSet): the checks :meth:`JWK.from_dict` makes of ``min_rsa_bits``."""
    if isinstance(min_rsa_bits, bool) or not isinstance(min_rsa_bits, int):
        raise TypeError("min_rsa_bits must be an int")
    if min_rsa_bits < _RSA_BITS_FLOOR:
        raise ValueError(f"min_rsa_bits cannot be below {_RSA_BITS_FLOOR}")


def parse_jwk(mapping: object, min_rsa_bits: int, backend: SignatureBackend) -> JWK:
    """Internal (for JWKSet): :meth:`JWK.from_dict` with ``min_rsa_bits`` checked and
    the backend chosen once per set rather than once per key."""
    # A parsed JSON object is a dict: test that first, the ABC check costs more.
    if type(mapping) is not dict and not isinstance(mapping, Mapping):
        raise InvalidKey(f"a JWK must be a JSON object, not {type(mapping).__name__}")
    return _build(mapping, min_rsa_bits, backend)


def _build(mapping: Mapping[str, Any], min_rsa_bits: int, backend: SignatureBackend) -> JWK:
    kid = _optional_str(mapping, "kid", None)
    kty = mapping.get("kty")
    if not isinstance(kty, str):
        _fail("kty", "is required and must be a string", kid)
    if kty not in _REQUIRED_MEMBERS:
        _fail("kty", f"{clip(kty)} is not supported (supported: {_KTY_NAMES})", kid)
    alg = _optional_str(mapping, "alg", kid)
    if alg is not None and alg not in ALGORITHMS:
        _fail("alg", f"{clip(alg)} is not a JWS algorithm jwkverify verifies", kid)
    use = _optional_str(mapping, "use", kid)
    issuer = _optional_str(mapping, "issuer", kid)  # not RFC 7517: Entra ID binds keys to issuers
    key_ops = _key_ops(mapping, kid)
    members = {name: _required_str(mapping, name, kid) for name in _REQUIRED_MEMBERS[kty]}
    handle, fitting, size = _BUILDERS[kty](members, kid, min_rsa_bits, backend)
    if alg is not None:
        fitting = _narrow_to_own_alg(alg, fitting, kty, members.get("crv"), kid)
    refusal = _refusal(use, key_ops)
    oct_key = kty == "oct"
    jwk: JWK = object.__new__(_UnsealedJWK)
    jwk.kty = kty
    jwk.kid = kid
    jwk.alg = alg
    jwk.use = use
    jwk.key_ops = key_ops
    jwk.crv = members.get("crv")
    jwk.issuer = issuer
    jwk.public_key = None if oct_key else handle
    jwk.algorithms = fitting if refusal is None else _NOTHING
    jwk._members = members
    jwk._refusal = refusal
    jwk._verifiers = {}
    jwk._material = (None if oct_key else backend, handle, size)
    jwk.__class__ = JWK  # sealed: from here on every assignment raises
    return jwk


class _UnsealedJWK(JWK):
    """A JWK while :func:`_build` fills it in, the only time its slots are assigned.

    Same slots, plain attribute assignment: twelve ``object.__setattr__`` calls
    cost about 1 us per key, these assignments a fifth of that. :func:`_build`
    then turns the object into a :class:`JWK`; none leaves this module unsealed.
    """

    __slots__ = ()
    # object's own slot wrappers, not methods calling them: only then does CPython
    # keep its fast generic assignment for this class. (mypy reads the wrapper as
    # a bound method, hence the ignore.)
    __setattr__ = object.__setattr__  # type: ignore[assignment]
    __delattr__ = object.__delattr__


#: A builder's result: the key handle, the algorithms that fit the key, and the
#: signature size in octets (``None`` for ``oct``: it depends on the algorithm).
_Built = tuple[object, frozenset[str], int | None]


def _build_rsa(
    members: dict[str, str], kid: str | None, min_rsa_bits: int, backend: SignatureBackend
) -> _Built:
    n = _uint(members, "n", kid)
    # Nearly every key's e is 65537, which is AQAB (RFC 7518 §6.3.1.2's example).
    e = _F4 if members["e"] == "AQAB" else _uint(members, "e", kid)
    bits = n.bit_length()
    if bits < min_rsa_bits:
        _fail("n", f"is a {bits}-bit modulus; at least {min_rsa_bits} bits are required", kid)
    if bits > _RSA_MAX_BITS:
        _fail("n", f"is a {bits}-bit modulus; at most {_RSA_MAX_BITS} bits are supported", kid)
    if not n & 1:  # not n % 2, which divides all of a 2048-bit n (0.4 us)
        _fail("n", "is even, which no RSA modulus is", kid)
    # RFC 8017 §3.1: 3 <= e < n and e odd; a huge e only makes verification slow.
    if e < 3 or e % 2 == 0 or e.bit_length() > _RSA_MAX_EXPONENT_BITS:
        _fail("e", "must be an odd exponent of at least 3 and at most 64 bits (usually AQAB)", kid)
    if is_roca_modulus(n):
        _fail("n", "has the ROCA fingerprint (CVE-2017-15361): its private key is recoverable", kid)
    try:
        handle = backend.rsa_public_key(n, e)
    except BackendKeyError as exc:
        _fail("n", f"does not form a usable RSA key with e: {exc}", kid)
    # RFC 8017 §8.2.2: the signature is exactly k octets, k the modulus length.
    return handle, _FITTING["RSA"], (bits + 7) // 8


def _build_ec(
    members: dict[str, str], kid: str | None, min_rsa_bits: int, backend: SignatureBackend
) -> _Built:
    curve = _curve(members["crv"], "EC", kid)
    x = _fixed_octets(members, "x", curve.size, kid)
    y = _fixed_octets(members, "y", curve.size, kid)
    prime = curve.field_prime
    assert prime is not None
    for name, octets in (("x", x), ("y", y)):
        if int.from_bytes(octets, "big") >= prime:
            _fail(name, f"is not a coordinate of {curve.name} (not below the field prime)", kid)
    try:
        handle = backend.ec_public_key(curve.name, x, y)
    except BackendKeyError as exc:
        _fail("x", f"and 'y': {exc} {curve.name}", kid)
    return handle, _FITTING[curve.name], curve.signature_size


def _build_okp(
    members: dict[str, str], kid: str | None, min_rsa_bits: int, backend: SignatureBackend
) -> _Built:
    curve = _curve(members["crv"], "OKP", kid)
    x = _fixed_octets(members, "x", curve.size, kid)
    try:
        handle = backend.okp_public_key(curve.name, x)
    except BackendKeyError as exc:
        _fail("x", f"is not a valid {curve.name} public key: {exc}", kid)
    return handle, _FITTING[curve.name], curve.signature_size


def _build_oct(
    members: dict[str, str], kid: str | None, min_rsa_bits: int, backend: SignatureBackend
) -> _Built:
    secret = _octets(members, "k", kid)
    # RFC 7518 §3.2: a key of the same size as the hash output or larger MUST be used.
    fitting = frozenset(a.name for a in ALGORITHMS.values()
                        if a.kty == "oct" and len(secret) >= a.digest_size)
    if not fitting:
        _fail("k", f"is {len(secret)} octets; HMAC keys need at least 32 (RFC 7518 §3.2)", kid)
    return secret, fitting, None


_BUILDERS: dict[str, Callable[[dict[str, str], str | None, int, SignatureBackend], _Built]] = {
    "RSA": _build_rsa,
    "EC": _build_ec,
    "OKP": _build_okp,
    "oct": _build_oct,
}


def _narrow_to_own_alg(
    alg: str, fitting: frozenset[str], kty: str, crv: str | None, kid: str | None
) -> frozenset[str]:
    if alg not in fitting:
        kind = f"{kty} {crv}" if crv else kty
        problem = f"{alg} does not fit this {kind} key"
        if kty == "oct":
            problem = f"{alg} needs a key of at least {ALGORITHMS[alg].digest_size} octets"
        _fail("alg", problem, kid)
    return _ONLY[alg]


def _refusal(use: str | None, key_ops: tuple[str, ...] | None) -> str | None:
    # RFC 7517 §4.2-4.3: a key marked for another use or operation never verifies.
    if use is not None and use != "sig":
        return f"its use is {clip(use)}, not 'sig'"
    if key_ops is not None and "verify" not in key_ops:
        return f"its key_ops {clip(list(key_ops))} do not include 'verify'"
    return None


def _curve(name: str, kty: str, kid: str | None) -> Any:
    curve = CURVES.get(name)
    if curve is not None and curve.kty == kty:
        return curve
    if kty == "OKP" and name in KEY_AGREEMENT_CURVES:
        _fail("crv", f"{name} is a key-agreement curve; it cannot verify signatures", kid)
    supported = ", ".join(c.name for c in CURVES.values() if c.kty == kty)
    _fail("crv", f"{clip(name)} is not supported for {kty} keys (supported: {supported})", kid)


def _optional_str(mapping: Mapping[str, Any], name: str, kid: str | None) -> str | None:
    value = mapping.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        _fail(name, "must be a string", kid if name != "kid" else None)
    return value


def _required_str(mapping: Mapping[str, Any], name: str, kid: str | None) -> str:
    value = mapping.get(name)
    if value is None:
        _fail(name, "is required", kid)
    if not isinstance(value, str):
        _fail(name, "must be a string", kid)
    return value


def _key_ops(mapping: Mapping[str, Any], kid: str | None) -> tuple[str, ...] | None:
    value = mapping.get("key_ops")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(op, str) for op in value):
        _fail("key_ops", "must be an array of strings", kid)
    if len(set(value)) != len(value):
        _fail("key_ops", "must not repeat a value (RFC 7517 §4.3)", kid)
    return tuple(value)


def _octets(members: Mapping[str, str], name: str, kid: str | None) -> bytes:
    try:
        return b64url_decode(members[name])
    except Base64Error as exc:
        _fail(name, f"is {exc}", kid)


def _fixed_octets(members: Mapping[str, str], name: str, size: int, kid: str | None) -> bytes:
    octets = _octets(members, name, kid)
    if len(octets) != size:
        # RFC 7518 §6.2.1.2 / RFC 8037 §2: exactly the curve's length, leading zeros kept.
        _fail(name, f"must be {size} octets for this curve, not {len(octets)}", kid)
    return octets


def _uint(members: Mapping[str, str], name: str, kid: str | None) -> int:
    octets = _octets(members, name, kid)
    # RFC 7518 §6.3.1: Base64urlUInt uses the minimum number of octets.
    if not octets or octets[0] == 0:
        _fail(name, "must be a non-zero integer in the fewest octets (no leading zero)", kid)
    return int.from_bytes(octets, "big")
