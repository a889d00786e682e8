"""entra(): versions, tenants, per-key issuers, Graph tokens, sovereign clouds."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest
from jwks_server import Clock, JWKSServer
from provider_shapes import Upstream, asgi_client, bearer, claims_at, rsa_key, with_x5c
from signing import SigningKey, b64, segment

from jwkverify import (
    AlgorithmNotAllowed,
    ClaimError,
    InvalidAudience,
    InvalidIssuer,
    InvalidSignature,
    JWTVerifier,
    KeySetFetchError,
    MissingClaim,
    RemoteJWKSet,
)
from jwkverify.providers import ANY_TENANT, CONSUMERS, entra

TID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER = "aaaabbbb-0000-cccc-1111-dddd2222eeee"
CLIENT = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
APP_ID_URI = "api://contoso-orders"
V2 = "https://login.microsoftonline.com/{}/v2.0"
V1 = "https://sts.windows.net/{}/"
TEMPLATE = V2.format("{tenantid}")
# Entra's keys, member by member: kty, use, kid, x5t, n, e, x5c, issuer. No alg.
ORG = rsa_key("Mc7l3Iz93g7uwgNeEmmw_WYGPko", use="sig")
MSA = rsa_key("8IIDH6M8c3cXoeojKme8Jvqsr2Y", use="sig")
ORG_JWK = {**with_x5c(ORG, "accounts.accesscontrol.windows.net"), "issuer": TEMPLATE}
MSA_JWK = {**with_x5c(MSA, "Live ID STS Signing Public Key"), "issuer": V2.format(CONSUMERS)}
V1_JWK = {name: value for name, value in ORG_JWK.items() if name != "issuer"}  # the v1.0 set has none
KEYS_V2 = {"keys": [ORG_JWK, MSA_JWK]}


def v2_claims(tenant: str = TID, **changes: Any) -> dict[str, Any]:
    """A version 2.0 access token (Microsoft's access token claims reference)."""
    tid = tenant
    claims = {
        "aud": CLIENT, "iss": V2.format(tid), "nbf": True, "aio": "AWQAm/8TAAAA", "azp": "0f5d9d2b-5c0d-4b5a",
        "azpacr": "0", "name": "Abe Lincoln", "oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474",
        "preferred_username": "abeli@microsoft.com", "rh": "I", "roles": ["Orders.Admin"],
        "scp": "access_as_user Orders.Read", "sub": "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ", "tid": tid,
        "uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "2.0",
    }
    claims.update(changes)
    return claims_at({name: value for name, value in claims.items() if value is not None})


def v1_claims(tenant: str = TID, **changes: Any) -> dict[str, Any]:
    """A version 1.0 access token: iss on sts.windows.net, appid, ver 1.0."""
    tid = tenant
    claims = {
        "aud": APP_ID_URI, "iss": V1.format(tid), "nbf": True, "acr": "1", "aio": "AVQAq/8TAAAA",
        "amr": ["pwd"], "appid": "0f5d9d2b-5c0d-4b5a", "appidacr": "0", "name": "Abe Lincoln",
        "oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474", "scp": "user_impersonation",
        "sub": "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ", "tid": tid,
        "unique_name": "abeli@microsoft.com",
        "upn": "abeli@microsoft.com", "uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "1.0",
    }
    claims.update(changes)
    return claims_at({name: value for name, value in claims.items() if value is not None})


def token(key: Any, claims: dict[str, Any], **header: Any) -> str:
    return key.token(claims, header={"typ": "JWT", **header})



@pytest.fixture
def upstream(server: JWKSServer) -> Upstream:
    up = Upstream(server)
    for tenant in (TID, CONSUMERS, "organizations", "common", "contoso.onmicrosoft.com"):
        up.serve(f"/{tenant}/discovery/v2.0/keys", KEYS_V2)
    up.serve(f"/{TID}/discovery/keys", {"keys": [V1_JWK]})
    up.serve("/common/discovery/keys", {"keys": [V1_JWK]})
    up.serve("/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
             {"issuer": V2.format(TID), "jwks_uri": f"https://login.microsoftonline.com/{TID}/discovery/v2.0/keys",
              "tenant_region_scope": "NA", "cloud_instance_name": "microsoftonline.com"})
    return up


def test_version_2_single_tenant(upstream: Upstream) -> None:
    verifier = entra(TID, audience=CLIENT.upper(), fetch=upstream.fetch)
    claims = v2_claims()
    assert verifier.verify(token(ORG, claims)) == claims
    assert asyncio.run(verifier.verify_async(token(ORG, claims))) == claims
    assert upstream.urls == [f"https://login.microsoftonline.com/{TID}/discovery/v2.0/keys"]
    assert verifier.issuers == (V2.format(TID),)
    assert verifier.conventions.scopes(claims) == {"access_as_user", "Orders.Read"}
    assert verifier.conventions.roles(claims) == {"Orders.Admin"}
    assert verifier.conventions.client_id(claims) == "0f5d9d2b-5c0d-4b5a"


def test_version_1_single_tenant(upstream: Upstream) -> None:
    verifier = entra(TID, audience=[APP_ID_URI, CLIENT], version=1, fetch=upstream.fetch)
    claims = v1_claims()
    assert verifier.verify(token(ORG, claims, x5t=ORG_JWK["x5t"])) == claims
    assert verifier.conventions.client_id(claims) == "0f5d9d2b-5c0d-4b5a"  # appid
    assert upstream.urls == [f"https://login.microsoftonline.com/{TID}/discovery/keys"]


@pytest.mark.parametrize(("version", "claims", "found"), [
    (2, v1_claims(aud=CLIENT), 1),        # same aud, other issuer
    (2, v1_claims(), 1),                  # the App ID URI in aud: refused for aud first
    (1, v2_claims(), 2),
])
def test_a_token_of_the_other_version_says_what_to_change(upstream: Upstream, version: int,
                                                            claims: dict[str, Any], found: int) -> None:
    audience = CLIENT if version == 2 else [APP_ID_URI]
    verifier = entra(TID, audience=audience, version=version, fetch=upstream.fetch)  # type: ignore[arg-type]
    with pytest.raises(InvalidIssuer, match=f"version {found}.0.*version={found}.*accessTokenAcceptedVersion"
                                            ".*requestedAccessTokenVersion") as caught:
        verifier.verify(token(ORG, claims))
    assert caught.value.reason == "version"
    multi = entra("organizations", audience=audience, version=version,  # type: ignore[arg-type]
                  allowed_tenants=[TID], fetch=upstream.fetch)
    with pytest.raises(InvalidIssuer, match=f"version={found}"):
        multi.verify(token(ORG, claims))


def test_another_tenants_token_and_an_iss_tid_mismatch(upstream: Upstream) -> None:
    verifier = entra(TID, audience=CLIENT, fetch=upstream.fetch, cache_size=16)
    with pytest.raises(InvalidIssuer):
        verifier.verify(token(ORG, v2_claims(OTHER)))
    mixed = token(ORG, v2_claims(TID, tid=OTHER))  # iss: this tenant; tid: another
    for _ in range(2):  # the second time from the token cache: still refused
        with pytest.raises(InvalidIssuer, match=f"iss names tenant {TID} but its tid names tenant {OTHER}"):
            verifier.verify(mixed)


def test_multi_tenant_issuer_template_with_the_tokens_own_tid(upstream: Upstream) -> None:
    claims = v2_claims(OTHER)
    # A generic verifier cannot take the metadata's issuer, which is a template.
    generic = JWTVerifier(RemoteJWKSet("https://login.microsoftonline.com/organizations/discovery/v2.0/keys",
                                       fetch=upstream.fetch), issuer=TEMPLATE, audience=CLIENT)
    with pytest.raises(InvalidIssuer):
        generic.verify(token(ORG, claims))
    verifier = entra("organizations", audience=CLIENT, allowed_tenants=[OTHER.upper(), TID],
                     fetch=upstream.fetch, cache_size=16)
    assert verifier.verify(token(ORG, claims)) == claims
    assert verifier.issuers == (TEMPLATE,)
    not_allowed = token(ORG, v2_claims("bbbbcccc-1111-dddd-2222-eeee3333ffff"))
    for _ in range(2):
        with pytest.raises(InvalidIssuer, match="not one of the 2 allowed_tenants") as caught:
            verifier.verify(not_allowed)
        assert caught.value.claim == "tid"
    with pytest.raises(InvalidIssuer, match="iss names tenant"):
        verifier.verify(token(ORG, v2_claims(TID, tid=OTHER)))
    with pytest.raises(ClaimError, match="not a tenant ID"):
        verifier.verify(token(ORG, v2_claims(OTHER, tid=OTHER.upper())))
    with pytest.raises(MissingClaim, match="no 'tid'"):
        verifier.verify(token(ORG, v2_claims(OTHER, tid=None)))
    assert upstream.urls == ["https://login.microsoftonline.com/organizations/discovery/v2.0/keys"] * 2


def test_any_tenant_and_personal_accounts(upstream: Upstream) -> None:
    personal = token(MSA, v2_claims(CONSUMERS))
    organizations = entra("organizations", audience=CLIENT, allowed_tenants=ANY_TENANT, fetch=upstream.fetch)
    assert organizations.verify(token(ORG, v2_claims(OTHER)))["tid"] == OTHER
    with pytest.raises(InvalidIssuer, match="personal Microsoft account"):
        organizations.verify(personal)
    common = entra("common", audience=CLIENT, allowed_tenants=ANY_TENANT, fetch=upstream.fetch)
    assert common.verify(personal)["tid"] == CONSUMERS
    consumers = entra("consumers", audience=CLIENT, fetch=upstream.fetch)
    assert consumers.verify(personal)["tid"] == CONSUMERS
    with pytest.raises(InvalidIssuer):
        consumers.verify(token(ORG, v2_claims(OTHER)))


def test_a_key_bound_to_another_issuer_vouches_for_nothing_else(upstream: Upstream) -> None:
    # The personal-account key signing a token that claims a work tenant: the key
    # set's "issuer" says that key signs only for the consumers tenant.
    forged = token(MSA, v2_claims(OTHER))
    generic = JWTVerifier(RemoteJWKSet("https://login.microsoftonline.com/common/discovery/v2.0/keys",
                                       fetch=upstream.fetch), issuer=V2.format(OTHER), audience=CLIENT)
    assert generic.verify(forged)["tid"] == OTHER
    verifier = entra("common", audience=CLIENT, allowed_tenants=ANY_TENANT, fetch=upstream.fetch)
    with pytest.raises(InvalidIssuer, match="signs only for issuer") as caught:
        asyncio.run(verifier.verify_async(forged))
    assert caught.value.reason == "key_issuer"
    with pytest.raises(InvalidIssuer, match="signs only for issuer"):
        verifier.verify(forged)


def test_keys_without_alg_verify_rs256_only(upstream: Upstream) -> None:
    ps256 = SigningKey("PS256", ORG.private, ORG.jwk).token(v2_claims())  # Entra never signs with PS256
    generic = JWTVerifier(RemoteJWKSet(f"https://login.microsoftonline.com/{TID}/discovery/v2.0/keys",
                                       fetch=upstream.fetch), issuer=V2.format(TID), audience=CLIENT)
    assert generic.verify(ps256)["tid"] == TID  # an RSA key without alg takes every RSA algorithm
    verifier = entra(TID, audience=CLIENT, fetch=upstream.fetch)
    with pytest.raises(AlgorithmNotAllowed):
        verifier.verify(ps256)


def test_a_graph_token_is_refused_saying_so(upstream: Upstream) -> None:
    # Graph signs the header with the SHA-256 of its nonce, then ships the nonce itself:
    # only Graph can verify such a token.
    nonce = "h6aVcZTfF9nnHh1MbmFqCqX0tVg3Ew0yDxgOMw8bVbM"
    claims = v2_claims(aud="00000003-0000-0000-c000-000000000000", scp="User.Read")
    signed = ORG.token(claims, header={"typ": "JWT", "nonce": b64(hashlib.sha256(nonce.encode()).digest())})
    header = {"typ": "JWT", "nonce": nonce, "alg": "RS256", "x5t": ORG_JWK["x5t"], "kid": ORG_JWK["kid"]}
    graph = f"{segment(header)}.{signed.split('.', 1)[1]}"
    generic = JWTVerifier(RemoteJWKSet(f"https://login.microsoftonline.com/{TID}/discovery/v2.0/keys",
                                       fetch=upstream.fetch), issuer=V2.format(TID), audience=CLIENT)
    with pytest.raises(InvalidSignature):
        generic.verify(graph)
    verifier = entra(TID, audience=CLIENT, fetch=upstream.fetch)
    with pytest.raises(InvalidAudience, match="minted for Microsoft Graph") as caught:
        verifier.verify(graph)
    assert caught.value.reason == "graph_token"
    tampered = token(ORG, v2_claims())[:-4] + "AAAA"
    with pytest.raises(InvalidSignature):  # no nonce: the plain refusal stays
        verifier.verify(tampered)


def test_an_id_token_is_not_an_access_token(upstream: Upstream) -> None:
    # A v2.0 ID token for the same app registration: aud is the client ID, as in
    # the API's access tokens, but it has neither scp nor roles.
    id_token = token(ORG, v2_claims(scp=None, roles=None, nonce="123523", email="abeli@microsoft.com"))
    generic = JWTVerifier(RemoteJWKSet(f"https://login.microsoftonline.com/{TID}/discovery/v2.0/keys",
                                       fetch=upstream.fetch), issuer=V2.format(TID), audience=CLIENT)
    assert generic.verify(id_token)["aud"] == CLIENT
    verifier = entra(TID, audience=CLIENT, fetch=upstream.fetch)
    with pytest.raises(MissingClaim, match="neither 'scp' nor 'roles'"):
        verifier.verify(id_token)
    app_only = v2_claims(scp=None)  # client credentials: roles only
    assert verifier.verify(token(ORG, app_only)) == app_only


def test_a_verified_domain_resolves_its_tenant_once(upstream: Upstream) -> None:
    verifier = entra("Contoso.onmicrosoft.com", audience=CLIENT, fetch=upstream.fetch,
                     fetch_async=upstream.fetch_async)
    claims = v2_claims()
    assert verifier.verify(token(ORG, claims)) == claims
    assert asyncio.run(verifier.verify_async(token(ORG, claims))) == claims
    with pytest.raises(InvalidIssuer, match=f"issued by tenant {OTHER}, not by this API's tenant {TID}"):
        verifier.verify(token(ORG, v2_claims(OTHER)))
    assert sorted(upstream.urls) == [
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/discovery/v2.0/keys",
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
    ]


def test_an_unresolvable_domain_is_a_fetch_error_retried_after_the_cooldown(upstream: Upstream) -> None:
    clock = Clock()
    verifier = entra("fabrikam.onmicrosoft.com", audience=CLIENT, fetch=upstream.fetch, clock=clock,
                     cooldown=30)
    upstream.serve("/fabrikam.onmicrosoft.com/discovery/v2.0/keys", KEYS_V2)
    good = token(ORG, v2_claims())
    with pytest.raises(KeySetFetchError, match="HTTP 404"):
        verifier.verify(good)
    with pytest.raises(KeySetFetchError, match="not retried for 30 s"):
        verifier.verify(good)
    upstream.serve("/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration", {"issuer": "x"})
    clock.advance(31)
    with pytest.raises(KeySetFetchError, match="names issuer 'x'"):
        asyncio.run(verifier.verify_async(good))
    upstream.serve("/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration",
                   {"issuer": V2.format(TID)})
    clock.advance(31)
    assert verifier.verify(good)["tid"] == TID


@pytest.mark.parametrize(("cloud", "version", "issuer", "keys"), [
    ("usgov", 2, f"https://login.microsoftonline.us/{TID}/v2.0",
     f"https://login.microsoftonline.us/{TID}/discovery/v2.0/keys"),
    ("usgov", 1, f"https://sts.windows.net/{TID}/", f"https://login.microsoftonline.us/{TID}/discovery/keys"),
    ("china", 2, f"https://login.partner.microsoftonline.cn/{TID}/v2.0",
     f"https://login.partner.microsoftonline.cn/{TID}/discovery/v2.0/keys"),
    ("china", 1, f"https://sts.chinacloudapi.cn/{TID}/",
     f"https://login.partner.microsoftonline.cn/{TID}/discovery/keys"),
])
def test_sovereign_clouds(upstream: Upstream, cloud: str, version: int, issuer: str, keys: str) -> None:
    # Each cloud's v2.0 keys name that cloud's issuer template.
    template = issuer.replace(TID, "{tenantid}")
    upstream.serve(f"/{TID}/discovery/v2.0/keys", {"keys": [{**ORG_JWK, "issuer": template}]})
    verifier = entra(TID, audience=CLIENT, version=version, cloud=cloud,  # type: ignore[arg-type]
                     fetch=upstream.fetch)
    make = v2_claims if version == 2 else v1_claims
    claims = make(iss=issuer, aud=CLIENT)
    assert verifier.verify(token(ORG, claims)) == claims
    assert upstream.urls == [keys]
    global_issuer = make(aud=CLIENT)
    if global_issuer["iss"] != issuer:  # the global cloud's token in another cloud
        with pytest.raises(InvalidIssuer):
            verifier.verify(token(ORG, global_issuer))


@pytest.mark.parametrize(("tenant", "options", "error", "match"), [
    ("contoso", {}, ValueError, "tenant ID .*verified domains"),
    ("72f988bf-86f1-41af-91ab", {}, ValueError, "tenant ID"),
    ("", {}, ValueError, "tenant ID"),
    (None, {}, TypeError, "tenant= as a str"),
    ("organizations", {}, ValueError, "allowed_tenants=ANY_TENANT"),
    ("common", {"allowed_tenants": []}, ValueError, "at least one"),
    ("common", {"allowed_tenants": ["contoso.com"]}, ValueError, "not a tenant ID"),
    ("common", {"allowed_tenants": TID}, TypeError, "collection of tenant IDs"),
    (TID, {"allowed_tenants": [TID]}, ValueError, "accepts that tenant only"),
    (TID, {"version": 3}, ValueError, "version=3"),
    (TID, {"version": True}, ValueError, "version"),
    (TID, {"cloud": "germany"}, ValueError, "'global', 'usgov', 'china'"),
    (TID, {"audience": APP_ID_URI}, ValueError, "client\\) ID.*version=1"),
    ("consumers", {"version": 1, "audience": APP_ID_URI}, ValueError, "version=2"),
    (TID, {"audience": ""}, ValueError, "audience"),
    (TID, {"frobnicate": 1}, TypeError, "unexpected keyword"),
])
def test_bad_configuration_says_what_to_pass(tenant: Any, options: dict[str, Any], error: type[Exception],
                                              match: str) -> None:
    options.setdefault("audience", CLIENT)
    with pytest.raises(error, match=match):
        entra(tenant, **options)


def test_asgi_entra_roles_and_scp_string(upstream: Upstream) -> None:
    upstream.serve(f"/{TID}/discovery/v2.0/keys", KEYS_V2)
    verifier = entra(TID, audience=CLIENT, fetch_async=upstream.fetch_async)
    access = token(ORG, v2_claims())
    with asgi_client(verifier, required_roles=["Orders.Admin"], required_scopes=["Orders.Read"]) as client:
        answer = client.get("/whoami", headers=bearer(access))
        assert answer.status_code == 200, answer.text
        assert answer.json()["roles"] == ["Orders.Admin"]
        assert answer.json()["scopes"] == ["Orders.Read", "access_as_user"]
        other_tenant = token(ORG, v2_claims(OTHER))
        assert client.get("/whoami", headers=bearer(other_tenant)).status_code == 401


def test_checks_remembered_per_issuer_tenant_and_key_never_leak_to_another_key(upstream: Upstream) -> None:
    verifier = entra("common", audience=CLIENT, allowed_tenants=ANY_TENANT, fetch=upstream.fetch,
                     cache_size=64)
    for _ in range(2):
        assert verifier.verify(token(ORG, v2_claims(OTHER)))["tid"] == OTHER
        with pytest.raises(InvalidIssuer, match="signs only for issuer"):  # same iss and tid, the MSA key
            verifier.verify(token(MSA, v2_claims(OTHER)))
        with pytest.raises(MissingClaim):  # remembered issuer and key; the token still needs scp or roles
            verifier.verify(token(ORG, v2_claims(OTHER, scp=None, roles=None)))
    for number in range(300):  # many tenants: what is remembered stays bounded
        tenant = f"{number:08x}-0000-4000-8000-000000000000"
        assert verifier.verify(token(ORG, v2_claims(tenant)))["tid"] == tenant
    assert len(verifier._rules._passed) <= 256  # type: ignore[attr-defined]
