"""The local credentials endpoint against strangers: idle, dripping, malformed, hostile."""

from __future__ import annotations

import json
import logging
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from botocore.utils import ContainerMetadataFetcher
from support import secret_registry
from support.jwt_helpers import make_jwt

from infnminio_boto.errors import StsError
from infnminio_boto.integrations.key_server import CredentialServer
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials

# Only keeps a broken server from hanging the suite; never a measure of speed.
HANG_GUARD = 30.0


def _keys() -> TemporaryCredentials:
    keys = TemporaryCredentials(
        "KSAK" + "0" * 12,
        "kssecret-" + "s" * 24,
        "kssession-" + "t" * 40,
        datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1),
    )
    secret_registry.register(keys.secret_key, keys.token)
    return keys


def _port(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


def _exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` raw and read the whole answer (the server closes after one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=HANG_GUARD) as connection:
        connection.sendall(request)
        answer = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return answer
            answer += chunk


def _closed_by_server(connection: socket.socket, drip: bytes = b"") -> bool:
    """Wait for the server to close ``connection``, sending ``drip`` a byte at a time."""
    give_up = time.monotonic() + HANG_GUARD
    sent = 0
    while time.monotonic() < give_up:
        readable, _, _ = select.select([connection], [], [], 0.2)
        if readable:
            try:
                return connection.recv(4096) == b""
            except ConnectionResetError:
                return True
        if drip:
            try:
                connection.send(drip[sent % len(drip) : sent % len(drip) + 1])
            except OSError:  # the server closed it: EPIPE or a reset
                return True
            sent += 1
    return False


# The server under attack in its own process, as in `exec --server` or a Dask worker,
# with few file descriptors (the usual default is 1024; fewer keeps the test small).
SERVER = """
import resource, sys
from datetime import datetime, timedelta, timezone
limit = int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from infnminio_boto.integrations.key_server import CredentialServer
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials
keys = TemporaryCredentials(*sys.argv[1:4], datetime.now(timezone.utc) + timedelta(hours=1))
with CredentialServer(lambda: keys) as server:
    print(server.url, server.token, flush=True)
    sys.stdin.read()
"""


class Attacker:
    """A local user opening connections that send nothing or drip a byte at a time.

    300 in a row (more than the server has descriptors), then one every 5 ms for as long
    as it runs (more than the server would time out in 3 s), never closing any.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections: list = []
        self.opened = threading.Event()
        self.stop = threading.Event()
        self._threads = [threading.Thread(target=self._open, daemon=True)]

    def _connect(self) -> None:
        connection = socket.socket()
        connection.setblocking(False)  # a full backlog holds it back, not the attacker
        connection.connect_ex(("127.0.0.1", self.port))
        self.connections.append(connection)

    def _open(self) -> None:
        for _ in range(300):  # each one accepted before the next
            try:
                self.connections.append(socket.create_connection(("127.0.0.1", self.port), 2))
            except OSError:
                break  # the server accepts no more
        try:
            dripping = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        except OSError:
            pass  # the server accepts no more
        else:
            self.connections.append(dripping)
            self._threads.append(threading.Thread(target=self._drip, args=(dripping,)))
            self._threads[-1].start()
        self.opened.set()
        while not self.stop.wait(0.005):
            self._connect()

    def _drip(self, connection: socket.socket) -> None:
        request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: 1\r\n" * 1000
        for byte in request:
            if self.stop.wait(0.2):
                return
            try:
                connection.send(bytes([byte]))
            except OSError:
                return

    def __enter__(self) -> Attacker:
        self._threads[0].start()
        assert self.opened.wait(HANG_GUARD)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(HANG_GUARD)
        for connection in self.connections:
            connection.close()


# 256: the bound on connections comes first; 48: the descriptors run out first.
@pytest.mark.parametrize("descriptors", [256, 48])
def test_idle_and_dripping_connections_cannot_keep_the_sdk_from_its_keys(descriptors):
    keys = _keys()
    arguments = [keys.access_key, keys.secret_key, keys.token, str(descriptors)]
    server = subprocess.Popen(
        [sys.executable, "-I", "-c", SERVER, *arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url, token = server.stdout.readline().split()
        with Attacker(_port(url)):
            # What the AWS SDK for Python does: 3 attempts of 2 s.
            answer = ContainerMetadataFetcher().retrieve_full_uri(
                url, headers={"Authorization": token}
            )
        assert answer["AccessKeyId"] == keys.access_key
        assert answer["SecretAccessKey"] == keys.secret_key
        assert answer["Token"] == keys.token
    finally:
        try:
            _, errors = server.communicate("", timeout=HANG_GUARD)
        except subprocess.TimeoutExpired:
            server.kill()
            _, errors = server.communicate()
    assert server.returncode == 0 and errors == ""


def test_a_connection_that_sends_nothing_or_drips_is_closed():
    with CredentialServer(_keys) as server:
        port = _port(server.url)
        idle = socket.create_connection(("127.0.0.1", port))
        dripping = socket.create_connection(("127.0.0.1", port))
        try:
            with ThreadPoolExecutor(1) as pool:
                drip = b"GET / HTTP/1.1\r\nX-Slow: 1\r\n" * 100
                dripped = pool.submit(_closed_by_server, dripping, drip)
                assert _closed_by_server(idle)
                assert dripped.result()
        finally:
            idle.close()
            dripping.close()


def test_only_a_get_with_the_token_gets_keys(capfd):
    def must_not_be_called() -> TemporaryCredentials:
        raise AssertionError("keys fetched for a stranger")

    with CredentialServer(must_not_be_called) as server:
        port = _port(server.url)
        # Bytes beyond ASCII in the header: refused, not an exception.
        non_ascii = _exchange(port, b"GET / HTTP/1.1\r\nAuthorization: \xff\xfe\xc3\xa9\r\n\r\n")
        assert non_ascii.startswith(b"HTTP/1.0 403 ")
        assert _exchange(port, b"GET / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.0 403 ")
        token = server.token.encode()
        post = _exchange(port, b"POST / HTTP/1.1\r\nAuthorization: " + token + b"\r\n\r\n")
        assert post.startswith(b"HTTP/1.0 405 ") and b"\r\nAllow: GET\r\n" in post
        huge = b"GET / HTTP/1.1\r\n" + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n"
        assert _exchange(port, huge).startswith(b"HTTP/1.0 431 ")
    assert capfd.readouterr().err == ""


def test_a_client_that_resets_leaves_nothing_on_stderr(capfd):
    with CredentialServer(_keys) as server:
        connection = socket.create_connection(("127.0.0.1", _port(server.url)))
        connection.sendall(b"GET / HTTP/1.1\r\nHost: 127")
        # Linger 0: close() sends a reset instead of an end of file.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
        # The answer to the next request comes after the reset one was handled.
        answer = _exchange(_port(server.url), b"GET / HTTP/1.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.0 403 ")
    assert capfd.readouterr().err == ""


@pytest.fixture
def endpoint_log():
    """The endpoint's log records, at the level ``-v`` sets."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("infnminio_boto.integrations.key_server")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_failing_fetch_is_answered_and_logged_once(endpoint_log):
    jwt = make_jwt()
    failures = [RuntimeError(f"cannot read {jwt}"), StsError("The STS refused", code="X")]

    def fetch() -> TemporaryCredentials:
        raise failures[0]

    with CredentialServer(fetch) as server:
        port = _port(server.url)
        request = b"GET / HTTP/1.1\r\nAuthorization: " + server.token.encode() + b"\r\n\r\n"
        answers = [_exchange(port, request) for _ in range(3)]
        failures.pop(0)
        answers.append(_exchange(port, request))
    head, _, body = answers[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 500 ")
    message = json.loads(body)["Message"]
    assert "RuntimeError" in message and "cannot read <jwt>" in message
    head, _, body = answers[3].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 503 ")
    assert json.loads(body) == {"Code": "StsError", "Message": "The STS refused"}
    # One warning per kind of failure; with -v the bug's comes with its traceback.
    messages = [record.getMessage() for record in endpoint_log]
    assert len(messages) == 2 and all(r.levelno == logging.WARNING for r in endpoint_log)
    assert "Traceback (most recent call last)" in messages[0] and jwt not in messages[0]
    assert "Traceback" not in messages[1]
