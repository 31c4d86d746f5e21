"""An rclone remote on the object store, whose keys come from our AWS profile.

rclone's S3 backend with ``env_auth = true`` and ``profile = NAME`` runs that profile's
``credential_process``, so the remote holds no keys; it is written into rclone's config
file as the AWS config is (:mod:`.ini_file`), other remotes kept (docs/clients.md).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, Tuple

from ..settings import Settings
from .ini_file import check_name, check_value, set_section, update_file

__all__ = ["check_remote_name", "config_path", "remote_values", "write_remote"]

# rclone's rule (docs/content/docs.md, "Valid remote names"), without space (quoted in
# every command) and non-ASCII letters (refused before rclone 1.61).
_REMOTE_CHARACTER = re.compile(r"[A-Za-z0-9_.+@-]")
_REMOTE_FIRST = re.compile(r"[A-Za-z0-9_.+@]")
_REMOTE_RULE = ("an rclone remote name may hold only ASCII letters, digits and _ - . + @, "
                "and may not start with -")


def check_remote_name(name: str) -> None:
    """Raise :class:`~infnminio_boto.errors.ConfigurationError` unless rclone (any
    release) can use a remote called ``name``."""
    check_name("rclone remote name", name, _REMOTE_CHARACTER, _REMOTE_RULE, first=_REMOTE_FIRST)


def config_path() -> Path:
    """``$RCLONE_CONFIG``, else ``$XDG_CONFIG_HOME/rclone/rclone.conf``, else
    ``~/.config/rclone/rclone.conf``."""
    if os.environ.get("RCLONE_CONFIG"):
        return Path(os.environ["RCLONE_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "rclone" / "rclone.conf"


def remote_values(settings: Settings, profile: str) -> Dict[str, str]:
    """The keys of a remote that reaches ``settings``' store through ``profile``."""
    return {"type": "s3", "provider": settings.server.rclone_provider, "env_auth": "true",
            "profile": profile, "endpoint": settings.endpoint.url, "region": settings.region,
            "force_path_style": "true"}


def write_remote(name: str, values: Dict[str, str]) -> Tuple[Path, bool]:
    """Set the remote ``[name]``; returns (path, whether the file changed).

    Raises :class:`~infnminio_boto.errors.ConfigurationError` for a bad name or value
    (before the file is touched) and for any I/O problem (the file left as it was).
    """
    check_remote_name(name)
    for key, value in values.items():
        check_value(key, value)
    path = config_path()
    old, new = update_file(path, lambda text: set_section(text, name, values))
    return path, new != old
