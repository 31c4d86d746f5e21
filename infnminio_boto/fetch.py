"""Token file in, temporary credentials out: the one path every entry point takes.

With the cache on (the default), keys are shared through the cross-process cache: the
token is read to know whose keys to look up, and exchanged only when no process has
fresh enough keys. An expired token is never sent, but keys still valid in the cache are
handed out while sts-wire catches up.

Standard library only at import time (urllib3 is imported by the exchange itself).
"""

from __future__ import annotations

from .cache import CredentialCache, cached_fetch, entry_key
from .settings import Settings
from .temporary_credentials import TemporaryCredentials
from .token import ensure_not_expired, read_token, token_from_text
from .windows import fresh_for_library

# typing costs 3 ms of import time on the credential_process hot path; the
# annotations are strings (PEP 563), so the names are needed by type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional


__all__ = ["fetch_credentials"]


def fetch_credentials(
    settings: Settings,
    *,
    fresh_enough: Optional[Callable[[TemporaryCredentials], bool]] = None,
    use_cache: Optional[bool] = None,
    token: Optional[str] = None,
) -> TemporaryCredentials:
    """Credentials for ``settings``: from the cache when ``fresh_enough``, else exchanged.

    ``fresh_enough`` defaults to "outside the library's own advisory window". ``token``
    is a JWT to use instead of the token file (the old InfnMinio API takes one).
    """
    if token is not None:
        oidc_token = token_from_text(token)
    else:
        oidc_token = read_token(
            settings.token_files,
            configured=settings.token_file_configured,
            check_expiry=False,
        )

    def exchange_now() -> TemporaryCredentials:
        from .sts import exchange  # urllib3 and xmltodict only when a request is sent

        ensure_not_expired(oidc_token)
        return exchange(settings, oidc_token)

    if not (settings.cache if use_cache is None else use_cache):
        return exchange_now()
    rule = fresh_enough or (
        lambda creds: fresh_for_library(creds, default_lifetime=settings.duration_seconds)
    )
    key = entry_key(settings.endpoint.url, settings.role_arn, oidc_token.issuer, oidc_token.subject)
    return cached_fetch(CredentialCache(settings.cache_dir), key, exchange_now, rule)
