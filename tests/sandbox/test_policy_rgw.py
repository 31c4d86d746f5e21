"""Session policies against the real Ceph RGW: each preset does what the README says.

The sandbox's role allows s3:* everywhere, so whatever the keys cannot do here, the
session policy forbade. Buckets and objects are made with full keys first.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from support.cli import clean_environment, run_cli

import infnminio_boto
from infnminio_boto import StsError

pytestmark = pytest.mark.sandbox


@pytest.fixture
def two_buckets(sandbox_settings, request):
    """(mine, other): two buckets holding ``top.txt`` and, in ``mine``, ``my runs/x.txt``."""
    s3 = infnminio_boto.session(**sandbox_settings).client("s3")
    stem = request.node.name.lower().replace("_", "-")[:30].strip("-")
    names = (f"{stem}-mine", f"{stem}-other")
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    for name in names:
        if name not in existing:
            s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="top.txt", Body=b"top")
    s3.put_object(Bucket=names[0], Key="my runs/x.txt", Body=b"x")
    return names


def client(settings: dict, policy: str):
    return infnminio_boto.session(**settings, policy=policy).client("s3")


def refused(call, *args, **kwargs) -> str:
    """The message of the AccessDenied ``call`` gets (fails the test if it succeeds)."""
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return str(raised.value)


def keys_of(listing: dict) -> list:
    return [item["Key"] for item in listing.get("Contents", [])]


def test_read_only_keys_read_everywhere_and_are_refused_writes(sandbox_settings, two_buckets):
    mine, other = two_buckets
    s3 = client(sandbox_settings, "read-only")
    assert {mine, other} <= {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert keys_of(s3.list_objects_v2(Bucket=other)) == ["top.txt"]
    assert s3.get_object(Bucket=mine, Key="top.txt")["Body"].read() == b"top"
    assert s3.head_object(Bucket=mine, Key="my runs/x.txt")["ContentLength"] == 1
    message = refused(s3.put_object, Bucket=mine, Key="new.txt", Body=b"no")
    assert "session policy read-only (policy, from the policy argument)" in message
    assert "PutObject on bucket" in message and "The token and the keys are fine" in message
    refused(s3.delete_object, Bucket=mine, Key="top.txt")
    refused(s3.create_bucket, Bucket="read-only-may-not-create")


def test_bucket_keys_do_everything_on_their_bucket_and_nothing_elsewhere(
    sandbox_settings, two_buckets
):
    mine, other = two_buckets
    s3 = client(sandbox_settings, f"bucket:{mine}")
    s3.put_object(Bucket=mine, Key="new.txt", Body=b"yes")
    assert "new.txt" in keys_of(s3.list_objects_v2(Bucket=mine))
    s3.delete_object(Bucket=mine, Key="new.txt")
    refused(s3.list_objects_v2, Bucket=other)
    refused(s3.get_object, Bucket=other, Key="top.txt")
    refused(s3.put_object, Bucket=other, Key="new.txt", Body=b"no")
    refused(s3.list_buckets)  # ListAllMyBuckets is not on the bucket


def test_read_only_bucket_keys_read_their_bucket_only(sandbox_settings, two_buckets):
    mine, other = two_buckets
    s3 = client(sandbox_settings, f"read-only:{mine}")
    assert "top.txt" in keys_of(s3.list_objects_v2(Bucket=mine))
    assert s3.get_object(Bucket=mine, Key="top.txt")["Body"].read() == b"top"
    refused(s3.put_object, Bucket=mine, Key="new.txt", Body=b"no")
    refused(s3.list_objects_v2, Bucket=other)
    refused(s3.get_object, Bucket=other, Key="top.txt")


def test_prefix_keys_write_under_their_prefix_only(sandbox_settings, two_buckets, big_file):
    """The prefix holds a space: sent as + (urlencode's default), RGW 16 would read the
    policy's prefix as 'my+runs' and refuse every write under 'my runs/'."""
    mine, other = two_buckets
    s3 = client(sandbox_settings, f"prefix:{mine}/my runs")
    s3.put_object(Bucket=mine, Key="my runs/new.txt", Body=b"yes")
    assert s3.get_object(Bucket=mine, Key="my runs/x.txt")["Body"].read() == b"x"
    listed = keys_of(s3.list_objects_v2(Bucket=mine, Prefix="my runs/"))
    assert listed == ["my runs/new.txt", "my runs/x.txt"]
    s3.upload_file(big_file, mine, "my runs/big.bin")  # multipart
    assert s3.head_object(Bucket=mine, Key="my runs/big.bin")["ContentLength"] == 20 * 2**20
    s3.delete_object(Bucket=mine, Key="my runs/new.txt")
    refused(s3.put_object, Bucket=mine, Key="elsewhere.txt", Body=b"no")
    refused(s3.put_object, Bucket=mine, Key="my runsX/new.txt", Body=b"no")
    refused(s3.get_object, Bucket=mine, Key="top.txt")
    refused(s3.list_objects_v2, Bucket=mine)  # the whole bucket's names
    refused(s3.list_objects_v2, Bucket=mine, Prefix="my")
    refused(s3.put_object, Bucket=other, Key="my runs/new.txt", Body=b"no")


def test_a_json_document_of_ones_own_is_enforced(sandbox_settings, two_buckets, tmp_path):
    mine, other = two_buckets
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{mine}/*"]}
        ],
    }
    path = tmp_path / "get-only.json"
    path.write_text(json.dumps(document, indent=4))
    s3 = client(sandbox_settings, f"@{path}")
    assert s3.get_object(Bucket=mine, Key="top.txt")["Body"].read() == b"top"
    assert f"session policy @{path}" in refused(s3.list_objects_v2, Bucket=mine)
    refused(s3.get_object, Bucket=other, Key="top.txt")


def test_a_document_only_the_server_can_refuse_is_explained(sandbox_settings):
    document = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObjects", "Resource": "*"}]}
    with pytest.raises(StsError, match="MalformedPolicyDocument.*the token is not the problem"):
        infnminio_boto.credentials(**sandbox_settings, policy=json.dumps(document))


def test_doctor_and_status_show_the_policy_and_doctor_checks_what_it_allows(
    infnminio_sandbox, two_buckets, tmp_path
):
    """With bucket:NAME, ListBuckets is refused (measured): doctor lists the bucket."""
    mine, _ = two_buckets
    env = clean_environment(
        HOME=str(tmp_path), INFNMINIO_POLICY=f"bucket:{mine}", **infnminio_sandbox.environment()
    )
    done = run_cli("doctor", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"OK    policy       bucket:{mine} (from INFNMINIO_POLICY): everything" in done.stdout
    assert f"OK    s3           ListObjectsV2 at {infnminio_sandbox.endpoint}" in done.stdout
    keys = json.loads(run_cli("credential-process", env=env).stdout)
    status = run_cli("status", "--json", env=env)
    lines = {line["check"]: line["detail"] for line in json.loads(status.stdout)}
    assert lines["policy"].startswith(f"bucket:{mine} (from INFNMINIO_POLICY)")
    assert f"keys {keys['AccessKeyId'][:4]}***" in status.stdout  # the policy's own entry
    full = run_cli("status", env=dict(env, INFNMINIO_POLICY=""))
    assert "OK    policy       none" in full.stdout and "no keys for this identity" in full.stdout
