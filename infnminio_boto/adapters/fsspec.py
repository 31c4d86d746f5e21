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

from typing import TYPE_CHECKING, Any, Dict, Optional

from ..integrations import key_server
from . import Keywords, resolve, snapshot
from .s3fs_options import endpoint_options

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

    Without keys (``keys=False``), s3fs takes them from the AWS credential chain. That
    is the default in a process that shares keys with a Dask cluster
    (:func:`infnminio_boto.dask.share_credentials`): there, and on every worker, the
    chain's credentials endpoint serves renewed keys.
    """
    resolved = resolve(settings)
    if keys is None:
        keys = not key_server.serving()
    options = Keywords(endpoint_options(resolved))
    if keys:
        credentials = snapshot(resolved)
        options.update(
            key=credentials.access_key, secret=credentials.secret_key, token=credentials.token
        )
    return options


def s3fs_filesystem(**settings: Any) -> InfnS3FileSystem:
    """An :class:`InfnS3FileSystem` for ``settings``, resolved here (a bad setting fails
    here, not in a worker; the resolved values travel with the filesystem)."""
    resolved = resolve(settings)
    from .s3fs_classes import InfnS3FileSystem

    return InfnS3FileSystem(infnminio=resolved)
