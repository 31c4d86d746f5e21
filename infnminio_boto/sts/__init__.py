"""AssumeRoleWithWebIdentity: one stateless exchange of an OIDC token for S3 keys.

An unsigned form POST (MinIO routes a signed one elsewhere), retried as botocore's
standard mode retries (:mod:`.retry`); :mod:`.transport` sends, :mod:`.dialects` reads,
:mod:`.explain` words a refusal, :mod:`.clock` puts the expiry on this machine's clock.
See docs/design.md, "The exchange".
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Set, Tuple
from urllib.parse import quote, urlencode

from .. import _log
from ..errors import StsError, TransportError, scrub
from ..settings import Settings
from ..settings.values import SESSION_NAME_CHARACTERS, SESSION_NAME_LENGTHS
from ..sources.oidc_token import OidcToken
from . import clock as clock_module
from .dialects import Problem, parse_response
from .explain import DURATION_CODES, explain
from .lifetimes import LifetimeMemory
from .retry import delay_before, retry_after, retryable
from .temporary_credentials import TemporaryCredentials, format_timestamp, mask
from .transport import HttpResponse, Send, StsRequest, Unreachable, urllib3_sender

__all__ = [
    "exchange", "build_form", "build_request", "parse_response", "role_session_name_for",
    "Problem", "StsRequest", "HttpResponse", "Unreachable", "LifetimeMemory",
]

logger = logging.getLogger(__name__)

API_VERSION = "2011-06-15"
CONNECT_TIMEOUT_CAP = 5.0
USER_AGENT = "infnminio-boto"
# Keys with no more than this left on arrival are refused (see exchange()).
EXPIRED_ON_ARRIVAL_SECONDS = 1.0


def role_session_name_for(token: OidcToken) -> str:
    """A RoleSessionName RGW accepts (2-64 of ``[A-Za-z0-9_=,.@-]``) from the subject."""
    subject = str(token.claims.get("sub") or "")
    low, high = SESSION_NAME_LENGTHS
    cleaned = "".join(c if c in SESSION_NAME_CHARACTERS else "_" for c in subject)[:high]
    return cleaned if len(cleaned) >= low else "infnminio-boto"


def build_form(
    settings: Settings, token: OidcToken, duration_seconds: Optional[int] = None
) -> Dict[str, str]:
    """The form fields of the request: no RoleArn or Policy when none is set;
    ``duration_seconds`` replaces the settings' (a lifetime the role allows)."""
    form = {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": API_VERSION,
        "WebIdentityToken": token.value,
        "DurationSeconds": str(duration_seconds or settings.duration_seconds),
        "RoleSessionName": settings.role_session_name or role_session_name_for(token),
    }
    if settings.role_arn:
        form["RoleArn"] = settings.role_arn
    if settings.policy is not None:
        form["Policy"] = settings.policy.document
    return form


def build_request(
    settings: Settings, token: OidcToken, duration_seconds: Optional[int] = None
) -> StsRequest:
    return StsRequest(
        url=settings.endpoint.url + "/",
        # %20, never +: Ceph RGW 16 does not decode + in a form (measured), so a space
        # inside a policy's strings would arrive as a literal +.
        body=urlencode(build_form(settings, token, duration_seconds), quote_via=quote),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                 "Accept": "application/xml, text/xml", "User-Agent": USER_AGENT},
        connect_timeout=min(CONNECT_TIMEOUT_CAP, settings.timeout),
        read_timeout=settings.timeout,
        secrets=(token.value,),
    )


class _Answer(NamedTuple):  # what one request came to, after its retries
    credentials: Optional[TemporaryCredentials]
    status: int
    problem: Optional[Problem]
    attempts: int
    headers: Mapping[str, str]
    sent_at: float
    received_at: float


def exchange(
    settings: Settings, token: OidcToken, *, send: Optional[Send] = None,
    sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
    lifetimes: Optional[LifetimeMemory] = None,
) -> TemporaryCredentials:
    """Trade ``token`` for temporary credentials at ``settings.endpoint``, their
    ``expiration`` on ``clock`` (this machine's epoch seconds). ``send``: see :mod:`.transport`.
    Raises :class:`StsError` for an error answer (after the retries) or keys expired on
    arrival, :class:`TransportError` when unreachable, for TLS failures and unusable proxies.
    """
    _log.ensure_configured()
    settings.check_transport()
    send = send or urllib3_sender(settings.ca_bundle)
    endpoint, role = settings.endpoint.url, settings.role_arn or ""
    wanted, safe = settings.duration_seconds, settings.server.lifetime_fallback
    allowed, refused = (None, None)
    if lifetimes is not None and safe is not None and wanted > safe:
        allowed, refused = lifetimes.recall(endpoint, role)
    asked = wanted
    if safe is not None and refused is not None and wanted >= refused:
        asked = allowed if allowed is not None and allowed < wanted else safe
        _warn_lifetime(settings, wanted, asked, remembered=True)

    answer = _post(settings, token, asked, send, sleep, clock)
    if answer.credentials is None and safe is not None and _refuses_duration(answer, asked, safe):
        # Once per exchange: the longest lifetime known to be allowed below the refused.
        fallback = allowed if allowed is not None and safe < allowed < asked else safe
        retried = _post(settings, token, fallback, send, sleep, clock)
        if retried.credentials is not None:
            _warn_lifetime(settings, asked, fallback, remembered=False, memory=lifetimes)
            if lifetimes is not None:
                if allowed is not None and allowed >= asked:  # the role was made shorter
                    allowed = fallback if fallback > safe else None
                refused = asked if refused is None else min(refused, asked)
                lifetimes.store(endpoint, role, allowed=allowed, refused=refused)
        answer, asked = retried, fallback
    elif (answer.credentials is not None and lifetimes is not None and safe is not None
          and asked > (allowed or safe)):
        # A longer lifetime accepted: the fallback from now on (and no longer refused).
        refused = refused if refused is not None and refused > asked else None
        lifetimes.store(endpoint, role, allowed=asked, refused=refused)

    if answer.credentials is None:
        assert answer.problem is not None
        raise explain(
            answer.status, answer.problem, settings, token, answer.attempts, duration_seconds=asked
        )
    reading = clock_module.measure(
        answer.credentials, answer.headers, asked, answer.sent_at, answer.received_at
    )
    credentials = clock_module.on_local_clock(
        answer.credentials, reading, (answer.sent_at + answer.received_at) / 2, asked, endpoint
    )
    if credentials.expires_at <= clock() + EXPIRED_ON_ARRIVAL_SECONDS:
        # One check for every path (library, credential-process, env, exec, doctor).
        message = clock_module.expired_on_arrival(credentials, reading, endpoint)
        raise StsError(message, status=answer.status, endpoint=endpoint)
    clock_module.warn_if_skewed(credentials, endpoint)
    logger.info(
        "STS exchange at %s for subject %s: access key %s valid until %s%s",
        endpoint, token.subject or "-", scrub(mask(credentials.access_key), (token.value,)),
        format_timestamp(credentials.expiration),
        f" (server clock {credentials.clock_skew:+.1f} s)" if credentials.clock_skew else "",
    )
    return credentials


def _post(
    settings: Settings, token: OidcToken, duration_seconds: int, send: Send,
    sleep: Callable[[float], None], clock: Callable[[], float],
) -> _Answer:
    """Send the request, retrying what is worth retrying; the last answer (an error one
    for the caller to explain). Raises TransportError, and StsError for a redirect."""
    request = build_request(settings, token, duration_seconds)
    endpoint, secrets = settings.endpoint.url, request.secrets
    failures: List[str] = []
    for attempt in range(1, settings.max_attempts + 1):
        last = attempt == settings.max_attempts
        sent_at = clock()
        try:
            response = send(request)
        except Unreachable as failure:
            said = scrub(str(failure), secrets, limit=300)
            failures.append(said)
            if not last:
                _pause(settings, f"unreachable ({said})", attempt, sleep)
                continue
            raise TransportError(
                f"The STS at {endpoint} could not be reached after {attempt} "
                f"attempt{'s' if attempt != 1 else ''} ({'; '.join(failures)}). Check the "
                "endpoint, this machine's network and its proxy settings (HTTPS_PROXY, "
                "HTTP_PROXY, NO_PROXY), then retry.",
                endpoint=endpoint,
            ) from None
        received_at = clock()

        if 300 <= response.status < 400:
            location = scrub(response.headers.get("Location", "?"), secrets, limit=200)
            raise StsError(
                f"The STS at {endpoint} redirected to {location}: the token is not "
                "re-sent to another address. Set endpoint / INFNMINIO_ENDPOINT to the "
                "address the object store really answers on.",
                status=response.status, endpoint=endpoint,
            )
        status, headers = response.status, response.headers
        credentials, problem = parse_response(
            status, response.body, headers, settings.server.request_id_headers
        )
        if problem is not None and not last and retryable(status, problem):
            code = f" {scrub(problem.code, secrets, limit=64)}" if problem.code else ""
            _pause(settings, f"answered HTTP {status}{code}", attempt, sleep, retry_after(headers))
            continue
        return _Answer(credentials, status, problem, attempt, headers, sent_at, received_at)
    raise AssertionError("unreachable")  # pragma: no cover


def _refuses_duration(answer: _Answer, asked: int, safe: int) -> bool:
    """Whether the refusal is (most likely) of a DurationSeconds above the role's maximum:
    only one above ``safe``, which every role allows, can be."""
    problem = answer.problem
    if problem is None or answer.status != 400 or asked <= safe:
        return False
    message = (problem.message or "").lower()
    return problem.code in DURATION_CODES and (not message or "duration" in message)


_warned_lifetimes: Set[Tuple[str, str, int]] = set()


def _warn_lifetime(
    settings: Settings, wanted: int, asked: int, *, remembered: bool,
    memory: Optional[LifetimeMemory] = None,
) -> None:
    """Say once per process, endpoint, role and setting that the role allows less."""
    key = (settings.endpoint.url, settings.role_arn or "", wanted)
    if key in _warned_lifetimes:
        return
    _warned_lifetimes.add(key)
    if remembered:
        what = (f"refused DurationSeconds={wanted} within the last day (remembered in the "
                f"cache): keys of {asked} s are asked for instead")
    else:
        kept = (", and will be for this store and role for a day (remembered in the cache)"
                if memory is not None
                else " (with the cache off this is not remembered: each exchange asks twice)")
        what = (f"refused DurationSeconds={wanted}: the role's MaxSessionDuration is lower "
                f"({settings.server.title}: {asked} s unless its administrators raised it). "
                f"Keys of {asked} s were asked for instead{kept}")
    _log.warn(
        __name__,
        "The STS at %s, role %s, %s. Lower duration_seconds / INFNMINIO_DURATION_SECONDS "
        "(now %d, from %s) to %d to silence this, or ask the store's administrators to "
        "raise the role's MaxSessionDuration.",
        settings.endpoint.url, settings.role_arn or "(no RoleArn sent)", what, wanted,
        settings.origin("duration_seconds"), asked,
    )


def _pause(settings: Settings, what: str, attempt: int, sleep: Callable[[float], None],
           asked: Optional[float] = None) -> None:
    """Log a failed attempt and wait before the next one (:func:`.retry.delay_before`)."""
    delay = delay_before(attempt, asked)
    logger.warning(
        "STS at %s %s; attempt %d of %d, retrying in %.1fs",
        settings.endpoint.url, what, attempt, settings.max_attempts, delay,
    )
    sleep(delay)
