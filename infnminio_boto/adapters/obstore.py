"""obstore (the Rust ``object_store`` for Python): a refreshing ``S3Store`` with no
subprocess, through obstore's ``credential_provider=``; obstore is imported when one of
these is called (docs/clients.md)."""

from __future__ import annotations

from importlib.metadata import version
from typing import TYPE_CHECKING, Any, Optional

from ..errors import ConfigurationError, MissingDependencyError
from ..settings import Settings
from . import RefreshingProvider

if TYPE_CHECKING:
    from obstore.store import ClientConfig, S3Credential

__all__ = ["obstore_store", "obstore_credential_provider", "ObstoreCredentialProvider"]


class ObstoreCredentialProvider(RefreshingProvider):
    """An obstore ``credential_provider``: the current keys, and when to ask again."""

    def __call__(self) -> S3Credential:
        keys = self.refresher.get()
        return {"access_key_id": keys.access_key, "secret_access_key": keys.secret_key,
                "token": keys.token,
                "expires_at": self.refresher.next_refresh or keys.expiration}


def obstore_credential_provider(**settings: Any) -> ObstoreCredentialProvider:
    """A refreshing ``credential_provider`` for ``obstore.store.S3Store``."""
    return ObstoreCredentialProvider(Settings.resolve(**settings))


# credential_provider and client_options' root_certificate came with obstore 0.12.
OLDEST_OBSTORE = (0, 12)


def obstore_store(bucket: str, *, prefix: Optional[str] = None, **settings: Any) -> Any:
    """An ``obstore.store.S3Store`` on ``bucket`` whose keys refresh themselves."""
    try:
        from obstore.store import S3Store
    except ImportError:
        raise MissingDependencyError("obstore", "obstore") from None
    found = version("obstore")
    if tuple(int(part) for part in found.split(".")[:2] if part.isdigit()) < OLDEST_OBSTORE:
        raise ConfigurationError(f"obstore {found} is installed; a refreshing store needs obstore "
                                 "0.12 or newer (credential_provider, root_certificate): pip "
                                 "install -U 'infnminio-boto[obstore]'.")
    resolved = Settings.resolve(**settings)
    try:
        options: ClientConfig = {"allow_http": not resolved.endpoint.secure}
        if resolved.ca_bundle:
            with open(resolved.ca_bundle) as handle:  # readable: checked when resolved
                options["root_certificate"] = handle.read()
        return S3Store(
            bucket, prefix=prefix, endpoint=resolved.endpoint.url, region=resolved.region,
            virtual_hosted_style_request=False, client_options=options,
            credential_provider=ObstoreCredentialProvider(resolved),
        )
    except (ValueError, TypeError) as error:  # a bad bucket or prefix, in obstore's words
        where = f" and prefix {prefix!r}" if prefix is not None else ""
        raise ConfigurationError(
            f"obstore refused the store for bucket {bucket!r}{where}: {error}") from error
