"""An STS whose answer never ends: the error names the deadline, not a refusal."""

# FOUND BY REVIEW

from __future__ import annotations

import socket
import threading
import time

import pytest
from support.jwt_helpers import make_jwt

from infnminio_boto import TransportError
from infnminio_boto.keys.fetch import fetch_credentials
from infnminio_boto.settings import Settings


@pytest.fixture
def dripping_sts():
    """Answers 200 with a long Content-Length, then one byte every 0.2 s."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def drip(connection):
        try:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n<A")
            while not stop.is_set():
                connection.sendall(b"A")
                time.sleep(0.2)
        except OSError:
            pass
        finally:
            connection.close()

    def accept():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=drip, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    server.close()


# FOUND BY REVIEW
def test_an_answer_still_dripping_at_the_deadline_is_a_transport_error(dripping_sts):
    """README (Errors): TransportError when there is "no whole answer within the connect
    + read timeouts". A server that drips its body past the deadline gets StsError
    "refused AssumeRoleWithWebIdentity (HTTP 200): its answer is not XML" instead: the
    body cut by the deadline is parsed as if it were the whole answer."""
    settings = Settings.resolve(
        endpoint=dripping_sts, cache=False, timeout=1, max_attempts=1, environ={}
    )
    with pytest.raises(TransportError, match="no complete answer"):
        fetch_credentials(settings, token=make_jwt())
