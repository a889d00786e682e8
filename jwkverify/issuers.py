"""Several trusted issuers, each with its own keys: multi-tenant providers and gateways.

The key-source seam sees only ``alg`` and ``kid``, not who issued the token, and
the claims are trusted only once the signature verifies. So the choice is made
one level up: :class:`MultiIssuerVerifier` reads the *unverified* ``iss`` only to
pick which issuer's :class:`JWTVerifier` to run. That verifier checks the
signature against that issuer's keys alone and requires the verified ``iss`` to be
that issuer, so a token naming issuer A is accepted only if A's keys signed it.
An issuer not configured is refused before any key lookup, so before any fetch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._codec.base64url import Base64Error, b64url_decode
from ._codec.strict_json import JSONError, loads_object
from .claims import Duration, TimeSpec, _AnyAudience
from .errors import InvalidIssuer, MalformedToken, MissingClaim, clip
from .jws import DEFAULT_MAX_TOKEN_SIZE, HeaderCache, JWSPolicy, refuse_algorithm, split_compact
from .jwt import JWTVerifier
from .keyset import KeySource

__all__ = ["MultiIssuerVerifier"]


class MultiIssuerVerifier:
    """A JWT verifier for several issuers, each verified with its own key source.

    ``issuers`` maps each trusted issuer (compared exactly, as ``iss`` is) to its
    key source: a :class:`RemoteJWKSet` (e.g. ``RemoteJWKSet.from_issuer(iss)``), a
    ``JWKSet`` or any key source. The other options are :class:`JWTVerifier`'s,
    applied to every issuer (``cache_size`` gives each issuer's verifier its own token
    cache); ``issuer`` is not one of them. Thread-safe; build once. Choosing the
    issuer costs one parse of the token before the chosen verifier runs.

    Raises ``TypeError``/``ValueError`` for invalid options or an empty mapping.
    """

    __slots__ = ("_headers", "_jws", "_verifiers")

    def __init__(
        self,
        issuers: Mapping[str, KeySource],
        *,
        algorithms: Iterable[str] | str | None = None,
        audience: str | Iterable[str] | _AnyAudience | None = None,
        subject: str | None = None,
        leeway: Duration = 0,
        now: TimeSpec = None,
        required_claims: Iterable[str] = (),
        max_age: Duration | None = None,
        typ: str | None = None,
        max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
        cache_size: int = 0,
    ) -> None:
        if not isinstance(issuers, Mapping):
            raise TypeError("issuers must map each issuer to its key source")
        if not issuers:
            raise ValueError("issuers must name at least one issuer")
        verifiers: dict[str, JWTVerifier] = {}
        for issuer, source in issuers.items():
            if not isinstance(issuer, str):
                raise TypeError(f"each issuer must be a str, not {type(issuer).__name__}")
            if not issuer:
                raise ValueError("an issuer must not be empty")
            verifiers[issuer] = JWTVerifier(
                source, issuer=issuer, algorithms=algorithms, audience=audience, subject=subject,
                leeway=leeway, now=now, required_claims=required_claims, max_age=max_age, typ=typ,
                max_token_size=max_token_size, cache_size=cache_size,
            )
        self._verifiers = verifiers
        self._jws = JWSPolicy.build(algorithms, max_token_size)
        self._headers = HeaderCache()  # the issuers' few distinct headers, decoded once

    @property
    def audiences(self) -> frozenset[str]:
        """The audiences a token must name; empty when the verifiers check none."""
        return frozenset().union(*(each.audiences for each in self._verifiers.values()))

    @property
    def issuers(self) -> tuple[str, ...]:
        """The trusted issuers."""
        return tuple(self._verifiers)

    def verify(self, token: str | bytes) -> dict[str, Any]:
        """Verify ``token`` with the keys of the issuer it names; return its claims.

        Raises:
            MissingClaim: the token has no ``iss``.
            InvalidIssuer: ``iss`` is not a string or names no configured issuer
                (refused before any key lookup or fetch).
            JOSEError: any refusal of :meth:`JWTVerifier.verify`; a signature by
                another issuer's key is ``KeyNotFound`` or ``InvalidSignature``.
        """
        issuer, verifier = self._choose(token)
        return _checked(verifier.verify(token), issuer)

    async def verify_async(self, token: str | bytes) -> dict[str, Any]:
        """Like :meth:`verify`; a remote key set fetches without blocking the loop.

        Raises:
            JOSEError: as :meth:`verify`.
        """
        issuer, verifier = self._choose(token)
        return _checked(await verifier.verify_async(token), issuer)

    # -- the web adapters' seam (private): see JWTVerifier._verify_entry ------------------------

    @property
    def _token_cache_size(self) -> int:
        return sum(each._token_cache_size for each in self._verifiers.values())

    @property
    def _never_waits(self) -> bool:
        return all(each._never_waits for each in self._verifiers.values())

    def _verify_entry(self, token: str) -> tuple[dict[str, Any], object | None]:
        issuer, verifier = self._choose(token)
        claims, entry = verifier._verify_entry(token)
        return _checked(claims, issuer), entry

    async def _verify_entry_async(self, token: str) -> tuple[dict[str, Any], object | None]:
        issuer, verifier = self._choose(token)
        claims, entry = await verifier._verify_entry_async(token)
        return _checked(claims, issuer), entry

    def _choose(self, token: str | bytes) -> tuple[str, JWTVerifier]:
        header, _, payload_segment, _ = split_compact(token, self._jws.max_token_size, self._headers)
        allowed = self._jws.algorithms
        if allowed is not None and header.alg not in allowed:  # before anything else
            refuse_algorithm(header.alg, allowed)
        issuer = _unverified_issuer(payload_segment)
        verifier = self._verifiers.get(issuer)
        if verifier is None:
            raise InvalidIssuer(f"issuer {clip(issuer, 80)} is not one of the {len(self._verifiers)} "
                                "trusted issuers", claim="iss", reason="mismatch")
        return issuer, verifier


def _unverified_issuer(payload_segment: str) -> str:
    """The ``iss`` of a payload not yet verified: only used to choose the keys to try."""
    try:
        claims = loads_object(b64url_decode(payload_segment), "the JWT claims set")
    except Base64Error as exc:
        raise MalformedToken(f"the payload segment is {exc}") from exc
    except JSONError as exc:
        raise MalformedToken(str(exc)) from exc
    issuer = claims.get("iss")
    if issuer is None:
        raise MissingClaim("the token has no 'iss' claim; it is needed to choose the issuer's keys",
                           claim="iss", reason="missing")
    if not isinstance(issuer, str):
        raise InvalidIssuer("the 'iss' claim must be a string", claim="iss", reason="invalid_type")
    return issuer


def _checked(claims: dict[str, Any], issuer: str) -> dict[str, Any]:
    # Defence in depth: the verifier was built with issuer=issuer and checked it.
    if claims.get("iss") != issuer:  # pragma: no cover
        raise InvalidIssuer("the verified 'iss' is not the issuer whose keys were used",
                            claim="iss", reason="mismatch")
    return claims
