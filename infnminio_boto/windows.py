"""When to refresh: windows sized to the credentials' lifetime.

botocore refreshes 15 minutes (advisory) and 10 minutes (mandatory) before expiry
whatever the lifetime, so keys of 15 minutes or less would be refreshed on every call.
Here the windows are botocore's for keys of 45 minutes or more, and a third and a sixth
of the lifetime for shorter ones.

Standard library only: the credential_process hot path decides freshness with it.
"""

from __future__ import annotations

from datetime import datetime, timezone

# typing costs 3 ms of import time on the credential_process hot path; the
# annotations are strings (PEP 563), so the names are needed by type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Tuple

__all__ = [
    "BOTOCORE_ADVISORY_SECONDS",
    "BOTOCORE_MANDATORY_SECONDS",
    "refresh_windows",
    "keep_margin",
    "fresh_for_botocore",
    "fresh_for_library",
]

BOTOCORE_ADVISORY_SECONDS = 15 * 60
BOTOCORE_MANDATORY_SECONDS = 10 * 60
# A process handed keys right at a window's edge would call back at once.
SLACK_SECONDS = 60


def refresh_windows(lifetime_seconds: float) -> Tuple[float, float]:
    """(advisory, mandatory): seconds before expiry at which to refresh.

    900-second keys are used for 10 minutes before an early refresh is tried, and are
    renewed for sure 2.5 minutes before they expire.
    """
    lifetime = max(lifetime_seconds, 1.0)
    return (
        min(BOTOCORE_ADVISORY_SECONDS, lifetime / 3),
        min(BOTOCORE_MANDATORY_SECONDS, lifetime / 6),
    )


def keep_margin(lifetime_seconds: float) -> float:
    """After a failed refresh, keys with more than this many seconds left are kept."""
    return min(60.0, max(lifetime_seconds, 1.0) / 10)


def _seconds_left(expiration: datetime, now: Optional[datetime]) -> float:
    return (expiration - (now or datetime.now(timezone.utc))).total_seconds()


def fresh_for_botocore(credentials, now: Optional[datetime] = None) -> bool:
    """Worth handing to an SDK with botocore's fixed windows (credential_process)."""
    return _seconds_left(credentials.expiration, now) > BOTOCORE_ADVISORY_SECONDS + SLACK_SECONDS


def fresh_for_library(credentials, default_lifetime: float, now: Optional[datetime] = None) -> bool:
    """Worth handing to our own refreshing credentials (outside their advisory window)."""
    lifetime = credentials.lifetime or default_lifetime
    advisory, _ = refresh_windows(lifetime)
    return _seconds_left(credentials.expiration, now) > advisory + min(SLACK_SECONDS, lifetime / 20)
