"""DuckDB against the sandbox: the S3 secret, static and refreshing."""

from __future__ import annotations

import time

import duckdb
import pytest

from infnminio_boto.adapters.duckdb import duckdb_create_secret

pytestmark = pytest.mark.sandbox


@pytest.fixture(autouse=True)
def _private_aws_config(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))


def test_copy_to_s3_and_query_back(sandbox_settings, bucket):
    con = duckdb.connect()
    duckdb_create_secret(con, **sandbox_settings)
    con.execute(
        f"COPY (SELECT range AS run, range * 1.5 AS energy FROM range(100)) "
        f"TO 's3://{bucket}/runs.parquet' (FORMAT parquet)"
    )
    total = con.execute(f"SELECT count(*), sum(run) FROM 's3://{bucket}/runs.parquet'").fetchone()
    assert total == (100, 4950)
    secret = con.execute("SELECT secret_string FROM duckdb_secrets()").fetchone()[0]
    assert "url_style=path" in secret and "use_ssl=false" in secret


def test_refreshing_secret_survives_expiry(expiring, bucket):
    proxy, settings = expiring
    con = duckdb.connect()
    duckdb_create_secret(con, refreshing=True, **dict(settings, cache=False))
    con.execute(f"COPY (SELECT 1 AS x) TO 's3://{bucket}/before.parquet' (FORMAT parquet)")
    time.sleep(proxy.lifetime + 2)
    assert con.execute(f"SELECT x FROM 's3://{bucket}/before.parquet'").fetchone() == (1,)
    assert proxy.exchanges >= 2


def test_errors_never_quote_the_keys(sandbox_settings, monkeypatch):
    import infnminio_boto

    con = duckdb.connect()
    with pytest.raises(infnminio_boto.ConfigurationError) as info:
        duckdb_create_secret(con, name="bad-name", **sandbox_settings)
    assert "secret" not in str(info.value).lower() or "KEY_ID" not in str(info.value)
