"""Token in, temporary credentials out: the path every credential-handing entry takes.

Keys a Dask client shares first (:mod:`.shared`), then the cross-process cache; an
exchange only when no process has fresh enough keys (docs/design.md, "The path of a key").
"""

from __future__ import annotations

import contextlib
from typing import Callable, Mapping, Optional, Union

from ..settings import Settings
from ..sources import token_source
from ..sources.oidc_token import OidcToken, ensure_not_expired
from ..sources.value import TextSource
from ..sts.retry import RETRY_AFTER_CAP_SECONDS
from ..sts.temporary_credentials import TemporaryCredentials
from . import shared as shared_keys
from .cache import (
    LOCK_TIMEOUT_SECONDS,
    CacheUnavailable,
    CredentialCache,
    LifetimeRecord,
    cached_fetch,
    entry_key,
)
from .timing import fresh_for_library

__all__ = ["fetch_credentials", "read_settings_token", "holder_worst_case"]


def holder_worst_case(settings: Settings) -> float:
    """Seconds another process's exchange under the cache lock may take at worst (every
    attempt to its deadline, the longest pauses, twice): waiters wait that long."""
    attempt = min(5.0, settings.timeout) + settings.timeout
    pauses = (settings.max_attempts - 1) * RETRY_AFTER_CAP_SECONDS
    return max(LOCK_TIMEOUT_SECONDS, 2 * (settings.max_attempts * attempt + pauses) + 5)


def read_settings_token(settings: Settings,
                        environ: Optional[Mapping[str, str]] = None) -> OidcToken:
    """The token of the settings' source, expired or not (the cache may still help).
    Raises :class:`~infnminio_boto.TokenSourceError` when there is none to read."""
    return token_source(settings, environ).read()


def fetch_credentials(settings: Settings, *,
                      fresh_enough: Optional[Callable[[TemporaryCredentials], bool]] = None,
                      token: Union[str, OidcToken, None] = None, shared: bool = True,
                      refused: Optional[TemporaryCredentials] = None) -> TemporaryCredentials:
    """Credentials for ``settings``: from the cache when ``fresh_enough`` (default: outside
    the library's advisory window), else exchanged. ``token`` (a JWT or a token read)
    replaces the settings' source; ``shared=False`` skips keys a Dask client shares;
    ``refused`` keys (refused as expired by the store) are never handed out again."""
    if token is None and shared:
        keys = shared_keys.lookup(settings)  # in a Dask cluster that shares keys
        if keys is not None:
            return keys
    oidc_token = token if isinstance(token, OidcToken) else (
        read_settings_token(settings) if token is None else TextSource(token).read()
    )

    def exchange_now() -> TemporaryCredentials:
        from ..sts import exchange  # urllib3 and the XML reader only when a request is sent

        ensure_not_expired(oidc_token)
        lifetimes = LifetimeRecord(CredentialCache(settings.cache_dir)) if settings.cache else None
        return exchange(settings, oidc_token, lifetimes=lifetimes)

    key = entry_key(settings, oidc_token) if settings.cache else None
    if key is None:  # no cache, or a token whose identity cannot be told apart
        return exchange_now()
    rule = fresh_enough or (
        lambda creds: fresh_for_library(creds, default_lifetime=settings.duration_seconds)
    )
    if refused is not None:
        judged = rule

        def rule(creds: TemporaryCredentials) -> bool:
            return creds.access_key != refused.access_key and judged(creds)

    cache = CredentialCache(settings.cache_dir)
    keys = cached_fetch(cache, key, exchange_now, rule, holder_worst_case(settings))
    if refused is not None:
        if keys.access_key == refused.access_key:  # the cache's fallback for an expired token
            ensure_not_expired(oidc_token)
        with contextlib.suppress(OSError, CacheUnavailable):  # nor the fast entries
            cache.retire(refused.access_key)
    return keys
