"""Migrating from the old library: change one import, keep the rest of the notebook.

Before:  from InfnMinio import InfnMinio as Minio      (keys fetched once, then expired)
After:   from infnminio_boto import InfnMinio as Minio (keys refresh themselves)
"""

import sys

from infnminio_boto import InfnMinio as Minio


def main(bucket: str = "infnminio-demo") -> None:
    client = Minio.from_token()  # token file and endpoint from INFNMINIO_* or the presets
    if not client.bucket_exists(bucket_name=bucket):
        client.make_bucket(bucket_name=bucket)
    names = [item.object_name for item in client.list_objects(bucket, recursive=True)]
    print(f"  {len(names)} objects in {bucket}")
    keys = Minio.get_credentials()  # the old dict, for code that wants the keys
    print(f"  get_credentials() gives {sorted(keys)}")


if __name__ == "__main__":
    main(*sys.argv[1:])
