"""botocore credentials that refresh themselves from the token file.

Two things differ from botocore's own ``RefreshableCredentials``:

* The refresh windows follow the credentials' lifetime. botocore refreshes 15 minutes
  (advisory) and 10 minutes (mandatory) before expiry whatever the lifetime, so
  900-second credentials would be refreshed on every single call.
* A failed refresh never throws away keys that are still valid: the current keys are
  kept and the next attempt is delayed with exponential backoff, so an STS outage costs
  neither failed S3 calls nor a storm of exchanges. Only when the keys are about to
  expire does the failure reach the caller.

Thread safety comes from botocore: one thread refreshes under its lock while the others
keep using the current keys (advisory window) or wait for the new ones (mandatory).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import datetime, timezone
from typing import Callable, Dict, Optional

from botocore.credentials import DeferredRefreshableCredentials

from .errors import InfnMinioError, StsError
from .temporary_credentials import TemporaryCredentials, format_timestamp, mask
from .windows import keep_margin, refresh_windows

__all__ = ["StsWireCredentials", "RefreshPolicy", "refresh_windows", "keep_margin"]

logger = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class RefreshPolicy:
    """Lifetime-sized windows and backoff, mixed into botocore's refreshable credentials.

    Shared by :class:`StsWireCredentials` (botocore) and the aiobotocore variant used
    for s3fs; ``_refresh_from_source`` is the synchronous refresh function.
    """

    _time_fetcher: Callable[[], datetime]
    _advisory_refresh_timeout: float
    _mandatory_refresh_timeout: float

    def _init_policy(self, fetch: Callable[[], TemporaryCredentials]) -> None:
        self._fetch = fetch
        self._current: Optional[TemporaryCredentials] = None
        self._keep_margin = 0.0
        self._failures = 0
        self._retry_not_before = 0.0  # time.monotonic() value
        self._last_error: Optional[BaseException] = None
        self._state_lock = threading.Lock()
        self.exchanges = 0  # successful fetches, for diagnostics and benchmarks

    def __repr__(self) -> str:
        current = self._current
        name = type(self).__name__
        if current is None:
            return f"{name}(not fetched yet)"
        return (
            f"{name}(access_key={mask(current.access_key)!r}, "
            f"expiration={format_timestamp(current.expiration)!r})"
        )

    @property
    def current(self) -> Optional[TemporaryCredentials]:
        """The keys in use (None before the first fetch), without triggering a refresh."""
        return self._current

    def refresh_needed(self, refresh_in: Optional[float] = None) -> bool:
        needed = super().refresh_needed(refresh_in)  # type: ignore[misc]
        if (
            needed
            and self._current is not None
            and time.monotonic() < self._retry_not_before
            and self._seconds_remaining() > self._keep_margin
        ):
            return False  # backing off after a failure while the keys still work
        return needed

    def _refresh_from_source(self) -> Dict[str, str]:
        now = time.monotonic()
        if self._current is None and self._last_error is not None and now < self._retry_not_before:
            # Threads that queued behind a failed first fetch get its error instead of
            # each sending the same doomed request.
            raise self._last_error
        try:
            fresh = self._fetch()
        except InfnMinioError as exc:
            return self._after_failure(exc)
        left = (fresh.expiration - self._time_fetcher()).total_seconds()
        # Size the windows by the keys' whole lifetime (also for keys another process
        # cached earlier), so every process sharing them refreshes at the same point.
        lifetime = fresh.lifetime if fresh.lifetime and fresh.lifetime >= left else left
        if left <= 1:
            return self._after_failure(
                StsError(
                    f"The STS handed out credentials that expire at "
                    f"{format_timestamp(fresh.expiration)}, which is already past by this "
                    "machine's clock: check the clock (NTP) of this machine and of the server."
                )
            )
        with self._state_lock:
            self._failures = 0
            self._last_error = None
            self._retry_not_before = 0.0
            self._advisory_refresh_timeout, self._mandatory_refresh_timeout = refresh_windows(
                lifetime
            )
            self._keep_margin = keep_margin(lifetime)
            self._current = fresh
            self.exchanges += 1
        return fresh.to_botocore_metadata()

    def _after_failure(self, error: InfnMinioError) -> Dict[str, str]:
        with self._state_lock:
            self._failures += 1
            self._last_error = error
            lifetime = 3600.0
            if self._current is not None:
                lifetime = max(self._keep_margin * 10, 1.0)
            cap = max(1.0, min(60.0, lifetime / 20))
            delay = min(cap, 2.0 ** (self._failures - 1)) * random.uniform(0.5, 1.0)
            self._retry_not_before = time.monotonic() + delay
            current = self._current
        if current is not None:
            left = (current.expiration - self._time_fetcher()).total_seconds()
            if left > self._keep_margin:
                logger.warning(
                    "Refreshing S3 credentials failed; keeping the current ones (%d s left), "
                    "next attempt in %.1f s: %s",
                    left,
                    delay,
                    error,
                )
                return current.to_botocore_metadata()
        raise error


class StsWireCredentials(RefreshPolicy, DeferredRefreshableCredentials):
    """Deferred refreshable credentials fed by a zero-argument ``fetch`` callable.

    Nothing is fetched until the keys are first needed.
    """

    def __init__(
        self,
        fetch: Callable[[], TemporaryCredentials],
        *,
        method: str = "sts-wire",
        time_fetcher: Callable[[], datetime] = _utc_now,
    ) -> None:
        DeferredRefreshableCredentials.__init__(
            self,
            refresh_using=self._refresh_from_source,
            method=method,
            time_fetcher=time_fetcher,
        )
        self._init_policy(fetch)
