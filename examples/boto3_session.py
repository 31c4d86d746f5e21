"""boto3 through infnminio_boto.session(): create a bucket, upload, list and read back.

Run it where sts-wire keeps the token file fresh (or after
`eval "$(infnminio-boto sandbox start)"`):

    python examples/boto3_session.py [BUCKET]
"""

import sys

import infnminio_boto


def main(bucket: str = "infnminio-demo") -> None:
    session = infnminio_boto.session()  # settings from INFNMINIO_* or the INFN presets
    s3 = session.client("s3")  # already points at the object store, path-style

    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="hello/boto3.txt", Body=b"Hello from boto3!\n")

    for item in s3.list_objects_v2(Bucket=bucket, Prefix="hello/")["Contents"]:
        print(f"  {item['Key']:<24} {item['Size']:>6} bytes")
    body = s3.get_object(Bucket=bucket, Key="hello/boto3.txt")["Body"].read()
    print(f"  read back: {body.decode().strip()!r}")

    creds = session.get_credentials().get_frozen_credentials()
    print(f"  temporary access key {creds.access_key[:4]}***, refreshed automatically")


if __name__ == "__main__":
    main(*sys.argv[1:])
