"""``infnminio-boto credential-process``: the AWS credential_process protocol.

stdout carries exactly one JSON document and nothing else; everything else goes to
stderr. Answered from the cross-process cache this imports neither boto3 nor botocore
nor urllib3, so SDKs that start many processes pay little for it.
"""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

from . import add_settings_flags, configure_logging, settings_from_flags

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any, Dict, List, Optional


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "credential-process",
        help="print temporary credentials as AWS credential_process JSON",
        description="Print temporary S3 credentials in the AWS credential_process format. "
        "Use it in ~/.aws/config (see `infnminio-boto configure`).",
    )
    add_settings_flags(parser)
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="always exchange the token; do not read or write the cache",
    )
    parser.set_defaults(handler=run)


_FAST_FLAGS = {
    "--endpoint": "endpoint",
    "--token-file": "token_file",
    "--role-arn": "role_arn",
    "--role-session-name": "role_session_name",
    "--duration-seconds": "duration_seconds",
    "--region": "region",
    "--ca-bundle": "ca_bundle",
}


def fast_parse(argv: List[str]) -> Optional[SimpleNamespace]:
    """The flags of this command without argparse, or None to let argparse handle them.

    Anything unusual (--help, an unknown or incomplete flag, a bad number) returns None
    so that argparse prints the proper help or usage error.
    """
    values: Dict[str, Any] = dict.fromkeys(_FAST_FLAGS.values())
    values.update(no_cache=False, verbose=0)
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--no-cache":
            values["no_cache"] = True
        elif word in ("-v", "--verbose"):
            values["verbose"] += 1
        elif word == "-vv":
            values["verbose"] += 2
        elif "=" in word and word.split("=", 1)[0] in _FAST_FLAGS:
            flag, value = word.split("=", 1)
            values[_FAST_FLAGS[flag]] = value
        elif word in _FAST_FLAGS and index + 1 < len(argv):
            values[_FAST_FLAGS[word]] = argv[index + 1]
            index += 1
        else:
            return None
        index += 1
    if values["duration_seconds"] is not None:
        try:
            values["duration_seconds"] = int(values["duration_seconds"])
        except ValueError:
            return None
    return SimpleNamespace(**values)


def run(args: argparse.Namespace) -> int:
    # Some SDKs (DuckDB's aws extension) fail when the process writes anything to
    # stderr, even on success: warnings appear only with -v or on a terminal. A
    # failure is always reported (one line) and exits non-zero.
    quiet = args.verbose <= 0 and not sys.stderr.isatty()
    configure_logging(-1 if quiet else args.verbose)
    from ..fetch import fetch_credentials
    from ..settings import Settings
    from ..token import describe_age
    from ..windows import BOTOCORE_ADVISORY_SECONDS, fresh_for_botocore

    overrides = settings_from_flags(args)
    if args.no_cache:
        overrides["cache"] = False
    settings = Settings.resolve(**overrides)
    credentials = fetch_credentials(settings, fresh_enough=fresh_for_botocore)
    left = credentials.seconds_left()
    if left <= BOTOCORE_ADVISORY_SECONDS and not quiet:
        print(
            f"infnminio-boto: warning: these credentials expire {describe_age(left)}, inside "
            "the SDKs' 15-minute refresh window, so they will ask again at once: raise "
            "duration_seconds (INFNMINIO_DURATION_SECONDS) to 3600.",
            file=sys.stderr,
        )
    sys.stdout.write(json.dumps(credentials.to_credential_process()) + "\n")
    return 0
