"""A credentials endpoint on 127.0.0.1 that the AWS SDKs poll for renewed keys.

``infnminio-boto exec --server`` gives the command ``AWS_CONTAINER_CREDENTIALS_FULL_URI``
and ``AWS_CONTAINER_AUTHORIZATION_TOKEN`` (as aws-vault's ``--ecs-server`` does): the
SDKs of every language fetch keys there, and fetch again before they expire, so a
command that runs for hours keeps working. Each answer comes from
:func:`.fetch.fetch_credentials` with the SDKs' freshness rule, so the keys are shared
with the cache and renewed from the token file. Only requests that carry the random
bearer token given to the command are answered; it listens on loopback only.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, MutableMapping, Optional

from ..errors import InfnMinioError
from ..sts.temporary_credentials import TemporaryCredentials, format_timestamp

__all__ = ["CredentialServer", "serve", "serving", "stop_serving"]


class CredentialServer:
    """``with CredentialServer(fetch) as server:`` then give ``server.environment()``."""

    def __init__(self, fetch: Callable[[], TemporaryCredentials]) -> None:
        self.fetch = fetch  # where each answer's keys come from (may be replaced)
        self.token = secrets.token_urlsafe(32)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def environment(self) -> Dict[str, str]:
        return {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": self.url,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": self.token,
        }

    def answer(self, authorization: str) -> tuple:
        """``(status, body)`` for a request with this Authorization header."""
        if not hmac.compare_digest(authorization.encode(), self.token.encode()):
            return 403, {"Code": "AccessDenied", "Message": "wrong authorization token"}
        try:
            keys = self.fetch()
        except InfnMinioError as error:
            return 503, {"Code": type(error).__name__, "Message": str(error)}
        return 200, {
            "AccessKeyId": keys.access_key,
            "SecretAccessKey": keys.secret_key,
            "Token": keys.token,
            "Expiration": format_timestamp(keys.expiration),
        }

    def _handler(self) -> type:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # nothing of it on the command's tty
                pass

            def do_GET(self) -> None:
                status, body = outer.answer(self.headers.get("Authorization", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def __enter__(self) -> CredentialServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# This process's endpoint (one per process), for Dask sharing: see adapters/dask.py.
_lock = threading.Lock()
_server: Optional[CredentialServer] = None
# Static keys would win over the endpoint in the SDKs' credential chains.
_COMPETING = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def serve(
    fetch: Callable[[], TemporaryCredentials], environ: Optional[MutableMapping[str, str]]
) -> CredentialServer:
    """This process's credentials endpoint (one per process), announced in ``environ``.

    Its address and token go into ``environ`` as ``AWS_CONTAINER_CREDENTIALS_FULL_URI``
    and ``AWS_CONTAINER_AUTHORIZATION_TOKEN``, with the checksum settings Ceph RGW needs
    unless set; static ``AWS_*`` keys are removed from it. ``None`` changes nothing.
    """
    from ..settings.upload_checksums import VARIABLES

    global _server
    with _lock:
        if _server is None:
            _server = CredentialServer(fetch).__enter__()
        else:
            _server.fetch = fetch
        server = _server
    if environ is not None:
        for name in _COMPETING:
            environ.pop(name, None)
        environ.update(server.environment())
        for name, value in VARIABLES.items():
            environ.setdefault(name, value)
    return server


def stop_serving(environ: Optional[MutableMapping[str, str]]) -> None:
    """Stop this process's endpoint and take its variables out of ``environ``.

    Variables someone changed since :func:`serve` set them are left alone.
    """
    global _server
    with _lock:
        server, _server = _server, None
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
