"""``infnminio-boto credential-process``: the AWS credential_process protocol.

stdout carries exactly one JSON document and nothing else; everything else goes to
stderr. This is the full command: the profile ``configure`` writes runs
:mod:`infnminio_boto.keys.fastpath` first, which answers from the fast entry this command
leaves in the cache, and hands over to this command otherwise. Answered from the
cross-process cache, this command imports neither boto3 nor botocore nor urllib3.
"""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from .common import add_settings_flags, configure_logging, settings_from_flags

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
    from ..keys.fetch import fetch_credentials, read_settings_token
    from ..keys.timing import SDK_ADVISORY_SECONDS, fresh_for_sdk
    from ..settings import Settings
    from ..sources.oidc_token import describe_age

    settings = Settings.resolve(**settings_from_flags(args))
    token = read_settings_token(settings)
    credentials = fetch_credentials(settings, fresh_enough=fresh_for_sdk, token=token)
    payload = (json.dumps(credentials.to_credential_process()) + "\n").encode()
    argv = getattr(args, "argv", None)
    if argv is not None and settings.cache and fresh_for_sdk(credentials):
        _leave_fast_entry(settings, argv, token.digest, credentials.expires_at, payload)
    left = credentials.seconds_left()
    if left <= SDK_ADVISORY_SECONDS and not quiet:
        print(
            f"infnminio-boto: warning: these credentials expire {describe_age(left)}, inside "
            "the SDKs' 15-minute refresh window, so they will ask again at once: raise "
            "duration_seconds (INFNMINIO_DURATION_SECONDS) to 3600.",
            file=sys.stderr,
        )
    sys.stdout.buffer.write(payload)
    sys.stdout.flush()
    return 0


def _leave_fast_entry(
    settings: Any, argv: List[str], digest: str, expires_at: float, payload: bytes
) -> None:
    """Let the next identical call be answered by :mod:`..fastpath`."""
    import os

    from ..keys.cache import CacheUnavailable, CredentialCache
    from ..keys.fastpath import fast_key

    try:
        CredentialCache(settings.cache_dir).write_fast(
            fast_key(argv, os.environ, digest), expires_at, payload
        )
    except (CacheUnavailable, OSError):
        pass  # the regular cache entry was written, or the warning about it given
