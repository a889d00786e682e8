"""The benchmark columns: the floor, jwkverify and each peer, used as a server would.

Every library gets the same job: from the key set's JSON text, build what its docs
say a server builds once (``load_*``), then per request verify the signature and
validate ``exp``, ``nbf``, ``iss`` and ``aud`` and return the claims as a dict
(``Verify``). A peer that cannot do an algorithm raises :class:`Unsupported`.
The ``jwkverify-remote`` column starts from the key set's URL instead: a
``RemoteJWKSet`` fetches it (once, before timing) from a real HTTP server.

The exact per-request calls are the bodies of the ``verify`` closures below; the
README quotes them.
"""

from __future__ import annotations

import hmac
import importlib
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench_tokens import AUDIENCE, ISSUER, Case, b64decode
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

Verify = Callable[[str], dict[str, Any]]
#: (JWKS JSON text, alg) -> a ready per-request verify function.
Loader = Callable[[str, str], Verify]


class Unsupported(Exception):
    """This column cannot run this algorithm (or its package is not installed)."""


@dataclass(frozen=True)
class Column:
    """One timed callable with the arguments it takes for a token, built outside timing."""

    name: str
    call: Callable[..., Any]
    args: Callable[[str], tuple[Any, ...]]
    #: What a rejected (tampered) token must raise: the library's signature error.
    rejects: tuple[type[BaseException], ...]
    #: Whether ``call`` returns the claims (the floor only verifies the signature).
    returns_claims: bool = True


def _module(name: str) -> Any:
    try:
        with warnings.catch_warnings():
            # authlib.jose warns at import that it is deprecated in favour of joserfc,
            # after authlib.deprecate has put an "always" filter first: go after it.
            if name.startswith("authlib"):
                importlib.import_module("authlib.deprecate")
            warnings.simplefilter("ignore", DeprecationWarning)
            return importlib.import_module(name)
    except ImportError as exc:
        raise Unsupported(f"{name.split('.', maxsplit=1)[0]} is not installed ({exc})") from exc


# -- the floor: cryptography (or hmac) alone, on a pre-split token --------------------

_HASH = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}


def floor_column(case: Case) -> Column:
    """The raw primitive on the same signature: pre-built key, padding and hash objects.

    No base64url, no JSON, no key lookup, no claims. For ECDSA the JOSE ``R || S``
    signature is converted to DER outside the timing, so the floor is the bare
    ``cryptography`` call (jwkverify has to do that conversion per token).
    """
    alg, bits = case.alg, case.alg[2:]
    public = case.signer.public

    def split(token: str) -> tuple[bytes, bytes]:
        header, payload, signature = token.split(".")
        return f"{header}.{payload}".encode("ascii"), b64decode(signature)

    if alg.startswith("RS") or alg.startswith("PS"):
        hash_obj = _HASH[bits]
        pad = (padding.PKCS1v15() if alg.startswith("RS")
               else padding.PSS(padding.MGF1(hash_obj), hash_obj.digest_size))

        def rsa_verify(data: bytes, signature: bytes) -> None:
            public.verify(signature, data, pad, hash_obj)

        return Column("floor", rsa_verify, split,
                      (InvalidSignature,), returns_claims=False)
    if alg.startswith("ES"):
        scheme = ec.ECDSA(_HASH[bits])

        def der_args(token: str) -> tuple[bytes, bytes]:
            data, raw = split(token)
            half = len(raw) // 2
            r, s = int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
            return data, encode_dss_signature(r, s)

        def ecdsa_verify(data: bytes, signature: bytes) -> None:
            public.verify(signature, data, scheme)

        return Column("floor", ecdsa_verify, der_args, (InvalidSignature,), returns_claims=False)
    if alg == "EdDSA":

        def eddsa_verify(data: bytes, signature: bytes) -> None:
            public.verify(signature, data)

        return Column("floor", eddsa_verify, split, (InvalidSignature,), returns_claims=False)
    if alg.startswith("HS"):
        secret, digest = public, "sha" + bits

        def hmac_verify(data: bytes, signature: bytes) -> None:
            if not hmac.compare_digest(hmac.digest(secret, data, digest), signature):
                raise InvalidSignature

        return Column("floor", hmac_verify, split, (InvalidSignature,), returns_claims=False)
    raise Unsupported(alg)


# -- the minimum: what any pure-Python verifier that returns checked claims must add -------


def minimum_column(case: Case) -> Column:
    """The floor plus the least work that turns a verified signature into checked
    claims, with the standard library and nothing else: split the token, decode the
    signature and the payload (``base64.urlsafe_b64decode``), ``json.loads`` the
    payload, compare ``exp``, ``nbf``, ``iss`` and ``aud``.

    No strictness (padding, duplicate names, NaN, number sizes), no key lookup, no
    header decoding, no type checks: a library cannot go below this column without
    leaving the standard library, so it shows how much of any verifier's time above
    the floor is base64 and JSON alone.
    """
    floor = floor_column(case)
    signature_verify, signature_args = floor.call, floor.args

    def verify(token: str) -> dict[str, Any]:
        signature_verify(*signature_args(token))
        claims: dict[str, Any] = json.loads(b64decode(token.split(".")[1]))
        now = time.time()
        if not (claims["nbf"] <= now < claims["exp"] and claims["iss"] == ISSUER
                and claims["aud"] == AUDIENCE):
            raise ValueError("claims refused")
        return claims

    return Column(MINIMUM, verify, lambda token: (token,), floor.rejects)


# -- jwkverify ---------------------------------------------------------------------------


def load_jwkverify(jwks_text: str, alg: str) -> Verify:
    """``JWTVerifier`` over a local ``JWKSet``: built once, ``.verify(token)`` per request."""
    from jwkverify import JWKSet, JWTVerifier

    verifier = JWTVerifier(JWKSet.from_json(jwks_text), algorithms=[alg], issuer=ISSUER, audience=AUDIENCE)
    return verifier.verify  # per request: verifier.verify(token)


def load_jwkverify_remote(jwks_url: str, alg: str) -> Verify:
    """``JWTVerifier`` over a fresh ``RemoteJWKSet``: fetched once at start-up
    (``refresh()``), then ``.verify(token)`` per request. With the set fresh and the
    token's kid known, a request reads one snapshot: no lock, no I/O."""
    from jwkverify import JWTVerifier, RemoteJWKSet

    remote = RemoteJWKSet(jwks_url, allow_http=True)  # http: the server is on 127.0.0.1
    remote.refresh()
    state = remote.state
    if state.status != "fresh" or state.fetch_count != 1:
        raise AssertionError(f"the remote set is not fresh after one fetch: {state!r}")
    verifier = JWTVerifier(remote, algorithms=[alg], issuer=ISSUER, audience=AUDIENCE)
    return verifier.verify  # per request: verifier.verify(token)


def load_verify_jwt(jwks_text: str, alg: str) -> Verify:
    """The one-shot ``verify_jwt`` free function with a ``JWKSet`` parsed once."""
    from jwkverify import JWKSet, verify_jwt

    keys = JWKSet.from_json(jwks_text)
    algorithms = [alg]

    def verify(token: str) -> dict[str, Any]:
        return verify_jwt(token, keys, algorithms=algorithms, issuer=ISSUER, audience=AUDIENCE)

    return verify


# -- peers -------------------------------------------------------------------------------


def load_pyjwt(jwks_text: str, alg: str) -> Verify:
    """PyJWT: ``PyJWKSet.from_json`` once (each ``PyJWK`` builds its key), then per
    request the header's kid picks the ``PyJWK`` (``jwks[kid]``) for ``jwt.decode``."""
    jwt = _module("jwt")
    keys = jwt.PyJWKSet.from_json(jwks_text)
    algorithms = [alg]

    def verify(token: str) -> dict[str, Any]:
        key = keys[jwt.get_unverified_header(token)["kid"]]
        return jwt.decode(token, key, algorithms=algorithms, audience=AUDIENCE, issuer=ISSUER)  # type: ignore[no-any-return]

    return verify


def load_python_jose(jwks_text: str, alg: str) -> Verify:
    """python-jose: ``jwk.construct`` once per key (its ``Key`` objects are accepted by
    ``jwt.decode``; passing the JWK dict would rebuild the key on every call), then
    header kid -> ``jwt.decode``."""
    jose_jwk = _module("jose.jwk")
    jose_jwt = _module("jose.jwt")
    supported = _module("jose.constants").ALGORITHMS.SUPPORTED
    if alg not in supported:
        raise Unsupported(f"python-jose does not implement {alg}")
    # python-jose has no key-set lookup: a dict by kid stands in for the loop its docs show.
    keys = {entry["kid"]: jose_jwk.construct(entry, alg) for entry in json.loads(jwks_text)["keys"]}
    algorithms = [alg]

    def verify(token: str) -> dict[str, Any]:
        key = keys[jose_jwt.get_unverified_header(token)["kid"]]
        return jose_jwt.decode(token, key, algorithms=algorithms, audience=AUDIENCE, issuer=ISSUER)  # type: ignore[no-any-return]

    return verify


def load_joserfc(jwks_text: str, alg: str) -> Verify:
    """joserfc: ``KeySet.import_key_set`` once; ``jwt.decode`` + ``JWTClaimsRegistry.validate``."""
    jwt = _module("joserfc.jwt")
    jwk = _module("joserfc.jwk")
    keys = jwk.KeySet.import_key_set(json.loads(jwks_text))
    registry = jwt.JWTClaimsRegistry(iss={"essential": True, "value": ISSUER},
                                     aud={"essential": True, "value": AUDIENCE})
    algorithms = [alg]

    def verify(token: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(token, keys, algorithms=algorithms).claims
        registry.validate(claims)  # exp, nbf, iat are checked when present
        return claims

    return verify


def load_jwcrypto(jwks_text: str, alg: str) -> Verify:
    """jwcrypto: ``JWKSet.from_json`` once; ``JWT(jwt=..., key=keyset, check_claims=...)``."""
    jwk = _module("jwcrypto.jwk")
    jwt = _module("jwcrypto.jwt")
    keys = jwk.JWKSet.from_json(jwks_text)
    algs = [alg]

    def verify(token: str) -> dict[str, Any]:
        checked = jwt.JWT(jwt=token, key=keys, algs=algs, expected_type="JWS",
                          check_claims={"iss": ISSUER, "aud": AUDIENCE, "exp": None, "nbf": None})
        return json.loads(checked.claims)  # type: ignore[no-any-return]

    return verify


def load_authlib(jwks_text: str, alg: str) -> Verify:
    """authlib: ``JsonWebKey.import_key_set`` and ``JsonWebToken([alg])`` once;
    ``decode`` + ``claims.validate()``."""
    jose = _module("authlib.jose")
    keys = jose.JsonWebKey.import_key_set(json.loads(jwks_text))
    decoder = jose.JsonWebToken([alg])
    options = {"iss": {"essential": True, "value": ISSUER}, "aud": {"essential": True, "value": AUDIENCE}}

    def verify(token: str) -> dict[str, Any]:
        claims = decoder.decode(token, keys, claims_options=options)
        claims.validate()  # exp, nbf, iat, then the options
        return claims  # type: ignore[no-any-return]

    return verify


def load_jwskate(jwks_text: str, alg: str) -> Verify:
    """jwskate: ``JwkSet`` once (it holds built ``Jwk`` objects); per request
    ``Jwt(token)``, ``get_jwk_by_kid`` and ``validate(...)``.

    ``SignedJwt.validate`` checks the signature, ``iss``, ``aud`` and ``exp``; it has
    no ``nbf`` check, so ``nbf`` goes through its custom-claim hook.
    """
    jwskate = _module("jwskate")
    keys = jwskate.JwkSet(json.loads(jwks_text))

    def not_before(value: Any) -> bool:
        return value is None or value <= time.time()

    def verify(token: str) -> dict[str, Any]:
        jwt = jwskate.Jwt(token)
        jwt.validate(keys.get_jwk_by_kid(jwt.kid), alg=alg, issuer=ISSUER, audience=AUDIENCE, nbf=not_before)
        return jwt.claims  # type: ignore[no-any-return]

    return verify


def _rejects(name: str) -> tuple[type[BaseException], ...]:
    """The exception each library raises for a bad signature (checked, not guessed)."""
    if name in ("jwkverify", REMOTE, "verify_jwt"):
        return (_module("jwkverify").InvalidSignature,)
    if name == "pyjwt":
        return (_module("jwt").InvalidSignatureError,)
    if name == "python-jose":
        return (_module("jose.exceptions").JWTError,)  # decode re-raises JWSError as JWTError
    if name == "joserfc":
        return (_module("joserfc.errors").BadSignatureError,)
    if name == "jwcrypto":
        # With a key set, jwcrypto reports "no key in the set verifies" as JWTMissingKey.
        return (_module("jwcrypto.jwt").JWTMissingKey,)
    if name == "authlib":
        return (_module("authlib.jose.errors").BadSignatureError,)
    if name == "jwskate":
        return (_module("jwskate").InvalidSignature,)
    raise KeyError(name)


#: The column that reads its keys from a URL (``load_jwkverify_remote``), not from text.
REMOTE = "jwkverify-remote"
#: The floor plus stdlib base64 and JSON and four comparisons (:func:`minimum_column`).
MINIMUM = "minimum"

#: The library columns that load from JWKS text, in table order, after the floor.
LOADERS: dict[str, Loader] = {
    "jwkverify": load_jwkverify,
    "verify_jwt": load_verify_jwt,
    "pyjwt": load_pyjwt,
    "python-jose": load_python_jose,
    "joserfc": load_joserfc,
    "jwcrypto": load_jwcrypto,
    "authlib": load_authlib,
    "jwskate": load_jwskate,
}
COLUMNS = ("floor", MINIMUM, "jwkverify", REMOTE, *(name for name in LOADERS if name != "jwkverify"))
PEERS = ("pyjwt", "python-jose", "joserfc", "jwcrypto", "authlib", "jwskate")


def build_column(name: str, case: Case, jwks_url: str | None = None) -> Column:
    """Build column ``name`` for ``case`` (raises :class:`Unsupported`).

    ``jwks_url`` is where ``case.jwks_json`` is served; only the remote column reads it.
    """
    if name == "floor":
        return floor_column(case)
    if name == MINIMUM:
        return minimum_column(case)
    if name == REMOTE:
        if jwks_url is None:
            raise Unsupported(f"{REMOTE} needs the URL the key set is served at")
        if case.alg.startswith("HS"):
            # RemoteJWKSet refuses a fetched set holding oct keys (a published set must
            # not carry secrets), so there is no remote HMAC hot path to time.
            raise Unsupported("RemoteJWKSet refuses secret (oct) keys in a fetched JWK Set, by design")
        verify = load_jwkverify_remote(jwks_url, case.alg)
    else:
        verify = LOADERS[name](case.jwks_json, case.alg)
    return Column(name, verify, lambda token: (token,), _rejects(name))


def check_column(column: Column, case: Case) -> None:
    """Verify the good token (right claims back) and refuse the tampered one with the
    library's signature error; a library column must also refuse correctly signed
    tokens that are expired, not yet valid, or for another issuer or audience.

    Raises ``AssertionError`` when the column is wrong: a benchmark of a verifier
    that accepts a forged token, returns other claims or skips a claim check (so does
    less work than the others) would be meaningless.
    """
    result = column.call(*column.args(case.token))
    if column.returns_claims:
        assert dict(result) == case.claims, f"{column.name} returned other claims: {result!r}"
    try:
        column.call(*column.args(case.tampered))
    except column.rejects:
        pass
    else:
        raise AssertionError(f"{column.name} accepted a tampered {case.label} token")
    if not column.returns_claims:
        return  # the floor checks a signature only
    for what, token in case.refused.items():
        try:
            column.call(*column.args(token))
        except Exception:  # each library has its own claim errors; any refusal will do
            continue
        raise AssertionError(f"{column.name} accepted a {case.label} token that is {what}")
