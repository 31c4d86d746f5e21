"""The s3fs classes behind :func:`~infnminio_boto.adapters.fsspec.s3fs_filesystem` and
``activate()``; importing it imports s3fs and aiobotocore (the ``fsspec`` extra)."""

from __future__ import annotations

import asyncio
import os
from typing import Any, ClassVar, Dict, Optional, Union

from ..compat import fsspec as fsspec_private
from ..errors import MissingDependencyError
from ..integrations import expired_keys, policy_denied
from ..integrations.botocore import RefresherKeys, StsWireProvider, core_session, frozen, put_first
from ..keys.refresh import refreshing_credentials
from ..settings import Settings
from . import endpoint_options

try:
    import aiobotocore.session
    import botocore.exceptions
    import botocore.session
    import s3fs
    from aiobotocore.credentials import AioCredentials
    from botocore.credentials import CredentialProvider, ReadOnlyCredentials
    from fsspec.spec import make_instance
except ImportError:
    raise MissingDependencyError("s3fs", "fsspec") from None

__all__ = ["InfnS3FileSystem", "AioStsWireCredentials", "ActivatedS3FileSystem"]


class AioStsWireCredentials(RefresherKeys, AioCredentials):
    """aiobotocore credentials from refreshing credentials; a renewal blocks (file, HTTP),
    so it runs in a thread, off s3fs's event loop."""

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
    """``s3fs.S3FileSystem`` on the object store with keys that refresh themselves;
    ``infnminio``: :class:`~infnminio_boto.settings.Settings` or settings keywords. It
    pickles with the resolved settings, never with a key."""

    def __init__(self, *args: Any, infnminio: Union[Settings, Dict[str, Any], None] = None,
                 **kwargs: Any) -> None:
        settings = (infnminio if isinstance(infnminio, Settings)
                    else Settings.resolve(**(infnminio or {})))
        for name, value in endpoint_options(settings).items():
            kwargs[name] = {**value, **(kwargs.get(name) or {})}
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
_CALLER_CHOICES = ("key", "secret", "token", "username", "password", "session", "profile",
                   "anon", "endpoint_url")


def caller_chose(kwargs: Dict[str, Any]) -> Optional[str]:
    """The argument by which an s3fs caller chose their own credentials or endpoint."""
    for name in _CALLER_CHOICES:
        if kwargs.get(name) not in (None, False, ""):
            return name
    if (kwargs.get("client_kwargs") or {}).get("endpoint_url"):
        return "client_kwargs.endpoint_url"
    return None


class ActivatedS3FileSystem(InfnS3FileSystem):
    """What ``s3://`` means in fsspec after :func:`infnminio_boto.activate`: the refreshing
    filesystem of the activation's settings (which it pickles with), unless the caller
    chose credentials or an endpoint (:data:`_CALLER_CHOICES`, ``client_kwargs``'s
    ``endpoint_url``): then a plain s3fs one, as without the activation."""

    # The settings of the activation in force (set by activate(), cleared by deactivate()).
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

    def __init__(self, *args: Any, infnminio: Union[Settings, Dict[str, Any], None] = None,
                 **kwargs: Any) -> None:
        self.plain = bool(caller_chose(kwargs))
        if self.plain:
            s3fs.S3FileSystem.__init__(self, *args, **plain_endpoint_arguments(kwargs))
            return
        super().__init__(*args, infnminio=type(self).activation if infnminio is None else infnminio,
                         **kwargs)

    async def set_session(self, refresh: bool = False, kwargs: Optional[dict] = None) -> Any:
        if self.plain:
            return await s3fs.S3FileSystem.set_session(self, refresh=refresh, kwargs=kwargs or {})
        return await super().set_session(refresh=refresh, kwargs=kwargs)

    def __reduce__(self) -> Any:
        options = dict(self.storage_options)
        if not self.plain:
            options["infnminio"] = self.infnminio_settings
        return make_instance, (type(self), self.storage_args, options)


def plain_endpoint_arguments(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """``kwargs`` for a plain s3fs call that goes where it would without activate() (which
    sets ``AWS_ENDPOINT_URL_S3`` for pyarrow): the caller's profile's ``endpoint_url``, else
    botocore's ``ignore_configured_endpoint_urls``."""
    activation = ActivatedS3FileSystem.activation
    ours = activation.endpoint.url if activation is not None else None
    if not ours or (os.environ.get("AWS_ENDPOINT_URL_S3") or "").rstrip("/") != ours:
        return kwargs
    if kwargs.get("endpoint_url") or (kwargs.get("client_kwargs") or {}).get("endpoint_url"):
        return kwargs
    kwargs, profile_endpoint = dict(kwargs), None
    if kwargs.get("profile"):
        try:
            config = botocore.session.Session(profile=kwargs["profile"]).get_scoped_config()
            profile_endpoint = config.get("endpoint_url")
        except botocore.exceptions.ProfileNotFound:
            pass  # s3fs says so when it connects
    if profile_endpoint:
        kwargs["client_kwargs"] = {**(kwargs.get("client_kwargs") or {}),
                                   "endpoint_url": str(profile_endpoint)}
    else:
        kwargs["config_kwargs"] = {"ignore_configured_endpoint_urls": True,
                                   **(kwargs.get("config_kwargs") or {})}
    return kwargs


fsspec_private.tokenized_by(ActivatedS3FileSystem, ("activation_number",))
