"""The real exchange against Ceph RGW validating real signed JWTs (the sandbox)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError

import infnminio_boto
from infnminio_boto.errors import StsError, TokenExpiredError
from infnminio_boto.sandbox import write_in_place
from infnminio_boto.sandbox.issuer import IssuerServer, SigningKey, mint_token
from infnminio_boto.settings import Settings
from infnminio_boto.sources.oidc_token import OidcToken, parse_jwt_claims
from infnminio_boto.sts import exchange

pytestmark = pytest.mark.sandbox


@pytest.fixture
def own_token_file(infnminio_sandbox, tmp_path):
    """A token file of this test's own (the sandbox's agent rewrites the shared one)."""
    path = str(tmp_path / "token")
    write_in_place(path, infnminio_sandbox.mint_token(lifetime=1200) + "\n")
    return path


def settings(sandbox, token_file, **extra):
    values = dict(sandbox.settings(), token_file=token_file)
    values.update(extra)
    return values


def test_session_round_trip(infnminio_sandbox, own_token_file):
    s3 = infnminio_boto.session(**settings(infnminio_sandbox, own_token_file)).client("s3")
    s3.create_bucket(Bucket="round-trip")
    s3.put_object(Bucket="round-trip", Key="hello.txt", Body=b"hello from the sandbox")
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="round-trip")["Contents"]]
    assert listed == ["hello.txt"]
    body = s3.get_object(Bucket="round-trip", Key="hello.txt")["Body"].read()
    assert body == b"hello from the sandbox"


def test_no_arguments_with_the_sandbox_environment(infnminio_sandbox_env):
    s3 = infnminio_boto.session().client("s3")
    assert "Buckets" in s3.list_buckets()


def test_credentials_work_and_fail_without_session_token(infnminio_sandbox, own_token_file):
    creds = infnminio_boto.credentials(**settings(infnminio_sandbox, own_token_file))
    assert (
        timedelta(minutes=55) < creds.expiration - datetime.now(timezone.utc) <= timedelta(hours=1)
    )

    def client(token):
        return boto3.client(
            "s3",
            endpoint_url=infnminio_sandbox.endpoint,
            region_name="us-east-1",
            aws_access_key_id=creds.access_key,
            aws_secret_access_key=creds.secret_key,
            aws_session_token=token,
            verify=infnminio_sandbox.ca_bundle,
        )

    assert "Buckets" in client(creds.token).list_buckets()
    with pytest.raises(ClientError) as info:
        client(None).list_buckets()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_expired_token_is_not_sent(infnminio_sandbox, tmp_path):
    path = str(tmp_path / "token")
    write_in_place(path, infnminio_sandbox.mint_token(lifetime=-600))
    with pytest.raises(TokenExpiredError, match="expired 10 minutes ago"):
        infnminio_boto.credentials(**settings(infnminio_sandbox, path))


def _exchange_raw(sandbox, token_text, **extra):
    """Send a token as is, bypassing the client-side expiry check."""
    config = Settings.resolve(**settings(sandbox, "/unused", **extra))
    token = OidcToken("/unused", token_text, parse_jwt_claims(token_text))
    return exchange(config, token, sleep=lambda _s: None)


def test_rgw_rejects_an_expired_token_with_our_explanation(infnminio_sandbox):
    with pytest.raises(StsError) as info:
        _exchange_raw(infnminio_sandbox, infnminio_sandbox.mint_token(lifetime=-60))
    assert info.value.status == 403 and info.value.code == "AccessDenied"
    assert "ago" in str(info.value)  # the exp, in words


def test_token_signed_by_another_key(infnminio_sandbox, tmp_path):
    impostor = SigningKey.generate()
    impostor.kid = infnminio_sandbox._signing_key().kid  # same kid, wrong key
    path = str(tmp_path / "token")
    write_in_place(path, infnminio_sandbox.mint_token(key=impostor))
    with pytest.raises(StsError) as info:
        infnminio_boto.credentials(**settings(infnminio_sandbox, path))
    text = str(info.value)
    assert info.value.code == "AccessDenied"
    assert infnminio_sandbox.issuer_url in text and "signed by a key" in text


def test_wrong_audience(infnminio_sandbox, tmp_path):
    path = str(tmp_path / "token")
    write_in_place(path, infnminio_sandbox.mint_token(audience="not-object"))
    with pytest.raises(StsError) as info:
        infnminio_boto.credentials(**settings(infnminio_sandbox, path))
    assert "audience not-object" in str(info.value)
    assert "--aud object" in str(info.value)


def test_unknown_issuer(infnminio_sandbox, tmp_path):
    stranger = SigningKey.generate()
    server = IssuerServer(stranger).start()
    try:
        path = str(tmp_path / "token")
        write_in_place(path, mint_token(stranger, server.url, subject="mallory"))
        with pytest.raises(StsError) as info:
            infnminio_boto.credentials(**settings(infnminio_sandbox, path))
    finally:
        server.stop()
    text = str(info.value)
    assert server.url in text and "not registered" in text


def test_forced_refresh_makes_a_real_exchange(infnminio_sandbox, own_token_file):
    # Without the shared cache, so that the refresh is a real exchange with RGW.
    session = infnminio_boto.session(**settings(infnminio_sandbox, own_token_file, cache=False))
    s3 = session.client("s3")
    s3.list_buckets()
    refresher = session.get_credentials().refresher
    first_key = refresher.get().access_key
    refresher.refresh()
    s3.list_buckets()  # signed with the new keys, which RGW accepts
    assert session.get_credentials().get_frozen_credentials().access_key != first_key
    assert refresher.renewals == 2


def test_forced_refresh_with_the_cache_takes_the_shared_keys(
    infnminio_sandbox, own_token_file, tmp_path
):
    config = settings(infnminio_sandbox, own_token_file, cache_dir=str(tmp_path / "cache"))
    first = infnminio_boto.session(**config)
    first.client("s3").list_buckets()
    second = infnminio_boto.session(**config)  # another notebook of the same user
    second.client("s3").list_buckets()
    key = first.get_credentials().get_frozen_credentials().access_key
    assert second.get_credentials().get_frozen_credentials().access_key == key


def test_token_rewritten_in_place_while_8_threads_refresh(infnminio_sandbox, own_token_file):
    """sts-wire's truncate-then-write must never make a refresh fail."""
    session = infnminio_boto.session(**settings(infnminio_sandbox, own_token_file, cache=False))
    s3 = session.client("s3")
    s3.create_bucket(Bucket="rewrite")
    refresher = session.get_credentials().refresher
    stop = threading.Event()
    failures = []
    tokens = [infnminio_sandbox.mint_token(lifetime=1200) for _ in range(5)]

    def writer():
        i = 0
        while not stop.is_set():
            write_in_place(own_token_file, tokens[i % len(tokens)] + "\n")
            i += 1
            time.sleep(0.002)

    def force_refreshes():
        while not stop.is_set():
            refresher.refresh()
            time.sleep(0.25)

    def worker(n):
        while not stop.is_set():
            try:
                s3.put_object(Bucket="rewrite", Key=f"w{n}", Body=b"x" * 100)
                s3.get_object(Bucket="rewrite", Key=f"w{n}")["Body"].read()
            except Exception as exc:  # collected and reported below
                failures.append(repr(exc))

    threads = [threading.Thread(target=writer), threading.Thread(target=force_refreshes)]
    threads += [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(6)
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []
    assert refresher.renewals >= 10  # the refreshes really happened while the file churned
