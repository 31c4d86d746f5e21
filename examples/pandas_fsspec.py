"""pandas through fsspec/s3fs: storage_options for short work, a refreshing filesystem
for long work."""

import sys

import pandas as pd

import infnminio_boto


def main(bucket: str = "infnminio-demo") -> None:
    frame = pd.DataFrame({"run": [1, 2, 3], "events": [1200, 1350, 980]})

    fs = infnminio_boto.s3fs_filesystem()  # refreshing, and picklable for Dask
    if not fs.exists(bucket):
        fs.mkdir(bucket)
    options = infnminio_boto.storage_options()  # current keys, for s3:// URLs
    frame.to_parquet(f"s3://{bucket}/runs/pandas.parquet", storage_options=options)

    back = pd.read_parquet(f"{bucket}/runs/pandas.parquet", filesystem=fs)
    print(f"  read back {len(back)} rows; total events {back['events'].sum()}")


if __name__ == "__main__":
    main(*sys.argv[1:])
