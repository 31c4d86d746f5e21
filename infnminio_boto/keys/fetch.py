"""Token in, temporary credentials out: the path every credential-handing entry takes.

Keys a Dask client shares come first (:mod:`.shared`); then the cross-process cache,
keyed on the claims that decide the keys; an exchange only when no process has fresh
enough keys. An expired token is never sent, but still-valid cached keys are handed
out while its refresher catches up. (``doctor`` alone goes to the STS directly.)
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
    """How long another process's exchange under the cache lock may take at worst, in
    seconds: every attempt to its deadline (connect + read timeouts) with the longest
    pause between them, twice (a refused lifetime is asked again). A waiter waits this
    long rather than joining a storm against a struggling STS."""
    attempt = min(5.0, settings.timeout) + settings.timeout
    pauses = (settings.max_attempts - 1) * RETRY_AFTER_CAP_SECONDS
    return max(LOCK_TIMEOUT_SECONDS, 2 * (settings.max_attempts * attempt + pauses) + 5)


def read_settings_token(
    settings: Settings, environ: Optional[Mapping[str, str]] = None
) -> OidcToken:
    """The token of the settings' source, expired or not (the cache may still help).

    Raises :class:`~infnminio_boto.TokenSourceError` (or its subclass
    :class:`~infnminio_boto.TokenFileError`) when there is none to read.
    """
    return token_source(settings, environ).read()


def fetch_credentials(
    settings: Settings,
    *,
    fresh_enough: Optional[Callable[[TemporaryCredentials], bool]] = None,
    token: Union[str, OidcToken, None] = None,
    shared: bool = True,
    refused: Optional[TemporaryCredentials] = None,
) -> TemporaryCredentials:
    """Credentials for ``settings``: from the cache when ``fresh_enough``, else exchanged.

    ``fresh_enough`` defaults to "outside the library's own advisory window". ``token``
    replaces the settings' source: a JWT (the old InfnMinio API takes one), or a token
    already read. Keys a Dask client shares (:mod:`.shared`) come first, unless
    ``shared`` is false (the client's own renewals). ``refused`` are keys the store
    refused as expired: the cache does not hand them out again (whatever our clock
    says), so the token is exchanged unless another process already did.
    """
    if token is None and shared:
        keys = shared_keys.lookup(settings)  # in a Dask cluster that shares keys
        if keys is not None:
            return keys
    if isinstance(token, OidcToken):
        oidc_token = token
    elif token is not None:
        oidc_token = TextSource(token).read()
    else:
        oidc_token = read_settings_token(settings)

    def exchange_now() -> TemporaryCredentials:
        from ..sts import exchange  # urllib3 and xmltodict only when a request is sent

        ensure_not_expired(oidc_token)
        # The role's maximum lifetime, once learnt, is remembered beside the entries.
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
    if refused is not None and keys.access_key == refused.access_key:
        # Only the cache's fallback for an expired token hands them back: say that.
        ensure_not_expired(oidc_token)
    if refused is not None:
        # Our other processes' credential-process answers must not hand them out either.
        with contextlib.suppress(OSError, CacheUnavailable):
            cache.retire(refused.access_key)
    return keys
