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
from ..settings import Settings
from . import RefreshingProvider, resolve

if TYPE_CHECKING:
    from obstore.store import ClientConfig, S3Credential

__all__ = ["obstore_store", "obstore_credential_provider", "ObstoreCredentialProvider"]


class ObstoreCredentialProvider(RefreshingProvider):
    """An obstore ``credential_provider``: the current keys, and when to ask again."""

    def __call__(self) -> S3Credential:
        keys = self.refresher.get()
        return {
            "access_key_id": keys.access_key,
            "secret_access_key": keys.secret_key,
            "token": keys.token,
            # When to ask again (the start of the refresh window), as polars is told.
            "expires_at": self.refresher.next_refresh or keys.expiration,
        }


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
    _check_version()
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
    except (ValueError, TypeError) as error:  # a bad bucket or prefix, in obstore's words
        raise ConfigurationError(
            f"obstore refused the store for bucket {bucket!r}"
            + (f" and prefix {prefix!r}" if prefix is not None else "")
            + f": {error}"
        ) from error


# credential_provider and client_options' root_certificate came with obstore 0.12.
OLDEST_OBSTORE = (0, 12)


def _check_version() -> None:
    from importlib.metadata import version

    found = version("obstore")
    numbers = tuple(int(part) for part in found.split(".")[:2] if part.isdigit())
    if numbers < OLDEST_OBSTORE:
        raise ConfigurationError(
            f"obstore {found} is installed; a refreshing store needs obstore 0.12 or newer "
            "(credential_provider, root_certificate): pip install -U 'infnminio-boto[obstore]'."
        )
