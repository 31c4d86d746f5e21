"""Property-based fuzzing of the parsers: whatever the bytes, no exception but ours."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infnminio_boto.errors import InfnMinioError
from infnminio_boto.sources.jwt import NotAJwtError, parse_jwt_claims
from infnminio_boto.sources.oidc_token import token_from_text
from infnminio_boto.sts import parse_response
from infnminio_boto.sts.temporary_credentials import parse_timestamp

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ELEMENTS = [
    "AssumeRoleWithWebIdentityResponse",
    "AssumeRoleWithWebIdentityResult",
    "Credentials",
    "AccessKeyId",
    "SecretAccessKey",
    "SessionToken",
    "Expiration",
    "Error",
    "ErrorResponse",
    "Code",
    "Message",
    "RequestId",
    "sts:Credentials",
]


@st.composite
def xml_documents(draw):
    """Nested elements with the names STS answers use, and arbitrary text."""

    def element(depth):
        name = draw(st.sampled_from(ELEMENTS))
        if depth > 3 or draw(st.booleans()):
            text = draw(st.text(max_size=40)).replace("<", "&lt;").replace("&", "&amp;")
            return f"<{name}>{text}</{name}>"
        children = "".join(element(depth + 1) for _ in range(draw(st.integers(0, 3))))
        return f"<{name}>{children}</{name}>"

    document = element(0)
    if draw(st.booleans()):
        document = document[: draw(st.integers(0, len(document)))]  # torn
    return document.encode()


@FUZZ
@given(status=st.sampled_from([200, 400, 403, 500, 503]), body=st.binary(max_size=600))
def test_parse_response_never_raises_on_random_bytes(status, body):
    credentials, problem = parse_response(status, body)
    assert credentials is None or problem == {}


@FUZZ
@given(status=st.sampled_from([200, 400, 403]), body=xml_documents())
def test_parse_response_never_raises_on_sts_shaped_xml(status, body):
    credentials, _problem = parse_response(status, body)
    if credentials is not None:
        assert credentials.expiration.tzinfo is not None


@st.composite
def offset_timestamps(draw):
    """Well-formed timestamps anywhere in datetime's range, with any offset, and often
    within a few days of its ends, where an offset carries the moment out of it."""
    moment = draw(
        st.one_of(
            st.datetimes(),
            st.datetimes(min_value=datetime(9999, 12, 28)),
            st.datetimes(max_value=datetime(1, 1, 4)),
        )
    )
    fraction = draw(st.sampled_from(["", ".5", ".179525185"]))
    zone = draw(
        st.one_of(
            st.just("Z"),
            st.builds(
                "{}{:02d}:{:02d}".format,
                st.sampled_from("+-"),
                st.integers(0, 99),
                st.integers(0, 59),
            ),
        )
    )
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}{fraction}{zone}"
    )


@FUZZ
@given(st.one_of(st.text(max_size=60), offset_timestamps()))
def test_timestamps_raise_only_value_error(text):
    try:
        moment = parse_timestamp(text)
    except ValueError:
        return
    assert moment.tzinfo is not None


@FUZZ
@given(
    status=st.sampled_from([200, 403]),
    depth=st.integers(0, 3000),
    name=st.sampled_from(ELEMENTS),
)
def test_parse_response_never_raises_on_deep_documents(status, depth, name):
    body = (f"<{name}>" * depth + "x" + f"</{name}>" * depth).encode()
    parse_response(status, body)


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@st.composite
def jwt_like(draw):
    parts = draw(
        st.lists(
            st.one_of(
                st.text(
                    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=.",
                    max_size=40,
                ),
                st.builds(
                    lambda o: _segment(json.dumps(o).encode()),
                    st.dictionaries(
                        st.text(max_size=5),
                        st.one_of(st.integers(), st.text(max_size=8), st.none()),
                        max_size=4,
                    ),
                ),
                st.builds(_segment, st.binary(max_size=40)),
            ),
            min_size=1,
            max_size=6,
        )
    )
    return ".".join(parts)


@FUZZ
@given(st.one_of(jwt_like(), st.text(max_size=200)))
def test_jwt_parsing_raises_only_ours(text):
    try:
        claims = parse_jwt_claims(text)
    except NotAJwtError:
        return
    assert isinstance(claims, dict)


@FUZZ
@given(st.one_of(jwt_like(), st.text(max_size=200)))
def test_token_from_text_raises_only_ours(text):
    try:
        token = token_from_text(text)
    except InfnMinioError:
        return
    token.describe()  # the claims, whatever their types, can be described
    repr(token)


@FUZZ
@given(
    before=st.text(max_size=300),
    after=st.text(max_size=300),
    cut=st.integers(16, 80),
    token=st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/=",
        min_size=80,
        max_size=120,
    ),
)
def test_scrubbed_text_holds_no_token_piece_no_control_and_is_bounded(before, after, cut, token):
    from infnminio_boto.errors import scrub

    text = f"{before}{token[:cut]}\x1b[0m{token[cut:]}{after}"
    cleaned = scrub(text, [token], limit=200)
    assert len(cleaned) <= 200
    assert not any(0 <= ord(c) < 32 or 127 <= ord(c) < 160 for c in cleaned)
    for start in range(len(token) - 16 + 1):
        assert token[start : start + 16] not in cleaned


@FUZZ
@given(st.datetimes(timezones=st.just(timezone.utc)))
def test_formatted_timestamps_parse_back(moment):
    from infnminio_boto.sts.temporary_credentials import format_timestamp

    assert parse_timestamp(format_timestamp(moment)) == moment.replace(microsecond=0)
