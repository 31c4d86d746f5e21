"""DuckDB: an S3 secret from the token file, then SQL straight on the object store."""

import sys

import duckdb

import infnminio_boto


def main(bucket: str = "infnminio-demo") -> None:
    s3 = infnminio_boto.session().client("s3")
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    con = duckdb.connect()
    infnminio_boto.duckdb_create_secret(con)
    con.execute(
        f"COPY (SELECT range AS run, 1000 + range * 10 AS events FROM range(50)) "
        f"TO 's3://{bucket}/runs/duckdb.parquet' (FORMAT parquet)"
    )
    runs, events = con.execute(
        f"SELECT count(*), sum(events) FROM 's3://{bucket}/runs/duckdb.parquet'"
    ).fetchone()
    print(f"  {runs} runs, {events} events, queried with SQL on S3")


if __name__ == "__main__":
    main(*sys.argv[1:])
