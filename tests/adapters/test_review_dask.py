"""A scheduler reached through a loopback tunnel still sends the keys over plain TCP."""

# FOUND BY REVIEW

from __future__ import annotations

import socket
import threading

import pytest
from distributed import Client, LocalCluster

import infnminio_boto
from infnminio_boto.dask import share_credentials
from infnminio_boto.integrations import key_server


def outward_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.123", 9))
        except OSError:
            return "127.0.0.1"
        return probe.getsockname()[0]


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def tunnel(host: str, port: int) -> int:
    """What `ssh -L PORT:host:port` gives: a loopback port forwarding to host:port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def accept() -> None:
        while True:
            try:
                near, _ = listener.accept()
            except OSError:
                return
            far = socket.create_connection((host, port))
            for pair in ((near, far), (far, near)):
                threading.Thread(target=_pipe, args=pair, daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1]


# FOUND BY REVIEW
def test_keys_never_go_over_plain_tcp_to_a_remote_scheduler_reached_through_a_tunnel(
    rgw_sts, token_file
):
    """check_comm trusts any scheduler address on loopback ("its workers are on this
    machine too"). With the usual `ssh -L 8786:scheduler:8786` to a cluster (HPC,
    dask-jobqueue), the client sees tcp://127.0.0.1:8786 while the scheduler and its
    workers talk plain TCP across the network: the keys go out unencrypted. The
    scheduler knows its own address (client.scheduler_info()["address"])."""
    address = outward_address()
    if address.startswith("127."):
        pytest.skip("this machine has no network address to run a scheduler on")
    with LocalCluster(
        n_workers=1, processes=False, protocol="tcp", host=address, dashboard_address=None
    ) as cluster:
        port = int(cluster.scheduler_address.rsplit(":", 1)[1])
        local = tunnel(address, port)
        with Client(f"tcp://127.0.0.1:{local}") as client:
            assert client.scheduler_info()["address"].startswith(f"tcp://{address}:")
            settings = dict(
                endpoint=rgw_sts.url, role_arn="arn:r", token_file=token_file, cache=False
            )
            try:
                with pytest.raises(infnminio_boto.ConfigurationError):
                    share_credentials(client, environ=None, **settings).stop()
            finally:
                key_server.stop_serving(None)
