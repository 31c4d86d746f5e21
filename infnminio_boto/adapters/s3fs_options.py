"""The endpoint options of s3fs (``client_kwargs``, ``config_kwargs``) for some settings.

Shared by the plain ``storage_options()`` and the refreshing filesystem class; importing
it imports neither s3fs nor aiobotocore.
"""

from __future__ import annotations

from typing import Any, Dict

from ..settings import Settings
from ..settings.upload_checksums import config_defaults

__all__ = ["endpoint_options"]


def endpoint_options(settings: Settings) -> Dict[str, Any]:
    client_kwargs: Dict[str, Any] = {"endpoint_url": settings.endpoint.url}
    if settings.ca_bundle:
        client_kwargs["verify"] = settings.ca_bundle
    config_kwargs: Dict[str, Any] = {
        # The region signs requests; in client_kwargs s3fs would also send it as the
        # LocationConstraint of every bucket it creates, which Ceph RGW refuses.
        "region_name": settings.region,
        "s3": {"addressing_style": "path"},
        # Uploads without the streaming checksums Ceph RGW refuses, unless the user chose.
        **config_defaults(),
    }
    return {"client_kwargs": client_kwargs, "config_kwargs": config_kwargs}
