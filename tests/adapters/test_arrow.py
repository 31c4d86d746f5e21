"""pyarrow against the sandbox: static keys, and the refreshing profile surviving expiry."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import fs as pafs

import infnminio_boto
from infnminio_boto.adapters.arrow import pyarrow_environment, pyarrow_kwargs, s3_filesystem

pytestmark = pytest.mark.sandbox

TABLE = pa.table({"run": [1, 2, 3], "energy": [10.5, 11.0, 9.75]})


@pytest.fixture(autouse=True)
def _private_aws_config(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name in ("AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION"):
        monkeypatch.delenv(name, raising=False)


def test_kwargs_are_those_of_s3filesystem(sandbox_settings, infnminio_sandbox):
    kwargs = pyarrow_kwargs(**sandbox_settings)
    assert kwargs["endpoint_override"] == infnminio_sandbox.endpoint.split("://")[1]
    assert kwargs["scheme"] == "https" and kwargs["region"] == "us-east-1"
    assert kwargs["tls_ca_file_path"] == infnminio_sandbox.ca_bundle
    assert kwargs["access_key"] and kwargs["secret_key"] and kwargs["session_token"]
    assert os.environ["AWS_REQUEST_CHECKSUM_CALCULATION"] == "WHEN_REQUIRED"


def test_the_environment_changed_is_the_one_given(sandbox_settings):
    mine = {"AWS_RESPONSE_CHECKSUM_VALIDATION": "WHEN_SUPPORTED"}
    pyarrow_kwargs(environ=mine, **sandbox_settings)
    assert mine == {
        "AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED",
        "AWS_RESPONSE_CHECKSUM_VALIDATION": "WHEN_SUPPORTED",  # the user's choice stays
    }
    assert "AWS_REQUEST_CHECKSUM_CALCULATION" not in os.environ
    s3_filesystem(environ=None, **sandbox_settings)
    assert "AWS_PROFILE" not in os.environ
    assert pyarrow_environment(**sandbox_settings)["AWS_PROFILE"] == "infnminio-boto"


def test_plain_s3filesystem_with_only_aws_profile(
    infnminio_sandbox, sandbox_settings, bucket, monkeypatch
):
    """The profile pyarrow_environment() writes is all pyarrow's own SDK needs for keys.

    pyarrow ignores a profile's endpoint_url (apache/arrow#44119), so the endpoint is
    still passed.
    """
    for name, value in pyarrow_environment(**sandbox_settings).items():
        monkeypatch.setenv(name, value)
    fs = pafs.S3FileSystem(
        endpoint_override=infnminio_sandbox.endpoint.split("://")[1],
        scheme="https",
        tls_ca_file_path=infnminio_sandbox.ca_bundle,
    )
    pq.write_table(TABLE, f"{bucket}/plain.parquet", filesystem=fs)
    assert pq.read_table(f"{bucket}/plain.parquet", filesystem=fs).equals(TABLE)


def test_s3_urls_with_aws_profile_and_aws_endpoint_url(infnminio_sandbox, sandbox_settings, bucket):
    """``pq.read_table("s3://...")`` in a process whose environment says it all."""
    from infnminio_boto.integrations.ca_trust import ssl_cert_file_variables
    from infnminio_boto.settings import Settings

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INFNMINIO_"))}
    env.update(pyarrow_environment(**sandbox_settings))
    env.update(ssl_cert_file_variables(Settings.resolve(**sandbox_settings)))
    env.update(
        AWS_ENDPOINT_URL=infnminio_sandbox.endpoint,
        AWS_CONFIG_FILE=os.environ["AWS_CONFIG_FILE"],
        AWS_EC2_METADATA_DISABLED="true",
    )
    code = (
        "import pyarrow as pa, pyarrow.parquet as pq\n"
        f"url = 's3://{bucket}/by-url.parquet'\n"
        "pq.write_table(pa.table({'run': [1, 2]}), url)\n"
        "print(pq.read_table(url).num_rows)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "2"


@pytest.mark.parametrize("refreshing", [False, True])
def test_parquet_round_trip(sandbox_settings, bucket, refreshing):
    fs = s3_filesystem(refreshing=refreshing, **sandbox_settings)
    pq.write_table(TABLE, f"{bucket}/runs.parquet", filesystem=fs)
    assert pq.read_table(f"{bucket}/runs.parquet", filesystem=fs).equals(TABLE)


def test_static_keys_die_at_expiry_the_refreshing_filesystem_does_not(expiring, bucket):
    proxy, settings = expiring
    static = s3_filesystem(refreshing=False, **settings)
    refreshing = s3_filesystem(refreshing=True, **dict(settings, cache=False))
    pq.write_table(TABLE, f"{bucket}/before.parquet", filesystem=static)
    pq.write_table(TABLE, f"{bucket}/before2.parquet", filesystem=refreshing)
    time.sleep(proxy.lifetime + 2)
    with pytest.raises(OSError, match="ExpiredToken|HTTP status 400"):
        pq.read_table(f"{bucket}/before.parquet", filesystem=static)
    # The AWS C++ SDK re-ran credential_process: new keys, the job goes on.
    pq.write_table(TABLE, f"{bucket}/after.parquet", filesystem=refreshing)
    assert pq.read_table(f"{bucket}/after.parquet", filesystem=refreshing).equals(TABLE)
    assert proxy.exchanges >= 3


def test_refreshing_refuses_static_keys_in_the_environment(sandbox_settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASTATIC")
    with pytest.raises(infnminio_boto.ConfigurationError, match="AWS_ACCESS_KEY_ID"):
        s3_filesystem(**sandbox_settings)
