"""The exchange with an injected ``send``: retries and the wording of what went wrong."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from support.fake_sts import Issued, rgw_error_xml, success_xml
from support.jwt_helpers import make_jwt

from infnminio_boto.errors import StsError, TransportError
from infnminio_boto.settings import Settings
from infnminio_boto.sources.oidc_token import token_from_text
from infnminio_boto.sts import HttpResponse, StsRequest, Unreachable, exchange
from infnminio_boto.sts.transport import tls_error


class Script:
    """A ``send`` that plays back answers (or raises) in order and records requests."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.requests = []

    def __call__(self, request: StsRequest) -> HttpResponse:
        self.requests.append(request)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


SETTINGS = Settings.resolve(
    endpoint="https://s3.example.org", role_arn="arn:aws:iam:::role/R", environ={}
)


def ok() -> HttpResponse:
    issued = Issued(
        "AKIDEXAMPLE",
        "SECRETVALUE",
        "SESSIONVALUE",
        datetime.now(timezone.utc) + timedelta(hours=1),
    )
    return HttpResponse(200, {}, success_xml(issued, "rgw"))


def test_the_injected_send_gets_the_request_and_its_answer_is_read():
    token = token_from_text(make_jwt())
    send = Script(ok())
    creds = exchange(SETTINGS, token, send=send)
    assert creds.access_key == "AKIDEXAMPLE"
    request = send.requests[0]
    assert request.url == "https://s3.example.org/"
    assert "WebIdentityToken=" in request.body and "RoleArn=" in request.body
    assert token.value not in repr(request)  # the body holds the token: never shown


def test_unreachable_then_5xx_then_success_is_retried_with_one_pause_each():
    send = Script(Unreachable("connection refused"), HttpResponse(503, {}, b""), ok())
    pauses = []
    creds = exchange(SETTINGS, token_from_text(make_jwt()), send=send, sleep=pauses.append)
    assert creds.access_key == "AKIDEXAMPLE" and len(pauses) == 2


def test_every_failure_is_named_when_the_attempts_run_out():
    send = Script(
        Unreachable("connection refused"),
        Unreachable("host name not found"),
        Unreachable("no answer within the read timeout"),
    )
    with pytest.raises(TransportError) as info:
        exchange(SETTINGS, token_from_text(make_jwt()), send=send, sleep=lambda _s: None)
    text = str(info.value)
    assert "after 3 attempts" in text
    assert "connection refused; host name not found; no answer within the read timeout" in text


def test_a_4xx_is_final():
    send = Script(HttpResponse(403, {}, rgw_error_xml("AccessDenied")), ok())
    with pytest.raises(StsError):
        exchange(SETTINGS, token_from_text(make_jwt()), send=send, sleep=lambda _s: None)
    assert len(send.requests) == 1


def test_a_5xx_html_page_after_the_retries_is_the_servers_failure():
    page = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
    send = Script(*[HttpResponse(503, {}, page)] * 3)
    with pytest.raises(StsError) as info:
        exchange(SETTINGS, token_from_text(make_jwt()), send=send, sleep=lambda _s: None)
    text = str(info.value)
    assert "server failed" in text and "server's side" in text and "after 3 attempts" in text
    assert "endpoint is probably wrong" not in text


def test_a_2xx_html_page_says_the_endpoint_is_probably_wrong():
    send = Script(HttpResponse(200, {}, b"<!DOCTYPE html><html><body>Log in</body></html>"))
    with pytest.raises(StsError, match="endpoint is probably wrong"):
        exchange(SETTINGS, token_from_text(make_jwt()), send=send)


@pytest.mark.parametrize(
    "reason, phrase",
    [
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed "
            "certificate in certificate chain",
            "not trusted",
        ),
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, "
            "certificate is not valid for 'x'",
            "not valid for this host name",
        ),
        ("[SSL: WRONG_VERSION_NUMBER] wrong version number", "does not speak TLS"),
    ],
)
def test_tls_failures_say_which_cause_and_which_setting(reason, phrase):
    error = tls_error("https://s3.example.org/", OSError(reason), None)
    assert isinstance(error, TransportError)
    assert phrase in str(error)
    if phrase == "not trusted":
        assert "INFNMINIO_CA_BUNDLE" in str(error) and "botocore's default" in str(error)


def test_a_ca_bundle_removed_under_a_running_session_is_named(tmp_path):
    gone = str(tmp_path / "ca.pem")  # a sandbox restarted under a running script
    error = tls_error("https://s3.example.org/", OSError("[Errno 2] No such file or directory"),
                      gone)
    assert f"the CA bundle {gone} (ca_bundle / INFNMINIO_CA_BUNDLE) is gone" in str(error)
