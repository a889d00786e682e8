"""Claim rules of jwkverify.claims (RFC 7519 §4.1, RFC 8725 §3.11), one test per rule.

Every check runs at a fixed ``now=`` so nothing depends on the clock. Tokens are
minted by the independent test signer in ``signing.py`` with one ES256 key.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from signing import make_key

from jwkverify import (
    ANY_AUDIENCE,
    JWK,
    ClaimError,
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    InvalidSignature,
    JOSEError,
    JWTVerifier,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    verify_jwt,
)
from jwkverify.claims import ClaimsPolicy

KEY = make_key("ES256", kid="claims-key")
PUBLIC = JWK.from_dict(KEY.jwk)
NOW = 1_700_000_000  # 2023-11-14T22:13:20Z
ISSUER = "https://issuer.example"


def verify(claims: dict[str, Any], *, header: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    """Sign ``claims`` and verify them at ``NOW`` (unless ``now`` is given)."""
    options.setdefault("now", NOW)
    return verify_jwt(KEY.token(claims, header=header), PUBLIC, **options)


def verify_raw(payload: bytes, **options: Any) -> dict[str, Any]:
    """Sign the raw payload octets and verify them at ``NOW``."""
    options.setdefault("now", NOW)
    return verify_jwt(KEY.token(payload=payload), PUBLIC, **options)


def refused(error: type[ClaimError], claim: str, claims: dict[str, Any], **options: Any) -> ClaimError:
    """Assert that ``claims`` fail with exactly ``error`` naming ``claim``; return the error."""
    with pytest.raises(error) as info:
        verify(claims, **options)
    assert type(info.value) is error, f"{type(info.value).__name__}: {info.value}"
    assert info.value.claim == claim
    assert isinstance(info.value.reason, str) and info.value.reason
    return info.value


# -- exp (RFC 7519 §4.1.4) -----------------------------------------------------------------


def test_exp_equal_to_now_is_expired() -> None:
    error = refused(ExpiredToken, "exp", {"exp": NOW})
    assert isinstance(error, ClaimError)
    assert isinstance(error, JOSEError)
    assert not isinstance(error, ValueError)


def test_exp_one_second_after_now_is_valid() -> None:
    assert verify({"exp": NOW + 1}) == {"exp": NOW + 1}
    assert verify({"exp": NOW}, now=NOW - 1) == {"exp": NOW}


def test_exp_within_leeway_is_valid() -> None:
    exp = NOW - 29  # now == exp + 29
    assert verify({"exp": exp}, leeway=30) == {"exp": exp}


def test_exp_at_end_of_leeway_is_expired() -> None:
    refused(ExpiredToken, "exp", {"exp": NOW - 30}, leeway=30)  # now == exp + 30


def test_float_exp_is_compared_exactly() -> None:
    exp = 1_700_000_000.5
    assert verify({"exp": exp}, now=1_700_000_000.4) == {"exp": exp}
    refused(ExpiredToken, "exp", {"exp": exp}, now=exp)


@pytest.mark.parametrize("exp", [1e20, 10**39], ids=["1e20", "40-digit-int"])
def test_huge_exp_is_far_future_and_valid(exp: float) -> None:
    assert verify({"exp": exp}) == {"exp": exp}


def test_missing_exp_is_accepted_by_default() -> None:
    assert verify({"sub": "alice"}) == {"sub": "alice"}


def test_missing_exp_refused_when_required() -> None:
    refused(MissingClaim, "exp", {"sub": "alice"}, required_claims=("exp",))


# -- nbf (RFC 7519 §4.1.5) -----------------------------------------------------------------


def test_nbf_boundaries_without_leeway() -> None:
    assert verify({"nbf": NOW}) == {"nbf": NOW}
    assert verify({"nbf": NOW - 1}) == {"nbf": NOW - 1}
    error = refused(NotYetValid, "nbf", {"nbf": NOW + 1})
    assert isinstance(error, ClaimError)


def test_nbf_boundaries_with_leeway() -> None:
    assert verify({"nbf": NOW + 30}, leeway=30) == {"nbf": NOW + 30}  # now == nbf - leeway
    refused(NotYetValid, "nbf", {"nbf": NOW + 31}, leeway=30)
    refused(NotYetValid, "nbf", {"nbf": NOW + 30.5}, leeway=30)


# -- iat -----------------------------------------------------------------------------------


def test_iat_in_the_future_is_not_yet_valid() -> None:
    refused(NotYetValid, "iat", {"iat": NOW + 1})
    refused(NotYetValid, "iat", {"iat": NOW + 31}, leeway=30)


def test_iat_in_the_future_within_leeway_is_valid() -> None:
    assert verify({"iat": NOW}) == {"iat": NOW}
    assert verify({"iat": NOW + 30}, leeway=30) == {"iat": NOW + 30}


# -- max_age -------------------------------------------------------------------------------


def test_max_age_requires_iat() -> None:
    refused(MissingClaim, "iat", {"exp": NOW + 60}, max_age=300)


def test_max_age_refuses_an_old_token() -> None:
    refused(ExpiredToken, "iat", {"iat": NOW - 301}, max_age=300)
    refused(ExpiredToken, "iat", {"iat": NOW - 311}, max_age=300, leeway=10)


def test_max_age_boundary_is_valid() -> None:
    assert verify({"iat": NOW - 300}, max_age=300) == {"iat": NOW - 300}
    assert verify({"iat": NOW - 310}, max_age=300, leeway=10) == {"iat": NOW - 310}
    assert verify({"iat": NOW - 300}, max_age=timedelta(minutes=5)) == {"iat": NOW - 300}


# -- NumericDate types (RFC 7519 §2) -------------------------------------------------------

NOT_NUMBERS = [
    pytest.param("1800000000", id="string"),
    pytest.param(True, id="true"),
    pytest.param(False, id="false"),
    pytest.param([NOW + 60], id="list"),
    pytest.param({"seconds": NOW + 60}, id="object"),
]


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_numeric_date_of_wrong_type_is_refused(name: str, value: object) -> None:
    with pytest.raises(ClaimError) as info:
        verify({name: value})
    assert info.value.claim == name
    assert info.value.reason == "invalid_type"


@pytest.mark.parametrize("name", ["exp", "nbf", "iat", "iss", "sub", "aud"])
def test_null_registered_claim_is_refused_as_invalid_type(name: str) -> None:
    # The library's choice: JSON null is not a NumericDate / StringOrURI, so a
    # null claim is refused rather than treated as absent.
    with pytest.raises(ClaimError) as info:
        verify({name: None}, audience=ANY_AUDIENCE)
    assert info.value.claim == name
    assert info.value.reason == "invalid_type"


@pytest.mark.parametrize("name", ["exp", "nbf", "iat", "iss", "sub", "aud", "jti"])
def test_null_claim_does_not_satisfy_required_claims(name: str) -> None:
    # Regression: a null exp once satisfied required_claims=("exp",) and then never expired.
    with pytest.raises(ClaimError) as info:
        verify({name: None}, required_claims=(name,), audience=ANY_AUDIENCE)
    assert info.value.claim == name


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
def test_non_finite_numeric_date_is_malformed(name: str, literal: bytes) -> None:
    with pytest.raises(MalformedToken):
        verify_raw(b'{"' + name.encode() + b'": ' + literal + b"}")


# -- iss (RFC 7519 §4.1.1) -----------------------------------------------------------------


def test_iss_exact_match_is_accepted() -> None:
    assert verify({"iss": ISSUER}, issuer=ISSUER) == {"iss": ISSUER}


@pytest.mark.parametrize("accepted", [
    [ISSUER, "https://other.example"], (ISSUER,), {ISSUER, "https://other.example"}, frozenset([ISSUER]),
])
def test_iss_matches_one_of_a_collection(accepted: Any) -> None:
    assert verify({"iss": ISSUER}, issuer=accepted) == {"iss": ISSUER}


@pytest.mark.parametrize("iss", [
    pytest.param("https://issuer.example.evil", id="prefix"),
    pytest.param("https://evil.issuer.example", id="suffix"),
    pytest.param("https://issuer.exam", id="truncated"),
    pytest.param("issuer.example", id="substring"),
    pytest.param("https://ISSUER.example", id="case"),
    pytest.param("https://issuer.example/", id="trailing-slash"),
    pytest.param(" https://issuer.example", id="leading-space"),
    pytest.param("", id="empty"),
])
def test_iss_not_exactly_equal_is_refused(iss: str) -> None:
    error = refused(InvalidIssuer, "iss", {"iss": iss}, issuer=ISSUER)
    assert error.reason == "mismatch"
    refused(InvalidIssuer, "iss", {"iss": iss}, issuer=[ISSUER, "https://other.example"])


def test_missing_iss_refused_when_issuer_configured() -> None:
    refused(MissingClaim, "iss", {"sub": "alice"}, issuer=ISSUER)


@pytest.mark.parametrize("iss", [1, True, {"iss": ISSUER}], ids=["number", "true", "object"])
def test_non_string_iss_is_refused(iss: object) -> None:
    refused(InvalidIssuer, "iss", {"iss": iss}, issuer=ISSUER)
    refused(InvalidIssuer, "iss", {"iss": iss})


def test_iss_as_a_list_is_refused_even_if_it_names_the_issuer() -> None:
    refused(InvalidIssuer, "iss", {"iss": [ISSUER]}, issuer=ISSUER)
    refused(InvalidIssuer, "iss", {"iss": [ISSUER]}, issuer=[ISSUER])


# -- aud (RFC 7519 §4.1.3) -----------------------------------------------------------------


@pytest.mark.parametrize("aud", ["api", ["api"], ["other", "api", "third"]],
                         ids=["string", "one-element-array", "among-others"])
@pytest.mark.parametrize("configured", ["api", ["api"], ("x", "api"), {"api", "y"}],
                         ids=["str", "list", "tuple", "set"])
def test_aud_naming_an_expected_audience_is_accepted(aud: Any, configured: Any) -> None:
    assert verify({"aud": aud}, audience=configured) == {"aud": aud}


@pytest.mark.parametrize("aud", ["other", ["other", "third"], "API", "api ", ["apis"]])
def test_aud_naming_no_expected_audience_is_refused(aud: Any) -> None:
    error = refused(InvalidAudience, "aud", {"aud": aud}, audience=["api", "web"])
    assert error.reason == "mismatch"


@pytest.mark.parametrize("aud", [
    pytest.param(["api", 1], id="number-element"),
    pytest.param(["api", None], id="null-element"),
    pytest.param([["api"]], id="nested-array"),
    pytest.param(1, id="number"),
    pytest.param(True, id="true"),
    pytest.param({"aud": "api"}, id="object"),
])
def test_aud_of_wrong_type_is_refused(aud: Any) -> None:
    refused(InvalidAudience, "aud", {"aud": aud}, audience="api")
    refused(InvalidAudience, "aud", {"aud": aud}, audience=ANY_AUDIENCE)


def test_empty_aud_array_is_refused() -> None:
    refused(InvalidAudience, "aud", {"aud": []}, audience="api")
    refused(InvalidAudience, "aud", {"aud": []})


def test_aud_present_without_configured_audience_is_refused() -> None:
    # RFC 7519 §4.1.3: a recipient that does not identify itself with aud rejects.
    error = refused(InvalidAudience, "aud", {"aud": "api"})
    assert error.reason == "unexpected"


def test_any_audience_accepts_whatever_aud_says() -> None:
    assert verify({"aud": "api"}, audience=ANY_AUDIENCE) == {"aud": "api"}
    assert verify({"aud": ["a", "b"]}, audience=ANY_AUDIENCE) == {"aud": ["a", "b"]}
    assert verify({"sub": "x"}, audience=ANY_AUDIENCE) == {"sub": "x"}


def test_missing_aud_refused_when_audience_configured() -> None:
    refused(MissingClaim, "aud", {"sub": "alice"}, audience="api")


# -- sub (RFC 7519 §4.1.2) -----------------------------------------------------------------


def test_sub_exact_match_is_accepted() -> None:
    assert verify({"sub": "alice"}, subject="alice") == {"sub": "alice"}


def test_missing_sub_refused_when_subject_configured() -> None:
    refused(MissingClaim, "sub", {"iss": ISSUER}, subject="alice")


@pytest.mark.parametrize("sub", ["bob", "Alice", "alice ", "alic"])
def test_sub_mismatch_is_refused(sub: str) -> None:
    error = refused(ClaimError, "sub", {"sub": sub}, subject="alice")
    assert error.reason == "mismatch"


# -- typ header (RFC 7515 §4.1.9, RFC 8725 §3.11) ------------------------------------------


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
def test_typ_matches_case_insensitively_with_optional_application_prefix(typ: str) -> None:
    assert verify({"sub": "a"}, header={"typ": typ}, typ="at+jwt") == {"sub": "a"}
    assert verify({"sub": "a"}, header={"typ": typ}, typ="application/at+jwt") == {"sub": "a"}


@pytest.mark.parametrize("typ", ["jwt", "JWT", "at+jwt2", "application/", "at+jwt; x=y", 5, ["at+jwt"]])
def test_typ_mismatch_is_refused(typ: object) -> None:
    with pytest.raises(ClaimError) as info:
        verify({"sub": "a"}, header={"typ": typ}, typ="at+jwt")
    assert info.value.claim == "typ"


def test_missing_typ_refused_when_typ_expected() -> None:
    with pytest.raises(ClaimError) as info:
        verify({"sub": "a"}, typ="at+jwt")
    assert info.value.claim == "typ"
    assert isinstance(info.value, MissingClaim)


def test_typ_not_checked_when_not_configured() -> None:
    assert verify({"sub": "a"}, header={"typ": "anything"}) == {"sub": "a"}
    assert verify({"sub": "a"}, header={"typ": 5}, typ=None) == {"sub": "a"}


# -- required_claims -----------------------------------------------------------------------


def test_required_claims_present_are_accepted() -> None:
    claims = {"exp": NOW + 60, "jti": "j1", "sub": "s"}
    assert verify(claims, required_claims=("exp", "jti", "sub")) == claims


def test_required_claims_reports_the_missing_one() -> None:
    refused(MissingClaim, "jti", {"exp": NOW + 60, "sub": "s"}, required_claims=["exp", "jti", "sub"])


def test_required_claims_reports_first_missing() -> None:
    refused(MissingClaim, "exp", {"sub": "s"}, required_claims=("exp", "jti", "nbf"))


def test_required_claims_reports_first_missing_in_caller_order() -> None:
    refused(MissingClaim, "sub", {}, required_claims=("sub", "aud"))
    refused(MissingClaim, "aud", {}, required_claims=("aud", "sub"))
    refused(MissingClaim, "nbf", {"exp": NOW + 60}, required_claims=["nbf", "exp", "aud"])


# -- payload shape (RFC 7519 §7.2) ---------------------------------------------------------


@pytest.mark.parametrize("payload", [
    pytest.param(b'{"sub":"a","sub":"b"}', id="duplicate-claim"),
    pytest.param(b'{"sub":"a","exp":1,"sub":"a"}', id="duplicate-same-value"),
    pytest.param(b'["sub"]', id="array"),
    pytest.param(b'"sub"', id="string"),
    pytest.param(b"1800000000", id="number"),
    pytest.param(b"null", id="null"),
    pytest.param(b"true", id="true"),
    pytest.param(b"", id="empty"),
    pytest.param('{"sub":"a"}'.encode("utf-16"), id="utf-16-bom"),
    pytest.param('{"sub":"a"}'.encode("utf-16-le"), id="utf-16-le"),
    pytest.param('{"sub":"a"}'.encode("utf-16-be"), id="utf-16-be"),
    pytest.param(b'{"sub":"\xff"}', id="invalid-utf-8"),
    pytest.param(b'{"sub":"\xc3"}', id="truncated-utf-8"),
    pytest.param(b"\xef\xbb\xbf{}", id="utf-8-bom"),
    pytest.param(b'{"sub":"a"} {}', id="trailing-data"),
])
def test_payload_that_is_not_one_utf8_json_object_is_malformed(payload: bytes) -> None:
    with pytest.raises(MalformedToken):
        verify_raw(payload)


def test_non_ascii_utf8_payload_is_accepted() -> None:
    assert verify_raw('{"sub":"Zoë 東京"}'.encode()) == {"sub": "Zoë 東京"}


# -- now and leeway options ----------------------------------------------------------------


def test_now_accepts_an_aware_datetime() -> None:
    utc = datetime.fromtimestamp(NOW, tz=timezone.utc)
    plus5 = utc.astimezone(timezone(timedelta(hours=5)))
    for now in (utc, plus5):
        assert verify({"exp": NOW + 1}, now=now) == {"exp": NOW + 1}
        refused(ExpiredToken, "exp", {"exp": NOW}, now=now)


def test_now_accepts_a_callable_read_at_each_verification() -> None:
    clock = [NOW - 1.0]
    verifier = JWTVerifier(PUBLIC, now=lambda: clock[0])
    token = KEY.token({"exp": NOW})
    assert verifier.verify(token) == {"exp": NOW}
    clock[0] = NOW
    with pytest.raises(ExpiredToken):
        verifier.verify(token)


def test_now_accepts_a_float() -> None:
    assert verify({"exp": NOW + 1}, now=NOW + 0.999) == {"exp": NOW + 1}


def test_naive_datetime_now_is_refused_at_construction() -> None:
    with pytest.raises(ValueError):
        JWTVerifier(PUBLIC, now=datetime(2023, 11, 14, 22, 13, 20))


@pytest.mark.parametrize("now", ["1700000000", True, [NOW]], ids=["str", "bool", "list"])
def test_now_of_wrong_type_is_refused_at_construction(now: object) -> None:
    with pytest.raises(TypeError):
        JWTVerifier(PUBLIC, now=now)  # type: ignore[arg-type]


def test_leeway_accepts_a_timedelta() -> None:
    assert verify({"exp": NOW - 29}, leeway=timedelta(seconds=30)) == {"exp": NOW - 29}
    refused(ExpiredToken, "exp", {"exp": NOW - 30}, leeway=timedelta(seconds=30))


@pytest.mark.parametrize("option", ["leeway", "max_age"])
@pytest.mark.parametrize("value", [-1, -0.5, timedelta(seconds=-1), float("nan"), float("inf")],
                         ids=["-1", "-0.5", "negative-timedelta", "nan", "inf"])
def test_negative_or_non_finite_duration_is_a_value_error(option: str, value: object) -> None:
    with pytest.raises(ValueError):
        JWTVerifier(PUBLIC, **{option: value})


@pytest.mark.parametrize("option", ["leeway", "max_age"])
@pytest.mark.parametrize("value", ["30", b"30", True, [30]], ids=["str", "bytes", "bool", "list"])
def test_non_number_duration_is_a_type_error(option: str, value: object) -> None:
    with pytest.raises(TypeError):
        JWTVerifier(PUBLIC, **{option: value})


# -- error messages ------------------------------------------------------------------------


def test_expired_message_says_when_the_token_expired() -> None:
    exp = NOW - 3600
    error = refused(ExpiredToken, "exp", {"exp": exp})
    moment = datetime.fromtimestamp(exp, tz=timezone.utc)
    renderings = {str(exp), moment.strftime("%Y-%m-%d"), moment.astimezone().strftime("%Y-%m-%d")}
    message = str(error)
    assert "expire" in message
    assert any(text in message for text in renderings), message


def test_invalid_issuer_message_names_the_expected_issuer() -> None:
    error = refused(InvalidIssuer, "iss", {"iss": ISSUER + ".evil"}, issuer=ISSUER)
    assert ISSUER in str(error).replace(ISSUER + ".evil", "")


FAILING_CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"exp": NOW - 10}, {}),
    ({"nbf": NOW + 10}, {}),
    ({"iat": NOW + 10}, {}),
    ({"iat": NOW - 1000}, {"max_age": 10}),
    ({"iss": "https://evil.example"}, {"issuer": ISSUER}),
    ({"aud": "other"}, {"audience": "api"}),
    ({"aud": "api"}, {}),
    ({"sub": "bob"}, {"subject": "alice"}),
    ({}, {"required_claims": ("jti",)}),
    ({}, {"typ": "at+jwt"}),
    ({"exp": "soon"}, {}),
]


@pytest.mark.parametrize(("claims", "options"), FAILING_CASES)
def test_messages_never_contain_the_token_or_signature(
    claims: dict[str, Any], options: dict[str, Any],
) -> None:
    token = KEY.token(claims)
    signature = token.rsplit(".", 1)[1]
    with pytest.raises(ClaimError) as info:
        verify_jwt(token, PUBLIC, now=NOW, **options)
    for text in (str(info.value), repr(info.value)):
        assert token not in text
        assert signature not in text


def test_signature_error_message_does_not_contain_the_token_or_signature() -> None:
    token = KEY.token({"sub": "a"})
    other_signature = KEY.token({"sub": "b"}).rsplit(".", 1)[1]
    forged = token.rsplit(".", 1)[0] + "." + other_signature
    with pytest.raises(InvalidSignature) as info:
        verify_jwt(forged, PUBLIC, now=NOW)
    assert forged not in str(info.value)
    assert other_signature not in str(info.value)


@pytest.mark.parametrize("reading", [float("nan"), float("inf"), "1700000000", None, True],
                         ids=["nan", "inf", "str", "none", "bool"])
def test_a_bad_clock_reading_refuses_the_token(reading: object) -> None:
    # Every comparison with NaN is false: an unchecked NaN clock would pass every time check.
    verifier = JWTVerifier(PUBLIC, now=lambda: reading)
    with pytest.raises(JOSEError, match="clock"):
        verifier.verify(KEY.token({"exp": 1}))


# -- the one-pass hot-path check agrees with the itemised checks ------------------------

_ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3).map(lambda d: NOW + d), st.floats(allow_nan=True),
    st.sampled_from([ISSUER, "aud-1", "aud-2", "someone", ""]),
    st.lists(st.sampled_from(["aud-1", "aud-2", "x", 1]), max_size=3),
)
_CLAIMS = st.dictionaries(
    st.sampled_from(["iss", "sub", "aud", "exp", "nbf", "iat", "scope"]), _ODD_VALUES, max_size=7
)
_POLICIES = st.fixed_dictionaries(
    {},
    optional={
        "issuer": st.sampled_from([ISSUER, [ISSUER, "someone"]]),
        "audience": st.sampled_from(["aud-1", ["aud-1", "aud-2"], ANY_AUDIENCE]),
        "subject": st.sampled_from(["someone", ""]),
        "leeway": st.sampled_from([0, 1, 2.5]),
        "max_age": st.sampled_from([0, 2, 100]),
        "required_claims": st.sampled_from([(), ("exp",), ("sub", "iat")]),
    },
)


@settings(max_examples=400)
@given(claims=_CLAIMS, options=_POLICIES)
def test_the_one_pass_check_never_accepts_what_the_itemised_checks_refuse(
    claims: dict[str, Any], options: dict[str, Any]
) -> None:
    policy = ClaimsPolicy.build(now=NOW, **options)
    if not policy._passes(claims, NOW):
        return
    policy_without_fast_path = _ItemisedOnly.build(now=NOW, **options)
    policy_without_fast_path.check(claims, {})  # raises if the shortcut was wrong


class _ItemisedOnly(ClaimsPolicy):
    """The policy with its one-pass shortcut turned off: only the itemised checks."""

    __slots__ = ()

    def _passes(self, claims: Any, now: float) -> bool:
        return False


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": ISSUER, "sub": "someone", "aud": "aud-1", "exp": NOW + 60, "nbf": NOW, "iat": NOW},
        {"iss": ISSUER, "aud": ["x", "aud-2"], "exp": NOW + 0.5, "iat": NOW - 1.5},
    ],
)
def test_the_one_pass_check_accepts_ordinary_valid_claims(claims: dict[str, Any]) -> None:
    policy = ClaimsPolicy.build(issuer=ISSUER, audience=["aud-1", "aud-2"], now=NOW, max_age=100)
    assert policy._passes(claims, NOW)
