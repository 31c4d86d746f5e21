"""obstore (the Rust object_store): put, list and get, with keys that refresh themselves."""

import sys

import obstore

import infnminio_boto


def main(bucket: str = "infnminio-demo") -> None:
    s3 = infnminio_boto.session().client("s3")
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    store = infnminio_boto.obstore_store(bucket)
    obstore.put(store, "hello/obstore.txt", b"Hello from obstore!\n")
    names = [item["path"] for item in obstore.list(store, "hello/").collect()]
    body = obstore.get(store, "hello/obstore.txt").bytes().to_bytes()
    print(f"  {len(names)} objects under hello/; read back {body.decode().strip()!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
