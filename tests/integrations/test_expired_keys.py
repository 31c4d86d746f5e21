"""Keys the store already considers expired: one new exchange, one retry, never a loop.

Here the fake STS's S3 side, whose clock jumps forward under the client (what a
suspended VM or a corrected server clock does); the same behaviours against the real
Ceph RGW behind the expiring proxy are in tests/sandbox/test_clock_rgw.py.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from support.fake_sts import FakeSts

import infnminio_boto


def s3_client(server: FakeSts, settings_for, tmp_path, how: str):
    settings = settings_for(server, cache_dir=str(tmp_path / "cache"))
    if how == "session":
        return infnminio_boto.session(**settings).client("s3")
    session = boto3.Session()
    infnminio_boto.install(session, **settings)
    return session.client("s3", **infnminio_boto.s3_client_kwargs(session, **settings))


@pytest.mark.parametrize("how", ["session", "install"])
def test_expired_token_gets_new_keys_and_one_retry(settings_for, tmp_path, how):
    with FakeSts("rgw", expired_code="ExpiredToken") as server:
        s3 = s3_client(server, settings_for, tmp_path, how)
        s3.list_buckets()
        server.clock_offset += 2 * 3600  # the store's clock moves past the keys' expiry
        answer = s3.list_buckets()
        assert answer["ResponseMetadata"]["RetryAttempts"] == 1
        assert server.s3_expired_refusals == 1
        assert server.successful_exchanges == 2


def test_a_bare_access_denied_near_the_keys_expiry_gets_new_keys(settings_for, tmp_path):
    # Ceph RGW 16 answers expired keys 403 AccessDenied, empty: keys with 30 s left.
    with FakeSts("rgw", credential_lifetime=30) as server:
        s3 = s3_client(server, settings_for, tmp_path, "session")
        s3.list_buckets()
        server.clock_offset += 40
        assert s3.list_buckets()["ResponseMetadata"]["RetryAttempts"] == 1
        assert server.s3_expired_refusals == 1 and server.successful_exchanges == 2


def test_a_bare_access_denied_far_from_expiry_is_a_real_refusal(settings_for, tmp_path):
    with FakeSts("rgw") as server:
        s3 = s3_client(server, settings_for, tmp_path, "session")
        s3.list_buckets()
        server.clock_offset += 2 * 3600  # refused as expired, but by our clock an hour left
        with pytest.raises(ClientError) as info:
            s3.list_buckets()
        assert info.value.response["Error"]["Code"] == "AccessDenied"
        assert info.value.response["ResponseMetadata"]["RetryAttempts"] == 0
        assert server.successful_exchanges == 1


def test_keys_that_are_not_ours_are_not_renewed(settings_for, tmp_path):
    with FakeSts("rgw", expired_code="ExpiredToken") as server:
        session = infnminio_boto.session(**settings_for(server, cache_dir=str(tmp_path / "c")))
        session.client("s3").list_buckets()  # the session's own, refreshing keys
        keys = infnminio_boto.credentials(**settings_for(server, cache=False))
        s3 = session.client(
            "s3",
            aws_access_key_id=keys.access_key,
            aws_secret_access_key=keys.secret_key,
            aws_session_token=keys.token,
        )
        s3.list_buckets()
        server.clock_offset += 2 * 3600
        with pytest.raises(ClientError) as info:
            s3.list_buckets()
        assert info.value.response["Error"]["Code"] == "ExpiredToken"
        assert server.successful_exchanges == 2  # the session's and the explicit keys'



def test_a_bodiless_400_to_a_head_counts_as_expired_for_keys_not_just_issued(
    settings_for, tmp_path, monkeypatch
):
    import infnminio_boto.integrations.expired_keys as expired_keys

    with FakeSts("rgw", expired_code="ExpiredToken") as server:
        s3 = s3_client(server, settings_for, tmp_path, "session")
        s3.head_bucket(Bucket="data")
        server.clock_offset += 2 * 3600
        with pytest.raises(ClientError) as info:  # keys issued a moment ago: a real 400
            s3.head_bucket(Bucket="data")
        assert info.value.response["Error"]["Code"] == "400"
        assert server.successful_exchanges == 1
        later = expired_keys._clock() + 120  # the same keys two minutes on
        monkeypatch.setattr(expired_keys, "_clock", lambda: later)
        answer = s3.head_bucket(Bucket="data")
        assert answer["ResponseMetadata"]["RetryAttempts"] == 1
        assert server.successful_exchanges == 2
