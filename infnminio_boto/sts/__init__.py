"""AssumeRoleWithWebIdentity: one stateless exchange of an OIDC token for S3 keys.

The request is an unsigned form POST (MinIO routes a signed one elsewhere). Connection
errors and 5xx answers are retried with exponential backoff and full jitter; 4xx answers
are final. The pieces live in their own modules: :mod:`.transport` sends,
:mod:`.dialects` reads the answer, :mod:`.explain` words a refusal.

The retry loop is written here rather than taken from urllib3's ``Retry``: jitter there
needs urllib3 2, which botocore does not require on Python 3.9, and the loop lets the
final error say what happened on every attempt.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Callable, Dict, List, Optional
from urllib.parse import quote, urlencode

from ..errors import StsError, TransportError
from ..settings import Settings
from ..sources.oidc_token import OidcToken
from .dialects import Problem, parse_response
from .explain import explain
from .temporary_credentials import TemporaryCredentials, format_timestamp, mask
from .transport import HttpResponse, Send, StsRequest, Unreachable, urllib3_sender

__all__ = [
    "exchange",
    "build_form",
    "build_request",
    "parse_response",
    "role_session_name_for",
    "Problem",
    "StsRequest",
    "HttpResponse",
    "Unreachable",
]

logger = logging.getLogger(__name__)

API_VERSION = "2011-06-15"
CONNECT_TIMEOUT_CAP = 5.0
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
USER_AGENT = "infnminio-boto"

_SESSION_NAME_ALLOWED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_=,.@-")


def role_session_name_for(token: OidcToken) -> str:
    """A RoleSessionName RGW accepts (2-64 of ``[A-Za-z0-9_=,.@-]``) from the subject."""
    subject = token.subject or ""
    cleaned = "".join(c if c in _SESSION_NAME_ALLOWED else "_" for c in subject)[:64]
    return cleaned if len(cleaned) >= 2 else "infnminio-boto"


def build_form(settings: Settings, token: OidcToken) -> Dict[str, str]:
    """The form fields of the request. RoleArn is left out when none is configured,
    Policy (the compact session policy) when none is set."""
    form = {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": API_VERSION,
        "WebIdentityToken": token.value,
        "DurationSeconds": str(settings.duration_seconds),
        "RoleSessionName": settings.role_session_name or role_session_name_for(token),
    }
    if settings.role_arn:
        form["RoleArn"] = settings.role_arn
    if settings.policy is not None:
        form["Policy"] = settings.policy.document
    return form


def build_request(settings: Settings, token: OidcToken) -> StsRequest:
    return StsRequest(
        url=settings.endpoint.url + "/",
        # %20, never +: Ceph RGW 16 does not decode + in a form (measured), so a space
        # inside a policy's strings would arrive as a literal +.
        body=urlencode(build_form(settings, token), quote_via=quote),
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Accept": "application/xml, text/xml",
            "User-Agent": USER_AGENT,
        },
        connect_timeout=min(CONNECT_TIMEOUT_CAP, settings.timeout),
        read_timeout=settings.timeout,
    )


def _backoff(attempt: int) -> float:
    """Full-jitter exponential backoff: a random delay in [0, min(cap, base * 2**n)]."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2**attempt)))


def exchange(
    settings: Settings,
    token: OidcToken,
    *,
    send: Optional[Send] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> TemporaryCredentials:
    """Trade ``token`` for temporary credentials at ``settings.endpoint``.

    ``send`` posts one request (default: urllib3, trusting ``settings.ca_bundle``).
    Raises :class:`StsError` for an error answer, :class:`TransportError` when the
    server cannot be reached within ``settings.max_attempts`` attempts or TLS fails.
    """
    from .. import _log

    _log.ensure_configured()
    settings.check_transport()
    send = send or urllib3_sender(settings.ca_bundle)
    request = build_request(settings, token)
    endpoint = settings.endpoint.url
    failures: List[str] = []
    for attempt in range(1, settings.max_attempts + 1):
        last = attempt == settings.max_attempts
        try:
            response = send(request)
        except Unreachable as failure:
            failures.append(str(failure))
            if not last:
                _pause(endpoint, f"unreachable ({failure})", attempt, settings, sleep)
                continue
            raise TransportError(
                f"The STS at {endpoint} could not be reached after {attempt} "
                f"attempt{'s' if attempt != 1 else ''} ({'; '.join(failures)}). Check the "
                "endpoint, this machine's network and proxy settings, then retry.",
                endpoint=endpoint,
            ) from None

        if 300 <= response.status < 400:
            location = response.headers.get("Location", "?")
            raise StsError(
                f"The STS at {endpoint} redirected to {location[:200]}: the token is not "
                "re-sent to another address. Set endpoint / INFNMINIO_ENDPOINT to the "
                "address the object store really answers on.",
                status=response.status,
                endpoint=endpoint,
            )
        credentials, problem = parse_response(response.status, response.body, response.headers)
        if credentials is not None:
            logger.info(
                "STS exchange at %s for subject %s: access key %s valid until %s",
                endpoint,
                token.subject or "-",
                mask(credentials.access_key),
                format_timestamp(credentials.expiration),
            )
            return credentials
        assert problem is not None
        if response.status >= 500 and not last:
            _pause(endpoint, f"answered HTTP {response.status}", attempt, settings, sleep)
            continue
        raise explain(response.status, problem, settings, token, attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _pause(
    endpoint: str, what: str, attempt: int, settings: Settings, sleep: Callable[[float], None]
) -> None:
    """Log a failed attempt and wait before the next one."""
    delay = _backoff(attempt)
    logger.warning(
        "STS at %s %s; attempt %d of %d, retrying in %.1fs",
        endpoint,
        what,
        attempt,
        settings.max_attempts,
        delay,
    )
    sleep(delay)
