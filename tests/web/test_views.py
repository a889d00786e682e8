"""jwkverify._web.views: one VerifiedToken per cached token, never served past what the verifier allows."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from jwks_server import Clock, JWKSServer
from signing import make_key

from jwkverify import ExpiredToken, JWKSet, JWTVerifier, KeyNotFound, MultiIssuerVerifier, RemoteJWKSet
from jwkverify._web.conventions import DEFAULT_CONVENTIONS, DEFAULT_ROLE_CLAIMS, TokenConventions
from jwkverify._web.frozen import ReadOnlyDict
from jwkverify._web.views import Derived, TokenViews, VerifiedToken

ISSUER = "https://issuer.test"
AUD = "https://api.test"
KEY = make_key("ES256", kid="k1")
KEYS = JWKSet.from_dict({"keys": [KEY.jwk]})


def token(**changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUD, "sub": "alice", "azp": "agent", "exp": now + 600,
              "scope": "a b", "roles": ["r"]}
    claims.update(changes)
    return str(KEY.token({k: v for k, v in claims.items() if v is not None}))


def views_of(verifier: Any, conventions: TokenConventions = DEFAULT_CONVENTIONS) -> TokenViews:
    return TokenViews.of_tokens(verifier, conventions, conventions.role_claims)


def test_a_cached_token_gets_the_same_view_sync_and_async() -> None:
    views = views_of(JWTVerifier(KEYS, issuer=ISSUER, audience=AUD, cache_size=8))
    assert views.size == 8
    tok = token()
    first = views.verify(tok)
    assert views.verify(tok) is first and asyncio.run(views.verify_async(tok)) is first
    assert views.known(tok) and not views.known(token(sub="bob"))
    assert first.subject == "alice" and first.issuer == ISSUER and first.client_id == "agent"
    assert first.scopes == {"a", "b"} and first.roles == {"r"} and type(first.claims) is ReadOnlyDict


def test_without_a_token_cache_every_request_gets_a_fresh_view() -> None:
    views = views_of(JWTVerifier(KEYS, issuer=ISSUER, audience=AUD))
    tok = token()
    assert views.size == 0 and views.verify(tok) is not views.verify(tok)
    assert not views.known(tok)

    class Custom:  # a BearerVerifier without the private seam
        audiences = frozenset({AUD})

        def verify(self, token: str) -> dict[str, Any]:
            return {"sub": "carol", "scope": "x"}

        async def verify_async(self, token: str) -> dict[str, Any]:
            return {"sub": "carol", "scope": "x"}

    custom = views_of(Custom())
    assert custom.verify(tok).subject == "carol" and asyncio.run(custom.verify_async(tok)).scopes == {"x"}
    assert custom.verify(tok) is not custom.verify(tok)


def test_an_expired_token_is_refused_even_with_its_view_held() -> None:
    clock = [time.time()]
    views = views_of(JWTVerifier(KEYS, issuer=ISSUER, audience=AUD, cache_size=8, now=lambda: clock[0]))
    tok = token(exp=int(clock[0]) + 60)
    views.verify(tok)
    clock[0] += 120
    with pytest.raises(ExpiredToken):
        views.verify(tok)
    with pytest.raises(ExpiredToken):
        asyncio.run(views.verify_async(tok))


def test_a_key_rotated_out_of_a_remote_set_ends_the_view() -> None:
    jwks = JWKSServer()
    try:
        jwks.serve_keys(KEY.jwk, **{"Cache-Control": "max-age=60"})
        clock = Clock()
        keys = RemoteJWKSet(jwks.url(), allow_http=True, clock=clock)
        views = views_of(JWTVerifier(keys, issuer=ISSUER, audience=AUD, cache_size=8))
        tok = token()

        async def scenario() -> None:  # one event loop: the background refresh is a task of it
            first = await views.verify_async(tok)
            assert await views.verify_async(tok) is first
            jwks.serve_keys(make_key("ES256", kid="k2").jwk)
            clock.advance(3600)  # stale: served at once while it is refetched off the request path
            await views.verify_async(tok)
            deadline = time.monotonic() + 5
            while keys.state.fetching or "k1" in keys.state.kids:  # the refetch drops k1
                assert time.monotonic() < deadline, keys.state
                await asyncio.sleep(0.005)
            with pytest.raises(KeyNotFound):
                await views.verify_async(tok)

        asyncio.run(scenario())
    finally:
        jwks.close()


def test_multi_issuer_verifiers_share_views_too() -> None:
    other = make_key("ES256", kid="o1")
    multi = MultiIssuerVerifier({ISSUER: KEYS, "https://other.test": JWKSet.from_dict({"keys": [other.jwk]})},
                                audience=AUD, cache_size=4)
    views = views_of(multi)
    assert views.size == 8
    claims = {"iss": "https://other.test", "aud": AUD, "sub": "bob", "exp": int(time.time()) + 60}
    tok = str(other.token(claims))
    assert views.verify(tok) is views.verify(tok) and views.verify(tok).issuer == "https://other.test"


def test_views_are_bounded_by_the_verifiers_cache() -> None:
    views = views_of(JWTVerifier(KEYS, issuer=ISSUER, audience=AUD, cache_size=3))
    tokens = [token(jti=str(index)) for index in range(10)]
    for each in tokens:
        views.verify(each)
    assert len(views._held) == 3 and all(views.known(each) for each in tokens[-3:])


def test_conventions_decide_scopes_roles_and_client() -> None:
    conventions = TokenConventions(role_claims=("groups",), permission_claims=("permissions",),
                                   client_id_claims=("cid",))
    views = views_of(JWTVerifier(KEYS, issuer=ISSUER, audience=AUD), conventions)
    view = views.verify(token(groups=["g"], permissions=["p"], cid="okta-client"))
    assert view.roles == {"g"} and view.scopes == {"a", "b", "p"} and view.client_id == "okta-client"


def test_a_verified_token_built_by_hand_is_frozen_and_read_as_before() -> None:
    made = VerifiedToken({"sub": "alice", "iss": ISSUER, "cid": "c", "roles": ["x"]}, frozenset({"s"}),
                         frozenset(), "tok")
    assert type(made.claims) is ReadOnlyDict and made.subject == "alice" and made.client_id == "c"
    assert made.display_name == made.identity == "alice" and made.is_authenticated
    anonymous = VerifiedToken({"sub": 1}, frozenset(), frozenset(), "t")
    assert anonymous.subject is None and anonymous.client_id is None and anonymous.display_name == ""
    assert "tok" not in repr(made)
    assert DEFAULT_ROLE_CLAIMS == ("roles", ("realm_access", "roles"))


def test_derived_objects_are_built_once_per_view() -> None:
    views = views_of(JWTVerifier(KEYS, issuer=ISSUER, audience=AUD, cache_size=8))
    built: list[str] = []

    def build(view: VerifiedToken) -> tuple[str, ...]:
        built.append(view.token)
        return tuple(sorted(view.scopes))

    derived = Derived(build, size=2)
    tok = token()
    assert derived(views.verify(tok)) is derived(views.verify(tok)) and built == [tok]
    fresh = VerifiedToken({"sub": "x"}, frozenset(), frozenset(), tok)  # another view of the same token
    derived(fresh)
    assert built == [tok, tok]
    for index in range(5):
        derived(views.verify(token(jti=str(index))))
    assert len(derived._held) == 2
    with pytest.raises(TypeError):
        Derived("not callable")  # type: ignore[arg-type]


def test_a_local_key_set_is_verified_without_coroutines_a_remote_one_with() -> None:
    assert views_of(JWTVerifier(KEYS, audience=AUD, cache_size=4)).never_waits
    remote = RemoteJWKSet("https://issuer.test/jwks")
    assert not views_of(JWTVerifier(remote, audience=AUD, cache_size=4)).never_waits
    mixed = MultiIssuerVerifier({ISSUER: KEYS, "https://b.test": remote}, audience=AUD)
    assert not views_of(mixed).never_waits
    assert views_of(MultiIssuerVerifier({ISSUER: KEYS}, audience=AUD)).never_waits


def test_a_view_of_any_kind() -> None:
    views: TokenViews[tuple[str, ...]] = TokenViews(
        JWTVerifier(KEYS, issuer=ISSUER, audience=AUD, cache_size=4),
        lambda token, claims: tuple(sorted(claims)))
    tok = token()
    assert views.verify(tok) is views.verify(tok)
    assert asyncio.run(views.verify_async(tok)) == ("aud", "azp", "exp", "iss", "roles", "scope", "sub")


def test_a_fresh_remote_set_serves_a_repeated_token_without_awaiting() -> None:
    jwks = JWKSServer()
    try:
        jwks.serve_keys(KEY.jwk, **{"Cache-Control": "max-age=60"})
        clock = Clock()
        keys = RemoteJWKSet(jwks.url(), allow_http=True, clock=clock)
        verifier = JWTVerifier(keys, issuer=ISSUER, audience=AUD, cache_size=8, now=clock)
        views = views_of(verifier)
        tok = token(exp=int(clock()) + 120)

        async def scenario() -> None:
            assert views.entry_now(tok) is None  # not verified yet: the async path
            first = await views.verify_async(tok)
            hit = views.entry_now(tok)
            assert hit is not None and views.view(tok, *hit) is first
            assert await views.verify_async(tok) is first
            clock.advance(90)  # the set is stale: a refresh may be due, so the async path decides
            assert views.entry_now(tok) is None
            assert await views.verify_async(tok) is first
            clock.advance(60)  # past exp
            with pytest.raises(ExpiredToken):
                await views.verify_async(tok)
            await keys.aclose()

        asyncio.run(scenario())
        assert views_of(JWTVerifier(KEYS, audience=AUD, cache_size=4)).entry_now(tok) is None
        custom = views_of(MultiIssuerVerifier({ISSUER: keys}, audience=AUD, cache_size=4))
        assert custom.entry_now(tok) is None  # a verifier without the step: always the async path
    finally:
        jwks.close()
