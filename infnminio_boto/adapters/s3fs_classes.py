"""The s3fs classes behind :func:`~infnminio_boto.adapters.fsspec.s3fs_filesystem` and
``activate()``. Importing this module imports s3fs and aiobotocore (the ``fsspec`` extra).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, ClassVar, Dict, Optional, Union

from ..compat import fsspec as fsspec_private
from ..errors import MissingDependencyError
from ..integrations import expired_keys, policy_denied
from ..integrations.botocore import (
    RefresherKeys,
    StsWireProvider,
    core_session,
    frozen,
    put_first,
)
from ..keys.refresh import refreshing_credentials
from ..settings import Settings
from . import endpoint_options, resolve

try:
    import aiobotocore.session
    import s3fs
    from aiobotocore.credentials import AioCredentials
    from botocore.credentials import CredentialProvider, ReadOnlyCredentials
except ImportError:
    raise MissingDependencyError("s3fs", "fsspec") from None

__all__ = ["InfnS3FileSystem", "AioStsWireCredentials", "ActivatedS3FileSystem"]


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
        self.owners = expired_keys.KeyOwners()

    async def load(self) -> AioStsWireCredentials:
        refresher = refreshing_credentials(self.settings)
        self.owners.add(refresher)
        return AioStsWireCredentials(refresher)


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
            session = core_session(aiobotocore.session.AioSession)
            provider = _AioStsWireProvider(self.infnminio_settings)
            put_first(session.get_component("credential_provider"), provider)
            policy_denied.register(session, self.infnminio_settings)
            expired_keys.register(session, provider.owners, asynchronous=True)
            fsspec_private.use_session(self, session)
        return await super().set_session(refresh=refresh, kwargs=kwargs or {})


# Arguments by which a caller chooses credentials or an endpoint of their own.
_CALLER_CHOICES = (
    "key", "secret", "token", "username", "password", "session", "profile", "anon",
    "endpoint_url",
)


def caller_chose(kwargs: Dict[str, Any]) -> Optional[str]:
    """The argument by which an s3fs caller chose their own credentials or endpoint."""
    for name in _CALLER_CHOICES:
        if kwargs.get(name) not in (None, False, ""):
            return name
    if (kwargs.get("client_kwargs") or {}).get("endpoint_url"):
        return "client_kwargs.endpoint_url"
    return None


class ActivatedS3FileSystem(InfnS3FileSystem):
    """What ``s3://`` means in fsspec after :func:`infnminio_boto.activate`.

    :func:`~infnminio_boto.adapters.activate.activate` registers it for ``s3`` and
    ``s3a`` with ``fsspec.register_implementation`` (fsspec's public API for choosing a
    protocol's class), so pandas, xarray/zarr, uproot and Dask, which open ``s3://``
    through fsspec, get the refreshing filesystem of the activation's settings.

    The caller's explicit choice wins: given any of ``key``, ``secret``, ``token``,
    ``username``, ``password``, ``session``, ``profile``, ``anon`` or an endpoint
    (``endpoint_url``, ``client_kwargs["endpoint_url"]``), it is a plain
    ``s3fs.S3FileSystem`` with those arguments, which sends its requests where it
    would without the activation (the endpoint variable set for pyarrow is not
    applied to it, see :func:`plain_endpoint_arguments`). It pickles with the
    activation's resolved settings (paths and names, no secret), so a Dask worker builds
    the same refreshing filesystem without being activated itself.
    """

    # The resolved settings of the activation in force, and the value it gave
    # AWS_ENDPOINT_URL_S3 (None: none); set by activate(), cleared by deactivate().
    activation: ClassVar[Optional[Settings]] = None
    # A second activation must not be handed the cached instances of the first.
    activation_number: ClassVar[int] = 0

    @classmethod
    def activate(cls, settings: Optional[Settings]) -> None:
        """Make ``s3://`` mean ``settings``' store (None: no activation in force)."""
        cls.activation = settings
        cls.activation_number += 1
        if settings is None:
            cls.clear_instance_cache()

    def __init__(
        self,
        *args: Any,
        infnminio: Union[Settings, Dict[str, Any], None] = None,
        **kwargs: Any,
    ) -> None:
        self.plain = bool(caller_chose(kwargs))
        if self.plain:
            s3fs.S3FileSystem.__init__(self, *args, **plain_endpoint_arguments(kwargs))
            return
        if infnminio is None:
            infnminio = type(self).activation
        super().__init__(*args, infnminio=infnminio, **kwargs)

    async def set_session(self, refresh: bool = False, kwargs: Optional[dict] = None) -> Any:
        if self.plain:
            return await s3fs.S3FileSystem.set_session(self, refresh=refresh, kwargs=kwargs or {})
        return await super().set_session(refresh=refresh, kwargs=kwargs)

    def __reduce__(self) -> Any:
        from fsspec.spec import make_instance

        options = dict(self.storage_options)
        if not self.plain:
            options["infnminio"] = self.infnminio_settings
        return make_instance, (type(self), self.storage_args, options)


def plain_endpoint_arguments(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """``kwargs`` for a plain s3fs call that goes where it would without activate().

    activate() sets ``AWS_ENDPOINT_URL_S3`` for pyarrow, and botocore would send this
    caller's requests (their keys, or ``anon``) there too. When the caller named no
    endpoint: their profile's ``endpoint_url`` if it has one, else botocore's
    ``ignore_configured_endpoint_urls`` (the variables and profiles' endpoints are not
    used, so AWS's own endpoint is).
    """
    activation = ActivatedS3FileSystem.activation
    ours = activation.endpoint.url if activation is not None else None
    if not ours or (os.environ.get("AWS_ENDPOINT_URL_S3") or "").rstrip("/") != ours:
        return kwargs
    if kwargs.get("endpoint_url") or (kwargs.get("client_kwargs") or {}).get("endpoint_url"):
        return kwargs
    kwargs = dict(kwargs)
    profile_endpoint = _profile_endpoint(kwargs.get("profile"))
    if profile_endpoint:
        kwargs["client_kwargs"] = {**(kwargs.get("client_kwargs") or {}),
                                   "endpoint_url": profile_endpoint}
    else:
        kwargs["config_kwargs"] = {"ignore_configured_endpoint_urls": True,
                                   **(kwargs.get("config_kwargs") or {})}
    return kwargs


def _profile_endpoint(profile: Optional[str]) -> Optional[str]:
    if not profile:
        return None
    import botocore.exceptions
    import botocore.session

    try:
        config = botocore.session.Session(profile=profile).get_scoped_config()
    except botocore.exceptions.ProfileNotFound:
        return None  # s3fs says so when it connects
    endpoint = config.get("endpoint_url")
    return str(endpoint) if endpoint else None


fsspec_private.tokenized_by(ActivatedS3FileSystem, ("activation_number",))
