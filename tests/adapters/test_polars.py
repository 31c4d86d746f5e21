"""polars against the sandbox: storage_options and the refreshing credential provider."""

from __future__ import annotations

import time

import polars as pl
import pytest

from infnminio_boto.adapters.polars import polars_credential_provider, polars_storage_options

pytestmark = pytest.mark.sandbox

FRAME = pl.DataFrame({"run": [1, 2, 3], "energy": [10.5, 11.0, 9.75]})


def test_the_sandbox_authority_is_trusted_beside_the_systems(sandbox_settings, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    mine: dict = {}
    polars_storage_options(keys=False, environ=mine, **sandbox_settings)
    bundle = open(mine["SSL_CERT_FILE"]).read()
    assert open(sandbox_settings["ca_bundle"]).read().strip() in bundle
    assert bundle.count("BEGIN CERTIFICATE") > 1  # the system's authorities are kept


def test_write_and_read_with_storage_options(sandbox_settings, bucket):
    options = polars_storage_options(**sandbox_settings)
    FRAME.write_parquet(f"s3://{bucket}/frame.parquet", storage_options=options)
    assert pl.read_parquet(f"s3://{bucket}/frame.parquet", storage_options=options).equals(FRAME)


def test_credential_provider_survives_expiry(expiring, bucket):
    proxy, settings = expiring
    options = polars_storage_options(keys=False, **settings)
    provider = polars_credential_provider(**dict(settings, cache=False))
    FRAME.write_parquet(
        f"s3://{bucket}/before.parquet", storage_options=options, credential_provider=provider
    )
    static = polars_storage_options(**settings)
    time.sleep(proxy.lifetime + 2)
    with pytest.raises(Exception, match="(?i)expired|400|denied"):
        pl.read_parquet(f"s3://{bucket}/before.parquet", storage_options=static)
    result = pl.read_parquet(
        f"s3://{bucket}/before.parquet", storage_options=options, credential_provider=provider
    )
    assert result.equals(FRAME)
    assert proxy.exchanges >= 3
