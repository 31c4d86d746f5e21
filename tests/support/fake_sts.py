"""A local STS (and tiny S3) server speaking the MinIO, Ceph RGW and AWS dialects.

It exists for what a real server cannot do on demand: 5xx answers, timeouts, torn XML,
HTML pages, MinIO's error layout, credentials that live a few seconds. The wire formats
are those measured on the servers: MinIO (STS namespace, ``ErrorResponse``, whole-second
expirations), Ceph RGW (no namespace, S3-style ``Error``, nanosecond expirations, an
empty 403 for every token problem) and AWS. Real exchanges are tested against Ceph RGW
in tests/sandbox.

It checks requests as the real servers do (unsigned form POST, required parameters,
duration limits, an unexpired token, MinIO's handling of RoleArn) but does not verify
JWT signatures. Given the sandbox's TLS files it serves https.

Its clock is ``clock() + clock_offset`` (:meth:`FakeSts.now`): the ``Date`` header of
every answer, the ``Expiration`` it issues and its S3 side's expiry check all use it,
as a server whose clock differs from the client's would (the token's ``exp`` is judged
on the real clock, the issuer's). Its S3 side does not check the request's signing time
(RGW refuses more than 15 minutes of skew; tests of larger offsets are about expiry).
"""

from __future__ import annotations

import base64
import email.utils
import io
import json
import secrets
import socket
import ssl
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Deque, Dict, FrozenSet, List, Optional, Tuple
from urllib.parse import parse_qs

from support import secret_registry

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


@dataclass
class Fault:
    """A scripted answer for the next STS request.

    ``delay`` seconds pass before anything is sent; ``status``/``body`` replace the
    normal answer when set, ``headers`` are added to it (``Retry-After``...); ``close``
    drops the connection without an answer. ``drip`` sends the answer (status line,
    headers and body) one byte every ``drip`` seconds, as a server or proxy that holds
    the connection open does. ``echo`` answers an error whose every server-supplied
    string (Code, Message, RequestId, the ``x-amz-request-id`` header and, for a 3xx,
    ``Location``) quotes the token that was sent, with terminal control sequences, as
    a server or proxy that echoes the request does.
    """

    status: Optional[int] = None
    body: Optional[bytes] = None
    delay: float = 0.0
    close: bool = False
    content_type: str = "text/xml"
    headers: Dict[str, str] = field(default_factory=dict)
    drip: float = 0.0
    echo: bool = False


@dataclass
class Issued:
    access_key: str
    secret_key: str
    session_token: str
    expiration: datetime


@dataclass
class Recorded:
    form: Dict[str, str]
    headers: Dict[str, str]
    at: float


def _timestamp(moment: datetime, dialect: str) -> str:
    if dialect == "rgw":
        # RGW prints nanoseconds: Python's fromisoformat before 3.11 chokes on it.
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}123Z"
    if dialect == "aws":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def success_xml(issued: Issued, dialect: str) -> bytes:
    expiration = _timestamp(issued.expiration, dialect)
    creds = (
        f"<Credentials><AccessKeyId>{issued.access_key}</AccessKeyId>"
        f"<SecretAccessKey>{issued.secret_key}</SecretAccessKey>"
        f"<SessionToken>{issued.session_token}</SessionToken>"
        f"<Expiration>{expiration}</Expiration></Credentials>"
    )
    if dialect == "rgw":
        return (
            "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
            "<SubjectFromWebIdentityToken>sub</SubjectFromWebIdentityToken>"
            "<Audience>object</Audience><AssumedRoleUser><Arn>arn:aws:sts:::assumed-role/IAMaccess/s"
            "</Arn><AssumeRoleId>x</AssumeRoleId></AssumedRoleUser>"
            f"{creds}<Provider>localhost</Provider></AssumeRoleWithWebIdentityResult>"
            "</AssumeRoleWithWebIdentityResponse>"
        ).encode()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<AssumeRoleWithWebIdentityResponse xmlns="{STS_NS}">'
        "<AssumeRoleWithWebIdentityResult><AssumedRoleUser><Arn></Arn><AssumeRoleId></AssumeRoleId>"
        f"</AssumedRoleUser>{creds}<SubjectFromWebIdentityToken>sub</SubjectFromWebIdentityToken>"
        "</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>17A2C1B4D39E3C5B</RequestId>"
        "</ResponseMetadata></AssumeRoleWithWebIdentityResponse>"
    ).encode()


def rgw_error_xml(code: str, message: str = "") -> bytes:
    request_id = f"tx00000{secrets.token_hex(8)}-default"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}'
        f"</Message><RequestId>{request_id}</RequestId><HostId>4ad2-default-default</HostId></Error>"
    ).encode()


def minio_error_xml(code: str, message: str, type_: str = "Sender") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{STS_NS}"><Error>'
        f"<Type>{type_}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>17A2C1B4D39E3C5B</RequestId></ErrorResponse>"
    ).encode()


def aws_error_xml(code: str, message: str) -> bytes:
    return (
        f'<ErrorResponse xmlns="{STS_NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7"
        "</RequestId></ErrorResponse>"
    ).encode()


# Control sequences a hostile answer may carry. XML 1.0 refuses C0 characters (ESC
# included) even as references, so the document carries C1 ones (CSI U+009B, which
# 8-bit terminals obey like ESC [), DEL and a right-to-left override; the headers carry
# ESC sequences themselves.
XML_ESCAPES = ("\u009b2J", "\u009b31m", "\x7f", "\u202e")
HEADER_ESCAPES = ("\x1b[2J", "\x1b]0;pwned\x07", "\x1b[31m")


def echo_error(token: str, status: int) -> Tuple[bytes, Dict[str, str]]:
    """An error answer that quotes ``token`` in every string it holds, with escapes."""
    csi, red, delete, rtl = XML_ESCAPES
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{STS_NS}"><Error>'
        f"<Type>Sender</Type><Code>{csi}{red}Bad{token}</Code>"
        f"<Message>{rtl}you sent WebIdentityToken={token}{delete}</Message></Error>"
        f"<RequestId>{red}{token}</RequestId></ErrorResponse>"
    ).encode()
    clear, title, color = HEADER_ESCAPES
    headers = {"x-amz-request-id": f"{clear}{title}{token}{color}"}
    if 300 <= status < 400:
        headers["Location"] = f"https://elsewhere.example/{color}?WebIdentityToken={token}"
    return body, headers


# MinIO's RoleArn handling (minio/minio cmd/sts-handlers.go AssumeRoleWithJWT,
# cmd/iam.go GetRolePolicy, internal/arn/arn.go Parse, internal/config/identity/openid
# jwt.go Validate; read at 7aac2a2c, 2026-02). A RoleArn that names no role is
# ignored when a claim-based provider is configured, and refused otherwise with 400
# InvalidParameterValue "Error processing RoleArn parameter: RoleARN <arn> is not
# defined." (or "... RoleARN parse err: <why>" for an ARN that is not arn:minio:iam);
# no RoleArn on a server without a claim-based provider means MinIO's internal dummy
# role, refused with "Role arn:minio:iam:::role/dummy-internal does not exist".
MINIO_DUMMY_ROLE = "arn:minio:iam:::role/dummy-internal"


def minio_role_problem(
    role_arn: Optional[str], roles: FrozenSet[str], claim_based: bool
) -> Optional[str]:
    """MinIO's message refusing ``role_arn`` (None: no RoleArn sent), or None if accepted."""
    if role_arn:
        if role_arn in roles:
            return None
        parts = role_arn.split(":")
        why = None
        if len(parts) != 6 or parts[0] != "arn":
            why = "invalid ARN string format"
        elif parts[1] != "minio":
            why = "invalid ARN - bad partition field"
        elif parts[2] != "iam":
            why = "invalid ARN - bad service field"
        elif parts[4] != "":
            why = "invalid ARN - unsupported account-id field"
        if claim_based:
            return None
        if why is not None:
            return f"Error processing RoleArn parameter: RoleARN parse err: {why}"
        return f"Error processing RoleArn parameter: RoleARN {role_arn} is not defined."
    if claim_based:
        return None
    return f"Role {MINIO_DUMMY_ROLE} does not exist"


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    # Read by listen() in the constructor: the old library's 64 simultaneous exchanges
    # must queue, not be refused as the default backlog of 5 would.
    request_queue_size = 256


class FakeSts:
    """Start with ``with FakeSts() as sts:``; ``sts.url`` is the endpoint."""

    def __init__(
        self,
        dialect: str = "rgw",
        *,
        credential_lifetime: Optional[float] = None,
        max_duration: int = 3600,
        exchange_delay: float = 0.0,
        port: int = 0,
        minio_roles: Tuple[str, ...] = (),
        minio_claim_based: bool = True,
        tls: Any = None,
        clock_offset: float = 0.0,
        clock: Callable[[], float] = time.time,
        expired_code: str = "AccessDenied",
    ) -> None:
        """``minio_roles`` are the role ARNs a MinIO server knows (its role-policy
        providers); ``minio_claim_based`` whether it also has a claim-based provider
        (INFN's MinIO has). ``tls`` is the sandbox's ``TlsFiles``: serve https.
        ``clock_offset`` (seconds) puts the server's clock ahead of ``clock`` (negative:
        behind). ``expired_code`` is the S3 side's answer to expired keys:
        ``AccessDenied`` (403, Ceph RGW 16) or ``ExpiredToken`` (400, newer RGW, AWS)."""
        assert dialect in ("rgw", "minio", "aws")
        self.minio_roles = frozenset(minio_roles)
        self.minio_claim_based = minio_claim_based
        self.tls = tls
        self.dialect = dialect
        self.credential_lifetime = credential_lifetime
        self.max_duration = max_duration
        self.exchange_delay = exchange_delay
        self.port = port
        self.faults: Deque[Fault] = deque()
        self.requests: List[Recorded] = []
        self.issued: Dict[str, Issued] = {}
        self.s3_requests: List[Dict[str, str]] = []
        self.s3_failures = 0
        self.s3_deny = False  # answer every S3 request 403 AccessDenied
        self.clock_offset = clock_offset
        # A Date header this far off the server's own clock (a proxy rewriting it).
        self.date_offset = 0.0
        # Refuse tokens without this audience, as Ceph RGW refuses them (403, no word).
        self.required_audience: Optional[str] = None
        self.clock = clock
        self.expired_code = expired_code
        self.s3_expired_refusals = 0
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None
        self._connections: List[socket.socket] = []

    # ---------------------------------------------------------------- control
    def script(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    @property
    def exchanges(self) -> int:
        """STS requests received (answered or not)."""
        with self._lock:
            return len(self.requests)

    @property
    def successful_exchanges(self) -> int:
        with self._lock:
            return len(self.issued)

    @property
    def url(self) -> str:
        assert self._server is not None
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeSts:
        handler = _make_handler(self)
        self._server = _Server(("127.0.0.1", self.port), handler)
        if self.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(self.tls.certificate), str(self.tls.private_key))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
        # A stopped server must not go on answering over kept-alive connections.
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def now(self) -> float:
        """The server's clock, in epoch seconds."""
        return self.clock() + self.clock_offset

    # ------------------------------------------------------------- behaviour
    def _next_fault(self) -> Optional[Fault]:
        with self._lock:
            return self.faults.popleft() if self.faults else None

    def handle_sts(self, form: Dict[str, str], headers: Dict[str, str]) -> Tuple[int, bytes]:
        secret_registry.register(form.get("WebIdentityToken"))
        with self._lock:
            self.requests.append(Recorded(form, headers, time.time()))
        if "authorization" in {k.lower() for k in headers}:
            return 400, self._error("InvalidRequest", "signed STS request")
        for name in ("Action", "Version", "WebIdentityToken"):
            if name not in form:
                return 400, self._error("MissingParameter", f"missing {name}")
        if form["Action"] != "AssumeRoleWithWebIdentity":
            return 400, self._error("InvalidAction", "unknown action")
        if self.dialect == "minio":
            refusal = minio_role_problem(
                form.get("RoleArn"), self.minio_roles, self.minio_claim_based
            )
            if refusal is not None:
                return 400, self._error("InvalidParameterValue", refusal)
        duration = int(form.get("DurationSeconds", "3600"))
        upper = self.max_duration if self.dialect != "minio" else 365 * 86400
        if not 900 <= duration <= upper:
            if self.dialect == "rgw":
                return 400, self._error("InvalidArgument", "")
            return 400, self._error("InvalidParameterValue", "Invalid duration seconds value")
        if self.dialect == "rgw":
            if "RoleArn" not in form or "RoleSessionName" not in form:
                return 400, self._error("InvalidArgument", "")
        try:
            claims = jwt_claims(form["WebIdentityToken"])
        except Exception:
            return self._token_rejected("malformed token")
        if claims.get("exp", 0) < time.time():
            return self._token_rejected("token is expired")
        if claims.get("aud") == "wrong-audience":
            return self._token_rejected("audience mismatch")
        if self.required_audience and self.required_audience not in str(claims.get("aud")):
            return self._token_rejected("audience mismatch")

        lifetime = self.credential_lifetime if self.credential_lifetime is not None else duration
        issued = Issued(
            access_key="FAKEAK" + secrets.token_hex(7).upper(),
            secret_key="fakesecret" + secrets.token_urlsafe(24),
            session_token="fakesession" + secrets.token_urlsafe(48),
            expiration=datetime.fromtimestamp(self.now(), timezone.utc).replace(microsecond=0)
            + timedelta(seconds=lifetime),
        )
        if self.exchange_delay:
            time.sleep(self.exchange_delay)
        secret_registry.register(issued.secret_key, issued.session_token)
        with self._lock:
            self.issued[issued.access_key] = issued
        return 200, success_xml(issued, self.dialect)

    def _token_rejected(self, why: str) -> Tuple[int, bytes]:
        if self.dialect == "rgw":
            return 403, rgw_error_xml("AccessDenied", "")
        if self.dialect == "minio":
            if "expired" in why:
                return 400, minio_error_xml(
                    "InvalidParameterValue",
                    "Error authenticating with OpenID: token is expired",
                )
            return 403, minio_error_xml("AccessDenied", "Access denied: " + why)
        if "expired" in why:
            return 400, aws_error_xml(
                "ExpiredTokenException", "Token expired: current date/time is past"
            )
        return 400, aws_error_xml("InvalidIdentityToken", "Couldn't retrieve verification key")

    def _error(self, code: str, message: str) -> bytes:
        if self.dialect == "rgw":
            return rgw_error_xml(code, message)
        if self.dialect == "minio":
            return minio_error_xml(code, message)
        return aws_error_xml(code, message)

    def handle_s3(self, headers: Dict[str, str]) -> Tuple[int, bytes]:
        lowered = {k.lower(): v for k, v in headers.items()}
        self.s3_requests.append(lowered)
        auth = lowered.get("authorization", "")
        access_key = auth.split("Credential=")[1].split("/")[0] if "Credential=" in auth else ""
        issued = self.issued.get(access_key)
        if self.s3_deny:
            self.s3_failures += 1
            return 403, rgw_error_xml("AccessDenied")
        if issued is None or lowered.get("x-amz-security-token") != issued.session_token:
            self.s3_failures += 1
            return 403, rgw_error_xml("InvalidAccessKeyId")
        if issued.expiration <= datetime.fromtimestamp(self.now(), timezone.utc):
            self.s3_failures += 1
            self.s3_expired_refusals += 1
            if self.expired_code == "ExpiredToken":
                return 400, rgw_error_xml("ExpiredToken")
            return 403, rgw_error_xml("AccessDenied")
        return 200, (
            b'<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult '
            b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>user</ID>'
            b"<DisplayName>user</DisplayName></Owner><Buckets><Bucket><Name>data</Name>"
            b"<CreationDate>2026-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets>"
            b"</ListAllMyBucketsResult>"
        )


class _Buffer(io.BytesIO):
    """Collects what BaseHTTPRequestHandler writes, for a dripping answer."""


def _make_handler(fake: FakeSts) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def date_time_string(self, timestamp: Optional[float] = None) -> str:
            # The Date header, on the server's clock.
            return email.utils.formatdate(
                (fake.now() + fake.date_offset) if timestamp is None else timestamp, usegmt=True
            )

        def setup(self) -> None:
            super().setup()
            with fake._lock:
                fake._connections.append(self.connection)

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str = "text/xml",
            headers: Optional[Dict[str, str]] = None,
            drip: float = 0.0,
        ) -> None:
            extra = dict(headers or {})
            writer = self.wfile
            if drip:
                # Everything, status line included, goes through the buffer and out
                # one byte at a time.
                self.wfile = _Buffer()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header(
                "x-amz-request-id",
                extra.pop("x-amz-request-id", "tx-header-" + uuid.uuid4().hex[:8]),
            )
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            if drip:
                data = self.wfile.getvalue()
                self.wfile = writer
                for index in range(len(data)):
                    try:
                        writer.write(data[index : index + 1])
                    except OSError:  # the client gave up: stop dripping
                        self.close_connection = True
                        return
                    time.sleep(drip)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length).decode()
            form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            fault = fake._next_fault()
            if fault is not None:
                with fake._lock:
                    fake.requests.append(Recorded(form, dict(self.headers), time.time()))
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.close:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault.echo:
                    status = fault.status or 400
                    body, headers = echo_error(form.get("WebIdentityToken", ""), status)
                    self._send(status, body, headers={**headers, **fault.headers})
                    return
                if fault.status is not None:
                    self._send(
                        fault.status,
                        fault.body or b"",
                        fault.content_type,
                        headers=fault.headers,
                        drip=fault.drip,
                    )
                    return
                with fake._lock:
                    fake.requests.pop()
            status, body = fake.handle_sts(form, dict(self.headers))
            if fault is not None:
                self._send(status, body, headers=fault.headers, drip=fault.drip)
            else:
                self._send(status, body)

        def do_GET(self) -> None:
            status, body = fake.handle_s3(dict(self.headers))
            self._send(status, body)

        def do_HEAD(self) -> None:
            # As S3 answers HEAD: the status alone, no error document.
            status, _body = fake.handle_s3(dict(self.headers))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler
