"""The newcomer demo behind ``python -m jwkverify demo``.

It needs no identity provider: it generates three keys in memory (RS256, ES256,
EdDSA), publishes their public halves as a JWK Set, mints tokens with its own tiny
signer (``cryptography`` directly, never jwkverify, so the library cannot vouch for
tokens it made itself), and shows which tokens one :class:`JWTVerifier` accepts
and why it refuses the others. ``cryptography`` is imported when the demo runs.
"""

from __future__ import annotations

import base64
import hmac
import json
import statistics
import sys
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TextIO

from ..errors import (
    AlgorithmNotAllowed,
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    InvalidSignature,
    JOSEError,
    KeyNotFound,
    MalformedToken,
    NotYetValid,
    UnsupportedAlgorithm,
)
from ..jwt import JWTVerifier
from ..remote import RemoteJWKSet

__all__ = ["run_demo"]

ISSUER = "https://issuer.demo"
AUDIENCE = "https://api.demo"
LEEWAY = 30  # seconds of clock skew the verifier tolerates
TIMING_ROUNDS = 300  # verify calls per good token; the median is shown
_WIDTH = 110  # wrap the detail column to this many characters

Signer = Callable[[bytes], bytes]


@dataclass(frozen=True, slots=True)
class _DemoKey:
    """A private key that signs for one algorithm, with its published public JWK."""

    alg: str
    kid: str
    jwk: dict[str, Any]
    sign: Signer
    #: The bare ``cryptography`` verify of one signature (the floor no library beats).
    floor: Callable[[bytes, bytes], None] | None = None


@dataclass(frozen=True, slots=True)
class _Case:
    """A token and what the verifier must do with it (``expected`` None: accept)."""

    name: str
    alg: str
    token: str
    expected: type[JOSEError] | None = None
    signer: _DemoKey | None = None  # for a good token: whose floor to time it against


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What the verifier did with a case, and the mismatch if it was not expected."""

    case: _Case
    result: str
    detail: str
    mismatch: str | None = None


# -- the demo's own signer ----------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _compact(header: Mapping[str, Any], payload: bytes, sign: Signer) -> str:
    """A compact JWS: base64url(header).base64url(payload).base64url(signature)."""
    signing_input = f"{_b64(_json(header))}.{_b64(payload)}"
    return f"{signing_input}.{_b64(sign(signing_input.encode('ascii')))}"


def _published(members: dict[str, str], kid: str, alg: str) -> dict[str, Any]:
    return {**members, "kid": kid, "alg": alg, "use": "sig"}


def _rsa_key(kid: str) -> _DemoKey:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = private.public_key().public_numbers()
    members = {"kty": "RSA", "n": _uint(numbers.n), "e": _uint(numbers.e)}
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    public = private.public_key()
    return _DemoKey("RS256", kid, _published(members, kid, "RS256"),
                    lambda data: private.sign(data, pkcs1, sha256),
                    lambda signature, data: public.verify(signature, data, pkcs1, sha256))


def _ec_key(kid: str) -> _DemoKey:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import (
        decode_dss_signature,
        encode_dss_signature,
    )

    private = ec.generate_private_key(ec.SECP256R1())
    point = private.public_key().public_numbers()
    members = {"kty": "EC", "crv": "P-256",
               "x": _b64(point.x.to_bytes(32, "big")), "y": _b64(point.y.to_bytes(32, "big"))}
    ecdsa = ec.ECDSA(hashes.SHA256())

    def sign(data: bytes) -> bytes:
        # RFC 7518 §3.4: JWS wants R || S, 32 octets each; cryptography returns DER.
        r, s = decode_dss_signature(private.sign(data, ecdsa))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    public = private.public_key()

    def floor(signature: bytes, data: bytes) -> None:
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        public.verify(encode_dss_signature(r, s), data, ecdsa)

    return _DemoKey("ES256", kid, _published(members, kid, "ES256"), sign, floor)


def _ed25519_key(kid: str) -> _DemoKey:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    private = ed25519.Ed25519PrivateKey.generate()
    members = {"kty": "OKP", "crv": "Ed25519", "x": _b64(private.public_key().public_bytes_raw())}
    return _DemoKey("EdDSA", kid, _published(members, kid, "EdDSA"), private.sign,
                    private.public_key().verify)


def _mint(key: _DemoKey, claims: Mapping[str, Any] | bytes, **header: Any) -> str:
    """A token signed by ``key``; ``header`` adds members (a None value removes one)."""
    fields = {"alg": key.alg, "kid": key.kid, "typ": "JWT", **header}
    fields = {name: value for name, value in fields.items() if value is not None}
    payload = claims if isinstance(claims, bytes) else _json(claims)
    return _compact(fields, payload, key.sign)


# -- the tokens ---------------------------------------------------------------------


def _claims(sub: str, now: int, **changes: Any) -> dict[str, Any]:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "nbf": now, "exp": now + 600}
    return {**claims, **changes}


def _good_cases(keys: Sequence[_DemoKey], now: int) -> list[_Case]:
    subjects = ("alice", "bob", "carol")
    return [_Case(f"good {key.alg} token", key.alg, _mint(key, _claims(sub, now)), signer=key)
            for key, sub in zip(keys, subjects, strict=True)]


def _claim_cases(rsa: _DemoKey, now: int) -> list[_Case]:
    """Well-signed tokens whose claims must not pass."""
    nan_exp = json.dumps(_claims("mallory", now, exp=float("nan"))).encode()  # json writes NaN
    return [
        _Case("expired (exp 1 h ago)", "RS256", _mint(rsa, _claims("mallory", now, exp=now - 3600)),
              ExpiredToken),
        _Case("not yet valid (nbf in 1 h)", "RS256",
              _mint(rsa, _claims("mallory", now, nbf=now + 3600)), NotYetValid),
        _Case("wrong issuer", "RS256",
              _mint(rsa, _claims("mallory", now, iss="https://other.example")), InvalidIssuer),
        _Case("issuer prefix attack", "RS256",
              _mint(rsa, _claims("mallory", now, iss=ISSUER + ".evil.example")), InvalidIssuer),
        _Case("wrong audience", "RS256",
              _mint(rsa, _claims("mallory", now, aud="https://other-api.demo")), InvalidAudience),
        _Case("NaN in exp", "RS256", _mint(rsa, nan_exp), MalformedToken),
    ]


def _forged_cases(keys: Sequence[_DemoKey], attacker: _DemoKey, now: int) -> list[_Case]:
    """Tokens whose header or signature is an attack on key or algorithm choice."""
    rsa, ec, ed = keys
    claims = _claims("mallory", now)
    good = _mint(rsa, claims).split(".")
    tampered = _b64(_json({**claims, "sub": "admin"}))
    # The classic confusion: HMAC keyed with the public key text the issuer publishes.
    secret = json.dumps(rsa.jwk).encode()
    confused = _DemoKey("HS256", rsa.kid, {}, lambda data: hmac.digest(secret, data, "sha256"))
    return [
        _Case("alg none", "none", _compact({"alg": "none", "typ": "JWT"}, _json(claims), lambda _: b""),
              UnsupportedAlgorithm),
        _Case("alg confusion (HS256, RSA JWK)", "HS256", _mint(confused, claims), AlgorithmNotAllowed),
        _Case("unknown kid", "RS256", _mint(rsa, claims, kid="rsa-2"), KeyNotFound),
        _Case("tampered payload", "RS256", f"{good[0]}.{tampered}.{good[2]}", InvalidSignature),
        _Case("crit header", "ES256", _mint(ec, claims, crit=["exp"], exp=now + 600), MalformedToken),
        _Case("ES256 key, ES384 header", "ES384", _mint(ec, claims, alg="ES384"), AlgorithmNotAllowed),
        _Case("embedded jwk (own key)", "EdDSA",
              _mint(attacker, claims, kid=None, jwk=attacker.jwk), InvalidSignature),
        _Case("attacker key, real kid", "EdDSA", _mint(attacker, claims, kid=ed.kid), InvalidSignature),
    ]


# -- running and reporting ------------------------------------------------------------


def _median_us(call: Callable[[], object]) -> float:
    samples: list[int] = []
    for _ in range(TIMING_ROUNDS):
        start = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def _timing(verifier: JWTVerifier, case: _Case) -> str:
    """Median verify time, and the bare cryptography verify of the same signature."""
    library = _median_us(lambda: verifier.verify(case.token))
    text = f"{library:.1f} us per verify"
    floor = case.signer.floor if case.signer is not None else None
    if floor is not None:
        signing_input, _, signature = case.token.rpartition(".")
        raw, data = base64.urlsafe_b64decode(signature + "=="), signing_input.encode()
        bare = _median_us(lambda: floor(raw, data))
        text += f"; bare cryptography verify {bare:.1f} us ({library / bare:.2f}x)"
    return text


def _run_case(verifier: JWTVerifier, case: _Case) -> _Outcome:
    try:
        claims = verifier.verify(case.token)
    except JOSEError as exc:
        return _refused(case, exc)
    except Exception as exc:  # every failure should be a JOSEError (house rule 7)
        return _Outcome(case, "CRASHED", f"{type(exc).__name__}: {exc}", "not a JOSEError")
    return _accepted(verifier, case, claims)


def _refused(case: _Case, exc: JOSEError) -> _Outcome:
    detail = f"{type(exc).__name__}: {exc}"
    if case.expected is None:
        return _Outcome(case, "REFUSED", detail, "a good token was refused")
    if not isinstance(exc, case.expected):
        return _Outcome(case, "refused", detail, f"refused, but expected {case.expected.__name__}")
    return _Outcome(case, "refused", detail)


def _accepted(verifier: JWTVerifier, case: _Case, claims: Mapping[str, Any]) -> _Outcome:
    subject = f"sub={claims.get('sub')!r}"
    if case.expected is not None:
        return _Outcome(case, "ACCEPTED", subject, f"a bad token was accepted, not {case.expected.__name__}")
    return _Outcome(case, "accepted", f"{subject}, {_timing(verifier, case)}")


def _table(outcomes: Sequence[_Outcome]) -> list[str]:
    name_w = max(len("token"), *(len(o.case.name) for o in outcomes))
    alg_w = max(len("alg"), *(len(o.case.alg) for o in outcomes))
    result_w = max(len("result"), *(len(o.result) for o in outcomes))
    indent = name_w + alg_w + result_w + 8
    rows = [("token", "alg", "result", "why / detail"),
            ("-" * name_w, "-" * alg_w, "-" * result_w, "-" * (_WIDTH - indent))]
    rows += [(o.case.name, o.case.alg, o.result, o.detail) for o in outcomes]
    lines = []
    for name, alg, result, detail in rows:
        wrapped = textwrap.wrap(detail, _WIDTH - indent, break_on_hyphens=False) or [""]
        lines.append(f"  {name:<{name_w}}  {alg:<{alg_w}}  {result:<{result_w}}  {wrapped[0]}")
        lines += [" " * indent + more for more in wrapped[1:]]
    return lines


class _KeySetServer:
    """The issuer's ``/jwks.json`` on a free loopback port, in a thread, for the demo."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.document = b'{"keys": []}'
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = server.document
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/jwks.json"

    def publish(self, keys: Sequence[_DemoKey]) -> None:
        self.document = _json({"keys": [key.jwk for key in keys]})

    def __enter__(self) -> _KeySetServer:
        import threading

        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _rotation(server: _KeySetServer, keys: RemoteJWKSet, verifier: JWTVerifier,
              published: list[_DemoKey], now: int) -> list[_Outcome]:
    """The issuer rotates: a new key appears, an old one is retired."""
    rsa, ec, ed = published
    new_ec = _ec_key("ec-2")
    server.publish([rsa, ec, ed, new_ec])
    before = server.requests
    new_key_token = _Case("new key ec-2 (one refetch)", "ES256", _mint(new_ec, _claims("dave", now)),
                          signer=new_ec)
    outcomes = [_run_case(verifier, new_key_token)]
    fetched = server.requests - before
    if fetched != 1 and outcomes[0].mismatch is None:
        outcomes[0] = replace(outcomes[0], mismatch=f"expected one refetch, saw {fetched}")
    server.publish([ec, ed, new_ec])  # rsa-1 retired
    keys.refresh()  # what the end of the set's lifetime (cache_ttl / max-age) does on its own
    retired = _Case("retired key rsa-1", "RS256", _mint(rsa, _claims("erin", now)), KeyNotFound)
    return [*outcomes, _run_case(verifier, retired)]


def _intro(url: str, published: Sequence[_DemoKey], good: int, bad: int) -> list[str]:
    keys = ", ".join(f"{key.kid} ({key.alg})" for key in published)
    return [
        f"jwkverify demo: {good} good and {bad} bad tokens checked by one JWTVerifier.",
        f"  key set : {keys}, made just now and served at {url}",
        f"  verifier: RemoteJWKSet(url), issuer={ISSUER!r}, audience={AUDIENCE!r}, leeway={LEEWAY}s",
        "",
    ]
def _verdict(outcomes: Sequence[_Outcome], good: int, bad: int) -> list[str]:
    failed = [o for o in outcomes if o.mismatch is not None]
    if not failed:
        return ["", f"OK: all {good} good tokens verified and all {bad} bad tokens were refused, "
                    "each for the expected reason."]
    lines = [""] + [f"MISMATCH {o.case.name!r}: {o.mismatch} ({o.result}: {o.detail})" for o in failed]
    return [*lines, f"FAILED: {len(failed)} of {len(outcomes)} expectations did not hold."]


def run_demo(out: TextIO = sys.stdout) -> int:
    """Run the demo, print its table to ``out``; 0 if every expectation held, else 1."""
    published = [_rsa_key("rsa-1"), _ec_key("ec-1"), _ed25519_key("ed-1")]
    with _KeySetServer() as server:
        server.publish(published)
        # cooldown=0 lets the rotation below show at once; the default is 30 s.
        keys = RemoteJWKSet(server.url, allow_http=True, cooldown=0)
        verifier = JWTVerifier(keys, issuer=ISSUER, audience=AUDIENCE, leeway=LEEWAY)
        now = int(time.time())
        good = _good_cases(published, now)
        bad = _claim_cases(published[0], now) + _forged_cases(published, _ed25519_key("attacker"), now)
        outcomes = [_run_case(verifier, case) for case in good + bad]
        rotation = _rotation(server, keys, verifier, published, now)
    lines = [*_intro(server.url, published, len(good) + 1, len(bad) + 1), *_table(outcomes), "",
             "Key rotation: the issuer publishes ec-2, then retires rsa-1.", *_table(rotation),
             *_verdict([*outcomes, *rotation], len(good) + 1, len(bad) + 1)]
    out.write("\n".join(lines) + "\n")
    return 0 if all(o.mismatch is None for o in [*outcomes, *rotation]) else 1
