"""When to refresh, and when cached keys are fresh enough to hand out: every freshness
decision of the package (refreshing credentials, the cache, credential-process). The
windows are a third and a sixth of the lifetime, capped at botocore's fixed 15 and 10
minutes (docs/design.md, "One refresh object").
"""

from __future__ import annotations

import time
from typing import Optional, Tuple

from ..sts.retry import MAX_COUNTED, backoff
from ..sts.temporary_credentials import TemporaryCredentials

__all__ = [
    "SDK_ADVISORY_SECONDS", "SDK_MANDATORY_SECONDS", "refresh_windows", "fresh_until",
    "still_usable", "maybe_expired", "recently_issued", "SKEW_MARGIN_SECONDS", "keep_margin",
    "backoff_cap", "backoff_delay", "fresh_for_sdk", "fresh_for_library",
]

# The fixed windows of botocore and of the other AWS SDKs that run credential_process.
SDK_ADVISORY_SECONDS = 15 * 60
SDK_MANDATORY_SECONDS = 10 * 60
SLACK_SECONDS = 60  # a process handed keys right at a window's edge would call back at once
MAX_COUNTED_FAILURES = MAX_COUNTED  # the backoff's exponent stops growing there
USABLE_MARGIN_SECONDS = 30  # keys closer than this to expiry could expire in flight
# A bare AccessDenied (Ceph RGW 16's answer to expired keys and to a policy denial alike)
# means expired keys only this close to their expiry (on the store's clock already: what
# remains is the reading's error and this clock's drift); elsewhere it is a real refusal.
SKEW_MARGIN_SECONDS = 60


def refresh_windows(lifetime_seconds: float) -> Tuple[float, float]:
    """(advisory, mandatory): seconds before expiry at which to refresh (900-second keys:
    300 s and 150 s)."""
    lifetime = max(lifetime_seconds, 1.0)
    return min(SDK_ADVISORY_SECONDS, lifetime / 3), min(SDK_MANDATORY_SECONDS, lifetime / 6)


def keep_margin(lifetime_seconds: float) -> float:
    """After a failed refresh, keys with more than this many seconds left are kept."""
    return min(60.0, max(lifetime_seconds, 1.0) / 10)


def backoff_cap(lifetime_seconds: float) -> float:
    """The longest wait between two failed refreshes: a twentieth of the lifetime, 1-60 s."""
    return max(1.0, min(60.0, lifetime_seconds / 20))


def backoff_delay(failures: int, lifetime_seconds: float) -> float:
    """Seconds to wait after ``failures`` failed refreshes in a row: the package's
    backoff from 1 s, capped by :func:`backoff_cap`."""
    return backoff(failures, base=1.0, cap=backoff_cap(lifetime_seconds))


def maybe_expired(credentials: TemporaryCredentials, now: Optional[float] = None) -> bool:
    """Whether a bare refusal of these keys may mean that they expired on the store."""
    return credentials.seconds_left(now) < SKEW_MARGIN_SECONDS


def recently_issued(credentials: TemporaryCredentials, now: Optional[float] = None) -> bool:
    """Issued less than :data:`SKEW_MARGIN_SECONDS` ago (on this machine's clock): such keys
    cannot have expired on the store unless its clock jumped since."""
    if credentials.issued_at is None:
        return False
    now = time.time() if now is None else now
    return now - credentials.issued_at.timestamp() < SKEW_MARGIN_SECONDS


def still_usable(credentials: TemporaryCredentials, now: Optional[float] = None) -> bool:
    """Not fresh, perhaps, but still worth using when nothing better can be had."""
    return credentials.seconds_left(now) > USABLE_MARGIN_SECONDS


def fresh_until(credentials: TemporaryCredentials, default_lifetime: float = 3600.0) -> float:
    """Until when (epoch seconds) keys are worth handing out: the start of their advisory
    window less a little slack (hour-long keys: 16 minutes before expiry).
    ``default_lifetime`` stands in when the issue time is unknown."""
    lifetime = credentials.lifetime or default_lifetime
    advisory, _ = refresh_windows(lifetime)
    slack = min(SLACK_SECONDS, lifetime / 20)
    return credentials.expires_at - advisory - slack


def fresh_for_library(credentials: TemporaryCredentials, default_lifetime: float,
                      now: Optional[float] = None) -> bool:
    """Worth handing to our own refreshing credentials: before :func:`fresh_until`."""
    return (time.time() if now is None else now) < fresh_until(credentials, default_lifetime)


def fresh_for_sdk(credentials: TemporaryCredentials, now: Optional[float] = None) -> bool:
    """Worth handing to an SDK (credential_process, env, exec): the same rule."""
    return fresh_for_library(credentials, 3600.0, now)
