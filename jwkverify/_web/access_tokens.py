"""The MCP SDK's ``AccessToken`` of a verified token, read-only, built once per token.

The MCP adapter (and FastMCP's, whose ``AccessToken`` subclasses the SDK's) hands the
SDK an ``AccessToken``. :class:`SharedAccessTokens` builds it from a token's claims
once, as the token's view (:class:`~.views.TokenViews` or :class:`~.views.Derived`),
and every request with the token gets the same instance: a frozen subclass of the
model, whose ``scopes`` are a read-only list and whose ``claims`` are the token's
read-only claims. Nothing here imports the SDK; pydantic is imported when a
:class:`SharedAccessTokens` is made.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .conventions import DEFAULT_CONVENTIONS, TokenConventions
from .frozen import ReadOnlyList, freeze
from .scope_sets import ScopeSets
from .token import VerifiedToken

__all__ = ["SharedAccessTokens", "access_token_fields", "expiry", "resource_of"]

_SET = object.__setattr__
_IMMUTABLE = frozenset((str, int, float, bool, type(None)))


#: What a pydantic model instance stores, set by :meth:`SharedAccessTokens._construct`.
_STORED = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")


def _setter(model: type, name: str) -> Callable[[object, object], None]:
    """The setter of slot ``name`` of ``model``'s instances: its descriptor's ``__set__`` (a third of
    ``object.__setattr__``'s cost, which looks the descriptor up on each call), else that."""
    for klass in model.__mro__[:-1]:  # not object's own __dict__
        found = vars(klass).get(name)
        if found is not None and callable(getattr(found, "__set__", None)):
            setter: Callable[[object, object], None] = found.__set__
            return setter
    return lambda instance, value: _SET(instance, name, value)


def expiry(exp: object) -> int | None:
    """``exp`` as the SDK's ``expires_at``: whole seconds, or ``None`` when not a finite number."""
    if type(exp) is int:
        return exp
    if isinstance(exp, int | float) and not isinstance(exp, bool) and math.isfinite(exp):
        return int(exp)
    return None


def resource_of(aud: object, resource: str | None, audiences: frozenset[str]) -> str | None:
    """The ``aud`` entry that names this resource: ``resource`` if ``aud`` lists it, else the
    first entry among ``audiences``, else the first; ``aud`` itself when it is one string."""
    if isinstance(aud, str):
        return aud
    if not isinstance(aud, list) or not aud:
        return None
    named = [item for item in aud if isinstance(item, str)]
    if resource is not None and resource in named:
        return resource
    return next((item for item in named if item in audiences), named[0] if named else None)


def access_token_fields(verified: VerifiedToken, resource: str | None,
                        audiences: frozenset[str]) -> dict[str, Any]:
    """Every field of the SDK's ``AccessToken`` (mcp 2) for ``verified``."""
    claims = verified.claims
    return {
        "token": verified.token, "client_id": verified.client_id or "", "scopes": sorted(verified.scopes),
        "expires_at": expiry(claims.get("exp")),
        "resource": resource_of(claims.get("aud"), resource, audiences),
        "subject": verified.subject, "claims": claims,
    }


class SharedAccessTokens:
    """Builds the read-only ``AccessToken`` of a verified token, to share among its requests.

    ``cls`` is the MCP SDK's ``AccessToken`` or a subclass (FastMCP's): a frozen
    subclass of it is made here, once, and each token's instance gets the fields of
    :func:`jwkverify.mcp.access_token`, with ``scopes`` a read-only list and ``claims``
    the token's read-only claims themselves (no copy). Setting a field raises
    pydantic's ``ValidationError``. Call it with a :class:`~.token.VerifiedToken`
    (through :class:`~.views.Derived`), or give :meth:`from_claims` to a
    :class:`~.views.TokenViews` as its ``build``: either way it runs once per cached
    token. ``conventions`` read the scopes and client id for :meth:`from_claims`.

    Every value is made here with its field's type, so validating it again is work
    for nothing: an instance is put together as pydantic's ``model_construct`` does
    (its fields, the set of fields given, the defaults of the others), in a few steps
    instead of a generic loop. Made once at construction, a probe checks that this
    gives exactly what validation gives, and takes the defaults of the fields not given
    (FastMCP's ``original_client_id``) when each is immutable (``None``, a string, a
    number); if a future pydantic (or a subclass with validators, or a mutable default)
    differs, every instance is validated instead.

    Raises:
        ImportError: pydantic is not installed (it comes with the MCP SDK).
    """

    __slots__ = ("_audiences", "_claims", "_conventions", "_defaults", "_direct", "_model", "_resource",
                 "_scopes", "_setters", "_subject", "_validate")

    def __init__(self, cls: Any, *, resource: str | None = None, audiences: Iterable[str] = (),
                 conventions: TokenConventions = DEFAULT_CONVENTIONS) -> None:
        from pydantic import ConfigDict

        model: Any = type(f"ReadOnly{cls.__name__}", (cls,), {
            "model_config": ConfigDict(frozen=True), "__module__": cls.__module__,
            "__qualname__": f"ReadOnly{cls.__name__}",
            "__doc__": f"{cls.__name__}, read-only: one per verified token, shared by its requests.",
        })
        self._model = model
        self._validate = model.__pydantic_validator__.validate_python
        fields = getattr(cls, "model_fields", {})
        self._subject = "subject" in fields  # mcp 1.x has neither subject nor claims
        self._claims = "claims" in fields
        self._resource = resource
        self._audiences = frozenset(audiences)
        self._conventions = conventions
        self._scopes = ScopeSets(conventions)
        self._defaults: dict[str, Any] = {}
        self._setters = tuple(_setter(model, name) for name in _STORED)
        self._direct = self._probe()

    def __call__(self, verified: VerifiedToken) -> Any:
        """The shared ``AccessToken`` of ``verified``."""
        return self._make(verified.token, verified.claims, ReadOnlyList(sorted(verified.scopes)),
                          verified.client_id, verified.subject)

    def from_claims(self, token: str, claims: dict[str, Any]) -> Any:
        """The shared ``AccessToken`` of ``token``, whose verified claims are ``claims`` (not changed)."""
        frozen = freeze(claims)
        subject = frozen.get("sub")
        return self._make(token, frozen, self._scopes.sorted(frozen), self._conventions.client_id(frozen),
                          subject if isinstance(subject, str) else None)

    def _make(self, token: str, claims: Mapping[str, Any], scopes: ReadOnlyList, client_id: str | None,
              subject: str | None) -> Any:
        values: dict[str, Any] = {
            "token": token, "client_id": client_id or "", "scopes": scopes,
            "expires_at": expiry(claims.get("exp")),
            "resource": resource_of(claims.get("aud"), self._resource, self._audiences)}
        if self._subject:
            values["subject"] = subject
        if self._claims:
            values["claims"] = claims
        if self._direct:
            return self._construct(values)
        validated = dict(values, scopes=list(scopes))
        if self._claims:
            validated["claims"] = {}  # set below, without the copy validation would make
        made = self._validate(validated)
        stored = vars(made)  # a frozen model's fields, set once here before anyone sees it
        stored["scopes"] = values["scopes"]  # the read-only list (validation made a plain copy)
        if self._claims:
            stored["claims"] = claims
        return made

    def _construct(self, values: dict[str, Any]) -> Any:
        made = object.__new__(self._model)  # a pydantic model defines no __new__ of its own
        given = set(values)
        if self._defaults:
            values.update(self._defaults)
        stored, fields_set, extra, private = self._setters
        stored(made, values)
        fields_set(made, given)
        extra(made, None)
        private(made, None)
        return made

    def _probe(self) -> bool:
        """Whether :meth:`_construct` gives what validation gives, for this model."""
        values: dict[str, Any] = {"token": "t", "client_id": "c", "scopes": ["s"], "expires_at": 1,
                                  "resource": "https://r.example"}
        if self._subject:
            values["subject"] = "u"
        if self._claims:
            values["claims"] = {"sub": "u"}
        try:
            checked = self._validate(dict(values))
            defaults = {name: value for name, value in vars(checked).items() if name not in values}
            if not all(type(value) in _IMMUTABLE for value in defaults.values()):
                return False  # a mutable default would be shared by every instance: validate each
            self._defaults = defaults
            direct = self._construct(dict(values))
            return bool(vars(direct) == vars(checked) and direct.model_fields_set == checked.model_fields_set
                    and direct.model_dump() == checked.model_dump()
                    and direct.__pydantic_extra__ == checked.__pydantic_extra__
                    and direct.__pydantic_private__ == checked.__pydantic_private__)
        except Exception:  # any difference at all: validate every instance
            return False
