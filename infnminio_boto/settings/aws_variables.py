"""The AWS settings this package writes or yields to: the checksum settings that make
uploads ones Ceph RGW accepts, set wherever the user has not chosen (docs/clients.md), and
the variables by which an environment already chose credentials or an endpoint.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Iterable, Mapping, Optional

from ..compat.botocore import knows_config

__all__ = [
    "CONFIG_KEYS", "VARIABLES", "WHEN_REQUIRED", "STATIC_KEYS", "PROFILE", "CONTAINER",
    "CREDENTIALS", "ENDPOINT", "botocore_supports_them", "config_defaults", "chosen",
    "variables_unless_chosen", "profile_in_use", "competing",
]

# AWS config key (and botocore Config argument) -> environment variable
CONFIG_KEYS = {
    "request_checksum_calculation": "AWS_REQUEST_CHECKSUM_CALCULATION",
    "response_checksum_validation": "AWS_RESPONSE_CHECKSUM_VALIDATION",
}
WHEN_REQUIRED = "when_required"
VARIABLES = {variable: WHEN_REQUIRED.upper() for variable in CONFIG_KEYS.values()}

# Credentials, in the order the AWS SDKs' chains read them: keys, a profile, a web
# identity token, a credentials endpoint (the container provider).
STATIC_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
PROFILE = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")
WEB_IDENTITY = ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN")
CONTAINER = (
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)
CREDENTIALS = STATIC_KEYS + PROFILE + WEB_IDENTITY + CONTAINER
ENDPOINT = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


def botocore_supports_them() -> bool:
    """botocore 1.36 brought the settings (and the checksums); older ones know neither."""
    return knows_config(*CONFIG_KEYS)


def config_defaults(profile_config: Optional[Mapping[str, Any]] = None,
                    environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """``{key: "when_required"}`` for each setting the user has not chosen themselves, in
    ``environ`` (default: this process's) or ``profile_config`` (default: the profile
    ``AWS_PROFILE`` names, as botocore reads it)."""
    if not botocore_supports_them():
        return {}
    environ = os.environ if environ is None else environ
    if profile_config is None:
        profile_config = profile_in_use()
    return {key: WHEN_REQUIRED for key, variable in CONFIG_KEYS.items()
            if not chosen(environ, variable) and key not in profile_config}


def chosen(environ: Mapping[str, str], variable: str) -> bool:
    """Whether ``environ`` sets ``variable`` itself (an empty or blank value does not)."""
    return bool((environ.get(variable) or "").strip())


def variables_unless_chosen(environ: Mapping[str, str]) -> Dict[str, str]:
    """The checksum variables and the value RGW needs, for those ``environ`` does not set
    itself: the one rule every writer of them follows (the user's choice wins)."""
    return {name: value for name, value in VARIABLES.items() if not chosen(environ, name)}


def profile_in_use() -> Mapping[str, Any]:
    """The keys of the AWS profile botocore would use here (empty when there is none,
    or when ``AWS_PROFILE`` names one no file holds)."""
    import botocore.session
    from botocore.exceptions import ProfileNotFound

    try:
        return botocore.session.Session().get_scoped_config()
    except ProfileNotFound:
        return {}


def competing(environ: Mapping[str, str], names: Iterable[str] = CREDENTIALS + ENDPOINT,
              ours: Mapping[str, str] = {}) -> Optional[str]:
    """Why ``environ`` already chose credentials or an endpoint among ``names`` (None: it
    did not). A variable holding the value in ``ours`` (what we set) does not count."""
    for name in names:
        value = (environ.get(name) or "").strip()
        if value and ours.get(name, "").rstrip("/") != value.rstrip("/"):
            shown = "" if name in STATIC_KEYS + CONTAINER else f"={value}"  # no secret shown
            return f"{name}{shown} is set in the environment"
    return None
