"""``infnminio-boto configure``: write an AWS profile that uses our credential_process
(:mod:`infnminio_boto.profiles.aws`), and with ``--rclone`` a remote; every name and value
is checked before a file is touched (docs/cli.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict

from ..profiles import aws, ini_file
from .common import add_settings_flags, configure_logging, settings_from_flags


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "configure", help="write an AWS profile (credential_process, endpoint, region, path style)",
        description="Write or update a profile in ~/.aws/config (or $AWS_CONFIG_FILE) so "
        "that the AWS CLI, the AWS SDKs, pyarrow and DuckDB get credentials from the "
        "token file. Every setting given as a flag or INFNMINIO_* variable is written "
        "into the profile, so that it works in any shell.",
    )
    default = aws.DEFAULT_PROFILE
    parser.add_argument("--profile", default=default, help=f"profile name (default: {default})")
    parser.add_argument("--rclone", metavar="REMOTE", help="also write an rclone remote of "
                        "this name that uses the profile ($RCLONE_CONFIG or "
                        "~/.config/rclone/rclone.conf)")
    parser.add_argument("--print", dest="print_only", action="store_true",
                        help="print what would be written, and write nothing")
    add_settings_flags(parser)
    parser.set_defaults(handler=run)


def _section(text: str, name: str) -> str:
    for section, lines in ini_file.split_sections(text.splitlines(keepends=True)):
        if section == name:
            return "".join(lines).rstrip() + "\n"
    return ""


def _show(label: str, path: Path, section: str, old: str, new: str) -> None:
    print(f"# {label}: {path}{'' if new != old else ' (already up to date)'}")
    sys.stdout.flush()  # the section as bytes, as the file will hold it
    shown = _section(new, section) + "\n"
    sys.stdout.buffer.write(shown.encode(ini_file.ENCODING, ini_file.ERRORS))
    sys.stdout.buffer.flush()


def run(args: argparse.Namespace) -> int:
    configure_logging(args.verbose)
    from ..profiles import rclone
    from ..settings import Settings

    aws.check_profile_name(args.profile)
    if args.rclone is not None:
        rclone.check_remote_name(args.rclone)
    settings = Settings.resolve(command_line=True, **settings_from_flags(args))
    values = aws.profile_values(settings)
    remote: Dict[str, str] = {}
    if args.rclone is not None:
        remote = rclone.remote_values(settings, args.profile)
        for key, value in remote.items():
            ini_file.check_value(key, value)
    write = not args.print_only
    path = aws.config_path()
    old, new = ini_file.update_file(
        path, lambda text: aws.update_config(text, args.profile, values), write=write)
    if args.print_only:
        _show("AWS profile", path, aws.section_name(args.profile), old, new)
    else:  # said before the rclone file is written: should that fail, this one is done
        state = "written to" if new != old else "already up to date in"
        print(f"Profile '{args.profile}' {state} {path}.", flush=True)
    if remote:
        rclone_file = rclone.config_path()
        rclone_old, rclone_new = ini_file.update_file(
            rclone_file, lambda text: ini_file.set_section(text, args.rclone, remote), write=write)
        if args.print_only:
            _show("rclone remote", rclone_file, args.rclone, rclone_old, rclone_new)
    if args.print_only:
        return 0
    if remote:
        state = "written to" if rclone_new != rclone_old else "already up to date in"
        print(f"rclone remote '{args.rclone}' {state} {rclone_file}.")
    if aws.credentials_file_has(args.profile):
        print(f"Warning: the shared credentials file has keys for '{args.profile}'; they take "
              "precedence over credential_process. Remove them.", file=sys.stderr)
    earlier = _section(old, "profile infn")  # what configure wrote by default before 0.2
    if args.profile != "infn" and "infnminio_boto" in earlier:
        print("Note: the profile 'infn' that configure wrote before 0.2 is still there and "
              f"still works; new settings go to '{args.profile}' (see the README's Upgrading).",
              file=sys.stderr)
    profile_flag = "" if args.profile == "default" else f" --profile {args.profile}"
    lines = ["Try it:", f"  aws{profile_flag} s3 ls",
             f"  export AWS_PROFILE={args.profile}   # for boto3, pyarrow, DuckDB and the AWS SDKs"]
    if remote:
        lines.append(f"  rclone lsd {args.rclone}:")
    print("\n".join(lines))
    return 0
