"""polars: ``storage_options`` and a refreshing ``credential_provider``.

``polars_storage_options()`` holds the current keys (polars does not refresh them);
``polars_credential_provider()`` is a callable polars calls again when the keys it got
are about to expire: pass both, the provider for the keys and the options for the
endpoint::

    pl.scan_parquet("s3://bucket/data.parquet",
                    storage_options=polars_storage_options(keys=False),
                    credential_provider=polars_credential_provider())
"""

from __future__ import annotations

from typing import Any, Dict, MutableMapping, Optional, Tuple

from ..integrations.ca_trust import ssl_cert_file_variables
from ..settings import Settings
from . import PROCESS_ENVIRONMENT, Keywords, RefreshingProvider, resolve, set_variables, snapshot

__all__ = ["polars_storage_options", "polars_credential_provider", "PolarsCredentialProvider"]


def _endpoint_options(settings: Settings) -> Dict[str, str]:
    return {
        "aws_endpoint_url": settings.endpoint.url,
        "aws_region": settings.region,
        "aws_allow_http": "false" if settings.endpoint.secure else "true",
        "aws_virtual_hosted_style_request": "false",
    }


def polars_storage_options(
    *,
    keys: bool = True,
    environ: Optional[MutableMapping[str, str]] = PROCESS_ENVIRONMENT,
    **settings: Any,
) -> Dict[str, str]:
    """``storage_options`` for polars' ``read_*``/``scan_*``/``write_*`` on S3.

    With ``keys=False`` only the endpoint options, for use with
    :func:`polars_credential_provider`. polars takes no CA argument: with a
    ``ca_bundle`` set, ``SSL_CERT_FILE`` in ``environ`` (default: this process's
    environment; None leaves it alone) is pointed at a bundle holding the system's
    authorities and that one, before polars' first S3 access.
    """
    resolved = resolve(settings)
    set_variables(ssl_cert_file_variables(resolved), environ)
    options = Keywords(_endpoint_options(resolved))
    if keys:
        credentials = snapshot(resolved)
        options.update(
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
            aws_session_token=credentials.token,
        )
    return options


class PolarsCredentialProvider(RefreshingProvider):
    """A polars credential provider: returns ``(keys, expiry)`` and is called on expiry.

    The expiry given to polars is the start of our advisory refresh window, so polars
    asks again while the keys it has are still good (obstore is told the same).
    """

    def __call__(self) -> Tuple[Dict[str, str], Optional[int]]:
        keys = self.refresher.get()
        ask_again = self.refresher.next_refresh
        return (
            {
                "aws_access_key_id": keys.access_key,
                "aws_secret_access_key": keys.secret_key,
                "aws_session_token": keys.token,
            },
            int(ask_again.timestamp()) if ask_again is not None else None,
        )


def polars_credential_provider(**settings: Any) -> PolarsCredentialProvider:
    """A refreshing ``credential_provider`` for polars."""
    return PolarsCredentialProvider(resolve(settings))
