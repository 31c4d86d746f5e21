"""Token file in, temporary credentials out: the path every credential-handing entry takes.

With the cache on (the default), keys are shared through the cross-process cache: the
token is read to know whose keys to look up, and exchanged only when no process has
fresh enough keys. An expired token is never sent, but keys still valid in the cache are
handed out while sts-wire catches up. In a Dask cluster that shares keys
(:mod:`.shared_keys`), the shared keys come first. (``doctor`` alone goes to the STS
directly: it checks the exchange itself.)
"""

from __future__ import annotations

from typing import Callable, Optional, Union

from ..settings import Settings
from ..sources.oidc_token import OidcToken, ensure_not_expired, read_token, token_from_text
from ..sts.temporary_credentials import TemporaryCredentials
from . import shared as shared_keys
from .cache import CredentialCache, cached_fetch, entry_key
from .timing import fresh_for_library

__all__ = ["fetch_credentials", "read_settings_token"]


def read_settings_token(settings: Settings) -> OidcToken:
    """The token in the settings' token file, expired or not (the cache may still help)."""
    return read_token(
        settings.token_files, configured=settings.token_file_configured, check_expiry=False
    )


def fetch_credentials(
    settings: Settings,
    *,
    fresh_enough: Optional[Callable[[TemporaryCredentials], bool]] = None,
    token: Union[str, OidcToken, None] = None,
    shared: bool = True,
) -> TemporaryCredentials:
    """Credentials for ``settings``: from the cache when ``fresh_enough``, else exchanged.

    ``fresh_enough`` defaults to "outside the library's own advisory window". ``token``
    replaces the token file: a JWT (the old InfnMinio API takes one), or a token
    already read. Keys a Dask client shares (:mod:`.shared_keys`) come first, unless
    ``shared`` is false (the client's own renewals).
    """
    if token is None and shared:
        keys = shared_keys.lookup(settings)  # in a Dask cluster that shares keys
        if keys is not None:
            return keys
    if isinstance(token, OidcToken):
        oidc_token = token
    elif token is not None:
        oidc_token = token_from_text(token)
    else:
        oidc_token = read_settings_token(settings)

    def exchange_now() -> TemporaryCredentials:
        from ..sts import exchange  # urllib3 and xmltodict only when a request is sent

        ensure_not_expired(oidc_token)
        return exchange(settings, oidc_token)

    if not settings.cache:
        return exchange_now()
    rule = fresh_enough or (
        lambda creds: fresh_for_library(creds, default_lifetime=settings.duration_seconds)
    )
    key = entry_key(settings.endpoint.url, settings.role_arn, oidc_token.issuer, oidc_token.subject)
    return cached_fetch(CredentialCache(settings.cache_dir), key, exchange_now, rule)
