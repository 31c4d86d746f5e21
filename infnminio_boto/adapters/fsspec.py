"""fsspec / s3fs (pandas, Dask): ``storage_options`` and a refreshing filesystem.

* ``storage_options()``: a plain dict for ``pandas.read_parquet("s3://...",
  storage_options=...)``, ``fsspec.filesystem("s3", **...)`` or Dask. It holds the
  current keys, which s3fs does not refresh.
* ``s3fs_filesystem()``: an :class:`InfnS3FileSystem`, an ``s3fs.S3FileSystem`` whose
  aiobotocore session gets its keys from our refreshing credentials. Pass it as
  ``filesystem=`` to pandas, pyarrow.dataset or Dask. It pickles as its settings, so
  every Dask worker builds its own refreshing credentials, and the workers share the
  cross-process cache: one exchange per refresh for the whole machine.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional

from ..botocore_provider import RefresherKeys, frozen
from ..errors import MissingDependencyError
from ..refresh import refreshing_credentials
from ..settings import Settings
from ..upload_checksums import config_defaults
from . import resolve, snapshot

try:
    import aiobotocore.session
    import s3fs
    from aiobotocore.credentials import AioCredentials
    from botocore.credentials import CredentialProvider, ReadOnlyCredentials
except ImportError:  # pragma: no cover - exercised without the extra
    raise MissingDependencyError("s3fs", "fsspec") from None

__all__ = ["storage_options", "s3fs_filesystem", "InfnS3FileSystem", "AioStsWireCredentials"]


def _endpoint_options(settings: Settings) -> Dict[str, Any]:
    client_kwargs: Dict[str, Any] = {
        "endpoint_url": settings.endpoint.url,
        "region_name": settings.region,
    }
    if settings.ca_bundle:
        client_kwargs["verify"] = settings.ca_bundle
    # Uploads without the streaming checksums Ceph RGW refuses, unless the user chose.
    config_kwargs: Dict[str, Any] = {"s3": {"addressing_style": "path"}, **config_defaults()}
    return {"client_kwargs": client_kwargs, "config_kwargs": config_kwargs}


def storage_options(**settings: Any) -> Dict[str, Any]:
    """``storage_options`` for s3fs with the current keys (they do not refresh)."""
    resolved = resolve(settings)
    credentials = snapshot(resolved)
    return {
        "key": credentials.access_key,
        "secret": credentials.secret_key,
        "token": credentials.token,
        **_endpoint_options(resolved),
    }


class AioStsWireCredentials(RefresherKeys, AioCredentials):
    """aiobotocore credentials read from refreshing credentials.

    A renewal blocks (file read, HTTP), so it runs in a thread, off s3fs's event loop.
    """

    async def get_frozen_credentials(self) -> ReadOnlyCredentials:
        if self.refresher.due():
            keys = await asyncio.get_running_loop().run_in_executor(None, self.refresher.get)
        else:
            keys = self.refresher.get()
        return frozen(keys)


class _AioStsWireProvider(CredentialProvider):
    METHOD = "sts-wire"
    CANONICAL_NAME = "custom-sts-wire"

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    async def load(self) -> AioStsWireCredentials:
        return AioStsWireCredentials(refreshing_credentials(self.settings))


class InfnS3FileSystem(s3fs.S3FileSystem):
    """``s3fs.S3FileSystem`` on the object store with keys that refresh themselves.

    ``infnminio`` holds the settings keywords (picklable); other arguments go to s3fs.
    """

    def __init__(
        self, *args: Any, infnminio: Optional[Dict[str, Any]] = None, **kwargs: Any
    ) -> None:
        settings = resolve(dict(infnminio or {}))
        for name, value in _endpoint_options(settings).items():
            merged = dict(value)
            merged.update(kwargs.get(name) or {})
            kwargs[name] = merged
        super().__init__(*args, infnminio=infnminio, **kwargs)
        self.infnminio_settings = settings

    async def set_session(self, refresh: bool = False, kwargs: Optional[dict] = None) -> Any:
        if self.session is None:
            session = aiobotocore.session.AioSession()
            resolver = session.get_component("credential_provider")
            resolver.providers.insert(0, _AioStsWireProvider(self.infnminio_settings))
            self.session = session
            self._session_is_owned = False
        return await super().set_session(refresh=refresh, kwargs=kwargs or {})


def s3fs_filesystem(**settings: Any) -> InfnS3FileSystem:
    """An :class:`InfnS3FileSystem` for ``settings``."""
    resolve(settings)  # a bad setting fails here, not in a worker
    clean = {name: value for name, value in settings.items() if value is not None}
    return InfnS3FileSystem(infnminio=clean)
