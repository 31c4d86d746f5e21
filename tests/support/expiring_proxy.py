"""A pass-through proxy in front of the real RGW whose credentials expire in seconds.

RGW will not issue credentials shorter than 900 s, too long for a test. This proxy
forwards every request to RGW unchanged (SigV4 signatures stay valid: the Host header is
passed as signed), rewrites the ``Expiration`` of AssumeRoleWithWebIdentity answers to
``lifetime`` seconds from now, and answers S3 requests signed with keys past that
moment 400 ``ExpiredToken``, as AWS does. So a client that does not refresh fails after
``lifetime`` seconds, exactly as it would against a server with short credentials.

It can also refuse keys the client still considers valid, as a store whose clock has
moved on does: :meth:`ExpiringProxy.consider_expired` marks keys expired now (their
``Expiration`` as the client read it unchanged), ``expire_on_issue`` does so for every
key as it is issued. ``refusal`` is how: ``ExpiredToken`` (400, newer Ceph RGW releases
and AWS) or ``AccessDenied`` (403 with an empty message and, for HEAD, no body: Ceph
RGW 16, measured on the sandbox).

Given the sandbox's TLS files it speaks https on both sides, with the sandbox's own
certificate (issued for 127.0.0.1), so clients reach it exactly as they reach RGW.
"""

from __future__ import annotations

import http.client
import re
import ssl
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Optional
from urllib.parse import parse_qs, urlsplit

from support import secret_registry

_EXPIRATION = re.compile(rb"<Expiration>[^<]*</Expiration>")
_ACCESS_KEY = re.compile(rb"<AccessKeyId>([^<]*)</AccessKeyId>")
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "expect",
}


class ExpiringProxy:
    def __init__(
        self,
        upstream: str,
        lifetime: Optional[float],
        tls=None,
        refusal: str = "ExpiredToken",
    ) -> None:
        """``lifetime`` None leaves RGW's Expiration as it is (keys expire when RGW
        says, or when :meth:`consider_expired` says)."""
        assert refusal in ("ExpiredToken", "AccessDenied")
        self.sts_durations: list = []  # the DurationSeconds of every exchange forwarded
        self.refusal = refusal
        self.expire_on_issue = False
        self.issued_keys: list = []  # access keys, in the order of issue
        parts = urlsplit(upstream)
        self.tls = tls  # the sandbox's TlsFiles, or None for plain http
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port
        self.lifetime = lifetime
        self.expiry: Dict[str, float] = {}  # access key -> epoch seconds
        self.exchanges = 0
        self.expired_rejections = 0
        self.forwarded = 0
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        assert self._server is not None
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def upstream_connection(self) -> http.client.HTTPConnection:
        if self.tls is None:
            return http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        context = ssl.create_default_context(cafile=str(self.tls.ca))
        return http.client.HTTPSConnection(
            self.upstream_host, self.upstream_port, timeout=60, context=context
        )

    def __enter__(self) -> ExpiringProxy:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(self.tls.certificate), str(self.tls.private_key))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def rewrite_sts(self, body: bytes) -> bytes:
        match = _ACCESS_KEY.search(body)
        if not match:
            return body
        for tag in (rb"SecretAccessKey", rb"SessionToken"):
            found = re.search(rb"<" + tag + rb">([^<]*)</" + tag + rb">", body)
            if found:
                secret_registry.register(found.group(1).decode())
        lifetime = self.lifetime if self.lifetime is not None else 365 * 86400.0
        deadline = time.time() + lifetime
        with self._lock:
            self.exchanges += 1
            self.issued_keys.append(match.group(1).decode())
            self.expiry[match.group(1).decode()] = (
                time.time() if self.expire_on_issue else deadline
            )
        if self.lifetime is None:
            return body
        stamp = datetime.fromtimestamp(deadline, tz=timezone.utc) + timedelta(microseconds=0)
        text = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        return _EXPIRATION.sub(b"<Expiration>" + text + b"</Expiration>", body)

    def consider_expired(self, access_key: Optional[str] = None) -> None:
        """Refuse ``access_key`` (default: every key issued so far) from now on."""
        with self._lock:
            for key in [access_key] if access_key else list(self.expiry):
                self.expiry[key] = time.time()

    def expired(self, access_key: Optional[str]) -> bool:
        if not access_key:
            return False
        deadline = self.expiry.get(access_key)
        return deadline is not None and time.time() >= deadline


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _handler(proxy: ExpiringProxy) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _access_key(self) -> Optional[str]:
            match = _CREDENTIAL.search(self.headers.get("Authorization", ""))
            if match:
                return match.group(1)
            query = parse_qs(urlsplit(self.path).query)
            credential = (query.get("X-Amz-Credential") or [""])[0]
            return credential.split("/")[0] or None

        def _reply(self, status: int, headers: Dict[str, str], body: bytes) -> None:
            self.send_response(status)
            length = str(len(body))
            for name, value in headers.items():
                if name.lower() == "content-length":
                    if self.command == "HEAD":
                        length = value  # a HEAD answer announces the object's size
                elif name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", length)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _forward(self) -> None:
            body = _read_body(self)
            is_sts = (
                self.command == "POST"
                and urlsplit(self.path).path == "/"
                and b"AssumeRoleWithWebIdentity" in body
            )
            if is_sts:
                form = parse_qs(body.decode("utf-8", "replace"))
                with proxy._lock:
                    proxy.sts_durations.append(int((form.get("DurationSeconds") or ["0"])[0]))
            if not is_sts and proxy.expired(self._access_key()):
                with proxy._lock:
                    proxy.expired_rejections += 1
                if proxy.refusal == "AccessDenied":
                    body = (
                        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
                        b"<Message></Message><RequestId>tx000-proxy</RequestId></Error>"
                    )
                    self._reply(403, {"Content-Type": "application/xml"}, body)
                    return
                self._reply(
                    400,
                    {"Content-Type": "application/xml"},
                    (
                        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>ExpiredToken</Code>'
                        b"<Message>The provided token has expired.</Message></Error>"
                    ),
                )
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                headers["Content-Length"] = str(len(body))
            upstream = proxy.upstream_connection()
            try:
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                answer_headers = dict(answer.getheaders())
                status = answer.status
            finally:
                upstream.close()
            with proxy._lock:
                proxy.forwarded += 1
            if is_sts and status == 200:
                payload = proxy.rewrite_sts(payload)
            self._reply(status, answer_headers, payload)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward  # noqa: N815

    return Handler
