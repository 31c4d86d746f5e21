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
from typing import Any, Callable, Dict

from .errors import InfnMinioError
from .temporary_credentials import TemporaryCredentials, format_timestamp

__all__ = ["CredentialServer"]


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
