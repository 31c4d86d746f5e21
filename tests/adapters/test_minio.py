"""The minio SDK against the sandbox: kwargs, a refreshing client, the old InfnMinio API."""

from __future__ import annotations

import io
import re
import time

import minio
import pytest
from minio.error import S3Error
from support.files import same_content

import infnminio_boto
from infnminio_boto.adapters.minio import InfnMinio, minio_client, minio_kwargs

pytestmark = pytest.mark.sandbox


def put_and_get(client, bucket, name, data=b"hello minio"):
    client.put_object(bucket_name=bucket, object_name=name, data=io.BytesIO(data), length=len(data))
    response = client.get_object(bucket_name=bucket, object_name=name)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def test_kwargs_build_a_working_client(sandbox_settings, bucket, infnminio_sandbox):
    kwargs = minio_kwargs(**sandbox_settings)
    assert kwargs["endpoint"] == infnminio_sandbox.endpoint.split("://")[1]
    assert kwargs["secure"] is True  # over https, trusting the sandbox's CA
    client = minio.Minio(**kwargs)
    assert put_and_get(client, bucket, "kwargs.txt") == b"hello minio"


def test_refreshing_client_round_trip(sandbox_settings, bucket):
    client = minio_client(**sandbox_settings)
    assert put_and_get(client, bucket, "client.txt", b"x" * 5000) == b"x" * 5000
    assert [o.object_name for o in client.list_objects(bucket)] == ["client.txt"]


def test_20_mb_up_and_back_with_files(sandbox_settings, bucket, big_file, tmp_path):
    client = minio_client(**sandbox_settings)
    client.fput_object(bucket_name=bucket, object_name="big.bin", file_path=big_file)
    back = str(tmp_path / "back.bin")
    client.fget_object(bucket_name=bucket, object_name="big.bin", file_path=back)
    assert same_content(big_file, back)


def test_refreshing_client_survives_expiry(expiring, bucket):
    proxy, settings = expiring
    static = minio.Minio(**minio_kwargs(**settings))
    refreshing = minio_client(**dict(settings, cache=False))
    put_and_get(refreshing, bucket, "before.txt")
    put_and_get(static, bucket, "before-static.txt")
    time.sleep(proxy.lifetime + 2)
    with pytest.raises(S3Error, match="ExpiredToken"):
        put_and_get(static, bucket, "after-static.txt")
    assert put_and_get(refreshing, bucket, "after.txt") == b"hello minio"
    assert proxy.exchanges >= 3


def test_old_api_takes_the_token_files_path(infnminio_sandbox_env, bucket, sandbox_token_file):
    from pathlib import Path

    from infnminio_boto import InfnMinio as Minio

    client = Minio.from_token(sandbox_token_file)
    assert isinstance(client, minio.Minio)
    assert put_and_get(client, bucket, "old-api.txt") == b"hello minio"
    by_keyword = Minio.from_token(
        token=Path(sandbox_token_file), endpoint=infnminio_sandbox_env.endpoint
    )
    assert put_and_get(by_keyword, bucket, "by-keyword.txt") == b"hello minio"
    kwargs = Minio.get_credentials(infnminio_sandbox_env.endpoint, sandbox_token_file)
    assert set(kwargs) == {"access_key", "secret_key", "session_token", "tls_ca_file_path"}


def test_old_api_still_takes_a_jwt(infnminio_sandbox_env, bucket, sandbox_token_file):
    token = open(sandbox_token_file).read().strip()
    by_token = InfnMinio.from_token(token=token, endpoint=infnminio_sandbox_env.endpoint)
    assert put_and_get(by_token, bucket, "by-token.txt") == b"hello minio"
    assert InfnMinio.get_credentials(infnminio_sandbox_env.endpoint, token)["access_key"]


def test_old_api_names_a_token_file_that_does_not_exist(infnminio_sandbox_env, tmp_path):
    missing = str(tmp_path / "nowhere" / ".token")
    with pytest.raises(infnminio_boto.TokenFileError, match=re.escape(missing)):
        InfnMinio.from_token(missing)
    with pytest.raises(infnminio_boto.TokenFileError, match=re.escape(missing)):
        InfnMinio.get_credentials(None, missing)


def test_infnminio_itself_builds_a_minio_client(sandbox_settings):
    client = InfnMinio("127.0.0.1:9", access_key="a", secret_key="b", secure=False)
    assert isinstance(client, minio.Minio)


def test_provider_repr_holds_no_secret(sandbox_settings):
    provider = infnminio_boto.StsWireMinioProvider(**sandbox_settings)
    credentials = provider.retrieve()
    assert credentials.secret_key not in repr(provider)
    # A public field from minio 7.2.18 on; 7.2.0 (the oldest the extra allows) keeps it
    # as _expiration, which its is_expired() reads.
    assert getattr(credentials, "expiration", getattr(credentials, "_expiration", None))
