"""AssumeRoleWithWebIdentity: one stateless exchange of an OIDC token for S3 keys.

An unsigned form POST (MinIO routes a signed one elsewhere), retried as botocore's
standard mode retries (:mod:`.retry`); :mod:`.transport` sends, :mod:`.dialects` reads,
:mod:`.explain` words a refusal, :mod:`.clock` puts the expiry on this machine's clock.
Every string from the server is scrubbed before a message or a log line holds it.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Set, Tuple
from urllib.parse import quote, urlencode

from ..errors import StsError, TransportError, scrub
from ..settings import Settings
from ..settings.values import SESSION_NAME_CHARACTERS, SESSION_NAME_LENGTHS
from ..sources.oidc_token import OidcToken
from . import clock as clock_module
from .dialects import Problem, parse_response
from .explain import explain
from .lifetimes import LifetimeMemory
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
    "LifetimeMemory",
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
    """The form fields of the request. RoleArn is left out when none is configured,
    Policy (the compact session policy) when none is set. ``duration_seconds`` replaces
    the settings' (a lifetime the role allows, see :func:`exchange`)."""
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
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Accept": "application/xml, text/xml",
            "User-Agent": USER_AGENT,
        },
        connect_timeout=min(CONNECT_TIMEOUT_CAP, settings.timeout),
        read_timeout=settings.timeout,
        secrets=(token.value,),
    )


class _Answer(NamedTuple):
    """What one exchange request came to, after its retries."""

    credentials: Optional[TemporaryCredentials]
    status: int
    problem: Optional[Problem]
    attempts: int
    headers: Mapping[str, str]
    sent_at: float
    received_at: float


def exchange(
    settings: Settings,
    token: OidcToken,
    *,
    send: Optional[Send] = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    lifetimes: Optional[LifetimeMemory] = None,
) -> TemporaryCredentials:
    """Trade ``token`` for temporary credentials at ``settings.endpoint``.

    ``send`` posts one request (default: urllib3, trusting ``settings.ca_bundle``,
    through the proxy botocore would use; see :mod:`.transport`); ``clock`` is this
    machine's time (epoch seconds). The keys' ``expiration`` comes back on this
    machine's clock, corrected by the skew measured from the answer (:mod:`.clock`;
    a skew over a minute is warned about once per process).

    When the server refuses ``settings.duration_seconds`` as more than the role allows
    and its :class:`~infnminio_boto.settings.servers.Server` names a lifetime every role
    allows, the request is sent once more with that (or a longer one ``lifetimes``
    remembers accepted), a warning names the setting, and ``lifetimes`` (the cache's
    record) remembers the refusal for a day, so later exchanges ask for that directly.

    Raises :class:`StsError` for an error answer (after the retries, for a retryable
    one) and for keys that had already expired when they arrived (never handed out),
    :class:`TransportError` when the server cannot be reached within
    ``settings.max_attempts`` attempts (each bounded by the connect and read timeouts
    added up), when TLS fails, or when the proxy setting is unusable.
    """
    from .. import _log

    _log.ensure_configured()
    settings.check_transport()
    send = send or urllib3_sender(settings.ca_bundle)
    endpoint = settings.endpoint.url
    role = settings.role_arn or ""
    wanted = settings.duration_seconds
    safe = settings.server.lifetime_fallback
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
    elif (
        answer.credentials is not None
        and lifetimes is not None
        and safe is not None
        and asked > (allowed or safe)
    ):
        # A longer lifetime accepted: the fallback from now on (and no longer refused).
        refused = refused if refused is not None and refused > asked else None
        lifetimes.store(endpoint, role, allowed=asked, refused=refused)

    if answer.credentials is None:
        assert answer.problem is not None
        raise explain(
            answer.status,
            answer.problem,
            settings,
            token,
            answer.attempts,
            duration_seconds=asked,
        )
    reading = clock_module.measure(
        answer.credentials, answer.headers, asked, answer.sent_at, answer.received_at
    )
    credentials = clock_module.on_local_clock(
        answer.credentials, reading, (answer.sent_at + answer.received_at) / 2, asked, endpoint
    )
    secrets = (token.value,)
    if credentials.expires_at <= clock() + EXPIRED_ON_ARRIVAL_SECONDS:
        # One check for every path (the library, credential-process, env, exec,
        # doctor): keys past their expiry are neither handed out nor cached.
        raise StsError(
            clock_module.expired_on_arrival(credentials, reading, endpoint),
            status=answer.status,
            endpoint=endpoint,
        )
    clock_module.warn_if_skewed(credentials, endpoint)
    logger.info(
        "STS exchange at %s for subject %s: access key %s valid until %s%s",
        endpoint,
        token.subject or "-",
        scrub(mask(credentials.access_key), secrets),
        format_timestamp(credentials.expiration),
        f" (server clock {credentials.clock_skew:+.1f} s)" if credentials.clock_skew else "",
    )
    return credentials


def _post(
    settings: Settings,
    token: OidcToken,
    duration_seconds: int,
    send: Send,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> _Answer:
    """Send the request, retrying what is worth retrying; the last answer.

    Raises :class:`TransportError` (unreachable after every attempt) and
    :class:`StsError` for a redirect; an error answer is returned for the caller to
    explain (or to retry with another lifetime).
    """
    request = build_request(settings, token, duration_seconds)
    endpoint = settings.endpoint.url
    secrets = request.secrets
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
                _pause(endpoint, f"unreachable ({said})", attempt, settings, sleep)
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
                status=response.status,
                endpoint=endpoint,
            )
        credentials, problem = parse_response(
            response.status, response.body, response.headers, settings.server.request_id_headers
        )
        answer = _Answer(
            credentials, response.status, problem, attempt, response.headers, sent_at, received_at
        )
        if credentials is not None:
            return answer
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
        return answer
    raise AssertionError("unreachable")  # pragma: no cover


# The codes a refused DurationSeconds comes with: Ceph RGW's InvalidArgument (empty
# message: rgw_sts.cc validate_input; measured on 16.2.15), AWS's ValidationError ("The
# requested DurationSeconds exceeds the MaxSessionDuration set for this role.").
_DURATION_CODES = ("InvalidArgument", "ValidationError", "InvalidParameterValue")


def _refuses_duration(answer: _Answer, asked: int, safe: int) -> bool:
    """Whether the refusal is (most likely) of a DurationSeconds above the role's maximum:
    only one above ``safe``, which every role allows, can be (below it, the refusal is
    about something else: the RoleSessionName, a token without ``sub``)."""
    problem = answer.problem
    if problem is None or answer.status != 400 or asked <= safe:
        return False
    message = (problem.message or "").lower()
    return problem.code in _DURATION_CODES and (not message or "duration" in message)


_warned_lifetimes: Set[Tuple[str, str, int]] = set()


def _warn_lifetime(
    settings: Settings,
    wanted: int,
    asked: int,
    *,
    remembered: bool,
    memory: Optional[LifetimeMemory] = None,
) -> None:
    """Say once per process, endpoint, role and setting that the role allows less."""
    key = (settings.endpoint.url, settings.role_arn or "", wanted)
    if key in _warned_lifetimes:
        return
    _warned_lifetimes.add(key)
    from .._log import warn

    role = settings.role_arn or "(no RoleArn sent)"
    origin = settings.origin("duration_seconds")
    if remembered:
        what = (
            f"refused DurationSeconds={wanted} within the last day (remembered in the "
            f"cache): keys of {asked} s are asked for instead"
        )
    else:
        what = (
            f"refused DurationSeconds={wanted}: the role's MaxSessionDuration is lower "
            f"({settings.server.title}: {asked} s unless its administrators raised it). "
            f"Keys of {asked} s were asked for instead"
            + (
                ", and will be for this store and role for a day (remembered in the cache)"
                if memory is not None
                else " (with the cache off this is not remembered: each exchange asks twice)"
            )
        )
    warn(
        __name__,
        "The STS at %s, role %s, %s. Lower duration_seconds / INFNMINIO_DURATION_SECONDS "
        "(now %d, from %s) to %d to silence this, or ask the store's administrators to "
        "raise the role's MaxSessionDuration.",
        settings.endpoint.url,
        role,
        what,
        wanted,
        origin,
        asked,
    )


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
