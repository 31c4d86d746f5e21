"""pyarrow: ``S3FileSystem`` arguments and ready filesystems.

Two ways, because pyarrow's filesystem cannot take a Python credential callback:

* ``s3_filesystem(refreshing=False)`` / ``pyarrow_kwargs()``: the keys themselves.
  pyarrow never refreshes static keys, so they last as long as the credentials
  (``duration_seconds``, an hour by default): right for notebooks and short jobs.
* ``s3_filesystem(refreshing=True)`` (the default): no keys are passed; the AWS C++
  SDK inside pyarrow runs ``infnminio-boto credential-process`` from an AWS profile
  and runs it again whenever the keys expire: right for jobs of any length. The
  profile (``infnminio-boto`` unless you name another) is written into your AWS config
  file as ``infnminio-boto configure`` would.

The SDK reads its profile and its checksum settings from the process environment, and
pyarrow offers no argument for either. Both ways therefore take ``environ``, the mapping
they set those variables in (default: ``os.environ``, this process's environment):
``AWS_PROFILE`` for the refreshing way, and ``AWS_REQUEST_CHECKSUM_CALCULATION`` /
``AWS_RESPONSE_CHECKSUM_VALIDATION`` = ``WHEN_REQUIRED`` unless already set (Ceph RGW
answers the streaming checksums of pyarrow's SDK with HTTP 411). ``environ=None``
changes nothing: :func:`pyarrow_environment` gives the variables to set yourself.
"""

from __future__ import annotations

import os
from typing import Any, Dict, MutableMapping, Optional

from ..errors import ConfigurationError, MissingDependencyError
from ..settings import Settings
from ..settings.upload_checksums import VARIABLES
from . import (
    PROCESS_ENVIRONMENT,
    Keywords,
    resolve,
    set_checksum_variables,
    set_variables,
    snapshot,
)

__all__ = [
    "pyarrow_kwargs",
    "s3_filesystem",
    "pyarrow_environment",
    "DEFAULT_PROFILE",
    "CHECKSUM_VARIABLES",
]

DEFAULT_PROFILE = "infnminio-boto"
CHECKSUM_VARIABLES = VARIABLES  # see upload_checksums


def _endpoint_kwargs(settings: Settings) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = {
        "endpoint_override": settings.endpoint.netloc,
        "scheme": settings.endpoint.scheme,
        "region": settings.region,
    }
    if settings.ca_bundle:
        kwargs["tls_ca_file_path"] = settings.ca_bundle
    return kwargs


def pyarrow_kwargs(
    *, environ: Optional[MutableMapping[str, str]] = PROCESS_ENVIRONMENT, **settings: Any
) -> Dict[str, Any]:
    """Keyword arguments for ``pyarrow.fs.S3FileSystem`` with the current keys.

    The keys do not refresh: they are handed out with more than 16 minutes left when
    ``duration_seconds`` allows it (an hour by default). The checksum variables are set
    in ``environ`` unless already there (see the module help).
    """
    resolved = resolve(settings)
    credentials = snapshot(resolved)
    set_checksum_variables(environ)
    return Keywords(
        access_key=credentials.access_key,
        secret_key=credentials.secret_key,
        session_token=credentials.token,
        **_endpoint_kwargs(resolved),
    )


def pyarrow_environment(*, profile: str = DEFAULT_PROFILE, **settings: Any) -> Dict[str, str]:
    """Write ``profile`` for ``settings`` and return the variables pyarrow's SDK needs.

    ``AWS_PROFILE`` and the two checksum variables; a refreshing ``S3FileSystem()``
    built with only the endpoint arguments works in a process that has them.
    """
    return _profile_environment(profile, resolve(settings))


def _profile_environment(
    profile: str, settings: Settings, *, checksums: bool = True
) -> Dict[str, str]:
    from ..profiles.aws import ensure_profile

    ensure_profile(profile, settings)
    return {"AWS_PROFILE": profile, **(CHECKSUM_VARIABLES if checksums else {})}


def s3_filesystem(
    *,
    refreshing: bool = True,
    profile: str = DEFAULT_PROFILE,
    environ: Optional[MutableMapping[str, str]] = PROCESS_ENVIRONMENT,
    **settings: Any,
) -> Any:
    """A ``pyarrow.fs.S3FileSystem`` on the object store.

    ``refreshing=True`` keeps working past the keys' expiry: it writes ``profile`` and
    sets ``AWS_PROFILE`` (and the checksum variables unless set) in ``environ``;
    ``refreshing=False`` passes the current keys. See the module help.
    """
    try:
        from pyarrow import fs as pafs
    except ImportError:
        raise MissingDependencyError("pyarrow", "arrow") from None
    if not refreshing:
        return pafs.S3FileSystem(**pyarrow_kwargs(environ=environ, **settings))
    resolved = resolve(settings)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        if os.environ.get(name):
            raise ConfigurationError(
                f"{name} is set in the environment: the AWS SDK inside pyarrow would use "
                "those static keys instead of the token file. Unset it, or use "
                "s3_filesystem(refreshing=False)."
            )
    set_variables(_profile_environment(profile, resolved, checksums=False), environ)
    set_checksum_variables(environ)
    return pafs.S3FileSystem(**_endpoint_kwargs(resolved))
