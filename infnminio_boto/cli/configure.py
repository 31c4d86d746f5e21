"""``infnminio-boto configure``: write an AWS profile that uses our credential_process.

What the profile holds and how the file is edited is :mod:`infnminio_boto.aws_profile`;
this is the command around it.
"""

from __future__ import annotations

import argparse
import sys

from . import add_settings_flags, configure_logging, settings_from_flags


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "configure",
        help="write an AWS profile (credential_process, endpoint, region, path style)",
        description="Write or update a profile in ~/.aws/config (or $AWS_CONFIG_FILE) so "
        "that the AWS CLI, the AWS SDKs, pyarrow and DuckDB get credentials from the "
        "token file. Every setting given as a flag or INFNMINIO_* variable is written "
        "into the profile, so that it works in any shell.",
    )
    parser.add_argument("--profile", default="infn", help="profile name (default: infn)")
    add_settings_flags(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    configure_logging(args.verbose)
    from ..aws_profile import credentials_file_has, profile_values, write_profile
    from ..settings import Settings

    settings = Settings.resolve(**settings_from_flags(args))  # validates before writing
    path, changed = write_profile(args.profile, profile_values(settings))
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
