"""Sending one STS request over HTTP(S): urllib3, timeouts, and what went wrong in words.

:func:`exchange <infnminio_boto.sts.exchange>` takes any ``send`` callable with the
signature of :func:`urllib3_sender`'s result, so that tests can replay answers without
a server (as google-auth's ``sts.Client`` takes its ``request``). urllib3 comes with
botocore already.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional

from ..errors import TransportError, scrub

__all__ = [
    "StsRequest",
    "HttpResponse",
    "Unreachable",
    "Send",
    "urllib3_sender",
    "MAX_RESPONSE_BYTES",
]

MAX_RESPONSE_BYTES = 1024 * 1024


class StsRequest(NamedTuple):
    """One POST: the body holds the token, so the request is never logged or shown."""

    url: str
    body: str
    headers: Mapping[str, str]
    connect_timeout: float
    read_timeout: float

    def __repr__(self) -> str:
        return f"StsRequest(url={self.url!r})"


class HttpResponse(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes


class Unreachable(Exception):  # noqa: N818 - a condition the retry loop handles
    """The server could not be reached this time (worth another attempt)."""


Send = Callable[[StsRequest], HttpResponse]

_pools: Dict[Optional[str], Any] = {}


def _pool(ca_bundle: Optional[str]) -> Any:
    """One urllib3 PoolManager per CA bundle, so repeated exchanges reuse connections."""
    pool = _pools.get(ca_bundle)
    if pool is None:
        import urllib3

        if ca_bundle is None:
            # Trust what botocore trusts for the S3 calls that follow the exchange.
            from botocore.httpsession import get_cert_path

            ca_certs = get_cert_path(True)
        else:
            ca_certs = ca_bundle
        pool = urllib3.PoolManager(
            num_pools=4, maxsize=4, cert_reqs="CERT_REQUIRED", ca_certs=ca_certs
        )
        _pools[ca_bundle] = pool
    return pool


def urllib3_sender(ca_bundle: Optional[str]) -> Send:
    """A ``send`` that posts with urllib3, trusting ``ca_bundle`` (else botocore's CAs).

    Raises :class:`Unreachable` for failures worth retrying, and :class:`TransportError`
    at once for TLS failures (retrying cannot fix a certificate).
    """

    def send(request: StsRequest) -> HttpResponse:
        import urllib3

        timeout = urllib3.Timeout(connect=request.connect_timeout, read=request.read_timeout)
        try:
            response = _pool(ca_bundle).request(
                "POST",
                request.url,
                body=request.body,
                headers=dict(request.headers),
                timeout=timeout,
                retries=False,
                redirect=False,
                preload_content=False,
            )
            try:
                body = response.read(MAX_RESPONSE_BYTES)
            finally:
                response.release_conn()
        except urllib3.exceptions.SSLError as exc:
            raise tls_error(request.url, exc, ca_bundle) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unreachable(describe_failure(exc)) from None
        return HttpResponse(response.status, response.headers, body)

    return send


def tls_error(url: str, exc: BaseException, ca_bundle: Optional[str]) -> TransportError:
    """Our error for a failed TLS handshake, saying which of the usual causes it is."""
    text = scrub(str(getattr(exc, "reason", None) or exc))
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
        f"TLS with {url.rstrip('/')} failed ({text[:200]}): {advice}", endpoint=url.rstrip("/")
    )


def describe_failure(exc: BaseException) -> str:
    """A short, secret-free phrase for one failed attempt."""
    import urllib3

    errors = urllib3.exceptions
    if isinstance(exc, errors.ReadTimeoutError):
        return "no answer within the read timeout"
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
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
    return scrub(text)[:200]
