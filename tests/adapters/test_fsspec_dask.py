"""Dask: worker processes read a Parquet dataset; the shared cache makes one exchange."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

import infnminio_boto
from infnminio_boto.adapters.fsspec import s3fs_filesystem

pytestmark = pytest.mark.sandbox


def test_local_cluster_reads_a_dataset_with_one_exchange(
    infnminio_sandbox, sandbox_settings, bucket, monkeypatch
):
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    # The workers inherit the cache directory through the environment, as they would
    # from a user's shell.
    monkeypatch.setenv("INFNMINIO_CACHE_DIR", sandbox_settings["cache_dir"])
    settings = {k: v for k, v in sandbox_settings.items() if k != "cache_dir"}
    s3 = infnminio_boto.session(**settings, cache=False).client("s3")  # cache stays empty
    for part in range(6):
        frame = pd.DataFrame({"part": [part] * 100, "value": range(part * 100, part * 100 + 100)})
        s3.put_object(
            Bucket=bucket, Key=f"dataset/part-{part}.parquet", Body=frame.to_parquet(index=False)
        )
    shutil.rmtree(sandbox_settings["cache_dir"], ignore_errors=True)  # start from empty
    before = infnminio_sandbox.sts_requests(settle=2)

    with (
        LocalCluster(
            n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        fs = s3fs_filesystem(**settings)
        frame = dd.read_parquet(f"{bucket}/dataset/", filesystem=fs)
        total = frame["value"].sum().compute()
        workers_used = client.run(lambda: 1)
    assert total == sum(range(600))
    assert len(workers_used) == 3
    # the client and three worker processes: one exchange, counted by radosgw
    assert infnminio_sandbox.sts_requests(settle=2) - before == 1
