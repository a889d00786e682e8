"""The one error hierarchy of jwkverify.

Every failure the library reports is a :class:`JOSEError`. None of these classes
subclass ``ValueError`` or ``KeyError`` on purpose: a broad ``except ValueError``
in application code must never swallow an authentication failure.

Each class has a stable ``code`` (for logs and metrics) and a ``status_hint``
(the HTTP status an adapter should answer with), in the spirit of h11's
``error_status_hint``.
"""

from __future__ import annotations

__all__ = [
    "AlgorithmNotAllowed",
    "ClaimError",
    "ExpiredToken",
    "InvalidAudience",
    "InvalidDPoPProof",
    "InvalidIssuer",
    "InvalidKey",
    "InvalidKeySet",
    "InvalidSignature",
    "JOSEError",
    "KeyNotFound",
    "KeySetFetchError",
    "MalformedToken",
    "MissingClaim",
    "NotYetValid",
    "ReplayStoreUnavailable",
    "UnsupportedAlgorithm",
    "UseDPoPNonce",
]


class JOSEError(Exception):
    """Base class of every error raised by jwkverify."""

    code: str = "jose_error"
    #: The HTTP status a server should answer with when this error ends a request.
    status_hint: int = 401


class MalformedToken(JOSEError):
    """The token is not a well-formed compact JWS/JWT (segments, base64url, JSON)."""

    code = "malformed_token"


class UnsupportedAlgorithm(JOSEError):
    """The token names an algorithm jwkverify does not implement (``none`` included)."""

    code = "unsupported_algorithm"


class AlgorithmNotAllowed(JOSEError):
    """The algorithm exists, but the caller's allow-list or the key refuses it."""

    code = "algorithm_not_allowed"


class KeyNotFound(JOSEError):
    """No key in the key source can verify the token (unknown ``kid``, wrong use, ...)."""

    code = "key_not_found"


class InvalidSignature(JOSEError):
    """The signature does not verify with the selected key."""

    code = "invalid_signature"


class InvalidKey(JOSEError):
    """A JWK is malformed, weak, or of a type/curve jwkverify does not support."""

    code = "invalid_key"
    status_hint = 500


class InvalidKeySet(JOSEError):
    """A JWK Set document is not a JSON object with a ``keys`` array."""

    code = "invalid_key_set"
    status_hint = 503


class KeySetFetchError(JOSEError):
    """A remote key set could not be fetched and no usable cached copy exists."""

    code = "key_set_fetch_error"
    status_hint = 503


class ClaimError(JOSEError):
    """A JWT claim (or the ``typ`` header) failed validation.

    ``claim`` names the claim; ``reason`` is a short machine-readable word such as
    ``"missing"``, ``"expired"``, ``"mismatch"`` or ``"invalid_type"``.
    """

    code = "invalid_claim"

    def __init__(self, message: str, *, claim: str, reason: str) -> None:
        super().__init__(message)
        self.claim = claim
        self.reason = reason


class ExpiredToken(ClaimError):
    """``exp`` has passed (or ``iat`` is older than ``max_age``)."""

    code = "expired_token"


class NotYetValid(ClaimError):
    """``nbf`` (or ``iat``) lies in the future beyond the leeway."""

    code = "not_yet_valid"


class InvalidIssuer(ClaimError):
    """``iss`` is not one of the accepted issuers."""

    code = "invalid_issuer"


class InvalidAudience(ClaimError):
    """``aud`` names none of the accepted audiences, or is present when none is expected."""

    code = "invalid_audience"


class MissingClaim(ClaimError):
    """A claim required by the verifier's options is absent."""

    code = "missing_claim"


class InvalidDPoPProof(JOSEError):
    """A DPoP proof (RFC 9449 §4.3) was refused: missing, repeated, malformed, badly
    signed, made for another request, too old, replayed, or bound to another key.

    ``check`` names the check that failed, one of ``"count"``, ``"format"``,
    ``"typ"``, ``"alg"``, ``"jwk"``, ``"signature"``, ``"claims"``, ``"htm"``,
    ``"htu"``, ``"iat"``, ``"ath"``, ``"jkt"``, ``"nonce"`` or ``"replay"``: an
    adapter may answer a ``"jkt"`` failure (the proof's key is not the token's) with
    ``invalid_token``, as RFC 9449 §7.1 does. Never a server error: everything in a
    proof, its key included, comes from the client.
    """

    code = "invalid_dpop_proof"

    def __init__(self, message: str, *, check: str) -> None:
        super().__init__(message)
        self.check = check


class UseDPoPNonce(JOSEError):
    """The server requires a DPoP nonce (RFC 9449 §9) and the proof has none, or an
    old one. ``nonce`` is the fresh value to send back in a ``DPoP-Nonce`` header;
    the client retries with it."""

    code = "use_dpop_nonce"

    def __init__(self, message: str, *, nonce: str) -> None:
        super().__init__(message)
        self.nonce = nonce


class ReplayStoreUnavailable(JOSEError):
    """The shared store that remembers DPoP proofs (Redis) could not be reached, so
    whether a proof is a replay is unknown: the request is refused, with 503, never
    accepted. Nothing is wrong with the proof; the client may retry later."""

    code = "replay_store_unavailable"
    status_hint = 503


def clip(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, for echoing untrusted input in messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
