"""pyarrow: write and read a Parquet table on the object store.

s3_filesystem() refreshes by itself (the AWS C++ SDK in pyarrow re-runs
`infnminio-boto credential-process`), so it suits jobs longer than the keys' lifetime.
"""

import sys

import pyarrow as pa
import pyarrow.parquet as pq

import infnminio_boto


def main(bucket: str = "infnminio-demo") -> None:
    fs = infnminio_boto.s3_filesystem()  # refreshing=True by default
    if fs.get_file_info(bucket).type.name == "NotFound":
        fs.create_dir(bucket)
    table = pa.table({"run": [1, 2, 3], "energy_gev": [6.8, 7.0, 6.5]})
    pq.write_table(table, f"{bucket}/runs/pyarrow.parquet", filesystem=fs)
    back = pq.read_table(f"{bucket}/runs/pyarrow.parquet", filesystem=fs)
    print(f"  wrote and read back {back.num_rows} rows: {back.column_names}")


if __name__ == "__main__":
    main(*sys.argv[1:])
