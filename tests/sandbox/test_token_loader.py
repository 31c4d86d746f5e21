"""token_loader=: a callable of the user's (a vault, a Kubernetes secret, a site script)
as the token source of every entry point, against the sandbox's real Ceph RGW.

The loader is called once per exchange (never per S3 request), its keys are shared by
the token's identity claims, and where another process would have to call it (an AWS
profile, DuckDB's new databases, a Dask worker) the keys are served instead, or the
entry point says why not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support import secret_registry
from support.activated import environment_for

import infnminio_boto
from infnminio_boto import ConfigurationError
from infnminio_boto.integrations import key_server

pytestmark = pytest.mark.sandbox


class Vault:
    """A loader: hands out a sandbox token, and counts how often it was asked."""

    def __init__(self, sandbox) -> None:
        self.token = sandbox.mint_token(subject="vault-user", lifetime=3600)
        secret_registry.register(self.token)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.token


@pytest.fixture
def vault(infnminio_sandbox) -> Vault:
    return Vault(infnminio_sandbox)


@pytest.fixture
def settings(infnminio_sandbox, vault, tmp_path) -> dict:
    values = dict(infnminio_sandbox.settings(), token_loader=vault,
                  cache_dir=str(tmp_path / "cache"))
    del values["token_file"]  # the loader is the only source
    return values


@pytest.fixture
def bucket(settings) -> str:
    s3 = infnminio_boto.session(**settings).client("s3")
    if "loader" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket="loader")
    s3.put_object(Bucket="loader", Key="hello.txt", Body=b"hello")
    return "loader"


def test_session_and_install_use_it_once_per_exchange(settings, vault, bucket):
    s3 = infnminio_boto.session(**settings).client("s3")
    for _ in range(5):
        assert s3.get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == b"hello"
    calls = vault.calls
    import boto3

    mine = boto3.Session()
    infnminio_boto.install(mine, **settings)
    client = mine.client("s3", **infnminio_boto.s3_client_kwargs(mine, **settings))
    assert client.head_object(Bucket=bucket, Key="hello.txt")["ContentLength"] == 5
    assert vault.calls <= calls + 1  # per new set of keys, never per request


def test_credentials_are_shared_by_the_tokens_claims(settings, vault, tmp_path):
    keys = infnminio_boto.credentials(**settings)
    token_file = tmp_path / "token"
    token_file.write_text(vault.token)
    from_file = dict(settings, token_file=str(token_file))
    del from_file["token_loader"]
    assert infnminio_boto.credentials(**from_file).access_key == keys.access_key


def test_every_data_library_helper_takes_it(settings, bucket):
    import duckdb
    import pandas as pd
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"run": [1, 2, 3]})
    fs = infnminio_boto.s3_filesystem(refreshing=False, **settings)
    pq.write_table(table, f"{bucket}/runs.parquet", filesystem=fs)
    # With a token_loader no profile can hold the token: this process serves the keys
    # to pyarrow's SDK for as long as it lives (docs/design.md); the test ends that use.
    try:
        refreshing = infnminio_boto.s3_filesystem(**settings)  # served from this process
        assert key_server.serving()
        assert pq.read_table(f"{bucket}/runs.parquet", filesystem=refreshing).num_rows == 3
        frame = pd.read_parquet(f"s3://{bucket}/runs.parquet",
                                storage_options=infnminio_boto.storage_options(**settings))
        assert int(frame["run"].sum()) == 6
        fs3 = infnminio_boto.s3fs_filesystem(**settings)
        assert fs3.cat(f"{bucket}/hello.txt") == b"hello"
        lazy = pl.scan_parquet(
            f"s3://{bucket}/runs.parquet",
            storage_options=infnminio_boto.polars_storage_options(keys=False, **settings),
            credential_provider=infnminio_boto.polars_credential_provider(**settings),
        )
        assert lazy.select(pl.col("run").sum()).collect().item() == 6
        client = infnminio_boto.minio_client(**settings)
        assert client.get_object(bucket, "hello.txt").read() == b"hello"
        for refreshing_secret in (False, True):
            con = duckdb.connect()
            renewing = infnminio_boto.duckdb_create_secret(
                con, refreshing=refreshing_secret, **settings
            )
            assert con.sql(f"SELECT sum(run) FROM 's3://{bucket}/runs.parquet'").fetchone()[0] == 6
            if renewing is not None:
                renewing.stop()
        import obstore

        store = infnminio_boto.obstore_store(bucket, **settings)
        assert obstore.get(store, "hello.txt").bytes().to_bytes() == b"hello"
    finally:
        key_server.stop_serving(os.environ)


def test_a_profile_cannot_hold_it_and_says_what_to_do(settings):
    from infnminio_boto.profiles.aws import ensure_profile
    from infnminio_boto.settings import Settings

    with pytest.raises(ConfigurationError, match="cannot hold token_loader") as raised:
        ensure_profile("loader", Settings.resolve(**settings))
    assert "exec --server" in str(raised.value) and "activate(token_loader" in str(raised.value)
    with pytest.raises(ConfigurationError, match="cannot hold token_loader"):
        infnminio_boto.pyarrow_environment(**settings)


ACTIVATED = r"""
import json, os, sys
import infnminio_boto
token = open(sys.argv[2]).read()
activation = infnminio_boto.activate(token_loader=lambda: token)
import boto3, duckdb, pandas as pd, polars as pl, pyarrow.parquet as pq
url = f"s3://{sys.argv[1]}/runs.parquet"
results = {
    "libraries": activation.libraries,
    "left alone": activation.left_alone,
    "boto3": boto3.client("s3").head_object(Bucket=sys.argv[1], Key="hello.txt")["ContentLength"],
    "pyarrow": pq.read_table(url).num_rows,
    "pandas": int(pd.read_parquet(url)["run"].sum()),
    "polars": int(pl.read_parquet(url)["run"].sum()),
    "duckdb": int(duckdb.sql(f"SELECT sum(run) FROM '{url}'").fetchone()[0]),
    "profile": os.environ.get("AWS_PROFILE"),
    "profile file": os.path.exists(os.environ["AWS_CONFIG_FILE"]),
}
infnminio_boto.deactivate()
results["endpoint after"] = os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
print(json.dumps(results))
"""


def test_activate_serves_the_libraries_of_other_processes_from_this_one(
    settings, bucket, vault, infnminio_sandbox, tmp_path
):
    import pyarrow as pa
    import pyarrow.parquet as pq

    fs = infnminio_boto.s3_filesystem(refreshing=False, **settings)
    pq.write_table(pa.table({"run": [1, 2, 3]}), f"{bucket}/runs.parquet", filesystem=fs)
    token_file = tmp_path / "vault"
    token_file.write_text(vault.token)
    plain = {k: v for k, v in settings.items() if k != "token_loader"}
    env = environment_for(dict(plain, token_file="/nonexistent"), tmp_path / "home")
    done = subprocess.run(
        [sys.executable, "-c", ACTIVATED, bucket, str(token_file)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["libraries"] == ["boto3", "fsspec", "pyarrow", "polars", "duckdb"]
    assert (results["boto3"], results["pyarrow"], results["pandas"]) == (5, 3, 6)
    assert (results["polars"], results["duckdb"]) == (6, 6)
    assert results["profile"] is None and not results["profile file"]  # nothing written
    assert results["endpoint after"] is None


def test_dask_workers_get_keys_while_the_loader_stays_on_the_client(settings, bucket):
    from distributed import Client, LocalCluster

    from infnminio_boto.dask import share_credentials

    fs = infnminio_boto.s3fs_filesystem(**settings)
    with LocalCluster(n_workers=1, processes=True, dashboard_address=None) as cluster, Client(
        cluster
    ) as client:
        with share_credentials(client, environ=None, **settings):
            assert client.submit(fs.cat, f"{bucket}/hello.txt").result() == b"hello"


def test_pickled_settings_leave_the_loader_behind(settings):
    import pickle

    from infnminio_boto.settings import Settings

    arrived = pickle.loads(pickle.dumps(Settings.resolve(**settings)))
    assert arrived.token.kind == "discover"  # the loader may hold the token: it stays here
