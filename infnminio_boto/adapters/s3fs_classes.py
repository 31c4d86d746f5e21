"""The s3fs classes behind :func:`~infnminio_boto.adapters.fsspec.s3fs_filesystem`.

Importing this module imports s3fs and aiobotocore (the ``fsspec`` extra); the rest of
the adapter does not.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional, Union

from ..errors import MissingDependencyError
from ..integrations import policy_denied
from ..integrations.botocore import RefresherKeys, StsWireProvider, frozen
from ..keys.refresh import refreshing_credentials
from ..settings import Settings
from . import resolve
from .s3fs_options import endpoint_options

try:
    import aiobotocore.session
    import s3fs
    from aiobotocore.credentials import AioCredentials
    from botocore.credentials import CredentialProvider, ReadOnlyCredentials
except ImportError:
    raise MissingDependencyError("s3fs", "fsspec") from None

__all__ = ["InfnS3FileSystem", "AioStsWireCredentials"]


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
    METHOD = StsWireProvider.METHOD
    CANONICAL_NAME = StsWireProvider.CANONICAL_NAME

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    async def load(self) -> AioStsWireCredentials:
        return AioStsWireCredentials(refreshing_credentials(self.settings))


class InfnS3FileSystem(s3fs.S3FileSystem):
    """``s3fs.S3FileSystem`` on the object store with keys that refresh themselves.

    ``infnminio`` is the resolved :class:`~infnminio_boto.settings.Settings` (or settings
    keywords, resolved here); other arguments go to s3fs. It pickles with the resolved
    settings (so a Dask worker on another machine reaches the same store, whatever its
    environment says), never with a key.
    """

    def __init__(
        self,
        *args: Any,
        infnminio: Union[Settings, Dict[str, Any], None] = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(infnminio, Settings):
            settings = infnminio
        else:
            settings = resolve(dict(infnminio or {}))
        for name, value in endpoint_options(settings).items():
            merged = dict(value)
            merged.update(kwargs.get(name) or {})
            kwargs[name] = merged
        super().__init__(*args, infnminio=settings, **kwargs)
        self.infnminio_settings = settings

    async def set_session(self, refresh: bool = False, kwargs: Optional[dict] = None) -> Any:
        if getattr(self, "session", None) is None:  # s3fs sets it once connected
            session = aiobotocore.session.AioSession()
            resolver = session.get_component("credential_provider")
            resolver.providers.insert(0, _AioStsWireProvider(self.infnminio_settings))
            policy_denied.register(session, self.infnminio_settings)
            self.session = session
            self._session_is_owned = False
        return await super().set_session(refresh=refresh, kwargs=kwargs or {})
