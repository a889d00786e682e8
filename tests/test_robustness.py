"""Resource bounds and hostile input: each refused with its exact error, cheaply.

The inputs are sized to matter (100,000-deep nesting, 100,000-digit numbers, 10,000
keys, megabyte tokens); none of these tests measures time, but the suite staying fast
is the point: every bound is checked before the expensive work it protects.
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

import pytest
from signing import b64, make_key

from jwkverify import (
    ANY_AUDIENCE,
    JWK,
    ClaimError,
    InvalidKey,
    InvalidKeySet,
    JOSEError,
    JWKSet,
    JWTVerifier,
    MalformedToken,
    UnsupportedAlgorithm,
    verify_jws,
    verify_jwt,
)
from jwkverify.jws import DEFAULT_MAX_TOKEN_SIZE
from jwkverify.keyset import DEFAULT_MAX_KEYS

HS = make_key("HS256", kid="hs")
KEY = JWK.from_dict(HS.jwk)
HEADER = b'{"alg":"HS256","kid":"hs"}'
#: Large enough that the size bound never hides the parser behind it.
UNBOUNDED = 1 << 24
DEEP = 100_000

NESTINGS = {
    "arrays": ("[" * DEEP, "]" * DEEP),
    "objects": ('{"a":' * DEEP, "}" * DEEP),
}


def signed(header: bytes, payload: bytes) -> str:
    """A token with exactly these header and payload octets and a valid HS256 signature."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    return f"{signing_input}.{b64(HS.sign(signing_input.encode()))}"


def header_with(member: str) -> bytes:
    """HEADER with one more member, given as raw JSON text (``"name":value``)."""
    return HEADER[:-1] + b"," + member.encode("utf-8", "surrogatepass") + b"}"


def nested(kind: str, leaf: str = "0") -> str:
    opening, closing = NESTINGS[kind]
    return opening + leaf + closing


# -- size --------------------------------------------------------------------------------------


def token_of_length(length: int) -> str:
    """A valid token exactly ``length`` characters long (padding the header and payload)."""
    signature_length = len(b64(HS.sign(b"")))
    for header_pad in range(4):
        header = header_with(f'"p":"{"x" * header_pad}"')
        room = length - len(b64(header)) - signature_length - 2
        payload_pad = room * 3 // 4 - len(b'{"pad":""}')
        payload = b'{"pad":"' + b"x" * payload_pad + b'"}'
        if len(b64(payload)) == room:
            token = signed(header, payload)
            assert len(token) == length
            return token
    raise AssertionError(f"no token of length {length}")


def test_a_token_of_exactly_the_maximum_size_verifies() -> None:
    token = token_of_length(DEFAULT_MAX_TOKEN_SIZE)
    assert verify_jws(token, KEY).key == KEY
    assert verify_jwt(token.encode(), KEY)["pad"].startswith("x")


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_a_token_one_character_over_the_maximum_is_refused(as_bytes: bool) -> None:
    token: str | bytes = token_of_length(DEFAULT_MAX_TOKEN_SIZE + 1)
    if as_bytes:
        token = token.encode()
    with pytest.raises(MalformedToken):
        verify_jws(token, KEY)
    with pytest.raises(MalformedToken):
        verify_jwt(token, KEY)
    assert verify_jws(token, KEY, max_token_size=DEFAULT_MAX_TOKEN_SIZE + 1).key == KEY


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_a_huge_token_is_refused_before_it_is_parsed(as_bytes: bool) -> None:
    # 16 MiB of segments that would each be expensive to decode.
    token = f"{'A' * (1 << 23)}.{'A' * (1 << 23)}.AAAA"
    with pytest.raises(MalformedToken):
        verify_jws(token.encode() if as_bytes else token, KEY)
    with pytest.raises(MalformedToken):
        verify_jws(bytearray(token.encode()), KEY)


def test_a_custom_maximum_is_honoured() -> None:
    token = signed(HEADER, b"{}")
    assert verify_jwt(token, KEY, max_token_size=len(token)) == {}
    with pytest.raises(MalformedToken):
        verify_jwt(token, KEY, max_token_size=len(token) - 1)


def test_a_15_kib_header_is_bounded_by_the_token_size() -> None:
    big = header_with(f'"pad":"{"x" * 15 * 1024}"')  # 15 KiB of JSON, 20 KiB encoded
    with pytest.raises(MalformedToken):
        verify_jws(signed(big, b"{}"), KEY)
    assert verify_jws(signed(big, b"{}"), KEY, max_token_size=UNBOUNDED).header["pad"] == "x" * 15 * 1024
    fits = header_with(f'"pad":"{"x" * (15 * 1024 * 3 // 4 - 40)}"')  # a 15 KiB header segment
    assert abs(len(b64(fits)) - 15 * 1024) < 64
    assert verify_jwt(signed(fits, b"{}"), KEY) == {}


# -- nesting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(NESTINGS))
def test_deep_nesting_in_the_header_is_refused(kind: str) -> None:
    for header in (header_with(f'"x":{nested(kind)}').decode(), nested(kind)):
        token = signed(header.encode(), b"{}")
        with pytest.raises(MalformedToken):  # over the size bound
            verify_jws(token, KEY)
        with pytest.raises(MalformedToken):  # and refused by the parser when it is lifted
            verify_jws(token, KEY, max_token_size=UNBOUNDED)


@pytest.mark.parametrize("kind", sorted(NESTINGS))
def test_deep_nesting_in_the_claims_is_refused(kind: str) -> None:
    for payload in ('{"x":' + nested(kind) + "}", nested(kind)):
        token = signed(HEADER, payload.encode())
        with pytest.raises(MalformedToken):
            verify_jwt(token, KEY)
        with pytest.raises(MalformedToken):
            verify_jwt(token, KEY, max_token_size=UNBOUNDED)
        # A JWS payload is opaque octets: verified, returned as is, never parsed.
        assert verify_jws(token, KEY, max_token_size=UNBOUNDED).payload == payload.encode()


@pytest.mark.parametrize("kind", sorted(NESTINGS))
def test_deep_nesting_in_a_key_set_or_key_is_refused(kind: str) -> None:
    for document in ('{"keys":' + nested(kind) + "}", '{"keys":[' + nested(kind) + "]}",
                     '{"keys":[],"x":' + nested(kind) + "}", nested(kind)):
        with pytest.raises(InvalidKeySet):
            JWKSet.from_json(document)
        with pytest.raises(InvalidKeySet):
            JWKSet.from_json(document.encode())
    with pytest.raises(InvalidKey):
        JWK.from_json('{"kty":"oct","k":"' + HS.jwk["k"] + '","x":' + nested(kind) + "}")


def depths() -> range:
    """The nesting depths around the deepest one the JSON parser accepts from here.

    That depth depends on the interpreter's recursion limit and on how deep the stack
    already is, so it is measured rather than assumed; the entry points differ from
    the probe by a few frames only.
    """
    def parses(depth: int) -> bool:
        try:
            JWKSet.from_json('{"keys":[],"x":' + "[" * depth + "]" * depth + "}")
        except InvalidKeySet:
            return False
        return True

    # Up to 3.12 the C JSON scanner stops near the recursion limit; from 3.13 on it
    # counts against the separate C recursion limit (about 10,000 levels).
    low, high = 1, max(sys.getrecursionlimit() + 1000, 100_000)  # parses(low), not parses(high)
    assert parses(low) and not parses(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if parses(middle) else (low, middle)
    return range(max(1, low - 60), low + 60)


def in_header(value: str) -> None:
    verify_jws(signed(header_with(f'"x":{value}'), b"{}"), KEY)


def in_claims(value: str) -> None:
    verify_jwt(signed(HEADER, f'{{"x":{value}}}'.encode()), KEY)


def in_jwk(value: str) -> None:
    JWK.from_json(f'{{"kty":"oct","k":"{HS.jwk["k"]}","x":{value}}}')


def in_jwks(value: str) -> None:
    JWKSet.from_json(f'{{"keys":[],"x":{value}}}')


def in_crit(value: str) -> None:
    """``crit`` is refused with a message that quotes (a clip of) its value."""
    verify_jws(signed(header_with(f'"crit":{value}'), b"{}"), KEY)


def in_typ(value: str) -> None:
    """A ``typ`` mismatch is refused with a message that quotes (a clip of) its value."""
    verify_jwt(signed(header_with(f'"typ":{value}'), b"{}"), KEY, typ="JWT")


ENTRY_POINTS = {"header": in_header, "claims": in_claims, "jwk": in_jwk, "jwks": in_jwks,
                "crit": in_crit, "typ": in_typ}


def parse_at_every_depth(entry_point: str, kind: str, leaf: str) -> None:
    """Feed ``leaf`` nested 1, 2, ... levels deep: each must load or raise a JOSEError."""
    parse = ENTRY_POINTS[entry_point]
    opening, closing = ("[", "]") if kind == "arrays" else ('{"a":', "}")
    for depth in depths():
        with contextlib.suppress(JOSEError):
            parse(opening * depth + leaf + closing * depth)


LEAVES = {"number": "0", "text": '"text"', "escape": '"\\u00e9"',
          "surrogate-pair": '"\\ud83d\\ude00"', "lone-surrogate": '"\\ud800"'}


@pytest.mark.parametrize("leaf", LEAVES.values(), ids=LEAVES.keys())
@pytest.mark.parametrize("kind", sorted(NESTINGS))
@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
def test_nesting_at_every_depth_near_the_parser_limit(entry_point: str, kind: str, leaf: str) -> None:
    """Regression: a surrogate escape used to send a document that the parser had just
    accepted through json.dumps, which raised RecursionError a few frames deeper."""
    parse_at_every_depth(entry_point, kind, leaf)


# -- numbers -----------------------------------------------------------------------------------

HUGE_NUMBERS = {
    "int-5000": "9" * 5_000,
    "int-100000": "9" * 100_000,
    "negative-5000": "-" + "9" * 5_000,
    "fraction-5000": "0." + "1" * 5_000,
    "exponent-5000": "1e" + "9" * 5_000,
    "float-100000": "1" * 100_000 + ".5",
}


@pytest.mark.parametrize("literal", HUGE_NUMBERS.values(), ids=HUGE_NUMBERS.keys())
def test_huge_number_literals_are_refused_everywhere(literal: str) -> None:
    in_header = signed(header_with(f'"n":{literal}'), b"{}")
    in_claims = signed(HEADER, f'{{"n":{literal}}}'.encode())
    in_exp = signed(HEADER, f'{{"exp":{literal}}}'.encode())
    for token in (in_header, in_claims, in_exp):
        with pytest.raises(MalformedToken):
            verify_jwt(token, KEY, max_token_size=UNBOUNDED)
    with pytest.raises(MalformedToken):
        verify_jws(in_header, KEY, max_token_size=UNBOUNDED)
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json(f'{{"keys":[],"n":{literal}}}')
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json(f'{{"keys":[{{"kty":"oct","k":"{HS.jwk["k"]}","n":{literal}}}]}}')
    with pytest.raises(InvalidKey):
        JWK.from_json(f'{{"kty":"oct","k":"{HS.jwk["k"]}","n":{literal}}}')


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1E999"])
def test_non_finite_times_are_refused(claim: str, literal: str) -> None:
    token = signed(HEADER, f'{{"{claim}":{literal}}}'.encode())
    with pytest.raises(MalformedToken):
        verify_jwt(token, KEY)
    with pytest.raises(MalformedToken):
        verify_jws(signed(header_with(f'"{claim}":{literal}'), b"{}"), KEY)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_in_keys_are_refused(literal: str) -> None:
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json(f'{{"keys":[],"n":{literal}}}')
    with pytest.raises(InvalidKey):
        JWK.from_json(f'{{"kty":"oct","k":"{HS.jwk["k"]}","n":{literal}}}')


@pytest.mark.parametrize(
    "claims",
    [
        '{"exp":1e20}',
        '{"exp":' + "9" * 120 + "}",
        '{"exp":1.7976931348623157e308}',
        '{"nbf":-1e20,"iat":-1e300}',
        '{"nbf":-' + "9" * 120 + ',"iat":0}',
    ],
)
def test_far_future_and_far_past_times_are_valid(claims: str) -> None:
    token = signed(HEADER, claims.encode())
    assert verify_jwt(token, KEY) == json.loads(claims)
    assert verify_jwt(token, KEY, leeway=1e30) == json.loads(claims)


@pytest.mark.parametrize(
    ("claims", "refused"),
    [
        ('{"nbf":1e20}', "nbf"),
        ('{"iat":' + "9" * 120 + "}", "iat"),
        ('{"exp":-1e20}', "exp"),
        ('{"exp":-' + "9" * 120 + "}", "exp"),
    ],
)
def test_far_times_on_the_wrong_side_are_refused_without_overflow(claims: str, refused: str) -> None:
    with pytest.raises(ClaimError) as caught:
        verify_jwt(signed(HEADER, claims.encode()), KEY, leeway=3600)
    assert caught.value.claim == refused


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", ["true", "false", '"123"', '""', "[1]", '{"t":1}'])
def test_times_that_are_not_numbers_are_refused(claim: str, value: str) -> None:
    with pytest.raises(ClaimError) as caught:
        verify_jwt(signed(HEADER, f'{{"{claim}":{value}}}'.encode()), KEY)
    assert caught.value.claim == claim
    assert caught.value.reason == "invalid_type"


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat", "iss", "sub", "aud"])
def test_a_null_registered_claim_is_refused(claim: str) -> None:
    """``{"exp": null}`` must not read as "no expiry", nor satisfy ``required_claims``."""
    token = signed(HEADER, f'{{"{claim}":null}}'.encode())
    with pytest.raises(ClaimError) as caught:
        verify_jwt(token, KEY, audience=ANY_AUDIENCE)
    assert caught.value.claim == claim
    with pytest.raises(ClaimError) as caught:
        verify_jwt(token, KEY, audience=ANY_AUDIENCE, required_claims=[claim])
    assert caught.value.claim == claim


# -- encodings ---------------------------------------------------------------------------------

NOT_UTF8 = {
    "ff": b"\xff",
    "overlong": b"\xc0\xaf",
    "cesu-surrogate": b"\xed\xa0\x80",
    "truncated": b"\xe2\x82",
    "latin-1": "\u00e9".encode("latin-1"),
}


@pytest.mark.parametrize("octets", NOT_UTF8.values(), ids=NOT_UTF8.keys())
def test_header_and_claims_must_be_utf8(octets: bytes) -> None:
    header = HEADER[:-1] + b',"x":"' + octets + b'"}'
    with pytest.raises(MalformedToken):
        verify_jws(signed(header, b"{}"), KEY)
    with pytest.raises(MalformedToken):
        verify_jwt(signed(HEADER, b'{"x":"' + octets + b'"}'), KEY)
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json(b'{"keys":[],"x":"' + octets + b'"}')
    with pytest.raises(InvalidKey):
        JWK.from_json(b'{"kty":"oct","k":"' + HS.jwk["k"].encode() + b'","x":"' + octets + b'"}')


WIDE = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "utf-8-sig"]


@pytest.mark.parametrize("encoding", WIDE)
def test_json_in_another_encoding_or_with_a_bom_is_refused(encoding: str) -> None:
    with pytest.raises(MalformedToken):
        verify_jwt(signed(HEADER, '{"sub":"a"}'.encode(encoding)), KEY)
    with pytest.raises(MalformedToken):
        verify_jws(signed(HEADER.decode().encode(encoding), b"{}"), KEY)
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json('{"keys":[]}'.encode(encoding))
    with pytest.raises(InvalidKey):
        JWK.from_json(json.dumps(HS.jwk).encode(encoding))


SURROGATES = ["\\ud800", "\\udfff", "\\uDBFF", "x\\ud800y", "\\udc00\\ud800", "\\ud800\\u0041"]


@pytest.mark.parametrize("escape", SURROGATES)
def test_lone_surrogate_escapes_are_refused(escape: str) -> None:
    for member in (f'"x":"{escape}"', f'"{escape}":1', f'"x":[{{"y":"{escape}"}}]', f'"typ":"{escape}"'):
        with pytest.raises(MalformedToken):
            verify_jws(signed(header_with(member), b"{}"), KEY)
        with pytest.raises(MalformedToken):
            verify_jwt(signed(HEADER, f"{{{member}}}".encode()), KEY)
    with pytest.raises(MalformedToken):
        verify_jwt(signed(HEADER, f'{{"sub":"{escape}"}}'.encode()), KEY, audience=ANY_AUDIENCE)
    with pytest.raises(InvalidKey):
        JWK.from_json(f'{{"kty":"oct","k":"{HS.jwk["k"]}","kid":"{escape}"}}')
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json(f'{{"keys":[{{"kty":"oct","k":"{HS.jwk["k"]}","kid":"{escape}"}}]}}')


@pytest.mark.parametrize("raw", ["\ud800", "\udfff", "x\udc00"], ids=["high", "low", "inside"])
def test_a_raw_lone_surrogate_in_str_text_is_refused(raw: str) -> None:
    k = HS.jwk["k"]
    with pytest.raises(InvalidKey):
        JWK.from_json(f'{{"kty":"oct","k":"{k}","kid":"{raw}"}}')
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json(f'{{"keys":[{{"kty":"oct","k":"{k}","kid":"{raw}"}}]}}')


def test_a_surrogate_pair_escape_is_one_character() -> None:
    claims = verify_jwt(signed(HEADER, b'{"sub":"\\ud83d\\ude00"}'), KEY)
    assert claims == {"sub": "\U0001f600"}


# -- duplicate member names --------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        b'{"alg":"HS256","alg":"HS256"}',
        b'{"alg":"none","alg":"HS256"}',
        b'{"alg":"HS256","kid":"other","kid":"hs"}',
        b'{"alg":"HS256","x":{"a":1,"a":1}}',
    ],
)
def test_duplicate_header_members_are_refused(header: bytes) -> None:
    with pytest.raises(MalformedToken):
        verify_jws(signed(header, b"{}"), KEY)


@pytest.mark.parametrize(
    "claims",
    [b'{"sub":"a","sub":"b"}', b'{"exp":1,"exp":99999999999}', b'{"x":[{"a":1,"a":2}]}'],
)
def test_duplicate_claims_are_refused(claims: bytes) -> None:
    with pytest.raises(MalformedToken):
        verify_jwt(signed(HEADER, claims), KEY, audience=ANY_AUDIENCE)


def test_duplicate_key_members_are_refused() -> None:
    k = HS.jwk["k"]
    with pytest.raises(InvalidKey):
        JWK.from_json(f'{{"kty":"oct","k":"{k}","k":"{k}"}}')
    with pytest.raises(InvalidKey):
        JWK.from_json(f'{{"kty":"RSA","kty":"oct","k":"{k}"}}')
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json(f'{{"keys":[{{"kty":"oct","k":"{k}","kid":"a","kid":"b"}}]}}')
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json('{"keys":[],"keys":[]}')


# -- key set shape and size --------------------------------------------------------------------


def oct_entries(count: int) -> list[dict[str, Any]]:
    return [{"kty": "oct", "kid": str(index), "k": HS.jwk["k"]} for index in range(count)]


@pytest.mark.parametrize("count", [DEFAULT_MAX_KEYS + 1, 10_000])
def test_too_many_keys_are_refused(count: int) -> None:
    document = {"keys": oct_entries(count)}
    with pytest.raises(InvalidKeySet):
        JWKSet.from_dict(document)
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json(json.dumps(document))
    garbage = {"keys": [None] * count}  # refused before any entry is looked at
    with pytest.raises(InvalidKeySet):
        JWKSet.from_dict(garbage)


def test_the_maximum_number_of_keys_is_accepted() -> None:
    keys = JWKSet.from_json(json.dumps({"keys": oct_entries(DEFAULT_MAX_KEYS)}))
    assert len(keys) == DEFAULT_MAX_KEYS
    token = HS.token({"sub": "a"}, header={"kid": str(DEFAULT_MAX_KEYS - 1)})
    assert verify_jwt(token, keys) == {"sub": "a"}


@pytest.mark.parametrize(
    "document",
    ['{"keys":{}}', '{"keys":"[]"}', '{"keys":null}', '{"keys":1}', '{"keys":true}', "{}",
     '{"Keys":[]}', "[]", '[{"keys":[]}]', '"keys"', "null", "1", "", " ", "\n", "{", '{"keys":[]',
     '{"keys":[]} {}'],
)
def test_key_set_documents_of_the_wrong_shape_are_refused(document: str) -> None:
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json(document)
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json(document.encode())


@pytest.mark.parametrize("document", [[], [{"keys": []}], None, "keys", 1, {"keys": None}, {"keys": {}}])
def test_key_set_mappings_of_the_wrong_shape_are_refused(document: Any) -> None:
    with pytest.raises(InvalidKeySet):
        JWKSet.from_dict(document)


@pytest.mark.parametrize("document", [None, 1, 1.5, [], {}, object()])
def test_key_set_text_of_the_wrong_type_is_refused(document: Any) -> None:
    with pytest.raises(InvalidKeySet):
        JWKSet.from_json(document)


# -- the token's own type and shape ------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [None, 0, 1, 1.5, True, [], ["a.b.c"], {}, object(), memoryview(b"a.b.c")],
    ids=lambda token: type(token).__name__,
)
def test_a_token_that_is_not_str_or_bytes_is_refused(token: Any) -> None:
    with pytest.raises(MalformedToken):
        verify_jws(token, KEY)
    with pytest.raises(MalformedToken):
        JWTVerifier(KEY).verify(token)


@pytest.mark.parametrize(
    "token",
    ["", ".", "..", "...", "a.b", "a.b.c.d", "a.b.c.d.e", " " + "a.b.c", "\u00e9.a.b", "a.b.c\n"],
)
def test_tokens_of_the_wrong_shape_are_refused(token: str) -> None:
    with pytest.raises(MalformedToken):
        verify_jws(token, KEY)
    with pytest.raises(MalformedToken):
        verify_jws(token.encode(), KEY)


# -- one bad token never affects the next --------------------------------------------------------


def bad_tokens(size_bounded: bool) -> list[Any]:
    good = HS.token({"sub": "a"})
    tokens = [
        None, 1, b"\xff\xfe", "", good + "A", good[:-1], good.replace(".", "..", 1), good[::-1],
        signed(header_with(f'"x":{nested("arrays")}'), b"{}"),
        signed(HEADER, ('{"x":' + nested("objects") + "}").encode()),
        signed(HEADER, b'{"exp":NaN}'), signed(HEADER, b'{"exp":1e400}'),
        signed(HEADER, b'{"exp":' + b"9" * 100_000 + b"}"),
        signed(HEADER, b'{"exp":true}'), signed(HEADER, b'{"exp":1}'), signed(HEADER, b'{"nbf":1e20}'),
        signed(HEADER, b'{"sub":"\\ud800"}'), signed(HEADER, b'{"sub":"a","sub":"a"}'),
        signed(HEADER, '{"sub":"a"}'.encode("utf-16")), signed(HEADER, b"\xef\xbb\xbf{}"),
        signed(HEADER, b'{"aud":"someone"}'), signed(HEADER, b"[]"), signed(HEADER, b"\xff"),
        signed(b'{"alg":"none"}', b"{}"), signed(b'{"alg":"HS256","kid":"other"}', b"{}"),
        signed(b'{"alg":"HS256","crit":["exp"]}', b"{}"), signed(b'{"alg":"HS256","b64":false}', b"{}"),
        HS.token({"sub": "a"}, alg="HS512"), HS.token({"sub": "a"}, alg="RS256"),
    ]
    if size_bounded:
        tokens.append(token_of_length(DEFAULT_MAX_TOKEN_SIZE + 1))
    return tokens


@pytest.mark.parametrize("cache_size", [0, 4], ids=["uncached", "cached"])
@pytest.mark.parametrize("max_token_size", [DEFAULT_MAX_TOKEN_SIZE, UNBOUNDED], ids=["default", "unbounded"])
def test_a_battery_of_bad_tokens_leaves_the_verifier_unchanged(max_token_size: int, cache_size: int) -> None:
    verifier = JWTVerifier(JWKSet.from_dict({"keys": [HS.jwk]}), max_token_size=max_token_size,
                           cache_size=cache_size)
    good = HS.token({"sub": "a"})
    assert verifier.verify(good) == {"sub": "a"}
    for bad in bad_tokens(size_bounded=max_token_size == DEFAULT_MAX_TOKEN_SIZE):
        with pytest.raises(JOSEError):
            verifier.verify(bad)
        assert verifier.verify(good) == {"sub": "a"}
        assert verifier.verify(good.encode()) == {"sub": "a"}
    with pytest.raises(UnsupportedAlgorithm):
        verifier.verify(signed(b'{"alg":"none"}', b"{}"))
    assert verify_jws(good, KEY).payload == b'{"sub": "a"}'


def bad_signature(token: str) -> str:
    """``token`` with the first character of its signature changed."""
    signing_input, _, signature = token.rpartition(".")
    return f"{signing_input}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


def test_a_flood_of_distinct_headers_leaves_the_verifier_unchanged() -> None:
    """Thousands of distinct (and some very long) headers, each refused, then the good
    token verifies and a refused header stays refused: whatever a verifier remembers
    between calls is bounded and never turns a refusal into an acceptance."""
    verifier = JWTVerifier(KEY, typ="JWT", cache_size=64)
    good = HS.token({"sub": "a"}, header={"typ": "JWT"})
    wrong_typ = HS.token({"sub": "a"}, header={"typ": "at+jwt"})
    for index in range(3_000):
        header = header_with(f'"typ":"JWT","n":{index},"pad":"{"x" * (index % 7 * 300)}"')
        with pytest.raises(JOSEError):
            verifier.verify(bad_signature(signed(header, b"{}")))
        if index % 500 == 0:
            with pytest.raises(ClaimError):
                verifier.verify(wrong_typ)
            assert verifier.verify(good) == {"sub": "a"}
    for _ in range(3):
        with pytest.raises(ClaimError):
            verifier.verify(wrong_typ)
        assert verifier.verify(good) == {"sub": "a"}
    header, _, _ = good.partition(".")
    with pytest.raises(JOSEError):  # a known header does not vouch for the rest of a token
        verifier.verify(f"{header}.{b64(b'{}')}.{good.rsplit('.', 1)[1]}")
