"""Uploads Ceph RGW accepts: no streaming checksums unless the user asks for them.

Over TLS, botocore 1.36 and newer, the AWS CLI, the AWS C++ SDK inside pyarrow and the
JavaScript SDK send uploads as ``aws-chunked`` with a trailing checksum; Ceph RGW
releases without support for that answer ``411 MissingContentLength``. Every client
already reads a setting that turns it off (``when_required``); this module says where
to set it without overriding a choice the user made (a ``Config`` of their own, an
``AWS_*`` variable, or a key of their AWS profile).
"""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional

__all__ = [
    "CONFIG_KEYS",
    "VARIABLES",
    "botocore_supports_them",
    "config_defaults",
    "chosen",
    "variables_unless_chosen",
]

# AWS config key (and botocore Config argument) -> environment variable
CONFIG_KEYS = {
    "request_checksum_calculation": "AWS_REQUEST_CHECKSUM_CALCULATION",
    "response_checksum_validation": "AWS_RESPONSE_CHECKSUM_VALIDATION",
}
WHEN_REQUIRED = "when_required"
VARIABLES = {variable: WHEN_REQUIRED.upper() for variable in CONFIG_KEYS.values()}


def botocore_supports_them() -> bool:
    """botocore 1.36 brought the settings (and the checksums); older ones know neither."""
    from botocore.config import Config

    return all(key in Config.OPTION_DEFAULTS for key in CONFIG_KEYS)


def config_defaults(
    profile_config: Optional[Mapping[str, Any]] = None,
    environ: Optional[Mapping[str, str]] = None,
) -> Dict[str, str]:
    """``{key: "when_required"}`` for each setting the user has not chosen themselves.

    ``profile_config`` is the AWS profile in use (default: the one ``AWS_PROFILE``
    names, as botocore reads it), ``environ`` the environment (default: this
    process's).
    """
    if not botocore_supports_them():
        return {}
    environ = os.environ if environ is None else environ
    if profile_config is None:
        profile_config = profile_in_use()
    return {
        key: WHEN_REQUIRED
        for key, variable in CONFIG_KEYS.items()
        if not chosen(environ, variable) and key not in profile_config
    }


def chosen(environ: Mapping[str, str], variable: str) -> bool:
    """Whether ``environ`` sets ``variable`` itself (an empty or blank value does not)."""
    return bool((environ.get(variable) or "").strip())


def variables_unless_chosen(environ: Mapping[str, str]) -> Dict[str, str]:
    """The checksum variables and the value RGW needs, for those ``environ`` does not set
    itself: the one rule every writer of them follows (the user's choice wins)."""
    return {name: value for name, value in VARIABLES.items() if not chosen(environ, name)}


def profile_in_use() -> Mapping[str, Any]:
    """The keys of the AWS profile botocore would use here (empty when there is none)."""
    import botocore.session
    from botocore.exceptions import ProfileNotFound

    try:
        return botocore.session.Session().get_scoped_config()
    except ProfileNotFound:
        return {}
