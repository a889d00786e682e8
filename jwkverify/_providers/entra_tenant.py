"""Microsoft Entra ID's clouds, tenants and token versions, and a verified domain's tenant ID.

Issuers, as each cloud's metadata publishes them (version 1.0 from
``{tenant}/.well-known/openid-configuration``, 2.0 from
``{tenant}/v2.0/.well-known/openid-configuration``):

=========  ==================================  ======================================
cloud      version 2.0                         version 1.0
=========  ==================================  ======================================
global     https://login.microsoftonline.com/  https://sts.windows.net/{tid}/
           {tid}/v2.0
usgov      https://login.microsoftonline.us/   https://sts.windows.net/{tid}/
           {tid}/v2.0
china      https://login.partner.              https://sts.chinacloudapi.cn/{tid}/
           microsoftonline.cn/{tid}/v2.0
=========  ==================================  ======================================
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from .._codec.strict_json import JSONError, loads_object
from .._remote.cache_policy import DEFAULT_COOLDOWN, DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT
from .._remote.http import Request, Response, check_response
from .._remote.transport import Transport
from ..errors import KeySetFetchError, clip
from .options import is_guid

__all__ = ["ANY_TENANT", "CLOUDS", "CONSUMERS", "Cloud", "TenantLookup", "is_domain"]

#: The tenant of personal Microsoft accounts (``tenant="consumers"``).
CONSUMERS: Final = "9188040d-6c67-4c5b-b112-36a304b66dad"
_DOMAIN: Final = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}")


class _AnyTenant:
    """Type of :data:`ANY_TENANT`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ANY_TENANT"


#: ``allowed_tenants=ANY_TENANT``: a public multi-tenant app accepts every tenant.
ANY_TENANT: Final = _AnyTenant()


@dataclass(frozen=True, slots=True)
class Cloud:
    """One Entra ID cloud: its sign-in host and its version 1.0 issuer host."""

    login: str
    sts: str

    def issuer(self, version: int, tid: str) -> str:
        """The issuer of ``version`` tokens of tenant ``tid`` (``{tenantid}``: the template)."""
        return f"https://{self.login}/{tid}/v2.0" if version == 2 else f"https://{self.sts}/{tid}/"

    def keys_url(self, version: int, tenant: str) -> str:
        """Where the signing keys of ``tenant`` are, for ``version`` tokens."""
        path = "discovery/v2.0/keys" if version == 2 else "discovery/keys"
        return f"https://{self.login}/{tenant}/{path}"

    def metadata_url(self, tenant: str) -> str:
        """The version 2.0 OpenID configuration of ``tenant`` (a domain resolves to its ID)."""
        return f"https://{self.login}/{tenant}/v2.0/.well-known/openid-configuration"

    def tenant_of(self, issuer: object, version: int) -> str | None:
        """The tenant ID in ``issuer`` if it is this cloud's ``version`` issuer of some tenant."""
        if not isinstance(issuer, str):
            return None
        prefix, _, suffix = self.issuer(version, "\0").partition("\0")
        if not (issuer.startswith(prefix) and issuer.endswith(suffix)):
            return None
        tid = issuer[len(prefix): len(issuer) - len(suffix)]
        return tid if is_guid(tid) else None


CLOUDS: Final = {
    "global": Cloud("login.microsoftonline.com", "sts.windows.net"),
    "usgov": Cloud("login.microsoftonline.us", "sts.windows.net"),
    "china": Cloud("login.partner.microsoftonline.cn", "sts.chinacloudapi.cn"),
}


def is_domain(value: str) -> bool:
    """Whether ``value`` reads as a DNS domain name (a tenant's verified domain)."""
    return _DOMAIN.fullmatch(value) is not None


class TenantLookup:
    """A verified domain's tenant ID, read once from the cloud's OpenID configuration.

    The ``issuer`` there names the tenant ID. Nothing is fetched until the first
    token; a failure is remembered for ``cooldown`` seconds so that a flood of
    tokens causes at most one request per cooldown.
    """

    __slots__ = ("_clock", "_cloud", "_cooldown", "_failed", "_tid", "_transport", "_url", "domain")

    def __init__(self, domain: str, cloud: Cloud, remote: Mapping[str, Any]) -> None:
        self.domain = domain
        self._cloud = cloud
        self._url = cloud.metadata_url(domain)
        self._transport = Transport.build(
            timeout=remote.get("timeout", DEFAULT_TIMEOUT),
            max_bytes=remote.get("max_bytes", DEFAULT_MAX_BYTES),
            headers=remote.get("headers"), allow_http=remote.get("allow_http", False),
            fetch=remote.get("fetch"), fetch_async=remote.get("fetch_async"),
            ssl_context=remote.get("ssl_context"))
        self._cooldown = float(remote.get("cooldown", DEFAULT_COOLDOWN))
        clock: Callable[[], float] = remote.get("clock", time.monotonic)
        self._clock = clock
        self._tid: str | None = None
        self._failed: tuple[float, KeySetFetchError] | None = None

    def resolve(self) -> str:
        """The tenant ID. Raises ``KeySetFetchError`` when it cannot be read."""
        tid = self._tid
        if tid is not None:
            return tid
        request = self._request()
        return self._settle(request, self._transport.send(request))

    async def resolve_async(self) -> str:
        """As :meth:`resolve`, without blocking the event loop."""
        tid = self._tid
        if tid is not None:
            return tid
        request = self._request()
        return self._settle(request, await self._transport.send_async(request))

    def _request(self) -> Request:
        failed = self._failed
        if failed is not None and self._clock() < failed[0] + self._cooldown:
            raise KeySetFetchError(f"{failed[1]} (not retried for {self._cooldown:g} s)")
        return Request(self._url, self._transport.headers, "the tenant's OpenID configuration")

    def _settle(self, request: Request, reply: Response | KeySetFetchError) -> str:
        try:
            if isinstance(reply, KeySetFetchError):
                raise reply
            check_response(request, reply, self._transport.max_bytes)
            try:
                issuer = loads_object(reply.body, "the OpenID configuration").get("issuer")
            except JSONError as exc:
                raise KeySetFetchError(str(exc)) from exc
            tid = self._cloud.tenant_of(issuer, 2)
            if tid is None:
                raise KeySetFetchError(f"the OpenID configuration of {self.domain!r} names issuer "
                                       f"{clip(issuer, 80)}, not a tenant of {self._cloud.login}")
        except KeySetFetchError as exc:
            self._failed = (self._clock(), exc)
            raise
        self._tid = tid
        self._failed = None
        return tid
