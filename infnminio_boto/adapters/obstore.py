"""obstore (the Rust ``object_store`` for Python): a refreshing store with no subprocess.

obstore takes ``credential_provider=``, a callable returning the keys and when they
expire, and calls it again as that moment nears: :func:`obstore_credential_provider`
hands it keys from refreshing credentials, and :func:`obstore_store` builds an
``obstore.store.S3Store`` with the endpoint, region, path-style addressing, the CA
bundle (added to the trusted roots) and that provider. obstore is imported when one of
these is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from ..errors import ConfigurationError, MissingDependencyError
from ..keys.refresh import refreshing_credentials
from ..settings import Settings
from . import resolve

if TYPE_CHECKING:
    from obstore.store import ClientConfig, S3Credential

__all__ = ["obstore_store", "obstore_credential_provider", "ObstoreCredentialProvider"]


class ObstoreCredentialProvider:
    """An obstore ``credential_provider``: the current keys and their expiry."""

    def __init__(self, settings: Settings, token: Optional[str] = None) -> None:
        self.settings = settings
        self.refresher = refreshing_credentials(settings, token=token)

    def __call__(self) -> S3Credential:
        keys = self.refresher.get()
        return {
            "access_key_id": keys.access_key,
            "secret_access_key": keys.secret_key,
            "token": keys.token,
            "expires_at": keys.expiration,
        }

    def __repr__(self) -> str:
        return f"ObstoreCredentialProvider({self.settings.describe()})"


def obstore_credential_provider(**settings: Any) -> ObstoreCredentialProvider:
    """A refreshing ``credential_provider`` for ``obstore.store.S3Store``."""
    return ObstoreCredentialProvider(resolve(settings))


def _client_options(settings: Settings) -> ClientConfig:
    options: ClientConfig = {"allow_http": not settings.endpoint.secure}
    if settings.ca_bundle:
        with open(settings.ca_bundle) as handle:  # readable: checked when resolved
            options["root_certificate"] = handle.read()
    return options


def obstore_store(bucket: str, *, prefix: Optional[str] = None, **settings: Any) -> Any:
    """An ``obstore.store.S3Store`` on ``bucket`` whose keys refresh themselves."""
    try:
        from obstore.store import S3Store
    except ImportError:
        raise MissingDependencyError("obstore", "obstore") from None
    resolved = resolve(settings)
    try:
        return S3Store(
            bucket,
            prefix=prefix,
            endpoint=resolved.endpoint.url,
            region=resolved.region,
            virtual_hosted_style_request=False,
            client_options=_client_options(resolved),
            credential_provider=ObstoreCredentialProvider(resolved),
        )
    except (ValueError, TypeError) as error:  # obstore's words for an option it lacks
        raise ConfigurationError(
            f"obstore refused the store's options ({error}); root_certificate needs "
            "obstore 0.12 or newer: pip install -U 'infnminio-boto[obstore]'."
        ) from None
