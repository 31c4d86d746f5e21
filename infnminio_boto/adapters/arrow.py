"""pyarrow: ``S3FileSystem`` arguments and ready filesystems.

Two ways, because pyarrow's filesystem cannot take a Python credential callback:

* ``s3_filesystem(refreshing=False)`` / ``pyarrow_kwargs()``: the keys themselves.
  pyarrow never refreshes static keys, so they last as long as the credentials
  (``duration_seconds``, an hour by default): right for notebooks and short jobs.
* ``s3_filesystem(refreshing=True)`` (the default): no keys are passed; the AWS C++
  SDK inside pyarrow runs ``infnminio-boto credential-process`` from an AWS profile
  and runs it again whenever the keys expire: right for jobs of any length. The
  profile (``infnminio-boto`` unless you name another) is written into your AWS config
  file as ``infnminio-boto configure`` would, and ``AWS_PROFILE`` is set in this
  process.

Ceph RGW (16) rejects the streaming checksums pyarrow 26's SDK sends on writes with
HTTP 411 MissingContentLength; both ways set ``AWS_REQUEST_CHECKSUM_CALCULATION`` and
``AWS_RESPONSE_CHECKSUM_VALIDATION`` to ``WHEN_REQUIRED`` unless you set them.
"""

from __future__ import annotations

import os
from typing import Any, Dict

from ..errors import ConfigurationError, MissingDependencyError
from ..settings import Settings
from . import resolve, snapshot

__all__ = ["pyarrow_kwargs", "s3_filesystem", "DEFAULT_PROFILE", "prepare_environment"]

DEFAULT_PROFILE = "infnminio-boto"
CHECKSUM_VARIABLES = ("AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION")


def prepare_environment() -> None:
    """Turn off the streaming checksums Ceph RGW rejects (unless you chose otherwise)."""
    for name in CHECKSUM_VARIABLES:
        os.environ.setdefault(name, "WHEN_REQUIRED")


def _endpoint_kwargs(settings: Settings) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = {
        "endpoint_override": settings.endpoint.netloc,
        "scheme": settings.endpoint.scheme,
        "region": settings.region,
    }
    if settings.ca_bundle:
        kwargs["tls_ca_file_path"] = settings.ca_bundle
    return kwargs


def pyarrow_kwargs(**settings: Any) -> Dict[str, Any]:
    """Keyword arguments for ``pyarrow.fs.S3FileSystem`` with the current keys.

    The keys do not refresh: they are good for ``duration_seconds`` (at least 16
    minutes are left when they are handed out).
    """
    resolved = resolve(settings)
    credentials = snapshot(resolved)
    prepare_environment()
    return {
        "access_key": credentials.access_key,
        "secret_key": credentials.secret_key,
        "session_token": credentials.token,
        **_endpoint_kwargs(resolved),
    }


def s3_filesystem(
    *, refreshing: bool = True, profile: str = DEFAULT_PROFILE, **settings: Any
) -> Any:
    """A ``pyarrow.fs.S3FileSystem`` on the object store.

    ``refreshing=True`` keeps working past the keys' expiry (see the module help);
    ``refreshing=False`` passes the current keys.
    """
    try:
        from pyarrow import fs as pafs
    except ImportError:
        raise MissingDependencyError("pyarrow", "arrow") from None
    if not refreshing:
        return pafs.S3FileSystem(**pyarrow_kwargs(**settings))
    resolved = resolve(settings)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        if os.environ.get(name):
            raise ConfigurationError(
                f"{name} is set in the environment: the AWS SDK inside pyarrow would use "
                "those static keys instead of the token file. Unset it, or use "
                "s3_filesystem(refreshing=False)."
            )
    from ..cli.configure import ensure_profile

    ensure_profile(profile, resolved)
    os.environ["AWS_PROFILE"] = profile
    prepare_environment()
    return pafs.S3FileSystem(**_endpoint_kwargs(resolved))
