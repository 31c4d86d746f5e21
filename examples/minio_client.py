"""The minio SDK with credentials that refresh themselves."""

import io
import sys

import infnminio_boto


def main(bucket: str = "infnminio-demo") -> None:
    client = infnminio_boto.minio_client()
    if not client.bucket_exists(bucket_name=bucket):
        client.make_bucket(bucket_name=bucket)
    data = b"Hello from minio!\n"
    client.put_object(
        bucket_name=bucket, object_name="hello/minio.txt", data=io.BytesIO(data), length=len(data)
    )
    response = client.get_object(bucket_name=bucket, object_name="hello/minio.txt")
    try:
        print(f"  read back: {response.read().decode().strip()!r}")
    finally:
        response.close()
        response.release_conn()


if __name__ == "__main__":
    main(*sys.argv[1:])
