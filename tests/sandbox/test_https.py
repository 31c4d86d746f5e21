"""The sandbox over https, as INFN's store is reached: TLS is real, and uploads work.

Over TLS, botocore 1.36+ streams uploads as aws-chunked with a trailing checksum, which
Ceph RGW 16 refuses with 411; session() turns that off unless the user chose it.
"""

from __future__ import annotations

import io
import os

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, SSLError
from support.files import same_content

import infnminio_boto
from infnminio_boto.errors import TransportError

pytestmark = pytest.mark.sandbox


def test_the_sandbox_serves_https_with_its_own_authority(infnminio_sandbox):
    assert infnminio_sandbox.endpoint.startswith("https://127.0.0.1:")
    assert infnminio_sandbox.environment()["INFNMINIO_CA_BUNDLE"] == infnminio_sandbox.ca_bundle


def test_the_environment_trusts_the_sandbox_and_what_the_shell_trusted(
    infnminio_sandbox, monkeypatch
):
    """Shells that set AWS_CA_BUNDLE (and the rest) to the system's bundle keep it."""
    import ssl
    import urllib.error
    import urllib.request

    system = "/etc/ssl/certs/ca-certificates.crt"
    if not os.path.isfile(system):
        pytest.skip(f"no system bundle at {system}")
    monkeypatch.setenv("AWS_CA_BUNDLE", system)
    environment = infnminio_sandbox.environment()
    bundle = environment["AWS_CA_BUNDLE"]
    assert {environment[name] for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                                           "CURL_CA_BUNDLE")} == {bundle}
    with open(system) as handle:
        system_count = handle.read().count("BEGIN CERTIFICATE")
    with open(bundle) as handle:
        assert handle.read().count("BEGIN CERTIFICATE") == system_count + 1
    context = ssl.create_default_context(cafile=bundle)
    try:
        urllib.request.urlopen(infnminio_sandbox.endpoint, timeout=10, context=context)
    except urllib.error.HTTPError:
        pass  # an S3 error answer: the TLS handshake succeeded


def test_a_client_without_the_ca_bundle_fails_on_the_certificate(
    infnminio_sandbox, sandbox_settings
):
    keys = infnminio_boto.credentials(**sandbox_settings)
    untrusting = boto3.client(
        "s3",
        endpoint_url=infnminio_sandbox.endpoint,
        region_name="us-east-1",
        aws_access_key_id=keys.access_key,
        aws_secret_access_key=keys.secret_key,
        aws_session_token=keys.token,
        verify=True,  # botocore's own bundle, which knows nothing of the sandbox's CA
    )
    with pytest.raises(SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusting.list_buckets()


def test_the_exchange_without_the_ca_bundle_says_which_setting_to_use(sandbox_settings):
    settings = {k: v for k, v in sandbox_settings.items() if k != "ca_bundle"}
    with pytest.raises(TransportError) as info:
        infnminio_boto.credentials(**settings, cache=False)
    assert "not trusted" in str(info.value) and "INFNMINIO_CA_BUNDLE" in str(info.value)


@pytest.fixture
def s3(sandbox_settings, bucket):
    return infnminio_boto.session(**sandbox_settings).client("s3")


def read(s3, bucket, key) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_put_object_with_bytes_a_file_object_and_a_stream(s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="bytes", Body=b"bytes over https")
    assert read(s3, bucket, "bytes") == b"bytes over https"

    path = tmp_path / "file.txt"
    path.write_bytes(b"a file object over https")
    with open(path, "rb") as handle:
        s3.put_object(Bucket=bucket, Key="file", Body=handle)
    assert read(s3, bucket, "file") == b"a file object over https"

    # A pipe cannot seek: S3 wants its length (a PUT has no other way to know it).
    reader, writer = os.pipe()
    os.write(writer, b"s" * 4096)
    os.close(writer)
    with os.fdopen(reader, "rb") as stream:
        s3.put_object(Bucket=bucket, Key="stream", Body=stream, ContentLength=4096)
    assert read(s3, bucket, "stream") == b"s" * 4096

    # Of unknown length: upload_fileobj reads it in parts.
    reader, writer = os.pipe()
    os.write(writer, b"u" * 4096)
    os.close(writer)
    with os.fdopen(reader, "rb") as stream:
        s3.upload_fileobj(stream, bucket, "unknown-length")
    assert read(s3, bucket, "unknown-length") == b"u" * 4096


def test_a_session_of_yours_with_install_and_s3_client_kwargs(sandbox_settings, bucket):
    mine = boto3.Session()
    infnminio_boto.install(mine, **sandbox_settings)
    s3 = mine.client("s3", **infnminio_boto.s3_client_kwargs(**sandbox_settings))
    s3.put_object(Bucket=bucket, Key="yours", Body=b"uploaded through your session")
    assert read(s3, bucket, "yours") == b"uploaded through your session"


def test_upload_file_of_20_mb_in_parts_and_back(s3, bucket, big_file, tmp_path):
    s3.upload_file(big_file, bucket, "big.bin")
    back = str(tmp_path / "back.bin")
    s3.download_file(bucket, "big.bin", back)
    assert same_content(big_file, back)
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert "-" in head["ETag"]  # a multipart upload's ETag


def test_a_users_own_checksum_choice_wins_and_rgw_refuses_it(s3, sandbox_settings, bucket):
    session = infnminio_boto.session(**sandbox_settings)
    theirs = session.client("s3", config=Config(request_checksum_calculation="when_supported"))
    with pytest.raises(ClientError, match="MissingContentLength"):
        theirs.put_object(Bucket=bucket, Key="streamed", Body=io.BytesIO(b"x" * 100))


def test_a_users_environment_variable_wins_too(sandbox_settings, bucket, monkeypatch):
    monkeypatch.setenv("AWS_REQUEST_CHECKSUM_CALCULATION", "WHEN_SUPPORTED")
    s3 = infnminio_boto.session(**sandbox_settings).client("s3")
    with pytest.raises(ClientError, match="MissingContentLength"):
        s3.put_object(Bucket=bucket, Key="streamed", Body=b"x" * 100)
