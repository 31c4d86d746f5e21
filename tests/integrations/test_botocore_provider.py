"""boto3 through session() and install(), against the fake STS (which also lists buckets)."""

from __future__ import annotations

import logging
import threading

import boto3
import botocore.session
import pytest
from support.fake_sts import FakeSts

import infnminio_boto
from infnminio_boto import StsWireProvider
from infnminio_boto.settings.aws_variables import botocore_supports_them


def test_session_client_reaches_endpoint_with_session_token(fake_sts, settings_for):
    session = infnminio_boto.session(**settings_for(fake_sts))
    s3 = session.client("s3")
    assert s3.meta.endpoint_url == fake_sts.url
    assert fake_sts.exchanges == 0  # deferred: nothing fetched to build a client
    buckets = s3.list_buckets()["Buckets"]
    assert [b["Name"] for b in buckets] == ["data"]
    assert fake_sts.exchanges == 1
    sent = fake_sts.s3_requests[-1]
    issued = next(iter(fake_sts.issued.values()))
    assert sent["x-amz-security-token"] == issued.session_token
    assert f"Credential={issued.access_key}/" in sent["authorization"]


def test_session_resource_and_path_style(rgw_sts, settings_for):
    session = infnminio_boto.session(**settings_for(rgw_sts))
    resource = session.resource("s3")
    assert [b.name for b in resource.buckets.all()] == ["data"]
    url = session.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": "bkt", "Key": "k"}
    )
    assert url.startswith(rgw_sts.url + "/bkt/k?")


def test_explicit_endpoint_url_still_wins(rgw_sts, settings_for):
    session = infnminio_boto.session(**settings_for(rgw_sts))
    assert (
        session.client("s3", endpoint_url="http://127.0.0.1:1").meta.endpoint_url
        == "http://127.0.0.1:1"
    )
    assert session.client("sts").meta.endpoint_url != rgw_sts.url  # only S3 is redirected


def test_session_reads_environment(rgw_sts, token_file, monkeypatch):
    monkeypatch.setenv("INFNMINIO_ENDPOINT", rgw_sts.url)
    monkeypatch.setenv("INFNMINIO_TOKEN_FILE", token_file)
    monkeypatch.setenv("INFNMINIO_ROLE_ARN", "arn:aws:iam:::role/IAMaccess")
    monkeypatch.setenv("INFNMINIO_REGION", "eu-south-1")
    session = infnminio_boto.session()
    assert session.region_name == "eu-south-1"
    assert session.client("s3").list_buckets()["Buckets"]


def test_botocore_finds_the_provider_by_its_method(rgw_sts, settings_for):
    core = botocore.session.Session()
    provider = infnminio_boto.install(core, **settings_for(rgw_sts))
    resolver = core.get_component("credential_provider")
    assert resolver.get_provider("sts-wire") is provider
    # botocore requires custom providers' canonical names to start with "custom"
    assert provider.CANONICAL_NAME.lower().startswith("custom")
    assert core.get_credentials().method == "sts-wire"


def write_profile(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text(
        "[profile static]\naws_access_key_id = STATICKEY\naws_secret_access_key = STATICSECRET\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))


@pytest.mark.parametrize("profile", [None, "static"])
def test_install_on_boto3_session(rgw_sts, settings_for, tmp_path, monkeypatch, profile):
    write_profile(tmp_path, monkeypatch)
    session = boto3.Session(profile_name=profile)
    session.get_credentials()  # resolved before install: must be forgotten
    provider = infnminio_boto.install(session, **settings_for(rgw_sts))
    resolver = session._session.get_component("credential_provider")
    assert resolver.providers[0] is provider
    creds = session.get_credentials()
    assert creds.method == "sts-wire"
    s3 = session.client("s3", endpoint_url=rgw_sts.url)
    assert s3.list_buckets()["Buckets"]
    assert rgw_sts.s3_requests[-1]["x-amz-security-token"]


def test_install_on_botocore_session_twice_keeps_one_provider(rgw_sts, settings_for):
    core = botocore.session.Session()
    infnminio_boto.install(core, **settings_for(rgw_sts))
    infnminio_boto.install(core, **settings_for(rgw_sts))
    methods = [p.METHOD for p in core.get_component("credential_provider").providers]
    assert methods.count("sts-wire") == 1 and methods[0] == "sts-wire"


def test_install_rejects_other_objects():
    with pytest.raises(TypeError, match=r"boto3\.Session"):
        infnminio_boto.install(object())


def test_64_threads_on_one_session_cause_one_exchange(settings_for):
    with FakeSts("rgw", exchange_delay=0.2) as server:
        session = infnminio_boto.session(**settings_for(server))
        s3 = session.client("s3")
        barrier = threading.Barrier(64)
        failures = []

        def work():
            barrier.wait()
            try:
                s3.list_buckets()
            except Exception as exc:  # pragma: no cover - reported below
                failures.append(exc)

        threads = [threading.Thread(target=work) for _ in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert server.exchanges == 1
        assert len(server.s3_requests) == 64


def test_short_lived_credentials_refresh_in_a_running_session(settings_for):
    with FakeSts("rgw", credential_lifetime=3) as server:
        s3 = infnminio_boto.session(**settings_for(server)).client("s3")
        import time

        deadline = time.monotonic() + 7
        while time.monotonic() < deadline:
            s3.list_buckets()
            time.sleep(0.05)
        assert server.s3_failures == 0
        assert 3 <= server.successful_exchanges <= 8  # one per ~2 s, not one per call


def test_credentials_snapshot(fake_sts, settings_for):
    snapshot = infnminio_boto.credentials(**settings_for(fake_sts))
    issued = fake_sts.issued[snapshot.access_key]
    assert snapshot.secret_key == issued.secret_key
    assert snapshot.token == issued.session_token
    assert snapshot.expiration.utcoffset().total_seconds() == 0
    shown = repr(snapshot) + str(snapshot)
    assert issued.secret_key not in shown and issued.session_token not in shown
    with pytest.raises(AttributeError):
        snapshot.access_key = "x"


def test_no_secret_in_logs_errors_or_reprs(rgw_sts, settings_for, token_file, caplog):
    caplog.set_level(logging.DEBUG, logger="infnminio_boto")
    caplog.set_level(logging.INFO)
    token = open(token_file).read().strip()
    session = infnminio_boto.session(**settings_for(rgw_sts))
    s3 = session.client("s3")
    s3.list_buckets()
    creds = session.get_credentials()
    issued = next(iter(rgw_sts.issued.values()))
    rgw_sts.script(*[__import__("support.fake_sts").fake_sts.Fault(503, b"")] * 3)
    try:
        infnminio_boto.credentials(**settings_for(rgw_sts, cache=False))
    except infnminio_boto.StsError as exc:
        error_text = str(exc) + repr(exc)
    shown = "\n".join(
        [
            caplog.text,
            error_text,
            repr(session),
            repr(creds),
            repr(s3),
            repr(StsWireProvider(**settings_for(rgw_sts))),
        ]
    )
    assert "STS exchange at" in caplog.text
    for secret in (token, issued.secret_key, issued.session_token):
        assert secret not in shown


def test_lazy_import_keeps_boto3_out():
    import subprocess
    import sys

    code = "import sys, infnminio_boto; print('boto3' in sys.modules, 'botocore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_s3_clients_use_path_style_and_unsigned_bodies_over_https(token_file):
    http = infnminio_boto.session(endpoint="http://127.0.0.1:9", token_file=token_file)
    assert http.client("s3").meta.config.s3 == {"addressing_style": "path"}
    https = infnminio_boto.session(endpoint="https://s3.example.org", token_file=token_file)
    assert https.client("s3").meta.config.s3 == {
        "addressing_style": "path",
        "payload_signing_enabled": False,
    }


def test_a_profiles_own_s3_and_checksum_keys_win(token_file, tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text(
        "[profile mine]\nrequest_checksum_calculation = when_supported\n"
        "s3 =\n    payload_signing_enabled = true\n    max_concurrent_requests = 4\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "mine")
    session = infnminio_boto.session(endpoint="https://s3.example.org", token_file=token_file)
    s3 = session.client("s3")
    assert s3.meta.config.s3["payload_signing_enabled"] is True
    assert s3.meta.config.s3["addressing_style"] == "path"
    if botocore_supports_them():  # botocore >= 1.36, which brought the checksums
        assert s3.meta.config.request_checksum_calculation == "when_supported"
        assert s3.meta.config.response_checksum_validation == "when_required"
