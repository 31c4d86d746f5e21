"""Temporary credentials that renew themselves: the one refresh object every client uses.

:class:`RefreshingCredentials` holds the keys and a ``fetch`` callable; botocore, s3fs,
minio, polars, obstore and Dask read their keys from one. Windows follow the keys'
lifetime (:mod:`.timing`); a failed refresh keeps keys that still work and backs off
(docs/design.md, "One refresh object").
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from datetime import datetime, timezone
from typing import Callable, Optional

from ..errors import InfnMinioError, StsError, TokenSourceError
from ..settings import Settings
from ..sts.temporary_credentials import TemporaryCredentials, format_timestamp, mask
from .timing import MAX_COUNTED_FAILURES, backoff_delay, keep_margin, refresh_windows, still_usable

__all__ = ["RefreshingCredentials", "refreshing_credentials"]

logger = logging.getLogger(__name__)
# After a token that could not be read (no file yet, a command that failed), the next
# try comes this soon at most: the fix (sts-wire started, oidc-add) shows at once.
TOKEN_RETRY_SECONDS = 2.0


class RefreshingCredentials:
    """Keys from ``fetch``, renewed before they expire; thread-safe; nothing is fetched
    before the first :meth:`get`. ``clock``: seconds since the epoch. ``replace(refused)``
    fetches keys other than ``refused``; without it, :meth:`replace_refused` uses ``fetch``.
    """

    def __init__(
        self, fetch: Callable[[], TemporaryCredentials], *, clock: Callable[[], float] = time.time,
        replace: Optional[Callable[[TemporaryCredentials], TemporaryCredentials]] = None,
    ) -> None:
        self._fetch = fetch
        self._replace = replace
        self._clock = clock
        self._lock = threading.Lock()
        self._current: Optional[TemporaryCredentials] = None
        self._previous_key: Optional[str] = None
        self._lifetime = self._advisory = self._mandatory = self._keep = self._retry_at = 0.0
        self._failures = 0
        self._last_error: Optional[InfnMinioError] = None
        self.renewals = 0  # new keys obtained (from the STS or the cache): diagnostics

    @property
    def expiration(self) -> Optional[datetime]:
        """When the current keys expire (None before the first fetch)."""
        current = self._current
        return current.expiration if current is not None else None

    @property
    def current(self) -> Optional[TemporaryCredentials]:
        """The keys held now, without renewing them (None before the first fetch)."""
        return self._current

    @property
    def next_refresh(self) -> Optional[datetime]:
        """When the current keys enter their advisory window: ask again from then on."""
        current = self._current
        if current is None:
            return None
        return datetime.fromtimestamp(current.expires_at - self._advisory, tz=timezone.utc)

    def due(self) -> bool:
        """Whether :meth:`get` would try to renew the keys now."""
        return self._wants(self._advisory)

    def get(self) -> TemporaryCredentials:
        """The current keys, renewed first when they are in a refresh window."""
        current = self._current
        if not self._wants(self._advisory, current):
            return current  # type: ignore[return-value]  # _wants is True for None
        if self._lock.acquire(blocking=False):
            try:
                return self._renew(force=False)
            finally:
                self._lock.release()
        if not self._wants(self._mandatory, current):
            return current  # type: ignore[return-value]  # another thread is renewing
        with self._lock:
            return self._renew(force=False)

    def refresh(self) -> TemporaryCredentials:
        """Renew now, whatever the windows say (a failure keeps still-valid keys)."""
        with self._lock:
            return self._renew(force=True)

    def holds(self, access_key: Optional[str]) -> bool:
        """Whether ``access_key`` is that of the current keys, or of the keys they
        replaced (a request signed just before a renewal)."""
        current = self._current
        return access_key is not None and (
            (current is not None and current.access_key == access_key)
            or access_key == self._previous_key
        )

    def replace_refused(self, access_key: str) -> Optional[TemporaryCredentials]:
        """Keys to retry with after the store refused ``access_key`` as expired: new ones
        (never the same), or the current ones if already replaced; None when not ours or
        the same keys came back. A failed renewal raises (during the backoff, again)."""
        with self._lock:
            current = self._current
            if current is None or not self.holds(access_key):
                return None
            if current.access_key != access_key:
                return current  # replaced while the refused request was in flight
            now = self._clock()
            if now < self._retry_at and self._last_error is not None:
                raise self._last_error
            try:
                fresh = self._replace(current) if self._replace else self._fetch()
            except InfnMinioError as error:
                self._failed(error, now)
                raise
            if fresh.access_key == access_key:
                return None
            logger.info("The store refused access key %s as expired; renewed to %s",
                        mask(access_key), mask(fresh.access_key))
            self._install(fresh, fresh.seconds_left(self._clock()))
            return fresh

    def __repr__(self) -> str:
        current = self._current
        if current is None:
            return f"{type(self).__name__}(not fetched yet)"
        return (f"{type(self).__name__}(access_key={mask(current.access_key)!r}, "
                f"expiration={format_timestamp(current.expiration)!r})")

    def _wants(self, window: float, current: Optional[TemporaryCredentials] = None) -> bool:
        current = current if current is not None else self._current
        return current is None or current.seconds_left(self._clock()) < window

    def _renew(self, *, force: bool) -> TemporaryCredentials:
        """Called with the lock held."""
        current = self._current
        if not force and not self._wants(self._advisory, current):
            return current  # type: ignore[return-value]  # renewed while we waited
        now = self._clock()
        if not force and now < self._retry_at:
            if current is not None and still_usable(current, now):
                return current  # backing off after a failure while the keys still work
            if self._last_error is not None:  # no keys worth using: the same error again
                raise self._last_error
        try:
            fresh = self._fetch()
        except InfnMinioError as error:
            return self._after_failure(error, current)
        left = fresh.seconds_left(self._clock())
        if left <= 1:
            return self._after_failure(StsError(
                f"The STS handed out credentials that expire at "
                f"{format_timestamp(fresh.expiration)}, which is already past by this "
                "machine's clock: check the clock (NTP) of this machine and of the server."
            ), current)
        self._install(fresh, left)
        return fresh

    def _install(self, fresh: TemporaryCredentials, left: float) -> None:
        """Make ``fresh`` (``left`` s from expiry) the current keys; lock held. The windows
        follow the whole lifetime, so every process sharing the keys renews at one point."""
        lifetime = fresh.lifetime if fresh.lifetime and fresh.lifetime >= left else left
        self._lifetime = lifetime
        self._advisory, self._mandatory = refresh_windows(lifetime)
        self._keep = keep_margin(lifetime)
        self._failures, self._last_error, self._retry_at = 0, None, 0.0
        if self._current is not None and self._current.access_key != fresh.access_key:
            self._previous_key = self._current.access_key
        self._current = fresh
        self.renewals += 1

    def _failed(self, error: InfnMinioError, now: float) -> float:
        """Count a failure and back off; the delay until the next attempt."""
        self._failures = min(self._failures + 1, MAX_COUNTED_FAILURES)
        self._last_error = error
        delay = backoff_delay(self._failures, self._lifetime or 3600.0)
        if isinstance(error, TokenSourceError):  # read here, no server to spare: a token
            delay = min(delay, TOKEN_RETRY_SECONDS)  # put right is seen at the next call
        self._retry_at = now + delay
        return delay

    def _after_failure(self, error: InfnMinioError,
                       current: Optional[TemporaryCredentials]) -> TemporaryCredentials:
        now = self._clock()
        delay = self._failed(error, now)
        if current is not None and (left := current.seconds_left(now)) > self._keep:
            logger.warning("Refreshing S3 credentials failed; keeping the current ones (%d s "
                           "left), next attempt in %.1f s: %s", left, delay, error)
            return current
        raise error


def refreshing_credentials(settings: Settings, *,
                           token: Optional[str] = None) -> RefreshingCredentials:
    """Refreshing credentials for ``settings``: every client's keys are built here.
    ``token`` (a JWT, for the old InfnMinio API) replaces the settings' source; it is kept
    parsed, so no repr of the refresher shows it."""
    from ..sources.value import TextSource
    from .fetch import fetch_credentials

    parsed = TextSource(token).read() if token is not None else None

    def replace(refused: TemporaryCredentials) -> TemporaryCredentials:
        return fetch_credentials(settings, token=parsed, refused=refused)

    return RefreshingCredentials(
        functools.partial(fetch_credentials, settings, token=parsed), replace=replace
    )
