"""fsspec / s3fs (pandas, Dask, xarray/zarr, uproot): ``storage_options`` (the current
keys, not refreshed), a refreshing filesystem that pickles as its settings, and their
activation (docs/clients.md, docs/activate.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from ..integrations import key_server
from ..settings import Settings
from . import Keywords, endpoint_options, snapshot
from .activate import Activation, Activator, Context

if TYPE_CHECKING:
    from .s3fs_classes import AioStsWireCredentials, InfnS3FileSystem

__all__ = ["storage_options", "s3fs_filesystem", "InfnS3FileSystem", "AioStsWireCredentials"]


def __getattr__(name: str) -> Any:
    # The classes subclass s3fs's: defined (and s3fs imported) on first use.
    if name in ("InfnS3FileSystem", "AioStsWireCredentials"):
        from . import s3fs_classes

        return getattr(s3fs_classes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def storage_options(*, keys: Optional[bool] = None, **settings: Any) -> Dict[str, Any]:
    """``storage_options`` for s3fs: the endpoint, and the current keys (not refreshed).
    ``keys=False`` leaves them to the AWS credential chain: the default in a process that
    serves keys (:func:`infnminio_boto.dask.share_credentials`)."""
    resolved = Settings.resolve(**settings)
    if keys is None:
        keys = not key_server.serving()
    options = Keywords(endpoint_options(resolved))
    if keys:
        credentials = snapshot(resolved)
        options.update(key=credentials.access_key, secret=credentials.secret_key,
                       token=credentials.token)
    return options


def s3fs_filesystem(**settings: Any) -> InfnS3FileSystem:
    """An :class:`InfnS3FileSystem` for ``settings``, resolved here (a bad setting fails
    here, not in a worker)."""
    resolved = Settings.resolve(**settings)
    from .s3fs_classes import InfnS3FileSystem

    return InfnS3FileSystem(infnminio=resolved)


_PROTOCOLS = ("s3", "s3a")


def _apply(activation: Activation, context: Context) -> Optional[str]:
    import fsspec
    import fsspec.config
    import s3fs
    from fsspec.registry import registry

    from .s3fs_classes import ActivatedS3FileSystem, caller_chose

    before = {name: registry.get(name) for name in _PROTOCOLS}
    for name, cls in before.items():
        if cls is not None and cls is not s3fs.S3FileSystem and cls is not ActivatedS3FileSystem:
            return f"fsspec's {name!r} protocol is registered to {cls.__name__}"
    for name in _PROTOCOLS:
        chosen = caller_chose(dict(fsspec.config.conf.get(name) or {}))
        if chosen:
            return f"fsspec.config.conf[{name!r}] chooses {chosen}"
    ActivatedS3FileSystem.activate(context.settings)
    for name in _PROTOCOLS:
        fsspec.register_implementation(name, ActivatedS3FileSystem, clobber=True)

    def restore() -> None:
        for name, cls in before.items():
            fsspec.register_implementation(name, cls or s3fs.S3FileSystem, clobber=True)
        ActivatedS3FileSystem.activate(None)

    activation.changed("fsspec", 'fsspec.register_implementation("s3" and "s3a", '
                       'ActivatedS3FileSystem, clobber=True)', restore)
    return None


ACTIVATOR = Activator(needs="s3fs", apply=_apply, extra="fsspec")
