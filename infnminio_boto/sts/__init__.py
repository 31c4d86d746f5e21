"""AssumeRoleWithWebIdentity: one stateless exchange of an OIDC token for S3 keys.

The request is an unsigned form POST (MinIO routes a signed one elsewhere). Failures
botocore's standard retry mode retries are retried here too, within ``max_attempts``
(connection failures and timeouts, 5xx, throttling, ``IDPCommunicationError``; see
:mod:`.retry`); other 4xx answers are final. The pieces live in their own modules:
:mod:`.transport` sends, :mod:`.dialects` reads the answer, :mod:`.retry` says when to
try again and how long to wait, :mod:`.explain` words a refusal. Every string that came
from the server is scrubbed (:func:`~infnminio_boto.errors.scrub`) before a message or
a log line holds it.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Dict, List, Optional
from urllib.parse import quote, urlencode

from ..errors import StsError, TransportError, scrub
from ..settings import Settings
from ..settings.values import SESSION_NAME_CHARACTERS, SESSION_NAME_LENGTHS
from ..sources.oidc_token import OidcToken
from .dialects import Problem, parse_response
from .explain import explain
from .retry import delay_before, retry_after, retryable
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
USER_AGENT = "infnminio-boto"



def role_session_name_for(token: OidcToken) -> str:
    """A RoleSessionName RGW accepts (2-64 of ``[A-Za-z0-9_=,.@-]``) from the subject."""
    subject = token.subject or ""
    low, high = SESSION_NAME_LENGTHS
    cleaned = "".join(c if c in SESSION_NAME_CHARACTERS else "_" for c in subject)[:high]
    return cleaned if len(cleaned) >= low else "infnminio-boto"


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
        secrets=(token.value,),
    )


def exchange(
    settings: Settings,
    token: OidcToken,
    *,
    send: Optional[Send] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> TemporaryCredentials:
    """Trade ``token`` for temporary credentials at ``settings.endpoint``.

    ``send`` posts one request (default: urllib3, trusting ``settings.ca_bundle``,
    through the proxy botocore would use; see :mod:`.transport`). Raises
    :class:`StsError` for an error answer (after the retries, for a retryable one),
    :class:`TransportError` when the server cannot be reached within
    ``settings.max_attempts`` attempts (each bounded by the connect and read timeouts
    added up), when TLS fails, or when the proxy setting is unusable.
    """
    from .. import _log

    _log.ensure_configured()
    settings.check_transport()
    send = send or urllib3_sender(settings.ca_bundle)
    request = build_request(settings, token)
    endpoint = settings.endpoint.url
    secrets = request.secrets
    failures: List[str] = []
    for attempt in range(1, settings.max_attempts + 1):
        last = attempt == settings.max_attempts
        try:
            response = send(request)
        except Unreachable as failure:
            said = scrub(str(failure), secrets, limit=300)
            failures.append(said)
            if not last:
                _pause(endpoint, f"unreachable ({said})", attempt, settings, sleep)
                continue
            raise TransportError(
                f"The STS at {endpoint} could not be reached after {attempt} "
                f"attempt{'s' if attempt != 1 else ''} ({'; '.join(failures)}). Check the "
                "endpoint, this machine's network and its proxy settings (HTTPS_PROXY, "
                "HTTP_PROXY, NO_PROXY), then retry.",
                endpoint=endpoint,
            ) from None

        if 300 <= response.status < 400:
            location = scrub(response.headers.get("Location", "?"), secrets, limit=200)
            raise StsError(
                f"The STS at {endpoint} redirected to {location}: the token is not "
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
                scrub(mask(credentials.access_key), secrets),
                format_timestamp(credentials.expiration),
            )
            return credentials
        assert problem is not None
        if retryable(response.status, problem) and not last:
            code = f" {scrub(problem.code, secrets, limit=64)}" if problem.code else ""
            _pause(
                endpoint,
                f"answered HTTP {response.status}{code}",
                attempt,
                settings,
                sleep,
                asked=retry_after(response.headers),
            )
            continue
        raise explain(response.status, problem, settings, token, attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _pause(
    endpoint: str,
    what: str,
    attempt: int,
    settings: Settings,
    sleep: Callable[[float], None],
    asked: Optional[float] = None,
) -> None:
    """Log a failed attempt and wait before the next one (:func:`.retry.delay_before`)."""
    delay = delay_before(attempt, asked)
    logger.warning(
        "STS at %s %s; attempt %d of %d, retrying in %.1fs",
        endpoint,
        what,
        attempt,
        settings.max_attempts,
        delay,
    )
    sleep(delay)
