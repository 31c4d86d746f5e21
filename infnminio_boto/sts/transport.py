"""Sending one STS request: urllib3, botocore's proxy rules, a deadline, failures in words.

:func:`~infnminio_boto.sts.exchange` takes any ``send`` like :func:`urllib3_sender`'s, so
tests replay answers without a server. Each attempt has a deadline for the whole answer
(urllib3's read timeout applies to each socket read). See docs/design.md, "The exchange".
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from types import SimpleNamespace
from typing import Any, Callable, Dict, Iterator, Mapping, NamedTuple, Optional, Tuple

from ..compat import botocore as botocore_private
from ..errors import TransportError, scrub

__all__ = [
    "StsRequest", "HttpResponse", "Unreachable", "Send", "urllib3_sender", "proxy_for",
    "MAX_RESPONSE_BYTES", "tls_error", "describe_failure",
]

# An STS answer is a few kilobytes; more than this is kept only in part (and so does
# not parse): a server cannot make the exchange hold an unbounded body in memory.
MAX_RESPONSE_BYTES = 1024 * 1024


class StsRequest(NamedTuple):
    """One POST. The body holds the token: never logged or shown; ``secrets`` are
    scrubbed from every text that comes back from the network."""

    url: str
    body: str
    headers: Mapping[str, str]
    connect_timeout: float
    read_timeout: float
    secrets: Tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"StsRequest(url={self.url!r})"

    @property
    def deadline(self) -> float:
        """Seconds one attempt may take in all: connecting, then the whole answer."""
        return self.connect_timeout + self.read_timeout


class HttpResponse(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes


class Unreachable(Exception):  # noqa: N818 - a condition the retry loop handles
    """The server could not be reached this time (worth another attempt)."""


Send = Callable[[StsRequest], HttpResponse]


def proxy_for(url: str) -> Optional[str]:
    """The proxy botocore would use for ``url`` (read from the environment at each call),
    or None. Raises :class:`TransportError` for a proxy of another scheme (``socks5://``),
    which botocore would misread as a host name on every call."""
    proxies = botocore_private.environment_proxies(url)
    given = proxies.get(url.split(":", 1)[0].lower())
    if given and "://" in given and not given.lower().startswith(("http:", "https:")):
        raise TransportError(
            f"The proxy {_shown_proxy(given)} set in the environment (HTTPS_PROXY, "
            "HTTP_PROXY or their lower-case forms) is not an http:// or https:// proxy, "
            "the only kinds botocore (and so the S3 calls too) can use. Set an http(s) "
            "proxy, or list the store's host in NO_PROXY."
        )
    return botocore_private.proxy_url_for(proxies, url)


def _shown_proxy(proxy: str) -> str:
    """The proxy URL as messages show it: credentials masked, control characters gone."""
    return scrub(botocore_private.mask_proxy_url(proxy), limit=200)


# The attempt running in this thread: its connections register when they connect and
# send, and a timer shuts their sockets down at the deadline, which ends a blocked read
# at once (urllib3 has no deadline for a whole answer).
_attempt = threading.local()


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[SimpleNamespace]:
    attempt = SimpleNamespace(expired=False, connections=[])

    def expire() -> None:  # expired is set before the list is read, and _watch appends
        attempt.expired = True  # before it reads expired: no connection is missed
        for connection in list(attempt.connections):
            _shut_down(connection)

    timer = threading.Timer(min(seconds, 1e6), expire)
    timer.daemon = True
    _attempt.deadline = attempt
    timer.start()
    try:
        yield attempt
    finally:
        timer.cancel()
        _attempt.deadline = None


def _watch(connection: Any) -> None:
    attempt = getattr(_attempt, "deadline", None)
    if attempt is not None:
        attempt.connections.append(connection)
        if attempt.expired:
            _shut_down(connection)


def _shut_down(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    raw = getattr(sock, "socket", sock)  # urllib3's SSLTransport (TLS in TLS) wraps one
    if isinstance(raw, socket.socket):
        with contextlib.suppress(OSError):  # the plain socket's: the reader keeps the TLS state
            socket.socket.shutdown(raw, socket.SHUT_RDWR)


def _watched(pool: type) -> type:
    """``pool`` (a urllib3 pool class) whose connections register with the deadline."""

    class Watched(pool.ConnectionCls):  # type: ignore[name-defined,misc]
        def connect(self) -> None:
            _watch(self)
            super().connect()

        def request(self, *args: Any, **kwargs: Any) -> None:
            _watch(self)
            super().request(*args, **kwargs)

    return type(pool.__name__, (pool,), {"ConnectionCls": Watched})


_pools: Dict[Tuple[Optional[str], Optional[str]], Any] = {}


def _pool(ca_bundle: Optional[str], proxy: Optional[str] = None) -> Any:
    """One urllib3 manager per CA bundle and proxy, reusing connections, whose connections
    watch the deadline (urllib3's documented ``ConnectionCls`` and ``pool_classes_by_scheme``).
    Raises :class:`TransportError` for a proxy urllib3 cannot use."""
    key = (ca_bundle, proxy)
    if key in _pools:
        return _pools[key]
    import urllib3
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    options: Dict[str, Any] = dict(
        num_pools=4, maxsize=4, cert_reqs="CERT_REQUIRED",
        ca_certs=ca_bundle or botocore_private.default_ca_bundle(),  # what S3 calls trust
    )
    try:
        if proxy is None:
            manager = urllib3.PoolManager(**options)
        else:
            headers = botocore_private.proxy_headers_for(proxy)
            manager = urllib3.ProxyManager(proxy, proxy_headers=headers, **options)
    except (urllib3.exceptions.HTTPError, ValueError) as exc:
        raise TransportError(
            f"The proxy {_shown_proxy(proxy or '')} set in the environment (HTTPS_PROXY, "
            f"HTTP_PROXY or their lower-case forms) cannot be used "
            f"({scrub(str(exc), limit=200)}): give an http:// or https:// proxy URL, as "
            "botocore needs for the S3 calls too, or list the store's host in NO_PROXY."
        ) from None
    manager.pool_classes_by_scheme = {
        "http": _watched(HTTPConnectionPool), "https": _watched(HTTPSConnectionPool)
    }
    _pools[key] = manager
    return manager


def urllib3_sender(ca_bundle: Optional[str]) -> Send:
    """A ``send`` posting with urllib3, trusting ``ca_bundle`` (else botocore's CAs), through
    botocore's proxy. Raises :class:`Unreachable` for what is worth another attempt (the
    deadline passing too), :class:`TransportError` for TLS failures and unusable proxies."""

    def send(request: StsRequest) -> HttpResponse:
        import urllib3

        errors = urllib3.exceptions
        proxy = proxy_for(request.url)
        manager = _pool(ca_bundle, proxy)
        via = f" through the proxy {_shown_proxy(proxy)}" if proxy else ""
        late = f"no complete answer within {request.deadline:g} s{via}"
        timeout = urllib3.Timeout(connect=request.connect_timeout, read=request.read_timeout)
        try:
            with _deadline(request.deadline) as deadline:
                response = manager.request(
                    "POST", request.url, body=request.body, headers=dict(request.headers),
                    timeout=timeout, retries=False, redirect=False, preload_content=False,
                    decode_content=False,
                )
                body = _read(response)
        except (errors.HTTPError, OSError) as exc:
            if deadline.expired:  # a socket (a TLS stream too) shut down under the reader
                raise Unreachable(late) from None
            if isinstance(exc, errors.ProxyError):
                raise Unreachable(
                    f"the proxy {_shown_proxy(proxy or '?')} failed: "
                    f"{describe_failure(exc, request.secrets)}"
                ) from None
            if isinstance(exc, errors.SSLError):
                raise tls_error(request.url, exc, ca_bundle, request.secrets) from None
            raise Unreachable(describe_failure(exc, request.secrets) + via) from None
        if deadline.expired:  # the socket was shut down under a reader that saw an end
            raise Unreachable(late)
        return HttpResponse(response.status, response.headers, body)

    return send


def _read(response: Any) -> bytes:
    """At most ``MAX_RESPONSE_BYTES`` of the body; the connection goes back to the pool
    only when the answer was read whole."""
    whole = False
    try:
        body: bytes = response.read(MAX_RESPONSE_BYTES + 1, decode_content=False)
        whole = len(body) <= MAX_RESPONSE_BYTES
        return body[:MAX_RESPONSE_BYTES]
    finally:
        (response.release_conn if whole else response.close)()


def tls_error(
    url: str, exc: BaseException, ca_bundle: Optional[str], secrets: Tuple[str, ...] = ()
) -> TransportError:
    """Our error for a failed TLS handshake, saying which of the usual causes it is."""
    text = scrub(str(getattr(exc, "reason", None) or exc), secrets, limit=200)
    trusted_by = f"the CA bundle {ca_bundle}" if ca_bundle else "botocore's default CA bundle"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        if "Hostname mismatch" in text or "doesn't match" in text:
            advice = ("its certificate is not valid for this host name: use the name the "
                      "certificate was issued for in endpoint / INFNMINIO_ENDPOINT.")
        else:
            advice = (
                f"its certificate was not trusted ({trusted_by} does not hold the authority "
                "that signed it). If the server uses a private certificate authority, set "
                "ca_bundle / INFNMINIO_CA_BUNDLE to that authority's PEM file."
            )
    elif ca_bundle and not os.path.isfile(ca_bundle):
        advice = (f"the CA bundle {ca_bundle} (ca_bundle / INFNMINIO_CA_BUNDLE) is gone: put "
                  "it back, or point the setting at the authority's PEM file.")
    elif "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
        advice = ("it does not speak TLS on this port: if the server is plain http, write the "
                  "endpoint as http://host:port.")
    else:
        advice = ("check the endpoint, and set ca_bundle / INFNMINIO_CA_BUNDLE if the server "
                  "uses a private certificate authority.")
    url = url.rstrip("/")
    return TransportError(f"TLS with {url} failed ({text}): {advice}", endpoint=url)


# Network failures by what the operating system and urllib3 say: (phrase, words).
NETWORK_FAILURES = (
    ("Connection refused", "connection refused (nothing listens on that port)"),
    ("Name or service not known", "host name not found (DNS)"),
    ("nodename nor servname", "host name not found (DNS)"),
    ("Failed to resolve", "host name not found (DNS)"),
    ("Temporary failure in name resolution", "host name not found (DNS)"),
    ("No route to host", "no route to the host"),
    ("Network is unreachable", "the network is unreachable"),
)


def describe_failure(exc: BaseException, secrets: Tuple[str, ...] = ()) -> str:
    """A short, secret-free phrase for one failed attempt: DNS, refused, timeout, proxy."""
    import urllib3

    errors = urllib3.exceptions
    if isinstance(exc, errors.ReadTimeoutError):
        return "no answer within the read timeout"
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    tunnel = re.search(r"Tunnel connection failed: ([^'\")]*)", text)
    if tunnel:  # http.client's words for a proxy that answered CONNECT with an error
        refused = scrub(tunnel.group(1), secrets, limit=100)
        credentials = refused[:3] in ("401", "407")
        hint = ": check the user name and password in the proxy URL" if credentials else ""
        return f"it refused to open a tunnel ({refused}){hint}"
    for phrase, words in NETWORK_FAILURES:  # before timeouts: NewConnectionError is one
        if phrase in text:
            return words
    if isinstance(reason, (errors.ConnectTimeoutError, socket.timeout)) or "timed out" in text:
        return "connection timed out"
    if isinstance(reason, (errors.ProtocolError, ConnectionError)) or isinstance(
            exc, errors.ProtocolError):
        return "connection closed by the server without an answer"
    return scrub(text, secrets, limit=200)
