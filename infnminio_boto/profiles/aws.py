"""An AWS profile that runs our ``credential_process``: what it holds, and writing it.

The AWS CLI, every AWS SDK, the C++ SDK inside pyarrow and DuckDB's aws extension read
an AWS profile; ``infnminio-boto configure`` and the pyarrow and DuckDB helpers write
one here. The profile gets ``credential_process`` (the fast entry of the command by
absolute path, with every setting that was given as an argument or ``INFNMINIO_*``
variable, so that it works in any shell), ``endpoint_url``, ``region``, path-style S3
addressing, the CA bundle when one is set, and the checksum settings Ceph RGW needs
unless the profile already chooses its own.

The file is edited line by line rather than with configparser, which would drop the
comments and reorder the file: only the managed keys of that one profile change, every
other profile, key and comment is kept, running it twice changes nothing, and the file
is written under a lock, through symlinks, atomically (:mod:`.ini_file`). A profile name
outside the AWS SDKs' rule and a value holding a control character are refused before
the file is touched.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple

from ..errors import ConfigurationError
from ..keys import fastpath
from ..settings import SETTINGS_BY_NAME, TOKEN_SETTINGS, Settings
from ..settings.upload_checksums import CONFIG_KEYS, WHEN_REQUIRED
from .ini_file import check_name, check_value, read_text, set_section, split_sections, update_file

__all__ = [
    "DEFAULT_PROFILE",
    "CHECKSUM_SETTINGS",
    "check_profile_name",
    "config_path",
    "credential_process_command",
    "profile_values",
    "update_config",
    "write_profile",
    "ensure_profile",
    "credentials_file_has",
]

DEFAULT_PROFILE = "infn"
# Added only where the profile has no such key: see upload_checksums.
CHECKSUM_SETTINGS = {key: WHEN_REQUIRED for key in CONFIG_KEYS}
S3_NESTED = ("s3", "addressing_style", "path")
# The AWS SDKs' rule for profile names in the shared config file: the Rust SDK
# (aws-runtime env_config/normalize.rs, `validate_identifier`, "codified in the tests &
# the reference Java implementation") ignores any profile whose name has another
# character. botocore splits "profile NAME" at whitespace (a space makes the profile
# unreachable), and a bracket or newline would end the section header.
_PROFILE_CHARACTER = re.compile(r"[A-Za-z0-9_\-/.%@:+]")
_PROFILE_RULE = (
    "an AWS profile name may hold only ASCII letters, digits and _ - / . % @ : + "
    "(the AWS SDKs ignore a profile named otherwise)"
)


def check_profile_name(name: str) -> None:
    """Raise :class:`~infnminio_boto.errors.ConfigurationError` unless every AWS SDK can
    read a profile called ``name`` (see ``_PROFILE_CHARACTER``)."""
    check_name("AWS profile name", name, _PROFILE_CHARACTER, _PROFILE_RULE)


def config_path() -> Path:
    """``$AWS_CONFIG_FILE``, else ``~/.aws/config``."""
    return Path(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config").expanduser()


def credentials_path() -> Path:
    """``$AWS_SHARED_CREDENTIALS_FILE``, else ``~/.aws/credentials``."""
    return Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials").expanduser()


def command_prefix() -> List[str]:
    """How to run the fast credential-process later, by absolute path.

    ``python -I -S`` runs :mod:`..keys.fast_credential_process` isolated from site-packages
    (the cached answer costs an interpreter start and little more); it hands over to the
    full command with the same interpreter. Symlinks are not resolved: a virtualenv's
    python is a symlink whose path is what makes it find the virtualenv's packages.
    """
    folder = os.path.dirname(os.path.abspath(fastpath.__file__))
    entry = os.path.join(folder, "fast_credential_process.py")
    return [os.path.abspath(sys.executable), "-I", "-S", entry]


def setting_flags(settings: Settings) -> List[str]:
    """Command-line flags reproducing every setting given by argument or variable.

    The endpoint is always written, so the profile and the endpoint_url beside it agree.
    Every value is checked (:func:`.ini_file.check_value`): the line goes into the AWS
    config file, where a newline would start a line of its own. Raises
    :class:`~infnminio_boto.errors.ConfigurationError` naming the setting.
    """
    flags: List[str] = []
    given = set(settings.given()) | {"endpoint"}
    for name, setting in SETTINGS_BY_NAME.items():
        if name not in given:
            continue
        value: Any
        if name in TOKEN_SETTINGS:  # the one that chose the token's source
            value = settings.token.value if settings.token.setting == name else None
            if value is None:
                continue
        else:
            value = getattr(settings, name)
        if setting.kind == "switch":
            if value == setting.flag_value:
                flags.append(setting.flag)
            continue
        if name == "endpoint":
            text = value.url
        elif setting.kind == "path":
            text = os.path.abspath(value)
        elif setting.kind == "command":
            text = shlex.join(value)
        elif setting.kind == "policy":
            # The preset, @ and the file's absolute path, or the compact document;
            # "" (none) overrides an INFNMINIO_POLICY of the shell that runs it.
            text = value.value if value is not None else ""
        else:
            text = "" if value is None else str(value)  # role_arn "" sends none
        check_value(name, text)
        flags += [setting.flag, text]
    return flags


def credential_process_command(settings: Settings) -> str:
    """The ``credential_process`` line for ``settings``, quoted for the AWS config file."""
    parts = [*command_prefix(), *setting_flags(settings)]
    return " ".join(shlex.quote(part) for part in parts)


def profile_values(settings: Settings) -> Dict[str, str]:
    """The top-level keys the profile must hold (written whatever was there).

    Raises :class:`~infnminio_boto.errors.ConfigurationError` naming the setting whose
    value holds a control character.
    """
    values = {
        "credential_process": credential_process_command(settings),
        "endpoint_url": settings.endpoint.url,
        "region": settings.region,
    }
    if settings.ca_bundle:
        values["ca_bundle"] = os.path.abspath(settings.ca_bundle)
    for key, value in values.items():
        # credential_process: the interpreter's and entry file's paths (the flags are
        # checked one by one above, by their setting's name).
        check_value(key, value)
    return values


def section_name(profile: str) -> str:
    return "default" if profile == "default" else f"profile {profile}"


def update_config(
    text: str,
    profile: str,
    values: Mapping[str, str],
    defaults: Mapping[str, str] = CHECKSUM_SETTINGS,
) -> str:
    """``text`` (an AWS config file) with ``profile`` holding ``values`` and ``defaults``.

    ``values`` replace what the profile had; ``defaults`` are added only where the
    profile has no such key, so a user's own choice wins; the ``s3`` block gets
    path-style addressing and keeps its other keys. Raises
    :class:`~infnminio_boto.errors.ConfigurationError` for a bad name or value.
    """
    check_profile_name(profile)
    wanted = section_name(profile)
    aliases = {wanted, f"profile {profile}"} if profile == "default" else {wanted}
    return set_section(text, wanted, values, defaults, aliases=aliases, nested=S3_NESTED)


def write_profile(profile: str, values: Mapping[str, str]) -> Tuple[Path, bool]:
    """Set the profile in the AWS config file; returns (path, whether it changed).

    Raises :class:`~infnminio_boto.errors.ConfigurationError` for a bad name or value
    (before the file is touched) and for any I/O problem (the file left as it was).
    """
    check_profile_name(profile)
    for key, value in values.items():
        check_value(key, value)
    path = config_path()
    old, new = update_file(path, lambda text: update_config(text, profile, values))
    return path, new != old


def ensure_profile(profile: str, settings: Settings) -> Path:
    """Make ``profile`` run our credential_process for ``settings``; returns the file.

    Raises :class:`~infnminio_boto.errors.ConfigurationError` as :func:`write_profile`.
    """
    check_profile_name(profile)
    path, _ = write_profile(profile, profile_values(settings))
    return path


def credentials_file_has(profile: str) -> bool:
    """Whether the shared credentials file has a section for ``profile`` (it would win)."""
    try:
        text = read_text(credentials_path())
    except ConfigurationError:
        return False  # only a warning depends on it
    return any(name == profile for name, _ in split_sections(text.splitlines(keepends=True)))
