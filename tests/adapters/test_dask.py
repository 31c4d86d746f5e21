"""Dask workers on "other machines": no token file, no shared cache, keys from the client.

The workers are LocalCluster processes started with an environment that makes them
another machine: INFNMINIO_TOKEN_FILE points at nothing, HOME and the cache are their
own. Behind the expiring proxy the keys live 12 seconds, so a run of 40 seconds spans
several lifetimes.
"""

from __future__ import annotations

import time

import dask.dataframe as dd
import pandas as pd
import pyarrow.parquet as pq
import pytest
from distributed import Client, LocalCluster

import infnminio_boto
from infnminio_boto.dask import share_credentials
from infnminio_boto.integrations import key_server

pytestmark = pytest.mark.sandbox


def other_machine(tmp_path) -> dict:
    home = tmp_path / "worker-home"
    home.mkdir()
    return {
        "INFNMINIO_TOKEN_FILE": str(tmp_path / "there-is-no-token-on-this-node"),
        "INFNMINIO_CACHE_DIR": str(tmp_path / "worker-cache"),
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
    }


def frame(part: int) -> pd.DataFrame:
    return pd.DataFrame({"part": [part] * 50, "value": range(part * 50, part * 50 + 50)})


def read_rows(path: str, filesystem) -> int:
    return pq.read_table(path, filesystem=filesystem).num_rows


def test_workers_keep_reading_and_writing_for_several_key_lifetimes(expiring, bucket, tmp_path):
    proxy, settings = expiring
    settings = dict(settings, cache=False)  # every renewal of the client is an exchange
    with LocalCluster(
        n_workers=3,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env=other_machine(tmp_path),
    ) as cluster:
        with Client(cluster) as client:
            sharing = share_credentials(client, **settings)
            s3fs = infnminio_boto.s3fs_filesystem(**settings)
            arrow = infnminio_boto.s3_filesystem(environ=None, **settings)
            options = infnminio_boto.storage_options(**settings)
            assert "key" not in options  # while sharing, every process reads the endpoint
            dd.from_pandas(frame(0), npartitions=2).to_parquet(
                f"s3://{bucket}/data/", storage_options=options
            )
            failures, rounds, joined = [], 0, None
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                rounds += 1
                try:
                    total = dd.read_parquet(f"{bucket}/data/", filesystem=s3fs)["value"].sum()
                    assert total.compute() == sum(range(50))
                    dd.from_pandas(frame(rounds), npartitions=2).to_parquet(
                        f"s3://{bucket}/round-{rounds}/", storage_options=options
                    )
                    paths = s3fs.glob(f"{bucket}/round-{rounds}/*.parquet")
                    rows = client.gather(client.map(read_rows, paths, filesystem=arrow))
                    assert sum(rows) == 50
                except Exception as error:  # collected: none may fail
                    failures.append(repr(error)[:300])
                if joined is None and time.monotonic() > deadline - 25:
                    joined = join_a_worker(client, cluster)
                    # a worker that joins mid-run reads at once
                    read = client.submit(
                        read_rows, paths[0], filesystem=arrow, workers=[joined], pure=False
                    )
                    assert read.result(timeout=60) == 25
                time.sleep(1)
            assert failures == [] and rounds >= 10
            assert sharing.renewals >= 3  # several lifetimes
            # one exchange per renewal, all the client's (the workers have no token)
            assert proxy.exchanges == sharing.renewals
        # The client closed: nobody renews, this process stops serving the keys (its
        # storage options carry keys again), and past the keys' expiry a worker says why.
        sharing._thread.join(timeout=10)
        assert not key_server.serving()
        assert "key" in infnminio_boto.storage_options(**settings)
        time.sleep(proxy.lifetime + 2)
        with Client(cluster) as bystander:
            late = bystander.submit(read_rows, paths[0], filesystem=s3fs, pure=False)
            with pytest.raises(infnminio_boto.SharedKeysExpiredError, match="Dask client"):
                late.result(timeout=120)


def join_a_worker(client: Client, cluster: LocalCluster) -> str:
    before = set(client.scheduler_info()["workers"])
    cluster.scale(len(before) + 1)
    client.wait_for_workers(len(before) + 1, timeout=60)
    [joined] = set(client.scheduler_info()["workers"]) - before
    return joined


def outward_address() -> str:
    """This machine's address on its network (no packet is sent by a UDP connect)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.123", 9))
        except OSError:
            return "127.0.0.1"
        return probe.getsockname()[0]


@pytest.fixture
def network_address() -> str:
    address = outward_address()
    if address.startswith("127."):
        pytest.skip("this machine has no network address to run a scheduler on")
    return address


def test_keys_never_go_to_a_remote_scheduler_over_plain_tcp(
    sandbox_settings, network_address, tmp_path
):
    with LocalCluster(
        n_workers=1, processes=True, host=network_address, dashboard_address=None
    ) as cluster, Client(cluster) as client:
        assert client.scheduler.address.startswith(f"tcp://{network_address}:")
        with pytest.raises(infnminio_boto.ConfigurationError, match="Security.temporary"):
            share_credentials(client, environ=None, **sandbox_settings)
        assert not key_server.serving()  # nothing was set up, nothing sent


def test_over_tls_the_keys_reach_a_remote_schedulers_workers(
    sandbox_settings, network_address, bucket
):
    from distributed.security import Security

    security = Security.temporary()
    with LocalCluster(
        n_workers=1,
        processes=True,
        host=network_address,
        protocol="tls",
        security=security,
        dashboard_address=None,
    ) as cluster, Client(cluster, security=security) as client:
        assert client.scheduler.address.startswith("tls://")
        with share_credentials(client, environ=None, **sandbox_settings):
            fs = infnminio_boto.s3fs_filesystem(**sandbox_settings)
            fs.pipe(f"{bucket}/tls.txt", b"over tls")
            got = client.submit(lambda: fs.cat(f"{bucket}/tls.txt"), pure=False).result(60)
            assert got == b"over tls"


def write_marker(path: str, filesystem) -> str:
    filesystem.pipe(path, b"from a worker")
    return path


def test_workers_with_read_only_keys_read_and_their_writes_name_the_policy(
    sandbox_settings, bucket, tmp_path
):
    """share_credentials(client, policy="read-only"): the workers (another machine, no
    token) read; a write from one fails naming the policy; the client keeps full keys."""
    s3fs = infnminio_boto.s3fs_filesystem(**sandbox_settings)
    s3fs.pipe(f"{bucket}/input/part.parquet", frame(0).to_parquet())
    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env=other_machine(tmp_path),
    ) as cluster, Client(cluster) as client:
        with share_credentials(client, policy="read-only", **sandbox_settings):
            options = infnminio_boto.storage_options(**sandbox_settings)
            total = dd.read_parquet(f"s3://{bucket}/input/", storage_options=options)
            assert total["value"].sum().compute() == sum(range(50))
            assert dd.read_parquet(f"{bucket}/input/", filesystem=s3fs)["value"].sum().compute()
            attempt = client.submit(write_marker, f"{bucket}/worker.txt", s3fs, pure=False)
            with pytest.raises(PermissionError, match="session policy read-only") as raised:
                attempt.result(timeout=120)
            assert "Dask client shared keys made with it" in str(raised.value)
            # the client's own calls keep full keys, through its endpoint too
            assert write_marker(f"{bucket}/client.txt", s3fs) == f"{bucket}/client.txt"
            keyless = infnminio_boto.storage_options(**sandbox_settings)
            frame(1).to_parquet(f"s3://{bucket}/client.parquet", storage_options=keyless)
