"""pyarrow: ``S3FileSystem`` arguments, ready filesystems, and pyarrow's activation. pyarrow
takes no credential callback: its AWS SDK runs our ``credential_process`` from the AWS
profile, or reads this process's credentials endpoint (docs/clients.md)."""

from __future__ import annotations

import os
import warnings
from typing import Any, Dict, MutableMapping, Optional

from ..compat import pyarrow as pyarrow_private
from ..errors import ConfigurationError, MissingDependencyError
from ..integrations import key_server
from ..keys.refresh import refreshing_credentials
from ..profiles.aws import DEFAULT_PROFILE, ensure_profile
from ..settings import Settings
from ..settings.aws_variables import STATIC_KEYS, VARIABLES, competing
from . import PROCESS_ENVIRONMENT, Keywords, set_checksum_variables, snapshot
from .activate import Activation, Activator, Context

__all__ = ["pyarrow_kwargs", "s3_filesystem", "pyarrow_environment", "DEFAULT_PROFILE",
           "CHECKSUM_VARIABLES"]

CHECKSUM_VARIABLES = VARIABLES  # see settings/aws_variables.py


def _endpoint_kwargs(settings: Settings) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = {"endpoint_override": settings.endpoint.netloc,
                              "scheme": settings.endpoint.scheme, "region": settings.region}
    if settings.ca_bundle:
        kwargs["tls_ca_file_path"] = settings.ca_bundle
    return kwargs


def pyarrow_kwargs(
    *, environ: Optional[MutableMapping[str, str]] = PROCESS_ENVIRONMENT, **settings: Any
) -> Dict[str, Any]:
    """Keyword arguments for ``pyarrow.fs.S3FileSystem`` with the current keys (not
    refreshed: more than 16 minutes left when ``duration_seconds`` allows). The checksum
    variables are set in ``environ`` (None: nowhere) unless already there."""
    resolved = Settings.resolve(**settings)
    credentials = snapshot(resolved)
    set_checksum_variables(environ)
    return Keywords(access_key=credentials.access_key, secret_key=credentials.secret_key,
                    session_token=credentials.token, **_endpoint_kwargs(resolved))


def pyarrow_environment(*, profile: str = DEFAULT_PROFILE, **settings: Any) -> Dict[str, str]:
    """Write ``profile`` and return the variables pyarrow's SDK needs: ``AWS_PROFILE`` and
    the checksum ones. Raises :class:`~infnminio_boto.ConfigurationError` for a
    ``token_loader`` (no profile can hold one)."""
    ensure_profile(profile, Settings.resolve(**settings))
    return {"AWS_PROFILE": profile, **CHECKSUM_VARIABLES}


def s3_filesystem(*, refreshing: bool = True, profile: str = DEFAULT_PROFILE,
                  environ: Optional[MutableMapping[str, str]] = PROCESS_ENVIRONMENT,
                  **settings: Any) -> Any:
    """A ``pyarrow.fs.S3FileSystem`` on the object store. ``refreshing=True`` writes
    ``profile`` and sets ``AWS_PROFILE`` (with a ``token_loader``: the credentials endpoint)
    and the checksum variables in ``environ``; ``False`` passes the current keys. Raises
    :class:`~infnminio_boto.ConfigurationError` when static ``AWS_*`` keys would win."""
    try:
        from pyarrow import fs as pafs
    except ImportError:
        raise MissingDependencyError("pyarrow", "arrow") from None
    if not refreshing:
        return pafs.S3FileSystem(**pyarrow_kwargs(environ=environ, **settings))
    resolved = Settings.resolve(**settings)
    chosen = competing(os.environ, STATIC_KEYS)
    if chosen:
        raise ConfigurationError(f"{chosen}: the AWS SDK inside pyarrow would use those static "
                                 "keys instead of the token. Unset it, or use "
                                 "s3_filesystem(refreshing=False).")
    if resolved.token_here_only:
        key_server.serve(refreshing_credentials(resolved).get, environ)
    else:
        ensure_profile(profile, resolved)
        if environ is not None:
            environ["AWS_PROFILE"] = profile
    set_checksum_variables(environ)
    return pafs.S3FileSystem(**_endpoint_kwargs(resolved))


def _apply(activation: Activation, context: Context) -> Optional[str]:
    if context.profile is not None:
        activation.set_variable("pyarrow", "AWS_PROFILE", context.profile)
    activation.set_variable("pyarrow", "AWS_ENDPOINT_URL_S3", context.settings.endpoint.url)
    for name, value in VARIABLES.items():
        if not (PROCESS_ENVIRONMENT.get(name) or "").strip():
            activation.set_variable("pyarrow", name, value)
    if context.settings.ca_bundle and pyarrow_private.filesystems_loaded():
        note = ("pyarrow.fs was imported before activate(): it keeps the CA list it read then, "
                "so bare s3:// URLs fail TLS verification with this ca_bundle. Call activate() "
                "first (restart the kernel), or add ?tls_ca_file_path=... to the URL.")
        activation.changed("pyarrow", f"WARNING: {note}")
        warnings.warn(note, RuntimeWarning, stacklevel=5)
    return None


ACTIVATOR = Activator(needs="pyarrow", apply=_apply, profile="needed", trust=True,
                      extra="arrow")
