"""obstore against the sandbox: put, get, a multipart put, a list, and past an expiry."""

from __future__ import annotations

import time

import obstore as obs
import pytest

from infnminio_boto.adapters.obstore import obstore_store

pytestmark = pytest.mark.sandbox


def test_put_get_multipart_and_list(sandbox_settings, bucket, big_file):
    store = obstore_store(bucket, **sandbox_settings)
    obs.put(store, "small.txt", b"hello obstore")
    assert obs.get(store, "small.txt").bytes().to_bytes() == b"hello obstore"
    with open(big_file, "rb") as handle:
        data = handle.read()
    obs.put(store, "big.bin", data, use_multipart=True, chunk_size=5 * 1024 * 1024)
    assert obs.get(store, "big.bin").bytes().to_bytes() == data
    listed = sorted(item["path"] for item in obs.list(store).collect())
    assert listed == ["big.bin", "small.txt"]


def test_the_store_keeps_working_past_an_expiry(expiring, bucket):
    from obstore.store import S3Store

    import infnminio_boto

    proxy, settings = expiring
    refreshing = obstore_store(bucket, **dict(settings, cache=False))
    keys = infnminio_boto.credentials(**settings)
    static = S3Store(
        bucket,
        endpoint=proxy.url,
        region="us-east-1",
        virtual_hosted_style_request=False,
        access_key_id=keys.access_key,
        secret_access_key=keys.secret_key,
        token=keys.token,
        client_options={"root_certificate": open(settings["ca_bundle"]).read()},
        retry_config={"max_retries": 0},
    )
    obs.put(refreshing, "before.txt", b"before")
    obs.put(static, "before-static.txt", b"before")
    time.sleep(proxy.lifetime + 2)
    with pytest.raises(Exception, match="(?i)expired|400"):
        obs.put(static, "after-static.txt", b"after")
    obs.put(refreshing, "after.txt", b"after")
    assert obs.get(refreshing, "after.txt").bytes().to_bytes() == b"after"
    assert proxy.exchanges >= 3
