"""A credentials endpoint on 127.0.0.1 that the AWS SDKs poll for renewed keys
(``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and a bearer token): ``exec --server``, Dask sharing,
``token_loader=``. Any local user can connect, so each connection is bounded
(docs/security.md, "The local credentials endpoint")."""

from __future__ import annotations

import contextlib
import errno
import hmac
import io
import json
import logging
import re
import secrets
import socket
import threading
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, Dict, List, MutableMapping, Optional, Set, Tuple

from ..compat.socketserver import ThreadingServer
from ..errors import InfnMinioError, scrub
from ..settings.aws_variables import CONTAINER, STATIC_KEYS, variables_unless_chosen
from ..sts.temporary_credentials import TemporaryCredentials, format_timestamp

__all__ = ["CredentialServer", "serve", "serving", "stop_serving"]

HEAD_SECONDS = 3.0
MAX_HEAD_BYTES = 16 * 1024
MAX_CONNECTIONS = 64
LISTEN_BACKLOG = 128

_logger = logging.getLogger(__name__)
_END_OF_HEAD = re.compile(rb"\r?\n\r?\n")
_QUOTED_CHARS = 200  # of a foreign exception's message, in an answer or a warning


def _hang_up(connection: socket.socket) -> None:
    """Wake the thread reading ``connection`` with an end of file; it closes it."""
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class _Server(ThreadingServer):
    """A threading HTTP server with at most MAX_CONNECTIONS connections, oldest idle out."""

    request_queue_size = LISTEN_BACKLOG  # read by listen() in the constructor

    def __init__(self, address: Tuple[str, int], handler: type) -> None:
        self._lock = threading.Lock()
        # Connections still sending their head (oldest first, with their deadline), and
        # those being answered; one is closed only after it left both.
        self._reading: OrderedDict[socket.socket, float] = OrderedDict()
        self._answering: Set[socket.socket] = set()
        self._closed = threading.Condition(self._lock)  # a connection was closed
        super().__init__(address, handler)

    def _make_room(self) -> bool:
        """With the lock held: close the oldest reader; False if none is left."""
        if not self._reading:
            return False
        _hang_up(self._reading.popitem(last=False)[0])
        return True

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            if len(self._reading) + len(self._answering) >= MAX_CONNECTIONS:
                if not self._make_room():
                    self.shutdown_request(request)
                    return
            self._reading[request] = time.monotonic() + HEAD_SECONDS
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread (the caller closes the connection)
            with self._lock:
                self._reading.pop(request, None)
            raise

    def get_request(self) -> Any:
        try:
            return super().get_request()
        except OSError as error:
            if error.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                with self._closed:
                    if self._make_room():  # then accept again once its reader closed it
                        self._closed.wait(0.1)
            raise

    def request_done(self, request: Any) -> None:
        with self._lock:
            self._reading.pop(request, None)
            self._answering.discard(request)
        with self._closed:
            self._closed.notify_all()

    def deadline(self, connection: socket.socket) -> Optional[float]:
        """When ``connection``'s request head is due; None if it was closed to make room."""
        with self._lock:
            return self._reading.get(connection)

    def start_answering(self, connection: socket.socket) -> bool:
        """``connection`` sent its request; False if it was closed to make room."""
        with self._lock:
            if self._reading.pop(connection, None) is None:
                return False
            self._answering.add(connection)
            return True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Not socketserver's traceback on the command's stderr: a client that vanished.
        _logger.debug("credentials endpoint: a connection failed", exc_info=True)

    def server_close(self) -> None:
        super().server_close()
        with self._lock:
            for connection in self._reading:
                _hang_up(connection)


class CredentialServer:
    """``with CredentialServer(fetch) as server:`` then give ``server.environment()``;
    ``fetch`` returns the keys to hand out (see :meth:`answer`)."""

    def __init__(self, fetch: Callable[[], TemporaryCredentials]) -> None:
        self.fetch = fetch  # where each answer's keys come from (may be replaced)
        self.token = secrets.token_urlsafe(32)
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._report_lock = threading.Lock()
        self._last_warning: Optional[Tuple[str, str]] = None
        self._served: Tuple[str, ...] = ()  # secrets to scrub from foreign messages

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def environment(self) -> Dict[str, str]:
        return {"AWS_CONTAINER_CREDENTIALS_FULL_URI": self.url,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": self.token}

    def answer(self, authorization: str) -> Tuple[int, Dict[str, str]]:
        """``(status, body)`` for a GET with this Authorization header: 403 without the
        token (``fetch`` not called), 200 with the container-credentials JSON, 503 or 500
        when ``fetch`` raised (``Code`` and ``Message``, scrubbed of secrets)."""
        # A header beyond ASCII arrives decoded as latin-1: encoded back it is not the token.
        given = authorization.encode("utf-8", "replace")
        if not hmac.compare_digest(given, self.token.encode()):
            return 403, {"Code": "AccessDenied", "Message": "wrong authorization token"}
        try:
            keys = self.fetch()
        except InfnMinioError as error:
            message = scrub(str(error), self._secrets())
            self._warn(error, message, traceback=False)
            return 503, {"Code": type(error).__name__, "Message": message}
        except Exception as error:
            quoted = scrub(str(error), self._secrets())[:_QUOTED_CHARS]
            message = f"getting the keys failed: {type(error).__name__}: {quoted}"
            self._warn(error, message, traceback=True)
            return 500, {"Code": "InternalError", "Message": message}
        with self._report_lock:
            self._last_warning = None  # the next failure is news again
            self._served = (keys.secret_key, keys.token)
        return 200, {"AccessKeyId": keys.access_key, "SecretAccessKey": keys.secret_key,
                     "Token": keys.token, "Expiration": format_timestamp(keys.expiration)}

    def _secrets(self) -> Tuple[str, ...]:
        with self._report_lock:
            return (self.token, *self._served)

    def _warn(self, error: BaseException, message: str, *, traceback: bool) -> None:
        """Log ``message``, once while the same kind (class and ``code``) repeats."""
        kind = (type(error).__name__, str(getattr(error, "code", "")))
        with self._report_lock:
            if kind == self._last_warning:
                return
            self._last_warning = kind
        from .. import _log

        _log.ensure_configured()
        if traceback and _logger.isEnabledFor(logging.INFO):  # -v
            import traceback as tb

            lines = tb.format_exception(type(error), error, error.__traceback__)
            message += "\n" + scrub("".join(lines), self._secrets()).rstrip()
        elif traceback:
            message += " (a bug: please report it, with the traceback -v shows)"
        _logger.warning("credentials endpoint: %s", message)

    def _handler(self) -> type:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            server: _Server

            def log_message(self, *args: Any) -> None:  # nothing of it on the command's tty
                pass

            def handle(self) -> None:
                """Read the request head within the bounds, then let http.server parse it."""
                deadline = self.server.deadline(self.connection)
                if deadline is None:  # closed to make room
                    return
                received = bytearray()
                while True:
                    # Bytes that came while this thread waited are read even past the deadline.
                    self.connection.settimeout(max(deadline - time.monotonic(), 0.05))
                    try:
                        chunk = self.connection.recv(4096)
                    except OSError:  # timeout, reset
                        return
                    if not chunk:
                        return
                    received += chunk
                    end = _END_OF_HEAD.search(received, 0, MAX_HEAD_BYTES)
                    if end is not None:
                        if self.server.start_answering(self.connection):
                            self.connection.settimeout(HEAD_SECONDS)  # for the answer
                            self.rfile.close()
                            self.rfile = io.BytesIO(bytes(received[: end.end()]))
                            self.handle_one_request()
                        return
                    if len(received) > MAX_HEAD_BYTES:
                        self.requestline, self.request_version, self.command = "", "HTTP/1.0", ""
                        self._send_json(431, {"Code": "RequestHeaderFieldsTooLarge"})
                        return
                    if time.monotonic() >= deadline:
                        return

            def _send_json(self, status: int, body: Dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 405:
                    self.send_header("Allow", "GET")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def do_GET(self) -> None:
                self._send_json(*outer.answer(self.headers.get("Authorization", "")))

            def _not_allowed(self) -> None:
                self._send_json(405, {"Code": "MethodNotAllowed", "Message": "only GET"})

            do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _not_allowed  # noqa: N815
            do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed  # noqa: N815

        return Handler

    def __enter__(self) -> CredentialServer:
        threading.Thread(target=self._server.serve_forever, name="infnminio-boto key server",
                         daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# This process's endpoint: it lives while anyone uses it, serving the latest user's keys.
_lock = threading.Lock()
_server: Optional[CredentialServer] = None
_users: List[Callable[[], TemporaryCredentials]] = []


def serve(fetch: Callable[[], TemporaryCredentials],
          environ: Optional[MutableMapping[str, str]]) -> CredentialServer:
    """This process's endpoint, serving ``fetch``'s keys, announced in ``environ`` (with the
    checksum settings Ceph RGW needs unless set; static ``AWS_*`` keys, which would win,
    removed; None: unchanged). Each call is a use: :func:`stop_serving` ends it."""
    global _server
    with _lock:
        if _server is None:
            _server = CredentialServer(fetch).__enter__()
        _server.fetch = fetch
        _users.append(fetch)
        server = _server
    if environ is not None:
        for name in STATIC_KEYS:
            environ.pop(name, None)
        environ.update(server.environment())
        environ.update(variables_unless_chosen(environ))
    return server


def stop_serving(environ: Optional[MutableMapping[str, str]],
                 fetch: Optional[Callable[[], TemporaryCredentials]] = None) -> None:
    """End ``fetch``'s use (None: every use). The last use stops the endpoint and takes its
    variables out of ``environ`` (unless changed since); until then the latest serves."""
    global _server
    with _lock:
        if fetch is None:
            _users.clear()
        elif fetch in _users:
            _users.remove(fetch)
        server = _server
        if server is not None and _users:
            server.fetch = _users[-1]
            return
        _server = None
    if server is None:
        return
    if environ is not None:
        for name, value in server.environment().items():
            if environ.get(name) == value:
                del environ[name]
    server.__exit__(None, None, None)


def serving() -> bool:
    """Whether this process serves shared keys (storage options then leave keys out)."""
    return _server is not None


def ours() -> Dict[str, str]:
    """The container variables that point at this process's endpoint (none: {})."""
    server = _server
    return {k: v for k, v in (server.environment() if server else {}).items() if k in CONTAINER}
