"""jwkverify: strict, fast verification of JWTs and compact JWS against JWK sets."""

from ._crypto.choice import backend_name
from .asgi import BearerAuthMiddleware, VerifiedToken
from .claims import ANY_AUDIENCE
from .errors import (
    AlgorithmNotAllowed,
    ClaimError,
    ExpiredToken,
    InvalidAudience,
    InvalidDPoPProof,
    InvalidIssuer,
    InvalidKey,
    InvalidKeySet,
    InvalidSignature,
    JOSEError,
    KeyNotFound,
    KeySetFetchError,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    ReplayStoreUnavailable,
    UnsupportedAlgorithm,
    UseDPoPNonce,
)
from .issuers import MultiIssuerVerifier
from .jwk import JWK
from .jws import VerifiedJWS, verify_jws
from .jwt import JWTVerifier, verify_jwt
from .keyset import JWKSet, KeySource, SkippedKey
from .remote import RemoteJWKSet, RemoteJWKSetState

__all__ = [
    "ANY_AUDIENCE",
    "JWK",
    "AlgorithmNotAllowed",
    "BearerAuthMiddleware",
    "ClaimError",
    "ExpiredToken",
    "InvalidAudience",
    "InvalidDPoPProof",
    "InvalidIssuer",
    "InvalidKey",
    "InvalidKeySet",
    "InvalidSignature",
    "JOSEError",
    "JWKSet",
    "JWTVerifier",
    "KeyNotFound",
    "KeySetFetchError",
    "KeySource",
    "MalformedToken",
    "MissingClaim",
    "MultiIssuerVerifier",
    "NotYetValid",
    "RemoteJWKSet",
    "RemoteJWKSetState",
    "ReplayStoreUnavailable",
    "SkippedKey",
    "UnsupportedAlgorithm",
    "UseDPoPNonce",
    "VerifiedJWS",
    "VerifiedToken",
    "backend_name",
    "verify_jws",
    "verify_jwt",
]
__version__ = "0.1.0"
