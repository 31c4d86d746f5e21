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
    assert "url_style=path" in secret and "use_ssl=true" in secret
    ca = con.execute("SELECT current_setting('ca_cert_file')").fetchone()[0]
    assert ca == sandbox_settings["ca_bundle"]


def test_refreshing_secret_survives_expiry(expiring, bucket):
    proxy, settings = expiring
    con = duckdb.connect()
    duckdb_create_secret(con, refreshing=True, **dict(settings, cache=False))
    con.execute(f"COPY (SELECT 1 AS x) TO 's3://{bucket}/before.parquet' (FORMAT parquet)")
    time.sleep(proxy.lifetime + 2)
    assert con.execute(f"SELECT x FROM 's3://{bucket}/before.parquet'").fetchone() == (1,)
    assert proxy.exchanges >= 2


def test_a_secret_named_with_a_reserved_word_works(sandbox_settings, bucket):
    con = duckdb.connect()
    duckdb_create_secret(con, name="select", **sandbox_settings)
    assert con.execute("SELECT name FROM duckdb_secrets()").fetchone() == ("select",)


def test_a_refused_statement_never_shows_a_key_or_a_prefix_of_one():
    from support import secret_registry

    from infnminio_boto.adapters.duckdb import refusal

    secret = "fakesecret" + "Q" * 30
    secret_registry.register(secret)
    con = duckdb.connect()
    with pytest.raises(duckdb.Error) as raised:  # a real DuckDB parser error
        con.execute(f"CREATE SECRET select (TYPE s3, KEY_ID 'AK', SECRET '{secret}')")
    # Recent DuckDB releases quote the statement after the first line, a prefix of the
    # key included ("LINE 1: ..."); older ones (1.3) say only the first line.
    ours = str(refusal(raised.value, [secret]))
    assert "syntax error" in ours
    assert secret[:6] not in ours and "LINE 1" not in ours
