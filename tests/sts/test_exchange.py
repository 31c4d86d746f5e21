"""The exchange over HTTP against the fake STS: both dialects, every error, every fault."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

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
from infnminio_boto.sts.retry import RETRY_AFTER_CAP_SECONDS


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


def _assert_clean(text: str, token: str) -> None:
    assert token not in text
    assert token.split(".")[2][:16] not in text  # not even a piece of the signature
    for character in ("\x1b", "\x07", "\x7f", "\x9b", "\u202e"):
        assert character not in text, repr(character)


@pytest.mark.parametrize("status, attempts", [(403, 1), (302, 1), (503, 3)])
def test_a_server_echoing_the_request_reaches_no_message_raw(
    rgw_sts, settings_for, token_file, status, attempts, captured_logs
):
    """A server or proxy that echoes the form puts the token (and terminal escapes) in
    the Code, Message, RequestId, the x-amz-request-id header and Location."""
    token = open(token_file).read().strip()
    rgw_sts.script(*[Fault(status, echo=True)] * attempts)
    with pytest.raises(StsError) as info:
        run(rgw_sts, settings_for)
    error = info.value
    for text in (
        str(error),
        repr(error),
        error.code or "",
        error.server_message or "",
        error.request_id or "",
        captured_logs.text,
    ):
        _assert_clean(text, token)
    assert rgw_sts.exchanges == attempts
    if status == 302:
        assert "redirected to https://elsewhere.example/" in str(error)
    else:
        assert error.code and error.code.startswith("Bad")
        assert "you sent WebIdentityToken=***" in (error.server_message or "")


def test_a_server_dripping_its_answer_is_cut_off_by_the_deadline(rgw_sts, settings_for):
    """The read timeout applies per socket read: one byte every half second never trips
    it. Each attempt has a deadline for the whole answer (connect + read timeouts)."""
    rgw_sts.script(Fault(drip=0.5), Fault(drip=0.5))
    outcome = {}

    def attempt():
        try:
            run(rgw_sts, settings_for, timeout=1, max_attempts=2)
        except Exception as error:  # handed to the test thread
            outcome["error"] = error

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(120)  # a liveness bound, far above the 2 x 2 s expected
    assert not worker.is_alive(), "the exchange is still waiting on a dripping server"
    error = outcome.get("error")
    assert isinstance(error, TransportError), error
    assert "no complete answer within 2 s" in str(error)
    assert "after 2 attempts" in str(error)
    assert rgw_sts.exchanges == 2


def test_the_deadline_does_not_cut_a_pooled_connection_later(rgw_sts, settings_for):
    run(rgw_sts, settings_for, timeout=1)
    time.sleep(2.5)  # past the first exchange's deadline: its connection went back to the pool
    creds, _ = run(rgw_sts, settings_for, timeout=1)
    assert creds.access_key in rgw_sts.issued


IDP_UNREACHABLE = (
    "The request could not be fulfilled because the identity provider (IDP) that was "
    "asked to verify the incoming identity token could not be reached."
)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(429, b"Too Many Requests", content_type="text/plain"),  # a proxy's bare 429
        Fault(429, rgw_error_xml("TooManyRequests", "")),
        Fault(400, aws_error_xml("Throttling", "Rate exceeded")),  # AWS STS throttling
        Fault(503, rgw_error_xml("SlowDown", "Please reduce your request rate.")),
        Fault(400, aws_error_xml("IDPCommunicationError", IDP_UNREACHABLE)),
    ],
)
def test_throttling_and_an_unreachable_identity_provider_are_retried(
    rgw_sts, settings_for, fault
):
    rgw_sts.script(fault)
    creds, _ = run(rgw_sts, settings_for)
    assert creds.access_key in rgw_sts.issued
    assert rgw_sts.exchanges == 2


def _pauses(server, settings_for, *faults):
    server.script(*faults)
    settings = Settings.resolve(**settings_for(server))
    pauses = []
    exchange(settings, read_settings_token(settings), sleep=pauses.append)
    return pauses


@pytest.mark.parametrize(
    "headers, at_least",
    [
        ({"Retry-After": "3"}, 3.0),
        ({"x-amz-retry-after": "4500"}, 4.5),  # milliseconds, as botocore reads it
        ({"Retry-After": "an HTTP date 60 s from now"}, RETRY_AFTER_CAP_SECONDS),  # capped
    ],
)
def test_retry_after_is_waited_for_within_a_cap(rgw_sts, settings_for, headers, at_least):
    if headers.get("Retry-After", "").startswith("an HTTP date"):
        later = datetime.now(timezone.utc) + timedelta(seconds=60)
        headers = {"Retry-After": format_datetime(later, usegmt=True)}
    pauses = _pauses(rgw_sts, settings_for, Fault(429, b"", headers=headers))
    assert len(pauses) == 1
    assert at_least <= pauses[0] <= RETRY_AFTER_CAP_SECONDS


@pytest.mark.parametrize("value", ["86400", "soon", "-5"])
def test_an_excessive_or_unreadable_retry_after_does_not_hold_the_exchange(
    rgw_sts, settings_for, value
):
    pauses = _pauses(rgw_sts, settings_for, Fault(503, b"", headers={"Retry-After": value}))
    assert len(pauses) == 1 and pauses[0] <= RETRY_AFTER_CAP_SECONDS


def test_throttling_that_lasts_is_reported_as_such(rgw_sts, settings_for):
    rgw_sts.script(*[Fault(429, b"", headers={"Retry-After": "1"})] * 3)
    with pytest.raises(StsError) as info:
        run(rgw_sts, settings_for)
    assert rgw_sts.exchanges == 3
    text = str(info.value)
    assert "limiting how often" in text and "after 3 attempts" in text
    assert "rejected the token" not in text


def test_an_unreachable_identity_provider_that_lasts_names_the_issuer(rgw_sts, settings_for):
    rgw_sts.script(*[Fault(400, aws_error_xml("IDPCommunicationError", IDP_UNREACHABLE))] * 3)
    with pytest.raises(StsError) as info:
        run(rgw_sts, settings_for)
    text = str(info.value)
    assert "could not reach the token's issuer https://iam.example.org/" in text
    assert "rejected the token" not in text


MINIO_ROLE = "arn:minio:iam:::role/Qk8mWyFzLIOnHF3sI2xOY3M3yHg"


@pytest.mark.parametrize(
    "role_arn, said",
    [
        # A role the server does not have (and no claim-based policies to fall back on).
        (
            "arn:minio:iam:::role/other",
            "RoleARN arn:minio:iam:::role/other is not defined",
        ),
        # The RGW preset's role sent to a MinIO store: not even a MinIO ARN.
        ("arn:aws:iam:::role/IAMaccess", "RoleARN parse err: invalid ARN - bad partition field"),
    ],
)
def test_a_minio_refusing_the_role_sent_blames_the_role(settings_for, role_arn, said):
    with FakeSts("minio", minio_roles=(MINIO_ROLE,), minio_claim_based=False) as server:
        with pytest.raises(StsError) as info:
            run(server, settings_for, role_arn=role_arn)
    text = str(info.value)
    assert info.value.status == 400 and said in (info.value.server_message or "")
    assert f"does not know the role that was sent, {role_arn} (from the role_arn argument)" in text
    assert 'INFNMINIO_ROLE_ARN=""' in text and "claim-based" in text
    assert "rejected the token" not in text and "audience" not in text


def test_a_minio_without_claim_based_policies_asks_for_a_role(settings_for):
    with FakeSts("minio", minio_roles=(MINIO_ROLE,), minio_claim_based=False) as server:
        with pytest.raises(StsError) as info:
            run(server, settings_for, role_arn="")
        creds, _ = run(server, settings_for, role_arn=MINIO_ROLE)  # the right one works
        assert creds.access_key in server.issued
    text = str(info.value)
    assert "Role arn:minio:iam:::role/dummy-internal does not exist" in text
    assert "needs a RoleArn and none was sent" in text and "INFNMINIO_ROLE_ARN" in text
    assert "rejected the token" not in text


def test_a_claim_based_minio_ignores_a_role_it_does_not_know(settings_for):
    with FakeSts("minio") as server:
        creds, _ = run(server, settings_for, role_arn="arn:aws:iam:::role/IAMaccess")
        assert creds.access_key in server.issued


def test_an_expired_token_refusal_names_what_refreshes_this_source(
    rgw_sts, settings_for, tmp_path
):
    """Found with the kind "messages that send users the wrong way": the advice said
    "sts-wire refreshes ..." whatever the token's source was."""
    import stat
    import sys

    import infnminio_boto

    command = tmp_path / "get-token"
    command.write_text(f"#!{sys.executable} -I\nprint({make_jwt()!r})\n")
    command.chmod(command.stat().st_mode | stat.S_IXUSR)
    settings = settings_for(rgw_sts, token_command=str(command), cache=False)
    del settings["token_file"]
    rgw_sts.script(Fault(status=400, body=rgw_error_xml("ExpiredToken", "token is expired")))
    with pytest.raises(StsError) as raised:
        infnminio_boto.credentials(**settings)
    assert "sts-wire" not in str(raised.value)
    assert "It must print a token valid for a while" in str(raised.value)
