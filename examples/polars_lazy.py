"""polars: write a Parquet file, then scan it lazily with refreshing credentials."""

import sys

import polars as pl

import infnminio_boto


def main(bucket: str = "infnminio-demo") -> None:
    s3 = infnminio_boto.session().client("s3")
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    frame = pl.DataFrame({"run": [1, 2, 3], "energy_gev": [6.8, 7.0, 6.5]})
    frame.write_parquet(
        f"s3://{bucket}/runs/polars.parquet",
        storage_options=infnminio_boto.polars_storage_options(),
    )
    mean = (
        pl.scan_parquet(
            f"s3://{bucket}/runs/polars.parquet",
            storage_options=infnminio_boto.polars_storage_options(keys=False),
            credential_provider=infnminio_boto.polars_credential_provider(),
        )
        .select(pl.col("energy_gev").mean())
        .collect()
        .item()
    )
    print(f"  mean energy {mean:.2f} GeV")


if __name__ == "__main__":
    main(*sys.argv[1:])
