"""``verify_token(token) -> AccessToken | None``: the one question the MCP SDK and FastMCP ask a verifier.

The MCP SDK's ``TokenVerifier`` protocol and FastMCP's ``TokenVerifier`` class hand the
adapter a bare token and take back an ``AccessToken``, or ``None`` for a refusal (they
answer ``401`` themselves). :class:`AccessTokenVerifier` is that call for both faces
(a DPoP-bound token is refused: these faces never see the proof):
the ``AccessToken`` is the token's view (:class:`~.views.TokenViews`), built straight
from the claims once per cached token by :class:`~.access_tokens.SharedAccessTokens`,
and every refusal goes through the core (:meth:`~.decision.BearerCore.refused`: logged,
reported to the observer, never an exception the framework would turn into a ``500``).
"""

from __future__ import annotations

from typing import Any

from .access_tokens import SharedAccessTokens
from .decision import BearerCore
from .dpop import unbound_only
from .views import TokenViews

__all__ = ["AccessTokenVerifier"]


class AccessTokenVerifier:
    """A face's ``verify_token``: the shared, read-only ``AccessToken`` of a valid token, else ``None``."""

    __slots__ = ("core", "tokens")

    def __init__(self, core: BearerCore, shared: SharedAccessTokens) -> None:
        self.core = core
        #: The AccessToken is the view itself: one step fewer than a VerifiedToken first. A
        #: DPoP-bound token gets none: there is no proof here to check (RFC 9449 §7.2).
        self.tokens: TokenViews[Any] = TokenViews(core.options.verifier, unbound_only(shared.from_claims))

    async def verify_token(self, token: str) -> Any:
        """The ``AccessToken`` of ``token``, or ``None`` for any refusal (the verdict reported)."""
        tokens = self.tokens
        try:  # TokenViews.verify_async inlined: without waiting, no coroutine of its own
            access = tokens.now(token)
            if access is None:
                access = await tokens.waiting(token)
        except Exception as exc:  # the SDK and FastMCP turn an exception here into a 500
            self.core.refused(exc)
            return None
        if self.core.observer is not None:
            self.core.report("accepted", None)
        return access
