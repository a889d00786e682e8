"""jwkverify._remote.snapshot: a refresh that brings back the cached keys keeps their objects."""

from __future__ import annotations

import time

from jwks_server import Clock, JWKSServer
from signing import make_key

from jwkverify import JWKSet, JWTVerifier, RemoteJWKSet
from jwkverify._remote.snapshot import Fetched, answers_of, carried_over

KEY_A = make_key("RS256", kid="a")
KEY_B = make_key("ES256", kid="b")



def fetched(*jwks: dict[str, object]) -> Fetched:
    keyset = JWKSet.from_dict({"keys": list(jwks)})
    return Fetched(answers_of(keyset), keyset, {"keys": list(jwks)}, "https://i/jwks", None, None, None)


def test_equal_keys_keep_their_objects_new_or_changed_ones_do_not(server: JWKSServer) -> None:
    server.serve_keys(KEY_A.jwk, **{"Cache-Control": "max-age=60"})
    clock = Clock()
    keys = RemoteJWKSet(server.url(), allow_http=True, clock=clock)
    keys.refresh()
    first = keys.keys_for("RS256", "a")[0]
    server.serve_keys(KEY_A.jwk, KEY_B.jwk)
    keys.refresh()
    assert keys.keys_for("RS256", "a")[0] is first  # the same key, the same object
    assert keys.keys_for("ES256", "b")[0].kid == "b"
    relabelled = dict(KEY_A.jwk, alg="RS384")  # same material, other metadata: another key
    server.serve_keys(relabelled)
    keys.refresh()
    assert keys.keys_for("RS384", "a")[0] is not first and keys.keys_for("RS384", "a")[0] != first
    keys.close()


def test_nothing_to_carry_over_gives_the_fetched_set_itself() -> None:
    new = fetched(KEY_A.jwk)
    assert carried_over(None, new) == (new.keyset, new.answers)


def test_a_cached_token_finds_its_key_by_identity_after_a_refresh(server: JWKSServer) -> None:
    server.serve_keys(KEY_A.jwk, **{"Cache-Control": "max-age=60"})
    clock = Clock()
    keys = RemoteJWKSet(server.url(), allow_http=True, clock=clock)
    verifier = JWTVerifier(keys, audience="api", cache_size=4)
    token = str(KEY_A.token({"aud": "api", "exp": int(time.time()) + 600}))
    assert verifier.verify(token)["aud"] == "api"
    keys.refresh()  # the provider sends the same set again
    entry = verifier._cache.get(token)  # type: ignore[union-attr]
    assert entry is not None and entry.key is keys.keys_for("RS256", "a")[0]
    assert verifier._verify_entry(token)[1] is entry  # still the cached entry: a hit
    keys.close()
