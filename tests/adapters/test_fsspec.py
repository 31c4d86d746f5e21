"""s3fs and pandas against the sandbox: storage_options and the refreshing filesystem."""

from __future__ import annotations

import pickle
import time

import fsspec
import pandas as pd
import pytest

from infnminio_boto.adapters.fsspec import InfnS3FileSystem, s3fs_filesystem, storage_options

pytestmark = pytest.mark.sandbox

FRAME = pd.DataFrame({"run": [1, 2, 3], "energy": [10.5, 11.0, 9.75]})


def test_pandas_with_storage_options(sandbox_settings, bucket):
    options = storage_options(**sandbox_settings)
    FRAME.to_parquet(f"s3://{bucket}/frame.parquet", storage_options=options)
    assert pd.read_parquet(f"s3://{bucket}/frame.parquet", storage_options=options).equals(FRAME)
    fs = fsspec.filesystem("s3", **options)
    assert fs.ls(bucket) == [f"{bucket}/frame.parquet"]


def test_refreshing_filesystem_with_pandas(sandbox_settings, bucket):
    fs = s3fs_filesystem(**sandbox_settings)
    with fs.open(f"{bucket}/frame.csv", "w") as handle:
        FRAME.to_csv(handle, index=False)
    assert pd.read_csv(fs.open(f"{bucket}/frame.csv")).equals(FRAME)
    FRAME.to_parquet(f"{bucket}/frame.parquet", filesystem=fs)
    assert pd.read_parquet(f"{bucket}/frame.parquet", filesystem=fs).equals(FRAME)


def test_the_refreshing_filesystem_creates_buckets(sandbox_settings, request):
    fs = s3fs_filesystem(**sandbox_settings)
    name = f"made-by-s3fs-{abs(hash(request.node.name)) % 10000}"
    fs.mkdir(name)
    assert fs.exists(name)
    fs.pipe(f"{name}/x.txt", b"x")
    assert fs.cat(f"{name}/x.txt") == b"x"


def test_filesystem_pickles_as_settings(sandbox_settings, bucket):
    fs = s3fs_filesystem(**sandbox_settings)
    fs.pipe(f"{bucket}/a.txt", b"abc")
    clone = pickle.loads(pickle.dumps(fs))
    assert isinstance(clone, InfnS3FileSystem)
    assert clone.cat(f"{bucket}/a.txt") == b"abc"


def test_refreshing_filesystem_survives_expiry(expiring, bucket):
    proxy, settings = expiring
    static = fsspec.filesystem("s3", skip_instance_cache=True, **storage_options(**settings))
    refreshing = s3fs_filesystem(**dict(settings, cache=False))
    refreshing.pipe(f"{bucket}/before.txt", b"before")
    static.pipe(f"{bucket}/before-static.txt", b"before")
    time.sleep(proxy.lifetime + 2)
    with pytest.raises(Exception, match="ExpiredToken|expired|Forbidden|PermissionError"):
        static.pipe(f"{bucket}/after-static.txt", b"after")
    refreshing.pipe(f"{bucket}/after.txt", b"after")
    assert refreshing.cat(f"{bucket}/after.txt") == b"after"
    assert proxy.exchanges >= 3
