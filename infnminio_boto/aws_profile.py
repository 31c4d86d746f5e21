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
is replaced atomically.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

from .settings import SETTINGS_BY_NAME, Settings
from .upload_checksums import CONFIG_KEYS, WHEN_REQUIRED

__all__ = [
    "DEFAULT_PROFILE",
    "CHECKSUM_SETTINGS",
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
S3_NESTED = ("addressing_style", "path")
_HEADER = re.compile(r"^\s*\[\s*(?P<name>[^\]]+?)\s*\]\s*(?:[#;].*)?$")
_KEY = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+)\s*=\s*(?P<value>.*)$")


def config_path() -> Path:
    """``$AWS_CONFIG_FILE``, else ``~/.aws/config``."""
    return Path(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config").expanduser()


def credentials_path() -> Path:
    """``$AWS_SHARED_CREDENTIALS_FILE``, else ``~/.aws/credentials``."""
    return Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials").expanduser()


def command_prefix() -> List[str]:
    """How to run the fast credential-process later, by absolute path.

    ``python -I -S`` runs :mod:`.fast_credential_process` isolated from site-packages
    (the cached answer costs an interpreter start and little more); it hands over to the
    full command with the same interpreter. Symlinks are not resolved: a virtualenv's
    python is a symlink whose path is what makes it find the virtualenv's packages.
    """
    entry = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fast_credential_process.py")
    return [os.path.abspath(sys.executable), "-I", "-S", entry]


def setting_flags(settings: Settings) -> List[str]:
    """Command-line flags reproducing every setting given by argument or variable.

    The endpoint is always written, so the profile and the endpoint_url beside it agree.
    """
    flags: List[str] = []
    given = set(settings.given()) | {"endpoint"}
    for name, setting in SETTINGS_BY_NAME.items():
        if name not in given:
            continue
        value = getattr(settings, name if name != "token_file" else "token_files")
        if setting.kind == "switch":
            if value == setting.flag_value:
                flags.append(setting.flag)
            continue
        if name == "endpoint":
            text = value.url
        elif name == "token_file":
            text = os.path.abspath(value[0])
        elif name in ("ca_bundle", "cache_dir"):
            text = os.path.abspath(value)
        else:
            text = "" if value is None else str(value)  # role_arn "" sends none
        flags += [setting.flag, text]
    return flags


def credential_process_command(settings: Settings) -> str:
    """The ``credential_process`` line for ``settings``, quoted for the AWS config file."""
    parts = [*command_prefix(), *setting_flags(settings)]
    return " ".join(shlex.quote(part) for part in parts)


def profile_values(settings: Settings) -> Dict[str, str]:
    """The top-level keys the profile must hold (written whatever was there)."""
    values = {
        "credential_process": credential_process_command(settings),
        "endpoint_url": settings.endpoint.url,
        "region": settings.region,
    }
    if settings.ca_bundle:
        values["ca_bundle"] = os.path.abspath(settings.ca_bundle)
    return values


def section_name(profile: str) -> str:
    return "default" if profile == "default" else f"profile {profile}"


def _split_sections(lines: List[str]) -> List[Tuple[Optional[str], List[str]]]:
    sections: List[Tuple[Optional[str], List[str]]] = [(None, [])]
    for line in lines:
        match = _HEADER.match(line)
        if match:
            sections.append((" ".join(match["name"].split()), [line]))
        else:
            sections[-1][1].append(line)
    return sections


def _rewrite_section(
    body: List[str], values: Mapping[str, str], defaults: Mapping[str, str]
) -> List[str]:
    """``body`` (header first) with ``values`` set and ``defaults`` added where absent."""
    header, rest = body[0], body[1:]
    kept: List[str] = []
    s3_nested: List[str] = []
    present = set()
    index = 0
    while index < len(rest):
        line = rest[index]
        match = _KEY.match(line)  # top-level keys are not indented
        if match:
            present.add(match["key"])
        if match and match["key"] in values:
            index += 1
            continue
        if match and match["key"] == "s3" and not match["value"].strip():
            index += 1
            while index < len(rest) and rest[index][:1] in (" ", "\t") and rest[index].strip():
                nested = _KEY.match(rest[index].strip())
                if not (nested and nested["key"] == S3_NESTED[0]):
                    s3_nested.append(rest[index].rstrip("\n"))
                index += 1
            continue
        kept.append(line)
        index += 1
    while kept and not kept[-1].strip():
        kept.pop()
    # Defaults before values: a second run keeps them where the first one put them.
    managed = [f"{key} = {value}\n" for key, value in defaults.items() if key not in present]
    managed += [f"{key} = {value}\n" for key, value in values.items()]
    managed.append("s3 =\n")
    managed.extend(f"{line}\n" for line in s3_nested)
    managed.append(f"    {S3_NESTED[0]} = {S3_NESTED[1]}\n")
    return [header, *kept, *managed]


def update_config(
    text: str,
    profile: str,
    values: Mapping[str, str],
    defaults: Mapping[str, str] = CHECKSUM_SETTINGS,
) -> str:
    """``text`` (an AWS config file) with ``profile`` holding ``values`` and ``defaults``.

    ``values`` replace what the profile had; ``defaults`` are added only where the
    profile has no such key, so a user's own choice wins.
    """
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    sections = _split_sections(lines)
    wanted = section_name(profile)
    aliases = {wanted, f"profile {profile}"} if profile == "default" else {wanted}
    output: List[str] = []
    found = False
    for name, body in sections:
        if name in aliases and not found:
            found = True
            trailing = []
            while len(body) > 1 and not body[-1].strip():
                trailing.insert(0, body.pop())
            output.extend(_rewrite_section(body, values, defaults))
            output.extend(trailing or ["\n"])
        else:
            output.extend(body)
    if not found:
        if output and output[-1].strip():
            output.append("\n")
        output.extend(_rewrite_section([f"[{wanted}]\n"], values, defaults))
    while output and not output[-1].strip():
        output.pop()
    return "".join(output) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename, keeping its mode (0600 when new)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, temporary = tempfile.mkstemp(prefix=".config.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_profile(profile: str, values: Mapping[str, str]) -> Tuple[Path, bool]:
    """Set the profile in the AWS config file; returns (path, whether it changed)."""
    path = config_path()
    old = path.read_text() if path.exists() else ""
    new = update_config(old, profile, values)
    if new == old:
        return path, False
    write_atomically(path, new)
    return path, True


def ensure_profile(profile: str, settings: Settings) -> Path:
    """Make ``profile`` run our credential_process for ``settings``; returns the file."""
    path, _ = write_profile(profile, profile_values(settings))
    return path


def credentials_file_has(profile: str) -> bool:
    """Whether the shared credentials file has a section for ``profile`` (it would win)."""
    try:
        text = credentials_path().read_text()
    except OSError:
        return False
    return any(name == profile for name, _ in _split_sections(text.splitlines(keepends=True)))
