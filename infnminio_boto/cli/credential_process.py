"""``infnminio-boto credential-process``: the AWS credential_process protocol.

stdout carries exactly one JSON document and nothing else; everything else goes to
stderr. Answered from the cross-process cache this imports neither boto3 nor botocore
nor urllib3, so SDKs that start many processes pay little for it.
"""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from . import add_settings_flags, configure_logging, settings_from_flags

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "credential-process",
        help="print temporary credentials as AWS credential_process JSON",
        description="Print temporary S3 credentials in the AWS credential_process format. "
        "Use it in ~/.aws/config (see `infnminio-boto configure`).",
    )
    add_settings_flags(parser)
    parser.set_defaults(handler=run)


def fast_parse(argv: List[str]) -> Optional[SimpleNamespace]:
    """This command's flags without argparse, or None to let argparse handle them.

    Anything unusual (--help, an unknown or incomplete flag, a bad number) returns None
    so that argparse prints the proper help or usage error.
    """
    from ..settings import SETTINGS_BY_NAME

    by_flag = {setting.flag: setting for setting in SETTINGS_BY_NAME.values()}
    values: Dict[str, Any] = dict.fromkeys(SETTINGS_BY_NAME)
    values["verbose"] = 0
    index = 0
    while index < len(argv):
        word = argv[index]
        flag, equals, inline = word.partition("=")
        setting = by_flag.get(flag)
        if word in ("-v", "--verbose", "-vv"):
            values["verbose"] += 2 if word == "-vv" else 1
        elif setting is not None and not setting.takes_value and not equals:
            values[setting.name] = setting.flag_value
        elif setting is not None and setting.takes_value and equals:
            values[setting.name] = inline
        elif setting is not None and setting.takes_value and index + 1 < len(argv):
            values[setting.name] = argv[index + 1]
            index += 1
        else:
            return None
        index += 1
    return SimpleNamespace(**values)


def run(args: argparse.Namespace) -> int:
    # Some SDKs (DuckDB's aws extension) fail when the process writes anything to
    # stderr, even on success: warnings appear only with -v or on a terminal. A
    # failure is always reported (one line) and exits non-zero.
    quiet = args.verbose <= 0 and not sys.stderr.isatty()
    configure_logging(-1 if quiet else args.verbose)
    from ..fetch import fetch_credentials
    from ..refresh_timing import SDK_ADVISORY_SECONDS, fresh_for_sdk
    from ..settings import Settings
    from ..token import describe_age

    settings = Settings.resolve(**settings_from_flags(args))
    credentials = fetch_credentials(settings, fresh_enough=fresh_for_sdk)
    left = credentials.seconds_left()
    if left <= SDK_ADVISORY_SECONDS and not quiet:
        print(
            f"infnminio-boto: warning: these credentials expire {describe_age(left)}, inside "
            "the SDKs' 15-minute refresh window, so they will ask again at once: raise "
            "duration_seconds (INFNMINIO_DURATION_SECONDS) to 3600.",
            file=sys.stderr,
        )
    sys.stdout.write(json.dumps(credentials.to_credential_process()) + "\n")
    return 0
