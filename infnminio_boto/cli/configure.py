"""``infnminio-boto configure``: write an AWS profile that uses our credential_process.

The profile gets ``credential_process`` (this command's absolute path with the settings
that were given, so the profile works in any shell), ``endpoint_url``, ``region`` and
path-style S3 addressing. Only those keys of that one profile are touched: every other
profile, key and comment of the file is kept as it was, and running the command twice
changes nothing. The file is replaced atomically.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from . import add_settings_flags, configure_logging, settings_from_flags

MANAGED_KEYS = ("credential_process", "endpoint_url", "region")
S3_NESTED = ("addressing_style", "path")
_HEADER = re.compile(r"^\s*\[\s*(?P<name>[^\]]+?)\s*\]\s*(?:[#;].*)?$")
_KEY = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+)\s*=\s*(?P<value>.*)$")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "configure",
        help="write an AWS profile (credential_process, endpoint, region, path style)",
        description="Write or update a profile in ~/.aws/config (or $AWS_CONFIG_FILE) so "
        "that the AWS CLI, the AWS SDKs, pyarrow and DuckDB get credentials from the "
        "token file.",
    )
    parser.add_argument("--profile", default="infn", help="profile name (default: infn)")
    add_settings_flags(parser)
    parser.set_defaults(handler=run)


def config_path() -> Path:
    return Path(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config").expanduser()


def command_prefix() -> List[str]:
    """How to run this very command later, by absolute path.

    Symlinks are not resolved: a virtualenv's python is a symlink whose path is what
    makes it find the virtualenv's packages.
    """
    for candidate in (Path(sys.argv[0]), Path(sys.executable).parent / "infnminio-boto"):
        if candidate.name == "infnminio-boto" and os.access(candidate, os.X_OK):
            return [os.path.abspath(candidate)]
    return [os.path.abspath(sys.executable), "-m", "infnminio_boto"]


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


def _rewrite_section(body: List[str], values: Dict[str, str]) -> List[str]:
    """``body`` (header first) with the managed keys set, everything else kept."""
    header, rest = body[0], body[1:]
    kept: List[str] = []
    s3_nested: List[str] = []
    index = 0
    while index < len(rest):
        line = rest[index]
        match = _KEY.match(line)  # top-level keys are not indented
        if match and match["key"] in MANAGED_KEYS:
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
    managed = [f"{key} = {values[key]}\n" for key in MANAGED_KEYS]
    managed.append("s3 =\n")
    managed.extend(f"{line}\n" for line in s3_nested)
    managed.append(f"    {S3_NESTED[0]} = {S3_NESTED[1]}\n")
    return [header, *kept, *managed]


def update_config(text: str, profile: str, values: Dict[str, str]) -> str:
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
            output.extend(_rewrite_section(body, values))
            output.extend(trailing or ["\n"])
        else:
            output.extend(body)
    if not found:
        if output and output[-1].strip():
            output.append("\n")
        output.extend(_rewrite_section([f"[{wanted}]\n"], values))
    while output and not output[-1].strip():
        output.pop()
    return "".join(output)


def write_atomically(path: Path, text: str) -> None:
    import tempfile

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


def credentials_file_has(profile: str) -> bool:
    path = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials").expanduser()
    try:
        text = path.read_text()
    except OSError:
        return False
    return any(name == profile for name, _ in _split_sections(text.splitlines(keepends=True)))


def profile_values(settings, given: Dict[str, object]) -> Dict[str, str]:
    """The managed keys of a profile for ``settings``.

    Settings that were given (``given``) or come from ``INFNMINIO_*`` variables are
    written into the credential_process command, so the profile works in any shell.
    """
    flags = ["--endpoint", settings.endpoint.url]
    for name, flag in (
        ("token_file", "--token-file"),
        ("role_arn", "--role-arn"),
        ("role_session_name", "--role-session-name"),
        ("duration_seconds", "--duration-seconds"),
        ("ca_bundle", "--ca-bundle"),
    ):
        variable = f"INFNMINIO_{name.upper()}"
        if name in given or (os.environ.get(variable) or "").strip():
            value = getattr(settings, name if name != "token_file" else "token_files")
            if name == "token_file":
                value = os.path.abspath(value[0])
            flags += [flag, "" if value is None else str(value)]
    if not settings.cache:
        flags.append("--no-cache")
    command = " ".join(
        shlex.quote(part) for part in [*command_prefix(), "credential-process", *flags]
    )
    return {
        "credential_process": command,
        "endpoint_url": settings.endpoint.url,
        "region": settings.region,
    }


def write_profile(profile: str, values: Dict[str, str]) -> Tuple[Path, bool]:
    """Set the profile in the AWS config file; returns (path, whether it changed)."""
    path = config_path()
    old = path.read_text() if path.exists() else ""
    new = update_config(old, profile, values) + "\n"
    if new == old:
        return path, False
    write_atomically(path, new)
    return path, True


def ensure_profile(profile: str, settings) -> Path:
    """Make ``profile`` run our credential_process with every one of ``settings``."""
    given: Dict[str, object] = {"token_file": True, "duration_seconds": True}
    for name in ("role_arn", "role_session_name", "ca_bundle"):
        if getattr(settings, name) is not None:
            given[name] = True
    if settings.role_arn is None and settings.preset and settings.preset.role_arn:
        given["role_arn"] = True  # written as --role-arn '': no RoleArn, as asked
    path, _ = write_profile(profile, profile_values(settings, given))
    return path


def run(args: argparse.Namespace) -> int:
    configure_logging(args.verbose)
    from ..settings import Settings

    given = settings_from_flags(args)
    settings = Settings.resolve(**given)  # validates; env variables count as given too
    path, changed = write_profile(args.profile, profile_values(settings, given))
    if changed:
        print(f"Profile '{args.profile}' written to {path}.")
    else:
        print(f"Profile '{args.profile}' in {path} is already up to date.")
    if credentials_file_has(args.profile):
        print(
            f"Warning: the shared credentials file has keys for '{args.profile}'; they take "
            "precedence over credential_process. Remove them.",
            file=sys.stderr,
        )
    profile_flag = "" if args.profile == "default" else f" --profile {args.profile}"
    print(
        "Try it:\n"
        f"  aws{profile_flag} s3 ls\n"
        f"  export AWS_PROFILE={args.profile}   # for boto3, pyarrow, DuckDB and the AWS SDKs\n"
        f"  python -c \"import boto3; print(boto3.Session(profile_name='{args.profile}')"
        ".client('s3').list_buckets()['Buckets'])\""
    )
    return 0
