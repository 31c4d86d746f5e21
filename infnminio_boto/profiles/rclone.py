"""An rclone remote on the object store, whose keys come from our AWS profile.

rclone's S3 backend with ``env_auth = true`` and ``profile = NAME`` runs that profile's
``credential_process`` (and again when the keys expire), so the remote needs no keys of
its own. The remote is written into rclone's config file (``$RCLONE_CONFIG``, else
``$XDG_CONFIG_HOME/rclone/rclone.conf``, else ``~/.config/rclone/rclone.conf``); every
other remote is kept. rclone reads no CA bundle from the profile: for a private
authority it takes ``--ca-cert`` or ``RCLONE_CA_CERT`` (``infnminio-boto env`` sets it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Tuple

from ..settings import Settings
from .ini_file import set_section, update_file

__all__ = ["config_path", "remote_values", "write_remote"]


def config_path() -> Path:
    if os.environ.get("RCLONE_CONFIG"):
        return Path(os.environ["RCLONE_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "rclone" / "rclone.conf"


def remote_values(settings: Settings, profile: str) -> Dict[str, str]:
    """The keys of a remote that reaches ``settings``' store through ``profile``."""
    return {
        "type": "s3",
        "provider": "Minio" if settings.server_kind == "minio" else "Ceph",
        "env_auth": "true",
        "profile": profile,
        "endpoint": settings.endpoint.url,
        "region": settings.region,
        "force_path_style": "true",
    }


def write_remote(name: str, values: Dict[str, str]) -> Tuple[Path, bool]:
    """Set the remote ``[name]``; returns (path, whether the file changed)."""
    path = config_path()
    old, new = update_file(path, lambda text: set_section(text, name, values))
    return path, new != old
