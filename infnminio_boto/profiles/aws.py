"""An AWS profile that runs our ``credential_process``: what it holds, and writing it.

``configure`` and every helper write the same profile (:data:`DEFAULT_PROFILE` unless
named): the fast ``credential_process`` with every setting given, ``endpoint_url``,
``region``, path-style addressing, the CA bundle and the upload settings; nothing else of
the file changes (:mod:`.ini_file`; docs/clients.md).
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, MutableMapping, Optional, Tuple

from ..errors import ConfigurationError
from ..keys import fastpath
from ..settings import SETTINGS_BY_NAME, TOKEN_SETTINGS, Settings
from ..settings.aws_variables import CONFIG_KEYS, WHEN_REQUIRED
from .ini_file import check_name, check_value, read_text, set_section, split_sections, update_file

__all__ = [
    "DEFAULT_PROFILE", "CHECKSUM_SETTINGS", "check_profile_name", "config_path",
    "credential_process_command", "profile_values", "update_config", "write_profile",
    "ensure_profile", "credentials_file_has", "competing_credentials",
    "hide_competing_credentials", "profile_config",
]

# Every writer's profile (before 0.2 `configure` wrote "infn", which keeps working).
DEFAULT_PROFILE = "infnminio-boto"
# Keys by which a profile holds credentials the AWS SDKs take before a credentials endpoint.
CREDENTIAL_KEYS = ("aws_access_key_id", "credential_process", "role_arn", "sso_session",
                   "sso_start_url", "web_identity_token_file", "credential_source")
# Added only where the profile has no such key: see settings/aws_variables.py.
CHECKSUM_SETTINGS = {key: WHEN_REQUIRED for key in CONFIG_KEYS}
S3_NESTED = ("s3", "addressing_style", "path")
# The AWS SDKs' rule for profile names (the Rust SDK's aws-runtime env_config/normalize.rs,
# `validate_identifier`, ignores a profile named otherwise; botocore splits at whitespace).
_PROFILE_CHARACTER = re.compile(r"[A-Za-z0-9_\-/.%@:+]")
_PROFILE_RULE = ("an AWS profile name may hold only ASCII letters, digits and _ - / . % @ : + "
                 "(the AWS SDKs ignore a profile named otherwise)")


def check_profile_name(name: str) -> None:
    """Raise :class:`~infnminio_boto.errors.ConfigurationError` unless every AWS SDK can
    read a profile called ``name``."""
    check_name("AWS profile name", name, _PROFILE_CHARACTER, _PROFILE_RULE)


def config_path() -> Path:
    """``$AWS_CONFIG_FILE``, else ``~/.aws/config``."""
    return Path(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config").expanduser()


def credentials_path() -> Path:
    """``$AWS_SHARED_CREDENTIALS_FILE``, else ``~/.aws/credentials``."""
    return Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials").expanduser()


def command_prefix() -> List[str]:
    """``python -I -S .../fast_credential_process.py``, by absolute path (symlinks not
    resolved: a virtualenv's python finds its packages by the link's path)."""
    folder = os.path.dirname(os.path.abspath(fastpath.__file__))
    entry = os.path.join(folder, "fast_credential_process.py")
    return [os.path.abspath(sys.executable), "-I", "-S", entry]


def setting_flags(settings: Settings) -> List[str]:
    """Command-line flags reproducing every setting given by argument or variable, and
    the endpoint. Raises :class:`~infnminio_boto.errors.ConfigurationError` naming a
    setting whose value holds a control character (or a Python callable token source)."""
    if settings.token_here_only:
        raise ConfigurationError(
            f"A profile cannot hold {settings.token.setting}= (a Python callable): the AWS "
            "tools run credential_process in another process, which cannot call it. Give "
            "the profile a token source another process can read (token_file, "
            "token_command, oidc_agent_account), or serve the keys to those tools from "
            "this process: infnminio-boto exec --server, or activate(token_loader=...)."
        )
    flags: List[str] = []
    given = set(settings.given()) | {"endpoint"}
    for name, setting in SETTINGS_BY_NAME.items():
        if name not in given:
            continue
        value: Any = getattr(settings, name) if name not in TOKEN_SETTINGS else None
        if name in TOKEN_SETTINGS:  # only the one that chose the token's source
            if settings.token.setting != name or (value := settings.token.value) is None:
                continue
        if setting.kind == "switch":
            if value == setting.flag_value:
                flags.append(setting.flag)
            continue
        if name == "endpoint":
            text = value.url
        elif setting.kind == "path":
            text = os.path.abspath(value)
        elif setting.kind == "argv":
            text = shlex.join(value)
        elif setting.kind == "policy":  # "" (none) overrides the shell's INFNMINIO_POLICY
            text = value.value if value is not None else ""
        else:
            text = "" if value is None else str(value)  # role_arn "" sends none
        check_value(name, text)
        flags += [setting.flag, text]
    return flags


def credential_process_command(settings: Settings) -> str:
    """The ``credential_process`` line for ``settings``, quoted for the AWS config file."""
    return shlex.join([*command_prefix(), *setting_flags(settings)])


def profile_values(settings: Settings) -> Dict[str, str]:
    """The top-level keys the profile must hold (written whatever was there). Raises
    :class:`~infnminio_boto.errors.ConfigurationError` naming a value with a control character."""
    values = {"credential_process": credential_process_command(settings),
              "endpoint_url": settings.endpoint.url, "region": settings.region}
    if settings.ca_bundle:
        values["ca_bundle"] = os.path.abspath(settings.ca_bundle)
    for key, value in values.items():  # the flags were checked by their settings' names
        check_value(key, value)
    return values


def section_name(profile: str) -> str:
    return "default" if profile == "default" else f"profile {profile}"


def update_config(text: str, profile: str, values: Mapping[str, str],
                  defaults: Mapping[str, str] = CHECKSUM_SETTINGS) -> str:
    """``text`` (an AWS config file) with ``profile`` holding ``values``, ``defaults`` where
    it has no such key, and path-style addressing in its ``s3`` block. Raises
    :class:`~infnminio_boto.errors.ConfigurationError` for a bad name or value."""
    check_profile_name(profile)
    wanted = section_name(profile)
    aliases = {wanted, f"profile {profile}"} if profile == "default" else {wanted}
    return set_section(text, wanted, values, defaults, aliases=aliases, nested=S3_NESTED)


def write_profile(profile: str, values: Mapping[str, str]) -> Tuple[Path, bool]:
    """Set the profile in the AWS config file; returns (path, whether it changed). Raises
    :class:`~infnminio_boto.errors.ConfigurationError` for a bad name or value or I/O."""
    check_profile_name(profile)
    for key, value in values.items():
        check_value(key, value)
    path = config_path()
    old, new = update_file(path, lambda text: update_config(text, profile, values))
    return path, new != old


def ensure_profile(profile: str, settings: Settings) -> Path:
    """Make ``profile`` run our credential_process for ``settings``; returns the file.
    Raises :class:`~infnminio_boto.errors.ConfigurationError` as :func:`write_profile`."""
    check_profile_name(profile)
    return write_profile(profile, profile_values(settings))[0]


def profile_config(name: str) -> Dict[str, Any]:
    """The keys of the AWS profile ``name`` as botocore reads them ({} when it has none)."""
    import botocore.session

    profiles = botocore.session.Session().full_config.get("profiles", {})
    return dict(profiles.get(name) or {})


def competing_credentials(environ: Mapping[str, str]) -> Dict[str, str]:
    """Where the profile the AWS SDKs would use in ``environ`` holds credentials, which
    they take before a credentials endpoint: ``{variable naming the file: words}``."""
    from botocore.configloader import raw_config_parse

    profile = environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"
    files = (
        ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials", profile),
        ("AWS_CONFIG_FILE", "~/.aws/config", section_name(profile)),
    )
    found: Dict[str, str] = {}
    for variable, default, section in files:
        path = os.path.expanduser(environ.get(variable) or default)
        try:
            keys = raw_config_parse(path).get(section, {})
        except Exception:  # noqa: S112 - an unreadable file holds nothing the SDKs take
            continue
        held = [key for key in CREDENTIAL_KEYS if key in keys]
        if held:
            found[variable] = f"the profile {profile!r} in {path} holds {held[0]}"
    return found


def hide_competing_credentials(environ: MutableMapping[str, str]) -> Optional[str]:
    """In the environment of a process we start or set up to read a credentials endpoint:
    point the AWS SDKs away from the files whose profile holds credentials that would win
    over it (``os.devnull``); returns what was hidden, in words, or None."""
    found = competing_credentials(environ)
    environ.update(dict.fromkeys(found, os.devnull))
    return None if not found else (
        f"{'; '.join(found.values())}, which the AWS SDKs prefer to the credentials "
        f"endpoint: {', '.join(found)} set to {os.devnull} here"
    )


def credentials_file_has(profile: str) -> bool:
    """Whether the shared credentials file has a section for ``profile`` (it would win)."""
    try:
        text = read_text(credentials_path())
    except ConfigurationError:
        return False  # only a warning depends on it
    return any(name == profile for name, _ in split_sections(text.splitlines(keepends=True)))
