"""Sending one STS request over HTTP(S): urllib3, proxies, a deadline, and what went wrong in words.

:func:`exchange <infnminio_boto.sts.exchange>` takes any ``send`` callable with the
signature of :func:`urllib3_sender`'s result, so that tests can replay answers without
a server (as google-auth's ``sts.Client`` takes its ``request``). urllib3 comes with
botocore already.

**Proxies** follow botocore's rules, since botocore's S3 calls come right after the
exchange and must go the same way: the proxy for the endpoint's scheme comes from
``HTTPS_PROXY`` / ``HTTP_PROXY`` (the lower-case names first), unless ``NO_PROXY``
names the host (``botocore.utils.get_environ_proxies``, which is urllib's
``getproxies`` and ``proxy_bypass``); a proxy written without a scheme is http, and
credentials in its URL become a ``Proxy-Authorization`` header
(``botocore.httpsession.ProxyConfiguration``); https goes through a CONNECT tunnel
(urllib3's ``ProxyManager``, as in botocore). Messages show a proxy with its
credentials masked (``botocore.httpsession.mask_proxy_url``). botocore takes
``proxy_ca_bundle``, ``proxy_client_cert`` and ``proxy_use_forwarding_for_https`` only
from a ``Config(proxies_config=...)`` built in code: a profile's keys of those names
are read by its config store but not passed to clients (botocore 1.43,
``args.py``; measured: a client of a profile that sets them has empty proxy settings),
so the environment is all the S3 sessions of this library use, and all the exchange
uses.

**Timeouts**: urllib3's read timeout applies to each socket read, so a server that
sends one byte every second never trips it. Each attempt therefore also has a
deadline, the connect and read timeouts added up, for the whole answer: when it
passes, the attempt's connections are shut down and the attempt fails as
:class:`Unreachable` (retried like any transport failure).

Every text that came from the network (an exception's words, a proxy's answer) is
scrubbed with :func:`~infnminio_boto.errors.scrub` of the request's secrets before it
goes into a message.
"""

from __future__ import annotations

import re
import socket
import threading
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Tuple

from ..errors import TransportError, scrub

__all__ = [
    "StsRequest",
    "HttpResponse",
    "Unreachable",
    "Send",
    "urllib3_sender",
    "proxy_for",
    "MAX_RESPONSE_BYTES",
]

# An STS answer is a few kilobytes; more than this is kept only in part (and so does
# not parse): a server cannot make the exchange hold an unbounded body in memory.
MAX_RESPONSE_BYTES = 1024 * 1024


class StsRequest(NamedTuple):
    """One POST: the body holds the token, so the request is never logged or shown.

    ``secrets`` are what must never appear in a message (the token): texts from the
    network are scrubbed of them.
    """

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
    """The proxy botocore would use for ``url`` (from the environment), or None.

    Read on every call, as botocore reads it for every client it creates. Raises
    :class:`TransportError` for a proxy of another scheme (``socks5://``).
    """
    from botocore.httpsession import ProxyConfiguration
    from botocore.utils import get_environ_proxies

    proxies = get_environ_proxies(url)
    given = proxies.get(url.split(":", 1)[0].lower())
    if given and "://" in given and not given.lower().startswith(("http:", "https:")):
        # botocore would prefix it with http:// and fail to resolve "socks5" as a host
        # name on every call: say what is wrong instead.
        raise TransportError(
            f"The proxy {_shown_proxy(given)} set in the environment (HTTPS_PROXY, "
            "HTTP_PROXY or their lower-case forms) is not an http:// or https:// proxy, "
            "the only kinds botocore (and so the S3 calls too) can use. Set an http(s) "
            "proxy, or list the store's host in NO_PROXY."
        )
    return ProxyConfiguration(proxies=proxies).proxy_url_for(url)


def _shown_proxy(proxy: str) -> str:
    """The proxy URL as messages show it: credentials masked, control characters gone."""
    from botocore.httpsession import mask_proxy_url

    return scrub(mask_proxy_url(proxy), limit=200)


# --------------------------------------------------------------------------- deadline
_local = threading.local()
_LONGEST_WAIT = 1e6


class _Deadline:
    """Shuts down the connections of one attempt when ``seconds`` have passed.

    The connections register themselves (:func:`_watch`) when they connect and send, in
    the thread that runs the attempt; a timer thread shuts their sockets down, which
    makes the blocked read return at once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._connections: List[Any] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _local.deadline = self
        if 0 < self.seconds < _LONGEST_WAIT:  # threading refuses longer (and NaN) waits
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _local.deadline = None

    def watch(self, connection: Any) -> None:
        with self._lock:
            if not any(known is connection for known in self._connections):
                self._connections.append(connection)
            expired = self.expired
        if expired:
            _shut_down(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            _shut_down(connection)

    def describe(self) -> str:
        return f"no complete answer within {self.seconds:g} s"


def _watch(connection: Any) -> None:
    deadline = getattr(_local, "deadline", None)
    if deadline is not None:
        deadline.watch(connection)


def _shut_down(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    raw = getattr(sock, "socket", sock)  # urllib3's SSLTransport (TLS in TLS) wraps one
    if isinstance(raw, socket.socket):
        try:
            # The plain socket's shutdown, also for an SSLSocket: the reading thread
            # still owns the TLS state; this only ends the stream under it.
            socket.socket.shutdown(raw, socket.SHUT_RDWR)
        except OSError:
            pass


_pool_classes: Dict[str, type] = {}


def _watched_pool_classes() -> Dict[str, type]:
    """urllib3's pool classes, with connections that register with the deadline.

    Set as the managers' ``pool_classes_by_scheme``, as botocore sets its own.
    """
    if not _pool_classes:
        from urllib3.connection import HTTPConnection, HTTPSConnection
        from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

        def watched(base: type) -> type:
            class Watched(base):  # type: ignore[valid-type,misc]
                def connect(self) -> None:
                    _watch(self)
                    super().connect()

                def request(self, *args: Any, **kwargs: Any) -> None:
                    _watch(self)
                    super().request(*args, **kwargs)

            Watched.__name__ = f"Watched{base.__name__}"
            return Watched

        class Pool(HTTPConnectionPool):
            ConnectionCls = watched(HTTPConnection)

        class TlsPool(HTTPSConnectionPool):
            ConnectionCls = watched(HTTPSConnection)

        _pool_classes.update(http=Pool, https=TlsPool)
    return _pool_classes


# ------------------------------------------------------------------------------ pools
_pools: Dict[Tuple[Optional[str], Optional[str]], Any] = {}


def _pool(ca_bundle: Optional[str], proxy: Optional[str] = None) -> Any:
    """One urllib3 manager per CA bundle and proxy, so repeated exchanges reuse connections.

    Raises :class:`TransportError` for a proxy URL urllib3 cannot use.
    """
    key = (ca_bundle, proxy)
    manager = _pools.get(key)
    if manager is None:
        import urllib3

        if ca_bundle is None:
            # Trust what botocore trusts for the S3 calls that follow the exchange.
            from botocore.httpsession import get_cert_path

            ca_certs = get_cert_path(True)
        else:
            ca_certs = ca_bundle
        options: Dict[str, Any] = dict(
            num_pools=4, maxsize=4, cert_reqs="CERT_REQUIRED", ca_certs=ca_certs
        )
        if proxy is None:
            manager = urllib3.PoolManager(**options)
        else:
            from botocore.httpsession import ProxyConfiguration

            try:
                manager = urllib3.ProxyManager(
                    proxy,
                    proxy_headers=ProxyConfiguration().proxy_headers_for(proxy),
                    **options,
                )
            except (urllib3.exceptions.HTTPError, ValueError) as exc:
                # ProxySchemeUnknown (socks5://...), LocationParseError (a bad port).
                raise TransportError(
                    f"The proxy {_shown_proxy(proxy)} set in the environment (HTTPS_PROXY, "
                    f"HTTP_PROXY or their lower-case forms) cannot be used "
                    f"({scrub(str(exc), limit=200)}): give an http:// or https:// proxy "
                    "URL, as botocore needs for the S3 calls too, or list the store's "
                    "host in NO_PROXY."
                ) from None
        manager.pool_classes_by_scheme = dict(_watched_pool_classes())
        _pools[key] = manager
    return manager


def urllib3_sender(ca_bundle: Optional[str]) -> Send:
    """A ``send`` that posts with urllib3, trusting ``ca_bundle`` (else botocore's CAs),
    through the proxy botocore would use (see the module docstring).

    Raises :class:`Unreachable` for failures worth retrying (the deadline passing
    among them), and :class:`TransportError` at once for TLS failures (retrying cannot
    fix a certificate) and unusable proxy settings.
    """

    def send(request: StsRequest) -> HttpResponse:
        import urllib3

        proxy = proxy_for(request.url)
        manager = _pool(ca_bundle, proxy)
        via = f" through the proxy {_shown_proxy(proxy)}" if proxy else ""
        timeout = urllib3.Timeout(connect=request.connect_timeout, read=request.read_timeout)
        deadline = _Deadline(request.deadline)
        try:
            with deadline:
                response = manager.request(
                    "POST",
                    request.url,
                    body=request.body,
                    headers=dict(request.headers),
                    timeout=timeout,
                    retries=False,
                    redirect=False,
                    preload_content=False,
                    decode_content=False,
                )
                body = _read(response)
        except urllib3.exceptions.ProxyError as exc:
            if deadline.expired:
                raise Unreachable(deadline.describe() + via) from None
            raise Unreachable(
                f"the proxy {_shown_proxy(proxy or '?')} failed: "
                f"{describe_failure(exc, request.secrets)}"
            ) from None
        except urllib3.exceptions.SSLError as exc:
            if deadline.expired:  # a TLS stream shut down under the reader
                raise Unreachable(deadline.describe() + via) from None
            raise tls_error(request.url, exc, ca_bundle, request.secrets) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if deadline.expired:
                raise Unreachable(deadline.describe() + via) from None
            raise Unreachable(describe_failure(exc, request.secrets) + via) from None
        if deadline.expired:  # the socket was shut down under a reader that saw an end
            raise Unreachable(deadline.describe() + via)
        return HttpResponse(response.status, response.headers, body)

    return send


def _read(response: Any) -> bytes:
    """At most ``MAX_RESPONSE_BYTES`` of the body.

    The connection goes back to the pool only when the answer was read whole; one
    left in the middle of an answer is closed.
    """
    whole = False
    try:
        body: bytes = response.read(MAX_RESPONSE_BYTES + 1, decode_content=False)
        whole = len(body) <= MAX_RESPONSE_BYTES
        return body[:MAX_RESPONSE_BYTES]
    finally:
        if whole:
            response.release_conn()
        else:
            response.close()


def tls_error(
    url: str, exc: BaseException, ca_bundle: Optional[str], secrets: Tuple[str, ...] = ()
) -> TransportError:
    """Our error for a failed TLS handshake, saying which of the usual causes it is."""
    text = scrub(str(getattr(exc, "reason", None) or exc), secrets, limit=200)
    trusted_by = f"the CA bundle {ca_bundle}" if ca_bundle else "botocore's default CA bundle"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        if "Hostname mismatch" in text or "doesn't match" in text:
            advice = (
                "its certificate is not valid for this host name: use the name the "
                "certificate was issued for in endpoint / INFNMINIO_ENDPOINT."
            )
        else:
            advice = (
                f"its certificate was not trusted ({trusted_by} does not hold the authority "
                "that signed it). If the server uses a private certificate authority, set "
                "ca_bundle / INFNMINIO_CA_BUNDLE to that authority's PEM file."
            )
    elif "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
        advice = (
            "it does not speak TLS on this port: if the server is plain http, write the "
            "endpoint as http://host:port."
        )
    else:
        advice = (
            "check the endpoint, and set ca_bundle / INFNMINIO_CA_BUNDLE if the server uses a "
            "private certificate authority."
        )
    return TransportError(
        f"TLS with {url.rstrip('/')} failed ({text}): {advice}", endpoint=url.rstrip("/")
    )


def describe_failure(exc: BaseException, secrets: Tuple[str, ...] = ()) -> str:
    """A short, secret-free phrase for one failed attempt."""
    import urllib3

    errors = urllib3.exceptions
    if isinstance(exc, errors.ReadTimeoutError):
        return "no answer within the read timeout"
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    tunnel = re.search(r"Tunnel connection failed: ([^'\")]*)", text)
    if tunnel:
        # http.client's words for a proxy that answered CONNECT with an error.
        refused = scrub(tunnel.group(1), secrets, limit=100)
        hint = (
            ": check the user name and password in the proxy URL"
            if refused[:3] in ("401", "407")
            else ""
        )
        return f"it refused to open a tunnel ({refused}){hint}"
    # NewConnectionError subclasses ConnectTimeoutError: look at what it says first.
    if "Connection refused" in text:
        return "connection refused"
    if (
        "Name or service not known" in text
        or "nodename nor servname" in text
        or "Failed to resolve" in text
        or "Temporary failure in name resolution" in text
    ):
        return "host name not found"
    if isinstance(reason, errors.ConnectTimeoutError) and "timed out" in text:
        return "connection timed out"
    if isinstance(reason, (errors.ProtocolError, ConnectionError)) or isinstance(
        exc, errors.ProtocolError
    ):
        return "connection closed by the server without an answer"
    return scrub(text, secrets, limit=200)
