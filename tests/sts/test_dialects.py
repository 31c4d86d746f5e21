"""Reading answers in the MinIO, Ceph RGW and AWS dialects, without a server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

import pytest
from support import secret_registry
from support.fake_sts import (
    STS_NS,
    FakeSts,
    Fault,
    Issued,
    aws_error_xml,
    minio_error_xml,
    rgw_error_xml,
    success_xml,
)

from infnminio_boto.errors import StsError
from infnminio_boto.keys.fetch import read_settings_token
from infnminio_boto.settings import Settings
from infnminio_boto.sts import exchange, parse_response


@pytest.mark.parametrize("fraction", ["", ".1", ".179525", ".179525185"])
def test_expiration_with_zero_to_nine_fraction_digits(fraction):
    body = (
        f'<AssumeRoleWithWebIdentityResponse xmlns="{STS_NS}"><AssumeRoleWithWebIdentityResult>'
        "<Credentials><AccessKeyId>AK</AccessKeyId><SecretAccessKey>SK</SecretAccessKey>"
        f"<SessionToken>ST</SessionToken><Expiration>2026-11-23T21:28:43{fraction}Z</Expiration>"
        "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
    ).encode()
    creds, problem = parse_response(200, body)
    assert problem is None
    assert creds.expiration.replace(microsecond=0) == datetime(
        2026, 11, 23, 21, 28, 43, tzinfo=timezone.utc
    )


def test_prefixed_namespace_is_understood():
    body = (
        f'<sts:AssumeRoleWithWebIdentityResponse xmlns:sts="{STS_NS}">'
        "<sts:AssumeRoleWithWebIdentityResult><sts:Credentials><sts:AccessKeyId>AK</sts:AccessKeyId>"
        "<sts:SecretAccessKey>SK</sts:SecretAccessKey><sts:SessionToken>ST</sts:SessionToken>"
        "<sts:Expiration>2026-11-23T21:28:43+01:00</sts:Expiration></sts:Credentials>"
        "</sts:AssumeRoleWithWebIdentityResult></sts:AssumeRoleWithWebIdentityResponse>"
    ).encode()
    creds, _ = parse_response(200, body)
    assert creds.access_key == "AK"
    assert creds.expiration.hour == 20


@pytest.mark.parametrize("dialect", ["rgw", "minio", "aws"])
def test_success_documents_of_each_dialect(dialect):
    moment = datetime(2026, 11, 23, 21, 28, 43, tzinfo=timezone.utc)
    issued = Issued("AKIDEXAMPLE", "SECRETVALUE", "SESSIONVALUE", moment)
    creds, problem = parse_response(200, success_xml(issued, dialect))
    assert problem is None
    assert (creds.access_key, creds.secret_key, creds.token) == (
        "AKIDEXAMPLE",
        "SECRETVALUE",
        "SESSIONVALUE",
    )
    assert creds.expiration.replace(microsecond=0) == moment


@pytest.mark.parametrize(
    "body, code, message, request_id",
    [
        (rgw_error_xml("AccessDenied", ""), "AccessDenied", None, "tx00000"),
        (
            minio_error_xml("InvalidParameterValue", "token is expired"),
            "InvalidParameterValue",
            "token is expired",
            "17A2C1B4D39E3C5B",
        ),
        (
            aws_error_xml("ExpiredTokenException", "Token expired"),
            "ExpiredTokenException",
            "Token expired",
            "c6104cbe",
        ),
    ],
)
def test_error_documents_of_each_dialect(body, code, message, request_id):
    creds, problem = parse_response(403, body)
    assert creds is None
    assert problem.kind == "error" and problem.code == code
    assert (problem.message or None) == message
    assert problem.request_id.startswith(request_id)


def test_the_request_id_header_is_used_when_the_body_has_none():
    _, problem = parse_response(500, b"", {"x-amz-request-id": "tx-from-header"})
    assert problem.kind == "unparseable" and problem.request_id == "tx-from-header"


def test_an_entity_bomb_is_not_expanded():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<Error><Code>&lol2;</Code></Error>"
    )
    creds, problem = parse_response(400, bomb)
    assert creds is None
    assert "lol" not in (problem.code or "")  # refused (newer xmltodict) or left unexpanded


# Shapes of what each server issues (see _ISSUED_CHARACTERS in sts/dialects.py): AWS's
# documented examples, a Ceph RGW 16.2.15 answer's alphabet, MinIO's generator and JWT.
_REAL_SHAPES = {
    "aws": (
        "ASIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "FwoGZXIvYXdzEBYaDHqa0AP1x+kN/GxQ3yKxAa8=",
    ),
    "rgw": ("CkVbfhjknpqrzBCFGIO", "FJ2189ADEFGJKLMNOPQRSTUVXY", "Hoh+0a/Zb3=="),
    "minio": (
        "Q3AM3UQ867SPQQA43P2F",
        "zuf+tfteSlswRu7BJ86wekitnifILbZam1KYY3TG",
        "eyJhbGciOiJIUzUxMiJ9.eyJhY2Nlc3NLZXkiOiJRM0FNIn0.a-b_c",
    ),
}


@pytest.mark.parametrize("dialect", ["rgw", "minio", "aws"])
def test_keys_shaped_as_each_server_issues_them_are_accepted(dialect):
    access, secret, session = _REAL_SHAPES[dialect]
    moment = datetime(2026, 11, 23, 21, 28, 43, tzinfo=timezone.utc)
    creds, problem = parse_response(
        200, success_xml(Issued(access, secret, session, moment), dialect)
    )
    assert problem is None
    assert (creds.access_key, creds.secret_key, creds.token) == (access, secret, session)


_NOT_ISSUED = ["'", '"', "\\", "$(id)", "`id`", " ", "\t", "a\nb", ";", "é", "<>&"]


@pytest.mark.parametrize("dialect", ["rgw", "minio", "aws"])
@pytest.mark.parametrize("field", ["AccessKeyId", "SecretAccessKey", "SessionToken"])
@pytest.mark.parametrize("odd", _NOT_ISSUED)
def test_keys_with_characters_no_sts_issues_are_refused(dialect, field, odd):
    values = {"AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "SECRET", "SessionToken": "TOK"}
    values[field] = f"KEY{odd}END"
    moment = datetime(2026, 11, 23, 21, 28, 43, tzinfo=timezone.utc)
    issued = Issued(*(escape(values[name]) for name in values), moment)
    creds, problem = parse_response(200, success_xml(issued, dialect))
    assert creds is None
    assert problem.kind == "bad-credentials"
    assert "characters no STS issues" in problem.message and field in problem.message
    assert "KEY" not in problem.message  # never the value itself


@pytest.mark.parametrize("dialect", ["rgw", "minio", "aws"])
@pytest.mark.parametrize("field", ["access_key", "secret_key", "session_token"])
def test_an_exchange_answered_with_such_keys_is_an_sts_error(dialect, field, settings_for):
    values = dict(access_key="ASIAFAKE", secret_key="SECRETFAKE", session_token="SESSIONFAKE")
    values[field] = "KEY'$(touch /tmp/x)\\"
    secret_registry.register(values["secret_key"], values["session_token"])
    moment = datetime.now(timezone.utc) + timedelta(hours=1)
    issued = Issued(**{k: escape(v) for k, v in values.items()}, expiration=moment)
    with FakeSts(dialect) as server:
        server.script(Fault(status=200, body=success_xml(issued, dialect)))
        settings = Settings.resolve(**settings_for(server))
        with pytest.raises(StsError, match="characters no STS issues") as caught:
            exchange(settings, read_settings_token(settings), sleep=lambda _s: None)
    assert "touch" not in str(caught.value)
    assert server.exchanges == 1  # not retried: the server's answer will not change

def _credentials_document(expiration: str) -> bytes:
    return (
        "<R><Credentials><AccessKeyId>AK</AccessKeyId><SecretAccessKey>SK</SecretAccessKey>"
        f"<SessionToken>ST</SessionToken><Expiration>{expiration}</Expiration></Credentials></R>"
    ).encode()


@pytest.mark.parametrize("expiration", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_an_expiration_out_of_range_is_unusable_credentials(expiration):
    creds, problem = parse_response(200, _credentials_document(expiration))
    assert creds is None and problem.kind == "bad-credentials"
    assert "Expiration" in problem.message


@pytest.mark.parametrize("depth", [100, 5000, 100_000])
def test_deeply_nested_xml_is_unparseable_not_a_crash(depth):
    body = b"<a>" * depth + b"x" + b"</a>" * depth
    creds, problem = parse_response(200, body)
    assert creds is None and problem.kind == "unparseable"


def test_deep_nesting_below_a_valid_answer_is_refused_too():
    deep = "<x>" * 3000 + "</x>" * 3000
    body = _credentials_document("2026-11-23T21:28:43Z").replace(b"</R>", deep.encode() + b"</R>")
    creds, problem = parse_response(200, body)
    assert creds is None and problem.kind == "unparseable"


@pytest.mark.parametrize(
    "body",
    [
        # Billion laughs: internal entities that expand exponentially.
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
            b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
            b'<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">'
            b'<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">'
            b'<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">'
            b'<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">'
            b'<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>'
            b"<Error><Code>&lol9;</Code></Error>"
        ),
        # An external entity: a file of this machine quoted back in the message.
        (
            b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<Error><Code>AccessDenied</Code><Message>&x;</Message></Error>"
        ),
    ],
)
def test_documents_with_entities_are_refused(body):
    creds, problem = parse_response(403, body)
    assert creds is None and problem.kind == "unparseable"
    assert problem.code is None and problem.message is None


def test_a_huge_answer_is_unparseable():
    # Far more than any STS answer: the transport keeps the first MAX_RESPONSE_BYTES.
    from infnminio_boto.sts.transport import MAX_RESPONSE_BYTES

    body = b"<Error><Message>" + b"x" * MAX_RESPONSE_BYTES
    creds, problem = parse_response(400, body[:MAX_RESPONSE_BYTES])
    assert creds is None and problem.kind == "unparseable"
