"""infnminio-boto: S3 credentials for INFN Cloud from your OIDC token, for every S3 client.

The public names are imported on first use, so ``import infnminio_boto`` stays cheap
and the ``credential_process`` command never loads boto3 when its cache answers.
"""

from __future__ import annotations

from .errors import (
    ConfigurationError,
    InfnMinioError,
    MissingDependencyError,
    SharedKeysExpiredError,
    StsError,
    TokenExpiredError,
    TokenFileError,
    TokenSourceError,
    TransportError,
)

__version__ = "0.2.0"

# The public names, by the module that defines them: ``__all__`` and the lazy imports
# below come from this one table (the typing block mirrors it).
_PUBLIC = {
    "adapters.activate": ("activate", "deactivate", "Activation"),
    "integrations.botocore": (
        "session", "install", "s3_client_kwargs", "StsWireProvider", "InfnMinioSession",
        "StsWireCredentials",
    ),
    "keys.refresh": ("RefreshingCredentials",),
    "settings": ("Settings",),
    "sources": ("TokenSource",),
    "sts.temporary_credentials": ("TemporaryCredentials",),
    "adapters.arrow": ("pyarrow_kwargs", "s3_filesystem", "pyarrow_environment"),
    "adapters.minio": ("minio_kwargs", "minio_client", "InfnMinio", "StsWireMinioProvider"),
    "adapters.fsspec": ("storage_options", "s3fs_filesystem", "InfnS3FileSystem"),
    "adapters.polars": ("polars_storage_options", "polars_credential_provider"),
    "adapters.duckdb": ("duckdb_create_secret",),
    "adapters.obstore": ("obstore_store", "obstore_credential_provider"),
}
_LAZY = {name: module for module, names in _PUBLIC.items() for name in names}
__all__ = [
    *_LAZY, "credentials", "endpoint_url", "InfnMinioError", "ConfigurationError",
    "TokenSourceError", "TokenFileError", "TokenExpiredError", "StsError", "TransportError",
    "MissingDependencyError", "SharedKeysExpiredError",
]

# typing stays out of the credential_process hot path (annotations are strings).
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from .adapters.activate import Activation, activate, deactivate
    from .adapters.arrow import pyarrow_environment, pyarrow_kwargs, s3_filesystem
    from .adapters.duckdb import duckdb_create_secret
    from .adapters.fsspec import InfnS3FileSystem, s3fs_filesystem, storage_options
    from .adapters.minio import InfnMinio, StsWireMinioProvider, minio_client, minio_kwargs
    from .adapters.obstore import obstore_credential_provider, obstore_store
    from .adapters.polars import polars_credential_provider, polars_storage_options
    from .integrations.botocore import (
        InfnMinioSession,
        StsWireCredentials,
        StsWireProvider,
        install,
        s3_client_kwargs,
        session,
    )
    from .keys.refresh import RefreshingCredentials
    from .settings import Settings
    from .sources import TokenSource
    from .sts.temporary_credentials import TemporaryCredentials


def credentials(**settings: Any) -> TemporaryCredentials:
    """A frozen snapshot of the keys for the token's identity (``settings`` as
    :func:`session`), from the shared cache or an exchange: ``access_key``, ``secret_key``,
    ``token``, an aware UTC ``expiration``; its repr masks the secrets. It does not
    refresh: for long jobs use :func:`session` or one of the adapters.
    """
    from .keys.fetch import fetch_credentials
    from .settings import Settings

    return fetch_credentials(Settings.resolve(**settings))


def endpoint_url(**settings: Any) -> str:
    """The configured object-store endpoint as a URL, for ``endpoint_url=`` arguments."""
    from .settings import Settings

    return Settings.resolve(**settings).endpoint.url


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext infnminio_boto``: :func:`activate`, then one line saying for whom, where
    and until when, or why not (defined here: IPython looks on the module itself)."""
    from .adapters.ipython import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext infnminio_boto``: :func:`deactivate`."""
    from .adapters.ipython import unload_ipython_extension as unload

    unload(ipython)


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'infnminio_boto' has no attribute {name!r}")
    from importlib import import_module

    try:
        value = getattr(import_module(f".{module_name}", __name__), name)
    except MissingDependencyError as missing:
        # The name exists (help(), dir(), `import *` work); using it says which extra to install.
        return _Unavailable(name, missing)
    globals()[name] = value
    return value


class _Unavailable:
    """Stands for a class whose library is not installed; calling it raises why."""

    def __init__(self, name: str, error: MissingDependencyError) -> None:
        self.__name__ = name
        self.__doc__ = str(error)
        self._error = error

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise self._error

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        raise self._error

    def __repr__(self) -> str:
        return f"<{self.__name__}, unavailable: {self._error}>"


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY))
