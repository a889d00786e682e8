"""JSON Web Keys (RFC 7517): parsed, validated and built once, then immutable.

A :class:`JWK` holds only public material (private members such as ``d`` are
dropped on parse; an ``oct`` key's ``k`` is the secret itself). At parse time it
validates every member, builds the backend public key, and derives the set of
algorithms it may verify. The verifier for an algorithm is built on its first
use and kept, so a verification is a dictionary lookup and a call; a key set of
many keys, most of which never verify anything, costs only the parse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, cast

from ._codec.strict_json import JSONError, loads_object
from ._crypto.choice import default_backend
from ._crypto.seam import SignatureBackend, Verifier
from ._jwk.export import as_mapping, thumbprint
from ._jwk.material import RSA_BITS_FLOOR, refusal_error
from ._jwk.parse import Fields, parse_fields
from .algorithms import ALGORITHMS, hmac_verifier
from .errors import InvalidKey, KeyNotFound, clip

__all__ = ["DEFAULT_MIN_RSA_BITS", "JWK"]

#: RSA moduli below this many bits are refused unless ``min_rsa_bits`` lowers it
#: (NIST SP 800-131A: 2048 bits is the minimum since 2014).
DEFAULT_MIN_RSA_BITS = 2048


class JWK:
    """An immutable public (or ``oct``) JSON Web Key, ready to verify signatures.

    Build one with :meth:`from_dict`, :meth:`from_json` or :meth:`from_pem`. Attributes mirror the
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
        raise TypeError("build a JWK with JWK.from_dict(...), JWK.from_json(...) or JWK.from_pem(...)")

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

    @classmethod
    def from_pem(
        cls,
        pem: str | bytes,
        *,
        kid: str | None = None,
        alg: str | None = None,
        min_rsa_bits: int = DEFAULT_MIN_RSA_BITS,
        backend: SignatureBackend | None = None,
    ) -> JWK:
        """Build a JWK from a PEM public key, as FastMCP's and PyJWT's users hold them.

        ``pem`` is one ``-----BEGIN PUBLIC KEY-----`` block (SubjectPublicKeyInfo: RSA,
        EC P-256/P-384/P-521/secp256k1, Ed25519, Ed448) or ``-----BEGIN RSA PUBLIC
        KEY-----`` block (PKCS#1), read by jwkverify's own strict DER reader with either
        backend. ``kid`` and ``alg`` set those members; the key is then checked exactly
        as :meth:`from_dict` checks the equivalent JWK.

        Raises:
            TypeError: ``pem`` is not str or bytes, or ``kid``/``alg`` not str.
            InvalidKey: not one PEM block of a public key (a private key or certificate
                is refused with how to get the public key), DER that is malformed or
                not strictly DER, an unknown algorithm or curve, an ``alg`` that does
                not fit the key, or any reason of :meth:`from_dict`.
        """
        from ._jwk.pem import pem_mapping  # the DER and PEM readers load on first use

        mapping = pem_mapping(pem, kid, alg)
        return cls.from_dict(mapping, min_rsa_bits=min_rsa_bits, backend=backend)

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
        raise refusal_error(alg, kty=self.kty, kid=self.kid, own_alg=self.alg, why_not=self._refusal,
                            algorithms=self.algorithms)

    # -- value behaviour ----------------------------------------------------

    def thumbprint(self, hash_name: str = "sha256") -> str:
        """The RFC 7638 JWK thumbprint, base64url-encoded.

        ``hash_name`` is ``"sha256"`` (default), ``"sha384"`` or ``"sha512"``.

        Raises:
            ValueError: another ``hash_name``.
        """
        return thumbprint(self.kty, self._members, hash_name)

    def to_dict(self) -> dict[str, Any]:
        """The key as a JWK mapping with public members only (``k`` for ``oct`` keys)."""
        return as_mapping(self.kty, self._members, kid=self.kid, alg=self.alg, use=self.use,
                          key_ops=self.key_ops, issuer=self.issuer)

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


# -- sealing a parsed key into a JWK ----------------------------------------------


def check_min_rsa_bits(min_rsa_bits: int) -> None:
    """Internal (for JWKSet): the checks :meth:`JWK.from_dict` makes of ``min_rsa_bits``."""
    if isinstance(min_rsa_bits, bool) or not isinstance(min_rsa_bits, int):
        raise TypeError("min_rsa_bits must be an int")
    if min_rsa_bits < RSA_BITS_FLOOR:
        raise ValueError(f"min_rsa_bits cannot be below {RSA_BITS_FLOOR}")


def parse_jwk(mapping: object, min_rsa_bits: int, backend: SignatureBackend) -> JWK:
    """Internal (for JWKSet): :meth:`JWK.from_dict` with ``min_rsa_bits`` checked and
    the backend chosen once per set rather than once per key."""
    # A parsed JSON object is a dict: test that first, the ABC check costs more.
    if type(mapping) is not dict and not isinstance(mapping, Mapping):
        raise InvalidKey(f"a JWK must be a JSON object, not {type(mapping).__name__}")
    return _seal(parse_fields(mapping, min_rsa_bits, backend))


def _seal(fields: Fields) -> JWK:
    """A :class:`JWK` holding ``fields``, immutable from the moment it is returned."""
    jwk: JWK = object.__new__(_UnsealedJWK)
    (jwk.kty, jwk.kid, jwk.alg, jwk.use, jwk.key_ops, jwk.crv, jwk.issuer, jwk._members, jwk.public_key,
     jwk.algorithms, jwk._refusal, jwk._material) = fields
    jwk._verifiers = {}
    jwk.__class__ = JWK  # sealed: from here on every assignment raises
    return jwk


class _UnsealedJWK(JWK):
    """A JWK while :func:`_seal` fills it in, the only time its slots are assigned.

    Same slots, plain attribute assignment: twelve ``object.__setattr__`` calls
    cost about 1 us per key, these assignments a fifth of that. :func:`_seal`
    then turns the object into a :class:`JWK`; none leaves this module unsealed.
    """

    __slots__ = ()
    # object's own slot wrappers, not methods calling them: only then does CPython
    # keep its fast generic assignment for this class. (mypy reads the wrapper as
    # a bound method, hence the ignore.)
    __setattr__ = object.__setattr__  # type: ignore[assignment]
    __delattr__ = object.__delattr__
