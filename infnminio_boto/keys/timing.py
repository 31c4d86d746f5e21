"""When to refresh, and when cached keys are fresh enough to hand out.

botocore refreshes 15 minutes (advisory) and 10 minutes (mandatory) before expiry
whatever the lifetime, so keys of 15 minutes or less would be refreshed on every call.
Here the windows are a third and a sixth of the lifetime, capped at botocore's: the
advisory window equals botocore's from 45-minute keys, both windows from 60-minute keys.

Every decision about freshness is made here, for the refreshing credentials
(:mod:`.refresh`), for the cache (:mod:`.fetch`) and for ``credential-process``.
"""

from __future__ import annotations

from typing import Optional, Tuple

from ..sts.temporary_credentials import TemporaryCredentials

__all__ = [
    "SDK_ADVISORY_SECONDS",
    "SDK_MANDATORY_SECONDS",
    "SDK_FRESH_SECONDS",
    "refresh_windows",
    "keep_margin",
    "backoff_cap",
    "fresh_for_sdk",
    "fresh_for_library",
]

# The fixed windows of botocore and of the other AWS SDKs that run credential_process.
SDK_ADVISORY_SECONDS = 15 * 60
SDK_MANDATORY_SECONDS = 10 * 60
# A process handed keys right at a window's edge would call back at once.
SLACK_SECONDS = 60
# What credential_process hands out: keys the SDKs will not want to renew at once.
SDK_FRESH_SECONDS = SDK_ADVISORY_SECONDS + SLACK_SECONDS


def refresh_windows(lifetime_seconds: float) -> Tuple[float, float]:
    """(advisory, mandatory): seconds before expiry at which to refresh.

    900-second keys are used for 10 minutes before an early refresh is tried, and are
    renewed for sure 2.5 minutes before they expire.
    """
    lifetime = max(lifetime_seconds, 1.0)
    return (
        min(SDK_ADVISORY_SECONDS, lifetime / 3),
        min(SDK_MANDATORY_SECONDS, lifetime / 6),
    )


def keep_margin(lifetime_seconds: float) -> float:
    """After a failed refresh, keys with more than this many seconds left are kept."""
    return min(60.0, max(lifetime_seconds, 1.0) / 10)


def backoff_cap(lifetime_seconds: float) -> float:
    """The longest wait between two failed refreshes: a twentieth of the lifetime, 1-60 s."""
    return max(1.0, min(60.0, lifetime_seconds / 20))


def fresh_for_sdk(credentials: TemporaryCredentials, now: Optional[float] = None) -> bool:
    """Worth handing to an SDK with botocore's fixed windows (credential_process)."""
    return credentials.seconds_left(now) > SDK_FRESH_SECONDS


def fresh_for_library(
    credentials: TemporaryCredentials, default_lifetime: float, now: Optional[float] = None
) -> bool:
    """Worth handing to our own refreshing credentials: outside their advisory window."""
    lifetime = credentials.lifetime or default_lifetime
    advisory, _ = refresh_windows(lifetime)
    slack = min(SLACK_SECONDS, lifetime / 20)
    return credentials.seconds_left(now) > advisory + slack
