"""Other JOSE implementations as peers: PyJWT, joserfc, jwcrypto and panva's jose (Node).

Keys are generated here with `cryptography` (via ``signing.py``) and handed to each
peer, which signs the tokens and exports the JWKs; jwkverify then verifies and
parses what the peers produced. The reverse direction (a peer importing the key
set jwkverify exports, peers' thumbprints) goes through the same classes.

Node's jose runs once per session: :func:`node_answers` sends every request in one
JSON job to ``interop/node/sign.mjs`` and caches the answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from signing import ALL_ALGORITHMS, SigningKey, b64, make_key, uint

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "interop" / "node"
#: Set by .ci/run: a peer that cannot be loaded is a failure there, not a skip.
REQUIRED = os.environ.get("JWKVERIFY_REQUIRE_INTEROP") == "1"

#: The real clock, read once: PyJWT and jwcrypto check ``exp`` against it.
NOW = int(time.time())
ISSUER = "https://issuer.interop.example/"
AUDIENCE = "api://interop"
CLAIMS: dict[str, Any] = {
    "iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": NOW - 60, "nbf": NOW - 60,
    "exp": NOW + 3600, "scope": "read write", "groups": ["a", "b"], "ratio": 1.5, "name": "Zoë ✓",
}


def unavailable(reason: str) -> None:
    """Skip (locally) or fail (in CI) when a peer cannot run."""
    if REQUIRED:
        pytest.fail(f"{reason} (JWKVERIFY_REQUIRE_INTEROP=1)")
    pytest.skip(reason)


# -- what gets signed --------------------------------------------------------------------------

#: The key family each algorithm signs with: RSA algorithms share one RSA key, HS*
#: algorithms one 64-octet secret, so a case costs no key generation of its own.
FAMILY = {alg: ("RSA" if alg[:2] in ("RS", "PS") else "oct" if alg.startswith("HS") else alg)
          for alg in ALL_ALGORITHMS}
FAMILY.update({"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ES256K": "secp256k1",
               "EdDSA": "Ed25519"})
_GENERATE_AS = {"RSA": "RS256", "oct": "HS512", "P-256": "ES256", "P-384": "ES384", "P-521": "ES512",
                "secp256k1": "ES256K", "Ed25519": "Ed25519", "Ed448": "Ed448"}


@dataclass(frozen=True)
class Case:
    """A token algorithm and the key family that signs it."""

    alg: str
    family: str

    @property
    def id(self) -> str:
        return self.alg if FAMILY.get(self.alg) == self.family else f"{self.alg}+{self.family}"


#: Every algorithm jwkverify verifies, and EdDSA with both of its curves.
CASES = (*(Case(alg, FAMILY[alg]) for alg in ALL_ALGORITHMS), Case("EdDSA", "Ed448"))


def family_key(family: str, which: str = "main") -> SigningKey:
    """One key per family (``which="rogue"``: another key that claims the same kid)."""
    return _family_key(family, which)


@cache
def _family_key(family: str, which: str) -> SigningKey:
    return make_key(_GENERATE_AS[family], kid=f"{family}-main")


def private_jwk(key: SigningKey) -> dict[str, Any]:
    """The private JWK of ``key`` (the format jose, joserfc and jwcrypto import)."""
    private, jwk = key.private, dict(key.jwk)
    if isinstance(private, rsa.RSAPrivateKey):
        numbers = private.private_numbers()
        jwk.update(d=uint(numbers.d), p=uint(numbers.p), q=uint(numbers.q), dp=uint(numbers.dmp1),
                   dq=uint(numbers.dmq1), qi=uint(numbers.iqmp))
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        size = (private.curve.key_size + 7) // 8
        jwk["d"] = b64(private.private_numbers().private_value.to_bytes(size, "big"))
    elif isinstance(private, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        jwk["d"] = b64(private.private_bytes_raw())
    return jwk


VARIANTS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    # name: (which key signs, header members, claims)
    "valid": ("main", {}, CLAIMS),
    "no-kid": ("main", {"kid": None}, CLAIMS),
    "expired": ("main", {}, {**CLAIMS, "iat": NOW - 7200, "nbf": NOW - 7200, "exp": NOW - 3600}),
    "not-yet-valid": ("main", {}, {**CLAIMS, "nbf": NOW + 3600, "exp": NOW + 7200}),
    "wrong-audience": ("main", {}, {**CLAIMS, "aud": ["api://other", "api://another"]}),
    "wrong-issuer": ("main", {}, {**CLAIMS, "iss": ISSUER.rstrip("/")}),
    "unknown-kid": ("main", {"kid": "not-published"}, CLAIMS),
    "same-kid-other-key": ("rogue", {}, CLAIMS),
}


def header_for(case: Case, variant: str) -> dict[str, Any]:
    """The header members a variant's token carries (``alg`` is the peer's job)."""
    _, members, _ = VARIANTS[variant]
    header = {"kid": family_key(case.family).jwk["kid"], **members}
    return {name: value for name, value in header.items() if value is not None}


def signer_for(case: Case, variant: str) -> SigningKey:
    return family_key(case.family, VARIANTS[variant][0])


# -- the Python peers --------------------------------------------------------------------------


class Peer:
    """One implementation: which algorithms it signs, how it signs, exports and verifies."""

    name = "?"
    module = "?"

    def load(self) -> None:
        """Import the peer, or skip/fail the test when it is missing."""
        try:
            __import__(self.module)
        except ImportError:
            unavailable(f"{self.name} is not installed (pip install -e '.[interop]')")

    def algorithms(self) -> frozenset[str]:
        """What the peer signs; loading it first, so a missing peer skips (or fails in CI)."""
        self.load()
        return self._supported()

    def _supported(self) -> frozenset[str]:
        raise NotImplementedError

    def sign(self, alg: str, key: SigningKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
        raise NotImplementedError

    def token(self, case: Case, variant: str) -> str:
        """A token for ``case`` and one of :data:`VARIANTS`, or a skip if the peer cannot."""
        self.load()
        if case.alg not in self.algorithms():
            pytest.skip(f"{self.name} does not sign {case.alg}")
        return self.sign(case.alg, signer_for(case, variant), header_for(case, variant), VARIANTS[variant][2])

    def export(self, key: SigningKey) -> dict[str, Any]:
        """The peer's own public JWK for ``key``."""
        raise NotImplementedError

    def thumbprint(self, jwk: Mapping[str, Any], hash_name: str) -> str | None:
        """The peer's RFC 7638 thumbprint, or ``None`` if it has no such API."""
        return None

    def verify(self, token: str, jwks: dict[str, Any], alg: str) -> dict[str, Any]:
        """Verify with a key set jwkverify exported; return the claims."""
        raise NotImplementedError


class PyJWT(Peer):
    name, module = "PyJWT", "jwt"

    def _supported(self) -> frozenset[str]:
        from jwt.algorithms import get_default_algorithms

        return frozenset(get_default_algorithms()) - {"none"}

    def sign(self, alg: str, key: SigningKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
        import jwt

        return jwt.encode(claims, key.private, algorithm=alg, headers=header or None)

    def export(self, key: SigningKey) -> dict[str, Any]:
        from jwt import algorithms

        kind: Any = {"RSA": algorithms.RSAAlgorithm, "EC": algorithms.ECAlgorithm,
                     "OKP": algorithms.OKPAlgorithm, "oct": algorithms.HMACAlgorithm}[key.jwk["kty"]]
        material = key.private if key.jwk["kty"] == "oct" else key.private.public_key()
        jwk: dict[str, Any] = kind.to_jwk(material, as_dict=True)
        return jwk

    def verify(self, token: str, jwks: dict[str, Any], alg: str) -> dict[str, Any]:
        import jwt

        kid = jwt.get_unverified_header(token)["kid"]
        found = [key for key in jwt.PyJWKSet.from_dict(jwks).keys if key.key_id == kid]
        if not found:
            # PyJWKSet silently drops a JWK whose alg it cannot infer: it infers one for
            # Ed25519 but not for Ed448, so an Ed448 key without "alg" needs it given.
            entry = next(entry for entry in jwks["keys"] if entry.get("kid") == kid)
            found = [jwt.PyJWK.from_dict(entry, algorithm=alg)]
        # .key, not the PyJWK: PyJWT pins a PyJWK without "alg" to RS256 for any RSA key.
        claims: dict[str, Any] = jwt.decode(token, found[0].key, algorithms=[alg], audience=AUDIENCE,
                                            issuer=ISSUER)
        return claims


def imported(peer: str, key: SigningKey, load: Callable[[dict[str, Any]], Any]) -> Any:
    """A peer's key object for ``key``, imported once: validating an RSA private key costs ~30 ms."""
    found = _IMPORTED.get((peer, id(key)))
    if found is None or found[0] is not key:
        found = _IMPORTED[(peer, id(key))] = (key, load(private_jwk(key)))
    return found[1]


_IMPORTED: dict[tuple[str, int], tuple[SigningKey, Any]] = {}


class Joserfc(Peer):
    name, module = "joserfc", "joserfc"

    def _supported(self) -> frozenset[str]:
        from joserfc.jws import JWSRegistry

        return frozenset(JWSRegistry.algorithms) - {"none"}

    def sign(self, alg: str, key: SigningKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
        from joserfc import jwk, jwt

        with warnings.catch_warnings():  # SecurityWarning for algorithms it does not recommend
            warnings.simplefilter("ignore")
            return jwt.encode({**header, "alg": alg}, claims, imported(self.name, key, jwk.import_key),
                              algorithms=[alg])

    def export(self, key: SigningKey) -> dict[str, Any]:
        from joserfc import jwk

        exported: dict[str, Any] = dict(imported(self.name, key, jwk.import_key).as_dict(private=False))
        return exported

    def thumbprint(self, jwk: Mapping[str, Any], hash_name: str) -> str | None:
        if hash_name != "sha256":
            return None
        from joserfc import jwk as joserfc_jwk

        return str(joserfc_jwk.import_key(dict(jwk)).thumbprint())

    def verify(self, token: str, jwks: dict[str, Any], alg: str) -> dict[str, Any]:
        from joserfc import jwk, jwt

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            decoded = jwt.decode(token, jwk.KeySet.import_key_set(jwks), algorithms=[alg])
        registry = jwt.JWTClaimsRegistry(now=NOW, iss={"essential": True, "value": ISSUER},
                                         aud={"essential": True, "value": AUDIENCE})
        registry.validate(decoded.claims)
        return dict(decoded.claims)


class Jwcrypto(Peer):
    name, module = "jwcrypto", "jwcrypto"

    def _supported(self) -> frozenset[str]:
        from jwcrypto import jws

        return frozenset(jws.default_allowed_algs) - {"none"}

    def sign(self, alg: str, key: SigningKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
        from jwcrypto import jwk, jwt

        token = jwt.JWT(header={**header, "alg": alg}, claims=claims)
        token.make_signed_token(imported(self.name, key, lambda members: jwk.JWK(**members)))
        return str(token.serialize())

    def export(self, key: SigningKey) -> dict[str, Any]:
        from jwcrypto import jwk

        if key.jwk["kty"] == "oct":
            pytest.skip("jwcrypto exports no public form of a secret key")
        key_object = imported(self.name, key, lambda members: jwk.JWK(**members))
        exported: dict[str, Any] = key_object.export_public(as_dict=True)
        return exported

    def thumbprint(self, jwk: Mapping[str, Any], hash_name: str) -> str | None:
        from cryptography.hazmat.primitives import hashes
        from jwcrypto import jwk as jwcrypto_jwk

        if jwk["kty"] == "oct":
            return None  # jwcrypto thumbprints public keys only

        digest = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}[hash_name]
        return str(jwcrypto_jwk.JWK(**jwk).thumbprint(digest()))

    def verify(self, token: str, jwks: dict[str, Any], alg: str) -> dict[str, Any]:
        from jwcrypto import jwk, jwt

        keys = jwk.JWKSet.from_json(json.dumps(jwks))
        checked = jwt.JWT(jwt=token, key=keys, algs=[alg],
                          check_claims={"iss": ISSUER, "aud": AUDIENCE, "exp": None})
        claims: dict[str, Any] = json.loads(checked.claims)
        return claims


# -- panva's jose on Node ----------------------------------------------------------------------


def node_problem() -> str | None:
    """Why jose on Node cannot run here, or ``None``."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not (NODE_DIR / "node_modules" / "jose" / "package.json").exists():
        return f"jose is not installed: run `npm ci --prefix {NODE_DIR.relative_to(ROOT)}`"
    return None


def run_node(job: Mapping[str, Any]) -> dict[str, Any]:
    """Run one job through ``interop/node/sign.mjs``; skip/fail if Node or jose is missing."""
    problem = node_problem()
    if problem is not None:
        unavailable(problem)
    done = subprocess.run(["node", str(NODE_DIR / "sign.mjs")], input=json.dumps(job), text=True,
                          capture_output=True, timeout=300, check=False)
    if done.returncode != 0:
        pytest.fail(f"interop/node/sign.mjs failed: {done.stderr.strip()[-2000:]}")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


class Jose(Peer):
    """panva/jose: every request was made up front, in the session's one Node run."""

    name, module = "jose", "jose"

    def __init__(self, answers: Callable[[], dict[str, Any]]) -> None:
        self._answers = answers

    def load(self) -> None:
        problem = node_problem()
        if problem is not None:
            unavailable(problem)

    def result(self, request_id: str) -> dict[str, Any]:
        self.load()
        found: dict[str, Any] = self._answers()["results"][request_id]
        return found

    def token(self, case: Case, variant: str) -> str:
        found = self.result(f"sign:{case.id}:{variant}")
        if "error" in found:
            if variant == "valid":  # say once, precisely, what jose refused
                pytest.skip(f"jose does not sign {case.id}: {found['error']}")
            pytest.skip(f"jose does not sign {case.id}")
        return str(found["token"])


def node_sign_requests() -> list[dict[str, Any]]:
    """One jose ``sign`` request per case and variant."""
    return [{"id": f"sign:{case.id}:{variant}", "alg": case.alg,
             "jwk": private_jwk(signer_for(case, variant)), "header": header_for(case, variant),
             "claims": VARIANTS[variant][2]}
            for case in CASES for variant in VARIANTS]
