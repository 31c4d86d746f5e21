"""Time and lifetime against the real Ceph RGW: the role's maximum, keys it refuses.

The roles are real (IAM on the sandbox's radosgw); keys the store considers expired
before we do come from the expiring proxy in front of it (tests/support/expiring_proxy.py):
RGW 16 has no ExpiredToken, and will not expire keys early on demand.
"""

from __future__ import annotations

import json
import logging

import boto3
import pytest
from botocore.exceptions import ClientError
from support.expiring_proxy import ExpiringProxy

import infnminio_boto
from infnminio_boto.keys.fetch import fetch_credentials
from infnminio_boto.settings import Settings

pytestmark = pytest.mark.sandbox

LONG_ROLE = "LongSessions"


@pytest.fixture
def long_role(infnminio_sandbox) -> str:
    """A role like IAMaccess whose MaxSessionDuration is raised to 43200 (CreateRole
    only: RGW 16 answers UpdateRole 405). Made once per sandbox; function-scoped so that
    it runs in the test's isolated environment (no AWS_* of another test)."""
    iam = infnminio_sandbox.admin_client("iam")
    provider = infnminio_sandbox.issuer_url.split("://", 1)[1]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": [f"arn:aws:iam:::oidc-provider/{provider}"]},
                "Action": ["sts:AssumeRoleWithWebIdentity"],
            }
        ],
    }
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::*"]}],
    }
    try:
        iam.create_role(
            RoleName=LONG_ROLE,
            Path="/",
            AssumeRolePolicyDocument=json.dumps(trust, separators=(",", ":")),
            MaxSessionDuration=43200,
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    iam.put_role_policy(
        RoleName=LONG_ROLE,
        PolicyName="s3-all",
        PolicyDocument=json.dumps(policy, separators=(",", ":")),
    )
    return f"arn:aws:iam:::role/{LONG_ROLE}"


@pytest.fixture
def counting(infnminio_sandbox, sandbox_settings):
    """(proxy, settings): RGW behind a proxy that counts exchanges and changes nothing."""
    with ExpiringProxy(
        infnminio_sandbox.endpoint, lifetime=None, tls=infnminio_sandbox.tls_files
    ) as proxy:
        yield proxy, dict(sandbox_settings, endpoint=proxy.url)


def renew(settings: dict):
    """Keys as at the end of the cached ones' life: exchanged unless another did."""
    return fetch_credentials(Settings.resolve(**settings), fresh_enough=lambda _keys: False)


# ------------------------------------------------------------ the role's maximum


def test_a_role_whose_maximum_is_not_raised_gets_3600_s_keys_once_refused(
    counting, monkeypatch, caplog
):
    monkeypatch.setattr("infnminio_boto.sts._warned_lifetimes", set(), raising=False)
    caplog.set_level(logging.WARNING)
    proxy, settings = counting
    settings = dict(settings, duration_seconds=7200)
    keys = infnminio_boto.credentials(**settings)
    assert keys.lifetime == pytest.approx(3600, abs=2)
    assert proxy.sts_durations == [7200, 3600]  # IAMaccess refused 7200 (400 InvalidArgument)
    said = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "duration_seconds / INFNMINIO_DURATION_SECONDS" in said and "7200" in said
    renew(settings)  # a later exchange, another process: asks what the role allows
    assert proxy.sts_durations == [7200, 3600, 3600]
    s3 = infnminio_boto.session(**settings).client("s3")
    assert "Buckets" in s3.list_buckets()


def test_a_role_whose_maximum_is_raised_gets_the_lifetime_asked(counting, long_role):
    proxy, settings = counting
    settings = dict(settings, role_arn=long_role, duration_seconds=43200)
    keys = infnminio_boto.credentials(**settings)
    assert keys.lifetime == pytest.approx(43200, abs=2)
    assert proxy.sts_durations == [43200]
    renew(settings)
    assert proxy.sts_durations == [43200, 43200]


# ------------------------------------------------------- keys refused as expired


@pytest.fixture
def refusing(infnminio_sandbox, sandbox_settings, request):
    """(proxy, settings): RGW behind a proxy refusing the keys it is told to, with
    ``request.param`` (refusal, lifetime the client sees)."""
    refusal, lifetime = getattr(request, "param", ("ExpiredToken", None))
    with ExpiringProxy(
        infnminio_sandbox.endpoint,
        lifetime=lifetime,
        tls=infnminio_sandbox.tls_files,
        refusal=refusal,
    ) as proxy:
        yield proxy, dict(sandbox_settings, endpoint=proxy.url)


def make_client(settings: dict, how: str):
    if how == "session":
        return infnminio_boto.session(**settings).client("s3")
    session = boto3.Session()
    infnminio_boto.install(session, **settings)
    return session.client("s3", **infnminio_boto.s3_client_kwargs(session, **settings))


@pytest.mark.parametrize("how", ["session", "install"])
def test_expired_token_renews_the_keys_and_retries_the_call_once(refusing, bucket, how):
    proxy, settings = refusing
    s3 = make_client(settings, how)
    s3.put_object(Bucket=bucket, Key="before.txt", Body=b"before")
    proxy.consider_expired()  # the store's clock has passed the keys' expiry, ours not
    answer = s3.put_object(Bucket=bucket, Key="after.txt", Body=b"sent twice, stored once")
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    body = s3.get_object(Bucket=bucket, Key="after.txt")["Body"].read()
    assert body == b"sent twice, stored once"
    assert proxy.exchanges == 2 and proxy.expired_rejections == 1


def test_the_s3fs_filesystem_renews_and_retries_too(refusing, bucket):
    proxy, settings = refusing
    fs = infnminio_boto.s3fs_filesystem(**settings)
    fs.pipe(f"{bucket}/s3fs.txt", b"from s3fs")
    proxy.consider_expired()
    assert f"{bucket}/s3fs.txt" in fs.ls(bucket, refresh=True)
    assert proxy.exchanges == 2 and proxy.expired_rejections == 1


@pytest.mark.parametrize("refusing", [("ExpiredToken", 40)], indirect=True)
def test_a_head_refused_as_expired_near_expiry_renews_and_retries(refusing, bucket):
    # A HEAD answer has no body: ExpiredToken reaches botocore as a bare 400.
    proxy, settings = refusing
    fs = infnminio_boto.s3fs_filesystem(**settings)
    fs.pipe(f"{bucket}/head.txt", b"read after a HEAD")
    proxy.consider_expired()
    assert fs.cat(f"{bucket}/head.txt") == b"read after a HEAD"  # HEAD (size), then GET
    assert proxy.exchanges == 2 and proxy.expired_rejections == 1


def test_keys_refused_again_are_not_renewed_again(refusing, bucket):
    proxy, settings = refusing
    proxy.expire_on_issue = True  # every key refused, new ones too
    s3 = make_client(settings, "session")
    with pytest.raises(ClientError) as info:
        s3.list_objects_v2(Bucket=bucket)
    assert info.value.response["Error"]["Code"] == "ExpiredToken"
    assert proxy.exchanges == 2 and proxy.expired_rejections == 2  # once, not a loop


@pytest.mark.parametrize("refusing", [("AccessDenied", 40)], indirect=True)
def test_rgw_16s_bare_access_denied_near_expiry_renews_and_retries(refusing, bucket):
    proxy, settings = refusing  # keys the client sees expire in 40 s: within the margin
    s3 = make_client(settings, "session")
    s3.put_object(Bucket=bucket, Key="head.txt", Body=b"x")
    proxy.consider_expired()
    head = s3.head_object(Bucket=bucket, Key="head.txt")  # 403 without a body
    assert head["ResponseMetadata"]["RetryAttempts"] == 1
    assert proxy.exchanges == 2


@pytest.mark.parametrize("refusing", [("AccessDenied", None)], indirect=True)
def test_a_bare_access_denied_far_from_expiry_surfaces_unchanged(refusing, bucket):
    proxy, settings = refusing
    s3 = make_client(settings, "session")
    s3.list_objects_v2(Bucket=bucket)
    proxy.consider_expired()
    with pytest.raises(ClientError) as info:
        s3.list_objects_v2(Bucket=bucket)
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    assert info.value.response["ResponseMetadata"]["RetryAttempts"] == 0
    assert proxy.exchanges == 1


def test_a_real_policy_denial_is_not_retried(sandbox_settings, bucket):
    s3 = make_client(dict(sandbox_settings, policy="read-only"), "session")
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="denied.txt", Body=b"no")
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    assert info.value.response["ResponseMetadata"]["RetryAttempts"] == 0
    assert "session policy read-only" in str(info.value)
