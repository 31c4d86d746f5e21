"""The exchange over HTTP against the fake STS: both dialects, every error, every fault."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timezone

import pytest
from support.fake_sts import (
    FakeSts,
    Fault,
    Issued,
    aws_error_xml,
    minio_error_xml,
    rgw_error_xml,
    success_xml,
)
from support.jwt_helpers import make_jwt

from infnminio_boto.errors import StsError, TransportError
from infnminio_boto.keys.fetch import read_settings_token
from infnminio_boto.settings import Settings
from infnminio_boto.sources.file import FileSource
from infnminio_boto.sts import exchange, role_session_name_for


def run(server: FakeSts, settings_for, **extra):
    settings = Settings.resolve(**settings_for(server, **extra))
    token = read_settings_token(settings)
    return exchange(settings, token, sleep=lambda _s: None), token


def test_success_both_dialects(fake_sts, settings_for):
    creds, _ = run(fake_sts, settings_for)
    issued = fake_sts.issued[creds.access_key]
    assert creds.secret_key == issued.secret_key
    assert creds.token == issued.session_token
    assert creds.expiration == issued.expiration
    assert creds.expiration.tzinfo is not None
    assert 3500 < creds.seconds_left() <= 3600


def test_request_is_an_unsigned_form_post(fake_sts, settings_for):
    _, token = run(fake_sts, settings_for, duration_seconds=1800)
    recorded = fake_sts.requests[0]
    assert recorded.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert "Authorization" not in recorded.headers
    form = recorded.form
    assert form["Action"] == "AssumeRoleWithWebIdentity"
    assert form["Version"] == "2011-06-15"
    assert form["WebIdentityToken"] == token.value
    assert form["DurationSeconds"] == "1800"
    assert form["RoleSessionName"] == token.subject
    if fake_sts.dialect == "minio":
        assert "RoleArn" not in form
    else:
        assert form["RoleArn"] == "arn:aws:iam:::role/IAMaccess"


def test_session_name_is_derived_safely(tmp_path):
    path = tmp_path / "t"
    path.write_text(make_jwt(sub="user@example.org/with spaces and ünicode" * 3))
    name = role_session_name_for(FileSource(str(path)).read())
    assert 2 <= len(name) <= 64
    assert set(name) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_=,.@-")
    path.write_text(make_jwt(sub="x"))
    assert role_session_name_for(FileSource(str(path)).read()) == "infnminio-boto"


def test_aws_dialect_success_and_errors(settings_for, token_file):
    with FakeSts("aws") as server:
        creds, _ = run(server, settings_for)
        assert creds.access_key in server.issued
        server.script(
            Fault(
                400,
                aws_error_xml(
                    "InvalidIdentityToken",
                    "Couldn't retrieve verification key from your identity provider",
                ),
            )
        )
        with pytest.raises(StsError) as info:
            run(server, settings_for)
        assert info.value.code == "InvalidIdentityToken"
        assert info.value.request_id == "c6104cbe-af31-11e0-8154-cbc7ccf896c7"
        assert "rejected the token" in str(info.value)


def test_rgw_empty_access_denied_lists_causes(rgw_sts, settings_for, tmp_path):
    path = tmp_path / "t"
    path.write_text(make_jwt(aud="wrong-audience", iss="https://iam.example.org/", sub="carol"))
    with pytest.raises(StsError) as info:
        run(rgw_sts, settings_for, token_file=str(path))
    error = info.value
    assert error.status == 403
    assert error.code == "AccessDenied"
    assert error.server_message is None
    assert error.request_id.startswith("tx00000")
    text = str(error)
    for fact in (
        "https://iam.example.org/",
        "wrong-audience",
        "carol",
        "arn:aws:iam:::role/IAMaccess",
        "issuer",
        "audience",
        "trust policy",
        "Ceph RGW never does",
        "request id",
    ):
        assert fact in text, fact
    assert rgw_sts.exchanges == 1  # a 4xx is never retried


def test_rgw_duration_above_role_maximum(rgw_sts, settings_for):
    with pytest.raises(StsError) as info:
        run(rgw_sts, settings_for, duration_seconds=7200)
    text = str(info.value)
    assert info.value.code == "InvalidArgument"
    assert "DurationSeconds=7200" in text and "MaxSessionDuration" in text and "3600" in text


def test_rgw_missing_role_arn(rgw_sts, settings_for):
    with pytest.raises(StsError, match="InvalidArgument"):
        run(rgw_sts, settings_for, role_arn="")


def test_minio_expired_token_message(settings_for):
    with FakeSts("minio") as server:
        server.script(
            Fault(
                400,
                minio_error_xml(
                    "InvalidParameterValue", "Error authenticating with OpenID: token is expired"
                ),
            )
        )
        with pytest.raises(StsError) as info:
            run(server, settings_for)
    text = str(info.value)
    assert "token expired" in text and "sts-wire" in text and "clock" in text
    assert info.value.request_id == "17A2C1B4D39E3C5B"


@pytest.mark.parametrize(
    "status, body, code, phrase",
    [
        (
            403,
            minio_error_xml("AccessDenied", "Access denied: audience mismatch"),
            "AccessDenied",
            "rejected the token",
        ),
        (
            400,
            minio_error_xml("MissingParameter", "Role ARN is required"),
            "MissingParameter",
            "role_arn",
        ),
        (
            400,
            minio_error_xml("InvalidParameterValue", "Invalid duration seconds value"),
            "InvalidParameterValue",
            "MaxSessionDuration",
        ),
        (
            400,
            minio_error_xml(
                "ExpiredToken", "The security token included in the request is expired"
            ),
            "ExpiredToken",
            "expired",
        ),
        (400, rgw_error_xml("InvalidArgument", ""), "InvalidArgument", "DurationSeconds"),
        (405, rgw_error_xml("MethodNotAllowed", ""), "MethodNotAllowed", "request id"),
    ],
)
def test_error_answers(rgw_sts, settings_for, status, body, code, phrase):
    rgw_sts.script(Fault(status, body))
    with pytest.raises(StsError) as info:
        run(rgw_sts, settings_for)
    assert info.value.status == status
    assert info.value.code == code
    assert phrase in str(info.value)
    assert rgw_sts.exchanges == 1


@pytest.mark.parametrize(
    "status, body, code",
    [
        (
            503,
            minio_error_xml("STSNotInitialized", "STS API not initialized, please try again."),
            "STSNotInitialized",
        ),
        (
            500,
            minio_error_xml("InternalError", "We encountered an internal error"),
            "InternalError",
        ),
        (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", None),
    ],
)
def test_server_errors_are_retried_then_reported(rgw_sts, settings_for, status, body, code):
    rgw_sts.script(*[Fault(status, body)] * 3)
    with pytest.raises(StsError) as info:
        run(rgw_sts, settings_for)
    assert rgw_sts.exchanges == 3
    assert info.value.status == status
    assert info.value.code == code


def test_5xx_then_success(rgw_sts, settings_for):
    rgw_sts.script(Fault(503, b""), Fault(500, minio_error_xml("InternalError", "boom")))
    creds, _ = run(rgw_sts, settings_for)
    assert creds.access_key in rgw_sts.issued
    assert rgw_sts.exchanges == 3


def test_retry_backoff_has_jitter(rgw_sts, settings_for):
    rgw_sts.script(Fault(503, b""), Fault(503, b""))
    settings = Settings.resolve(**settings_for(rgw_sts))
    token = read_settings_token(settings)
    delays = []
    exchange(settings, token, sleep=delays.append)
    assert len(delays) == 2
    assert all(0 <= d <= 8 for d in delays)


def test_timeout_is_bounded_and_clear(rgw_sts, settings_for):
    rgw_sts.script(Fault(delay=3), Fault(delay=3))
    started = time.monotonic()
    with pytest.raises(TransportError) as info:
        run(rgw_sts, settings_for, timeout=0.5, max_attempts=2)
    assert time.monotonic() - started < 2.5
    assert "read timeout" in str(info.value)
    assert "after 2 attempts" in str(info.value)


def test_connection_refused(settings_for):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = FakeSts()
    server.__class__ = type("Closed", (FakeSts,), {"url": f"http://127.0.0.1:{port}"})
    with pytest.raises(TransportError, match="connection refused"):
        run(server, settings_for, max_attempts=2)


def test_connection_dropped_then_success(rgw_sts, settings_for):
    rgw_sts.script(Fault(close=True))
    creds, _ = run(rgw_sts, settings_for)
    assert creds.access_key in rgw_sts.issued


def test_html_page(rgw_sts, settings_for):
    rgw_sts.script(
        Fault(200, b"<!DOCTYPE html><html><body>Login</body></html>", content_type="text/html")
    )
    with pytest.raises(StsError, match="HTML page"):
        run(rgw_sts, settings_for)


def test_truncated_xml(rgw_sts, settings_for):
    issued = Issued("AK", "SECRETVALUE123", "SESSIONVALUE456", datetime.now(timezone.utc))
    full = success_xml(issued, "rgw")
    rgw_sts.script(Fault(200, full[: len(full) // 2]))
    with pytest.raises(StsError, match="not XML") as info:
        run(rgw_sts, settings_for)
    assert "SECRETVALUE" not in str(info.value)


def test_xml_without_credentials(rgw_sts, settings_for):
    rgw_sts.script(Fault(200, b"<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>"))
    with pytest.raises(StsError, match="no Credentials"):
        run(rgw_sts, settings_for)


def test_credentials_with_missing_fields(rgw_sts, settings_for):
    rgw_sts.script(Fault(200, b"<R><Credentials><AccessKeyId>AK</AccessKeyId></Credentials></R>"))
    with pytest.raises(StsError, match="missing SecretAccessKey, SessionToken, Expiration"):
        run(rgw_sts, settings_for)


def test_redirect_is_not_followed(rgw_sts, settings_for):
    rgw_sts.script(Fault(302, b""))
    with pytest.raises(StsError, match="redirected"):
        run(rgw_sts, settings_for)
    assert rgw_sts.exchanges == 1


def test_server_echoing_the_token_is_scrubbed(rgw_sts, settings_for, token_file):
    token = open(token_file).read().strip()
    rgw_sts.script(Fault(403, minio_error_xml("AccessDenied", f"bad token {token}")))
    with pytest.raises(StsError) as info:
        run(rgw_sts, settings_for)
    assert token not in str(info.value)
    assert token.split(".")[1] not in str(info.value)
