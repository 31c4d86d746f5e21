"""pyarrow against the sandbox: static keys, and the refreshing profile surviving expiry."""

from __future__ import annotations

import os
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import infnminio_boto
from infnminio_boto.adapters.arrow import pyarrow_kwargs, s3_filesystem

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
    assert kwargs["scheme"] == "http" and kwargs["region"] == "us-east-1"
    assert kwargs["access_key"] and kwargs["secret_key"] and kwargs["session_token"]
    assert os.environ["AWS_REQUEST_CHECKSUM_CALCULATION"] == "WHEN_REQUIRED"


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
