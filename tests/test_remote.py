"""RemoteJWKSet against real HTTP servers on 127.0.0.1, with real faults and a fake clock.

Freshness, cooldown and backoff run on an injected clock, so nothing here sleeps
to let time pass; real time only bounds the network (a 0.3 s timeout for the slow
server tests) and gives threads a moment to queue up behind a held response.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import logging
import math
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jwks_server import ENDLESS_CAP, Clock, JWKSServer, Recorded, Reply, keys_body
from signing import make_key

from jwkverify import (
    InvalidKeySet,
    JWTVerifier,
    KeyNotFound,
    KeySetFetchError,
    KeySource,
    RemoteJWKSet,
    verify_jws,
    verify_jwt,
)

KEY_A = make_key("ES256", kid="a")
KEY_B = make_key("ES256", kid="b")
KEY_C = make_key("EdDSA", kid="c")
CLAIMS = {"sub": "alice"}



@pytest.fixture
def clock() -> Clock:
    return Clock()


def remote(server: JWKSServer, clock: Clock, path: str = "/jwks", **options: Any) -> RemoteJWKSet:
    return RemoteJWKSet(server.url(path), allow_http=True, clock=clock, wall_clock=clock.wall, **options)


def settle(keys: RemoteJWKSet, timeout: float = 5.0) -> None:
    """Wait until the background refresh a request started, if any, has finished and settled."""
    deadline = time.monotonic() + timeout
    while keys._engine.background.running:
        assert time.monotonic() < deadline, "the background refresh did not finish"
        time.sleep(0.002)


def refused_port() -> int:
    """A loopback port nobody listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- a key source like any other ---------------------------------------------------


def test_usable_wherever_a_key_set_is_accepted(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk)
    keys = remote(server, clock)
    token = KEY_A.token(CLAIMS)
    assert isinstance(keys, KeySource)
    assert verify_jws(token, keys).key.kid == "a"
    assert verify_jwt(token, keys) == CLAIMS
    verifier = JWTVerifier(keys, algorithms=["ES256"])
    assert verifier.verify(token) == CLAIMS
    assert asyncio.run(verifier.verify_async(token)) == CLAIMS
    assert server.count == 1


def test_hot_path_takes_no_lock_and_does_no_io(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk, KEY_C.jwk)
    keys = remote(server, clock)
    verifier = JWTVerifier(keys)
    tokens = [KEY_A.token({"n": n}) for n in range(50)] + [KEY_C.token({"n": n}) for n in range(50)]
    verifier.verify(tokens[0])
    results: list[Any] = []
    with keys._engine.lock:  # were the hot path to take the lock, the thread below would hang
        worker = threading.Thread(target=lambda: results.extend(verifier.verify(t) for t in tokens))
        worker.start()
        worker.join(5)
        assert not worker.is_alive()
    assert len(results) == 100
    assert server.count == 1


# -- freshness ------------------------------------------------------------------------


def test_fresh_for_cache_ttl_then_refreshed_once(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk)
    keys = remote(server, clock, cache_ttl=1)  # explicit values are honoured as given
    verifier = JWTVerifier(keys)
    token = KEY_A.token(CLAIMS)
    verifier.verify(token)
    clock.advance(0.99)
    verifier.verify(token)
    assert server.count == 1
    clock.advance(0.02)
    for _ in range(5):  # stale: answered at once; one refresh runs in the background
        verifier.verify(token)
    settle(keys)
    assert server.count == 2
    assert keys.state.status == "fresh"


@pytest.mark.parametrize(("headers", "lifetime"), [
    ({"Cache-Control": "public, max-age=120"}, 120),
    ({"Cache-Control": "max-age=300", "Age": "100"}, 200),
    ({"Cache-Control": "max-age=5"}, 60),                   # clamped up to a minute
    ({"Cache-Control": "max-age=31536000"}, 86400),         # clamped down to a day
    ({"Cache-Control": "no-cache"}, 60),                    # never 0: the lower bound
    ({"Cache-Control": "no-store"}, 60),
    ({"Cache-Control": "max-age=soon"}, 60),                # malformed: treated as stale
    ({}, 600),                                              # nothing said: cache_ttl
])
def test_cache_control_sets_the_lifetime(server: JWKSServer, clock: Clock, headers: dict[str, str],
                                         lifetime: float) -> None:
    server.respond = lambda request: Reply(200, keys_body(KEY_A.jwk), headers)
    keys = remote(server, clock)
    keys.refresh()
    state = keys.state
    assert state.fetched_at is not None and state.fresh_until is not None
    assert state.fresh_until - state.fetched_at == pytest.approx(lifetime)


def test_max_age_decides_when_to_refetch(server: JWKSServer, clock: Clock) -> None:
    server.respond = lambda request: Reply(200, keys_body(KEY_A.jwk), {"Cache-Control": "max-age=120"})
    keys = remote(server, clock, cache_ttl=1)
    token = KEY_A.token(CLAIMS)
    verify_jwt(token, keys)
    clock.advance(119)
    verify_jwt(token, keys)
    assert server.count == 1
    clock.advance(2)
    verify_jwt(token, keys)
    settle(keys)
    assert server.count == 2


def test_an_explicit_short_cache_ttl_lowers_the_floor_for_the_server(server: JWKSServer,
                                                                     clock: Clock) -> None:
    server.respond = lambda request: Reply(200, keys_body(KEY_A.jwk), {"Cache-Control": "no-cache"})
    keys = remote(server, clock, cache_ttl=2)
    keys.refresh()
    state = keys.state
    assert state.fresh_until is not None and state.fetched_at is not None
    assert state.fresh_until - state.fetched_at == pytest.approx(2)


def test_conditional_requests_and_304_keep_the_set(server: JWKSServer, clock: Clock) -> None:
    validators = {"ETag": '"v1"', "Last-Modified": "Tue, 15 Nov 1994 12:45:26 GMT"}

    def respond(request: Recorded) -> Reply:
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(304, content_type=None, headers={"Cache-Control": "max-age=90"})
        return Reply(200, keys_body(KEY_A.jwk), {**validators, "Cache-Control": "max-age=60"})

    server.respond = respond
    keys = remote(server, clock)
    token = KEY_A.token(CLAIMS)
    verify_jwt(token, keys)
    assert "if-none-match" not in server.requests[0].headers
    clock.advance(61)
    verify_jwt(token, keys)
    settle(keys)
    assert server.count == 2
    second = server.requests[1].headers
    assert second["if-none-match"] == '"v1"'
    assert second["if-modified-since"] == validators["Last-Modified"]
    state = keys.state
    assert state.status == "fresh" and state.etag == '"v1"' and state.failure_count == 0
    assert state.fresh_until is not None and state.fetched_at is not None
    assert state.fresh_until - state.fetched_at == pytest.approx(90)  # the 304's own max-age
    verify_jwt(token, keys)
    assert server.count == 2


def test_a_304_to_an_unconditional_request_is_a_fetch_error(server: JWKSServer, clock: Clock) -> None:
    server.respond = lambda request: Reply(304, content_type=None)
    with pytest.raises(KeySetFetchError, match="304"):
        verify_jwt(KEY_A.token(CLAIMS), remote(server, clock))


# -- unknown kid, rotation, removal ----------------------------------------------------


def test_unknown_kid_refetches_at_most_once_per_cooldown(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk)
    keys = remote(server, clock, cooldown=1)
    verifier = JWTVerifier(keys)
    verifier.verify(KEY_A.token(CLAIMS))
    strangers = [make_key("ES256", kid=f"random-{n}") for n in range(3)]
    with pytest.raises(KeyNotFound):  # within the cooldown of the first fetch: no I/O
        verifier.verify(strangers[0].token(CLAIMS))
    assert server.count == 1
    clock.advance(1)
    for index in range(30):
        with pytest.raises(KeyNotFound):
            verifier.verify(strangers[index % 3].token(CLAIMS))
    assert server.count == 2
    clock.advance(1)
    with pytest.raises(KeyNotFound):
        asyncio.run(verifier.verify_async(strangers[1].token(CLAIMS)))
    assert server.count == 3


def test_a_rotated_in_kid_is_fetched(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk)
    keys = remote(server, clock, cooldown=1)
    verifier = JWTVerifier(keys)
    verifier.verify(KEY_A.token(CLAIMS))
    server.serve_keys(KEY_A.jwk, KEY_B.jwk)  # the provider publishes a new key
    clock.advance(1)
    assert verifier.verify(KEY_B.token(CLAIMS)) == CLAIMS
    assert server.count == 2
    assert keys.state.kids == ("a", "b")


def test_a_removed_key_is_refused_after_the_refresh(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk, KEY_B.jwk)
    keys = remote(server, clock, cache_ttl=5)
    verifier = JWTVerifier(keys)
    verifier.verify(KEY_A.token(CLAIMS))
    server.serve_keys(KEY_B.jwk)  # key "a" is withdrawn
    clock.advance(6)
    assert verifier.verify(KEY_A.token(CLAIMS)) == CLAIMS  # stale: served while refreshing
    settle(keys)
    with pytest.raises(KeyNotFound):
        verifier.verify(KEY_A.token(CLAIMS))
    assert verifier.verify(KEY_B.token(CLAIMS)) == CLAIMS
    assert server.count == 2


# -- stale-if-error ------------------------------------------------------------------


def test_stale_if_error_serves_the_cached_set_and_backs_off(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk)
    keys = remote(server, clock, cache_ttl=10, cooldown=8, max_stale=100)
    verifier = JWTVerifier(keys)
    token = KEY_A.token(CLAIMS)
    verifier.verify(token)
    server.respond = lambda request: Reply(500, b"oops", content_type="text/plain")
    clock.advance(11)
    assert verifier.verify(token) == CLAIMS  # stale: served at once, refreshed in the background
    settle(keys)
    assert server.count == 2
    state = keys.state
    assert state.status == "stale" and state.failure_count == 1 and state.consecutive_failures == 1
    assert state.last_error is not None and "HTTP 500" in state.last_error
    assert state.retry_at == pytest.approx(clock.wall() + 1)
    attempts = []
    for delay in (1, 2, 4, 8, 8):  # backoff doubles, capped at the cooldown
        clock.advance(delay - 0.01)
        verifier.verify(token)
        settle(keys)
        attempts.append(server.count)
        clock.advance(0.01)
        verifier.verify(token)
        settle(keys)
        attempts.append(server.count)
    assert attempts == [2, 3, 3, 4, 4, 5, 5, 6, 6, 7]
    server.serve_keys(KEY_A.jwk)  # the provider recovers
    clock.advance(8)
    verifier.verify(token)
    settle(keys)
    assert keys.state.status == "fresh" and keys.state.consecutive_failures == 0
    assert server.count == 8


def test_past_max_stale_verification_fails_with_the_cause(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk)
    keys = remote(server, clock, cache_ttl=10, max_stale=20)
    token = KEY_A.token(CLAIMS)
    verify_jwt(token, keys)
    server.respond = lambda request: Reply(503, b"down", content_type="text/plain")
    clock.advance(29)
    assert verify_jwt(token, keys) == CLAIMS
    settle(keys)
    clock.advance(2)
    with pytest.raises(KeySetFetchError, match="HTTP 503") as caught:
        verify_jwt(token, keys)
    assert isinstance(caught.value.__cause__, KeySetFetchError)
    assert caught.value.status_hint == 503
    assert keys.state.status == "expired"
    count = server.count
    with pytest.raises(KeySetFetchError):  # backing off: fails fast, without I/O
        verify_jwt(token, keys)
    assert server.count == count


# -- transport faults with nothing cached ----------------------------------------------

BAD_POINT = {**KEY_A.jwk, "kid": "bad", "x": KEY_B.jwk["y"]}
OCT = {"kty": "oct", "kid": "s", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}


@pytest.mark.parametrize(("reply", "message"), [
    (Reply(500, b"{}"), "HTTP 500"),
    (Reply(404, b"{}"), "HTTP 404"),
    (Reply(201, keys_body(KEY_A.jwk)), "HTTP 201"),
    (Reply(302, headers={"Location": "/elsewhere?token=x"}), "redirect to http://127.0.0.1"),
    (Reply(301, headers={"Location": "https://evil.example/jwks"}), "redirects are not followed"),
    (Reply(200, b"not json at all"), "not valid JSON"),
    (Reply(200, b"<html>login</html>", content_type="text/html"), "Content-Type 'text/html'"),
    (Reply(200, b"[]"), "must be a JSON object"),
    (Reply(200, b'{"keys": "none"}'), "'keys' member"),
    (Reply(200, b'{"keys": [], "keys": []}'), "more than once"),
    (Reply(200, keys_body(OCT)), "secret \\(oct\\)"),
    (Reply(200, keys_body(KEY_A.jwk, OCT)), "secret \\(oct\\)"),
    (Reply(200, keys_body(BAD_POINT)), "no usable key"),
    (Reply(200, keys_body({"kty": "RSA", "kid": "x"})), "no usable key"),
    (Reply(200, keys_body(KEY_A.jwk), content_length=10 * 1024 * 1024), "declares 10485760 bytes"),
    (Reply(200, b"{" * 10 * 1024 * 1024, close_delimited=True), "longer than 524288 bytes"),
    (Reply(200, keys_body(KEY_A.jwk), content_length=5000), "ended before"),
    (Reply(200, keys_body(KEY_A.jwk), headers={"Content-Encoding": "gzip"}), "Content-Encoding"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_a_bad_response_is_a_fetch_error(server: JWKSServer, clock: Clock, reply: Reply,
                                         message: str) -> None:
    server.respond = lambda request: reply
    keys = remote(server, clock)
    with pytest.raises(KeySetFetchError, match=message) as caught:
        verify_jwt(KEY_A.token(CLAIMS), keys)
    assert caught.value.__cause__ is not None
    assert server.count == 1  # a redirect is never followed
    assert keys.state.status == "empty" and keys.state.failure_count == 1


def test_an_endless_body_is_refused_without_reading_it(server: JWKSServer, clock: Clock) -> None:
    server.respond = lambda request: Reply(200, endless=True)
    started = time.monotonic()
    with pytest.raises(KeySetFetchError, match="longer than 4096 bytes"):
        remote(server, clock, max_bytes=4096).refresh()
    assert time.monotonic() - started < 2
    server.wait_handled(1)  # the writer stopped because the client hung up, not at its cap
    assert server.bytes_sent < ENDLESS_CAP


def test_connection_refused(clock: Clock) -> None:
    keys = RemoteJWKSet(f"http://127.0.0.1:{refused_port()}/jwks", allow_http=True, clock=clock)
    with pytest.raises(KeySetFetchError, match="ConnectionRefusedError") as caught:
        keys.keys_for("ES256", "a")
    assert isinstance(caught.value.__cause__, KeySetFetchError)
    assert isinstance(caught.value.__cause__.__cause__, ConnectionRefusedError)


@pytest.mark.parametrize("reply", [
    Reply(200, keys_body(KEY_A.jwk), delay=2.0),                  # no status line in time
    Reply(200, keys_body(KEY_A.jwk), trickle=0.05),               # a body that never ends in time
], ids=["slow-headers", "trickled-body"])
def test_the_timeout_covers_connect_and_read(server: JWKSServer, clock: Clock, reply: Reply) -> None:
    server.respond = lambda request: reply
    started = time.monotonic()
    with pytest.raises(KeySetFetchError, match="TimeoutError"):
        remote(server, clock, timeout=0.3).refresh()
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("content_type", [
    "application/json", "application/jwk-set+json; charset=utf-8", "Application/JSON",
    "application/vnd.example+json", None,
])
def test_content_type_is_checked_leniently(server: JWKSServer, clock: Clock,
                                           content_type: str | None) -> None:
    server.respond = lambda request: Reply(200, keys_body(KEY_A.jwk), content_type=content_type)
    assert verify_jwt(KEY_A.token(CLAIMS), remote(server, clock)) == CLAIMS


# -- a bad refresh never replaces a good set ---------------------------------------------


@pytest.mark.parametrize("document", [
    keys_body(BAD_POINT), keys_body(OCT), keys_body(KEY_B.jwk, OCT), b'{"keys": []}', b"garbage",
], ids=["zero-usable", "oct", "mixed-oct", "empty", "garbage"])
def test_a_refused_set_does_not_replace_a_good_one(server: JWKSServer, clock: Clock,
                                                   document: bytes) -> None:
    server.serve_keys(KEY_A.jwk)
    keys = remote(server, clock, cache_ttl=5)
    token = KEY_A.token(CLAIMS)
    verify_jwt(token, keys)
    server.respond = lambda request: Reply(200, document)
    clock.advance(6)
    assert verify_jwt(token, keys) == CLAIMS
    settle(keys)
    state = keys.state
    assert state.kids == ("a",) and state.status == "stale" and state.last_error is not None


# -- transport safety ------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "error"), [
    ("http://idp.example/jwks", ValueError),
    ("ftp://idp.example/jwks", ValueError),
    ("https://user:pw@idp.example/jwks", ValueError),
    ("https:///jwks", ValueError),
    ("https://idp.example/jwks#frag", ValueError),
    ("https://idp.example/jw ks", ValueError),
    ("https://idp.example:99999/jwks", ValueError),
    (b"https://idp.example/jwks", TypeError),
])
def test_only_https_urls_are_accepted(url: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        RemoteJWKSet(url)


def test_allow_http_is_needed_for_plain_http() -> None:
    assert RemoteJWKSet("http://127.0.0.1:1/jwks", allow_http=True).url == "http://127.0.0.1:1/jwks"
    assert RemoteJWKSet("https://idp.example/jwks?p=B2C_1_signin").url is not None


@pytest.mark.parametrize(("options", "error"), [
    ({"timeout": 0}, ValueError), ({"timeout": math.nan}, ValueError), ({"timeout": "5"}, TypeError),
    ({"cache_ttl": 0}, ValueError), ({"cache_ttl": math.inf}, ValueError), ({"cooldown": -1}, ValueError),
    ({"max_stale": -1}, ValueError), ({"max_bytes": 0}, ValueError), ({"max_bytes": 1.5}, TypeError),
    ({"headers": {"X-A": "1\r\nX-B: 2"}}, ValueError), ({"headers": {"X": 1}}, TypeError),
    ({"fetch": "urllib"}, TypeError), ({"allow_http": 1}, TypeError), ({"clock": 5}, TypeError),
    ({"ssl_context": object()}, TypeError),
])
def test_options_are_checked(options: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        RemoteJWKSet("https://idp.example/jwks", **options)


def test_an_ssl_context_must_verify() -> None:
    lax = ssl.create_default_context()
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE
    with pytest.raises(ValueError, match="verify"):
        RemoteJWKSet("https://idp.example/jwks", ssl_context=lax)
    RemoteJWKSet("https://idp.example/jwks", ssl_context=ssl.create_default_context(), max_stale=math.inf)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[JWKSServer, Path]]:
    """The scripted server behind TLS, with a certificate for 127.0.0.1 from a private CA."""
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jwkverify test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(now - day).not_valid_after(now + day)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       key_cert_sign=True, crl_sign=True, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(2)
            .not_valid_before(now - day).not_valid_after(now + day)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(pem) + leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    running = JWKSServer()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.pem")
    httpd = running._httpd
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    yield running, tmp_path / "ca.pem"
    running.close()


def test_tls_is_verified_and_a_custom_context_may_trust_a_private_ca(
        tls_server: tuple[JWKSServer, Path], clock: Clock) -> None:
    server, ca_file = tls_server
    server.serve_keys(KEY_A.jwk)
    url = f"https://127.0.0.1:{server.port}/jwks"
    with pytest.raises(KeySetFetchError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        RemoteJWKSet(url, clock=clock).refresh()
    trusting = ssl.create_default_context(cafile=str(ca_file))
    keys = RemoteJWKSet(url, ssl_context=trusting, clock=clock)
    assert verify_jwt(KEY_A.token(CLAIMS), keys) == CLAIMS
    assert asyncio.run(JWTVerifier(keys).verify_async(KEY_A.token(CLAIMS))) == CLAIMS


# -- one fetch in flight, shared -----------------------------------------------------------


def held_keys(server: JWKSServer, *jwks: dict[str, Any]) -> threading.Event:
    """Serve ``jwks``, but hold every reply until the returned event is set."""
    release = server.hold()
    body = keys_body(*jwks)
    server.respond = lambda request: Reply(200, body, hold=release)
    return release


def test_many_threads_share_one_fetch(server: JWKSServer, clock: Clock) -> None:
    release = held_keys(server, KEY_A.jwk)
    verifier = JWTVerifier(remote(server, clock))
    results: list[Any] = []
    threads = [threading.Thread(target=lambda n=n: results.append(verifier.verify(KEY_A.token({"n": n}))))
               for n in range(16)]
    for thread in threads:
        thread.start()
    server.wait_for(1)
    time.sleep(0.2)  # let every thread queue up behind the held response
    assert all(thread.is_alive() for thread in threads)
    release.set()
    for thread in threads:
        thread.join(5)
    assert len(results) == 16
    assert server.count == 1


def test_many_tasks_share_one_fetch_and_the_loop_keeps_running(server: JWKSServer, clock: Clock) -> None:
    release = held_keys(server, KEY_A.jwk)
    verifier = JWTVerifier(remote(server, clock))

    async def main() -> tuple[list[dict[str, Any]], int]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.005)

        async def release_later() -> None:
            await asyncio.to_thread(server.wait_for, 1)
            await asyncio.sleep(0.2)
            release.set()

        ticking = asyncio.create_task(ticker())
        results = await asyncio.gather(release_later(),
                                       *(verifier.verify_async(KEY_A.token({"n": n})) for n in range(50)))
        done.set()
        await ticking
        return list(results[1:]), ticks

    results, ticks = asyncio.run(main())
    assert [claims["n"] for claims in results] == list(range(50))
    assert server.count == 1
    assert ticks >= 20  # the loop ran the ticker all through the fetch


def test_threads_and_tasks_share_one_fetch(server: JWKSServer, clock: Clock) -> None:
    release = held_keys(server, KEY_A.jwk)
    verifier = JWTVerifier(remote(server, clock))
    results: list[Any] = []
    leader = threading.Thread(target=lambda: results.append(verifier.verify(KEY_A.token({"n": -1}))))
    leader.start()
    server.wait_for(1)

    async def main() -> list[dict[str, Any]]:
        asyncio.get_running_loop().call_later(0.2, release.set)
        return list(await asyncio.gather(*(verifier.verify_async(KEY_A.token({"n": n})) for n in range(10))))

    results.extend(asyncio.run(main()))
    leader.join(5)
    assert len(results) == 11
    assert server.count == 1


def test_a_cancelled_leader_does_not_cancel_the_shared_fetch(server: JWKSServer, clock: Clock) -> None:
    release = held_keys(server, KEY_A.jwk)
    verifier = JWTVerifier(remote(server, clock))

    async def main() -> dict[str, Any]:
        leader = asyncio.create_task(verifier.verify_async(KEY_A.token({"n": 0})))
        await asyncio.to_thread(server.wait_for, 1)
        follower = asyncio.create_task(verifier.verify_async(KEY_A.token({"n": 1})))
        await asyncio.sleep(0.05)
        leader.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await leader
        return await follower

    assert asyncio.run(main()) == {"n": 1}
    assert server.count == 1


def test_callers_whose_key_is_cached_never_wait_behind_a_fetch(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk)
    keys = remote(server, clock, cooldown=1, cache_ttl=10)
    verifier = JWTVerifier(keys)
    verifier.verify(KEY_A.token(CLAIMS))
    release = held_keys(server, KEY_A.jwk, KEY_B.jwk)
    clock.advance(1)
    stranger = threading.Thread(target=lambda: verifier.verify(KEY_B.token(CLAIMS)))
    stranger.start()  # an unknown kid: refetches, and the server holds the reply
    server.wait_for(2)
    started = time.monotonic()
    for n in range(100):
        verifier.verify(KEY_A.token({"n": n}))
    clock.advance(10)  # now stale: still served at once while the fetch is in flight
    verifier.verify(KEY_A.token(CLAIMS))
    assert asyncio.run(verifier.verify_async(KEY_A.token(CLAIMS))) == CLAIMS
    assert time.monotonic() - started < 1
    assert stranger.is_alive() and keys.state.fetching
    release.set()
    stranger.join(5)
    assert server.count == 2


def test_an_older_response_never_overwrites_a_newer_one(server: JWKSServer, clock: Clock) -> None:
    first_reply = server.hold()

    def respond(request: Recorded) -> Reply:
        if server.count == 1:  # the first request: old keys, answered late
            return Reply(200, keys_body(KEY_A.jwk), hold=first_reply)
        return Reply(200, keys_body(KEY_B.jwk))

    server.respond = respond
    keys = remote(server, clock, timeout=2)
    slow = threading.Thread(target=keys.refresh)
    slow.start()
    server.wait_for(1)
    clock.advance(2 * 2 + 1.5)  # the first attempt has outlived its budget: given up on
    assert verify_jwt(KEY_B.token(CLAIMS), keys) == CLAIMS  # a second attempt, answered at once
    first_reply.set()
    slow.join(5)
    assert keys.state.kids == ("b",)
    with pytest.raises(KeyNotFound):
        verify_jwt(KEY_A.token(CLAIMS), keys)
    assert server.count == 2


# -- plugging in another HTTP client ---------------------------------------------------------


Fetched = tuple[int, Mapping[str, str], bytes]


def urllib_fetch(url: str, headers: Mapping[str, str], timeout: float) -> Fetched:
    """A caller's own client (urllib here): follows no redirect in these tests."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=dict(headers)), timeout=timeout) as r:
        return r.status, dict(r.headers.items()), r.read()


def test_a_custom_fetch_is_used_for_sync_and_async(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk)
    calls: list[tuple[str, dict[str, str], float, str]] = []

    def fetch(url: str, headers: Mapping[str, str], timeout: float) -> Fetched:
        calls.append((url, dict(headers), timeout, threading.current_thread().name))
        return urllib_fetch(url, headers, timeout)

    keys = remote(server, clock, fetch=fetch, timeout=3, cooldown=0, headers={"X-Api-Key": "k"})
    assert verify_jwt(KEY_A.token(CLAIMS), keys) == CLAIMS
    assert calls[0][:3] == (server.url(), {"Accept": "application/jwk-set+json, application/json",
                                           "User-Agent": "jwkverify", "X-Api-Key": "k"}, 3.0)
    assert server.requests[0].headers["x-api-key"] == "k"
    with pytest.raises(KeyNotFound):
        asyncio.run(JWTVerifier(keys).verify_async(KEY_B.token(CLAIMS)))
    assert calls[1][3] != threading.current_thread().name  # a sync client runs off the loop


def test_a_custom_fetch_async_is_awaited(clock: Clock) -> None:
    seen: list[str] = []

    async def fetch_async(url: str, headers: Mapping[str, str], timeout: float) -> Fetched:
        seen.append(url)
        await asyncio.sleep(0)
        return 200, {"content-type": "application/json"}, keys_body(KEY_A.jwk)

    keys = RemoteJWKSet("https://idp.example/jwks", fetch_async=fetch_async, clock=clock)
    assert asyncio.run(JWTVerifier(keys).verify_async(KEY_A.token(CLAIMS))) == CLAIMS
    assert seen == ["https://idp.example/jwks"]
    clock.advance(601)  # a sync caller cannot run fetch_async: it is told so, and stale is served
    assert verify_jwt(KEY_A.token(CLAIMS), keys) == CLAIMS
    settle(keys)
    assert "only fetch_async" in (keys.state.last_error or "")


@pytest.mark.parametrize(("result", "message"), [
    (RuntimeError("boom"), "RuntimeError: boom"),
    (TimeoutError(), "TimeoutError"),
    ((200, {}, "text"), "body of type str"),
    ((200, {}), "must return \\(status, headers, body\\)"),
    ((True, {}, b"{}"), "status of type bool"),
    ((200, {"a": 1}, b"{}"), "mapping of str to str"),
    ((302, {"Location": "https://elsewhere.example/"}, b""), "redirect"),
])
def test_a_custom_fetch_failure_becomes_a_fetch_error(clock: Clock, result: Any, message: str) -> None:
    def fetch(url: str, headers: Mapping[str, str], timeout: float) -> Any:
        if isinstance(result, Exception):
            raise result
        return result

    keys = RemoteJWKSet("https://idp.example/jwks", fetch=fetch, clock=clock)
    with pytest.raises(KeySetFetchError, match=message) as caught:
        keys.refresh()
    if isinstance(result, Exception):
        assert caught.value.__cause__ is result


def test_a_custom_fetch_async_that_hangs_is_timed_out(clock: Clock) -> None:
    async def hang(url: str, headers: Mapping[str, str], timeout: float) -> Any:
        await asyncio.sleep(30)

    keys = RemoteJWKSet("https://idp.example/jwks", fetch_async=hang, clock=clock, timeout=0.1)
    with pytest.raises(KeySetFetchError, match="TimeoutError"):
        asyncio.run(keys.refresh_async())


# -- operators: state, refresh, export / import, logging -----------------------------------


def test_state_reports_the_cache(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk, KEY_C.jwk, ETag='"e1"', Last_Modified="Tue, 15 Nov 1994 12:45:26 GMT")
    keys = remote(server, clock, path="/jwks?tenant=secret")
    empty = keys.state
    assert (empty.status, empty.fetched_at, empty.key_count, empty.fetch_count) == ("empty", None, 0, 0)
    keys.refresh()
    clock.advance(5)
    state = keys.state
    assert state.url == server.url()  # no query in what operators see
    assert state.status == "fresh" and state.kids == ("a", "c") and state.key_count == 2
    assert state.fetched_at == pytest.approx(clock.wall() - 5)
    assert state.fresh_until == pytest.approx(clock.wall() + 595)
    assert state.usable_until == pytest.approx(clock.wall() + 595 + 86400)
    assert state.etag == '"e1"' and state.last_modified == "Tue, 15 Nov 1994 12:45:26 GMT"
    assert (state.fetch_count, state.failure_count, state.last_error, state.fetching) == (1, 0, None, False)
    assert "2 keys" in repr(keys)


def test_refresh_ignores_freshness_and_raises_on_failure(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk)
    keys = remote(server, clock)
    keys.refresh()
    asyncio.run(keys.refresh_async())
    assert server.count == 2
    server.respond = lambda request: Reply(500)
    with pytest.raises(KeySetFetchError, match="HTTP 500"):
        keys.refresh()
    assert verify_jwt(KEY_A.token(CLAIMS), keys) == CLAIMS  # the fresh set is kept


def test_export_and_import_for_cold_starts(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk, ETag='"e1"')
    warm = remote(server, clock)
    assert warm.export() is None
    warm.refresh()
    clock.advance(100)
    exported = warm.export()
    assert exported is not None and json.loads(exported)["jwks"] == {"keys": [KEY_A.jwk]}
    cold = remote(server, clock)
    assert cold.import_state(exported) is True
    assert verify_jwt(KEY_A.token(CLAIMS), cold) == CLAIMS
    assert server.count == 1  # no fetch: the imported set is fresh for 500 s more
    assert cold.state.fresh_until == pytest.approx(clock.wall() + 500)
    assert cold.import_state(exported) is False  # not newer than what it holds
    clock.advance(501)
    verify_jwt(KEY_A.token(CLAIMS), cold)
    settle(cold)
    assert server.requests[1].headers["if-none-match"] == '"e1"'  # validators survive


def test_import_refuses_what_does_not_fit(server: JWKSServer, clock: Clock) -> None:
    server.serve_keys(KEY_A.jwk)
    keys = remote(server, clock)
    keys.refresh()
    exported = keys.export()
    assert exported is not None
    assert remote(server, clock, path="/other").import_state(exported) is False
    document = json.loads(exported)
    with pytest.raises(InvalidKeySet, match="secret"):
        remote(server, clock).import_state(json.dumps({**document, "jwks": {"keys": [OCT]}}))
    with pytest.raises(InvalidKeySet, match="no usable key"):
        remote(server, clock).import_state(json.dumps({**document, "jwks": {"keys": []}}))
    with pytest.raises(InvalidKeySet):
        remote(server, clock).import_state("not json")
    with pytest.raises(InvalidKeySet, match="format"):
        remote(server, clock).import_state(json.dumps({**document, "format": "other"}))
    with pytest.raises(InvalidKeySet, match="numbers"):
        remote(server, clock).import_state(json.dumps({**document, "fetched_at": "yesterday"}))
    expired = json.dumps({**document, "fetched_at": clock.wall() - 600 - 86400 - 1})
    assert remote(server, clock).import_state(expired) is False


def test_logging_reports_refreshes_and_failures_but_never_tokens(
        server: JWKSServer, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="jwkverify.remote")
    server.serve_keys(KEY_A.jwk)
    keys = remote(server, clock, path="/jwks?client_secret=hunter2", cache_ttl=10)
    token = KEY_A.token(CLAIMS)
    forged = KEY_B.token(CLAIMS)
    verify_jwt(token, keys)
    server.respond = lambda request: Reply(500)
    clock.advance(11)
    verify_jwt(token, keys)
    settle(keys)
    with pytest.raises(KeyNotFound):
        verify_jwt(forged, keys)
    records = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "jwkverify.remote"]
    assert records[0][0] == "INFO" and "fetched the JWK Set from " + server.url() in records[0][1]
    assert records[1][0] == "DEBUG" and "refreshing in the background, serving it meanwhile" in records[1][1]
    assert records[2][0] == "WARNING" and "serving the set fetched 11 s ago" in records[2][1]
    assert len(records) == 3  # the unknown kid, refused while the provider fails, adds no record
    text = caplog.text
    assert "hunter2" not in text
    for secret in (token, forged, token.split(".")[2], forged.split(".")[1]):
        assert secret not in text
    failing = RemoteJWKSet(f"http://127.0.0.1:{refused_port()}/jwks", allow_http=True, clock=clock)
    with pytest.raises(KeySetFetchError):
        verify_jwt(token, failing)
    assert caplog.records[-1].levelname == "ERROR" and "no usable set" in caplog.records[-1].getMessage()


# -- discovery --------------------------------------------------------------------------------


def serve_metadata(server: JWKSServer, issuer: str, documents: dict[str, dict[str, Any]]) -> None:
    jwks = keys_body(KEY_A.jwk)

    def respond(request: Recorded) -> Reply:
        if request.path in documents:
            return Reply(200, json.dumps(documents[request.path]).encode())
        if request.path == "/keys":
            return Reply(200, jwks)
        return Reply(404, b"{}")

    server.respond = respond


def test_discovery_through_the_openid_configuration(server: JWKSServer, clock: Clock) -> None:
    issuer = server.url("")
    serve_metadata(server, issuer, {"/.well-known/openid-configuration": {
        "issuer": issuer, "jwks_uri": server.url("/keys")}})
    keys = RemoteJWKSet.from_issuer(issuer, allow_http=True, clock=clock)
    assert keys.url is None and keys.issuer == issuer
    verifier = JWTVerifier(keys, issuer=keys.issuer)
    assert verifier.verify(KEY_A.token({"iss": issuer})) == {"iss": issuer}
    assert keys.url == server.url("/keys")
    keys.refresh()
    assert [r.path for r in server.requests] == ["/.well-known/openid-configuration", "/keys", "/keys"]


def test_discovery_falls_back_to_rfc_8414(server: JWKSServer, clock: Clock) -> None:
    issuer = server.url("/tenant-1")
    serve_metadata(server, issuer, {"/.well-known/oauth-authorization-server/tenant-1": {
        "issuer": issuer, "jwks_uri": server.url("/keys")}})
    keys = RemoteJWKSet.from_issuer(issuer, allow_http=True, clock=clock)
    assert asyncio.run(JWTVerifier(keys).verify_async(KEY_A.token(CLAIMS))) == CLAIMS
    assert [r.path for r in server.requests] == [
        "/tenant-1/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/tenant-1",
        "/keys"]


def test_discovery_requires_the_exact_issuer(server: JWKSServer, clock: Clock) -> None:
    issuer = server.url("")
    serve_metadata(server, issuer, {"/.well-known/openid-configuration": {
        "issuer": issuer + "/", "jwks_uri": server.url("/keys")}})
    keys = RemoteJWKSet.from_issuer(issuer, allow_http=True, clock=clock)
    with pytest.raises(KeySetFetchError, match="identical"):
        keys.refresh()
    assert keys.url is None
    assert all(r.path != "/keys" for r in server.requests)


def test_discovery_failure_at_start_up(clock: Clock) -> None:
    keys = RemoteJWKSet.from_issuer(f"http://127.0.0.1:{refused_port()}", allow_http=True, clock=clock)
    with pytest.raises(KeySetFetchError, match="discovery for issuer"):
        keys.refresh()
    with pytest.raises(ValueError, match="query"):
        RemoteJWKSet.from_issuer("https://idp.example/?tenant=1")
    with pytest.raises(ValueError, match="https"):
        RemoteJWKSet.from_issuer("http://idp.example")
