"""Dask: worker processes read a Parquet dataset; the shared credential cache means one
STS exchange for the whole machine, and each worker refreshes by itself."""

import sys

import dask.dataframe as dd
import pandas as pd
from distributed import Client, LocalCluster

import infnminio_boto


def main(bucket: str = "infnminio-demo") -> None:
    fs = infnminio_boto.s3fs_filesystem()
    if not fs.exists(bucket):
        fs.mkdir(bucket)
    for part in range(4):
        frame = pd.DataFrame({"part": part, "value": range(part * 250, part * 250 + 250)})
        frame.to_parquet(f"{bucket}/dataset/part-{part}.parquet", filesystem=fs)

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        frame = dd.read_parquet(f"{bucket}/dataset/", filesystem=fs)
        print(f"  {frame.npartitions} partitions, sum of values {frame['value'].sum().compute()}")


if __name__ == "__main__":
    main(*sys.argv[1:])
