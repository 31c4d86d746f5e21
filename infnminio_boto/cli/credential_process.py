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
import time
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
    from ..keys.timing import fresh_for_sdk, fresh_until
    from ..settings import Settings

    settings = Settings.resolve(command_line=True, **settings_from_flags(args))
    token = read_settings_token(settings)
    credentials = fetch_credentials(settings, fresh_enough=fresh_for_sdk, token=token)
    payload = (json.dumps(credentials.to_credential_process()) + "\n").encode()
    argv = getattr(args, "argv", None)
    until = fresh_until(credentials)
    if argv is not None and settings.cache and until > time.time():
        _leave_fast_entry(settings, argv, token, until, credentials.expires_at, payload)
    if not quiet:
        _warn_if_short(settings, token, credentials)
    sys.stdout.buffer.write(payload)
    sys.stdout.flush()
    return 0


def _warn_if_short(settings: Any, token: Any, credentials: Any) -> None:
    """Say what limits the keys' lifetime when they live less than was asked."""
    from ..sources.oidc_token import describe_age

    lifetime = credentials.lifetime or credentials.seconds_left()
    if lifetime >= settings.duration_seconds - 60 or lifetime >= 16 * 60:
        return
    token_left = token.seconds_left()
    limit = (
        f"the token expires {describe_age(token_left)}, and MinIO caps the keys' lifetime "
        "at the token's expiry"
        if token_left is not None and token_left < settings.duration_seconds
        else "the role allows less than asked (Ceph RGW: its MaxSessionDuration)"
    )
    print(
        f"infnminio-boto: note: the STS gave keys for {describe_age(lifetime)[3:]} though "
        f"duration_seconds asks {settings.duration_seconds} s: {limit}. They are handed out "
        "and renewed once per lifetime; the AWS SDKs will run credential_process on every "
        "request meanwhile (answered from the cache).",
        file=sys.stderr,
    )


def _leave_fast_entry(
    settings: Any,
    argv: List[str],
    token: Any,
    fresh_until: float,
    expires_at: float,
    payload: bytes,
) -> None:
    """Let the next identical call be answered by :mod:`..keys.fastpath`.

    The entry is named as the fast path will name it: from the same flags and variables
    and the same source (for a file or ``BEARER_TOKEN``, the content just exchanged).
    """
    import os

    from ..keys import fastpath
    from ..keys.cache import CacheUnavailable, CredentialCache
    from ..settings.hot_path import BY_NAME, READ_FILE

    located = fastpath.locate(argv, os.environ)
    if located is None or located[0] != token.kind or not BY_NAME[token.kind].fast:
        return  # the fast path would not find this source: it hands over every time
    kind, where, _ = located
    if BY_NAME[kind].fast == READ_FILE and os.path.abspath(where) != os.path.abspath(
        token.path or ""
    ):
        return
    if BY_NAME[kind].reads_content:
        identity = token.digest  # the content just exchanged
    else:
        identity = fastpath.identity(kind, where, os.environ)
    try:
        CredentialCache(settings.cache_dir).write_fast(
            fastpath.fast_key(argv, os.environ, identity, _policy_digest(settings)),
            fresh_until,
            expires_at,
            payload,
        )
    except (CacheUnavailable, OSError):
        pass  # the regular cache entry was written, or the warning about it given


def _policy_digest(settings: Any) -> Optional[str]:
    """The digest of the policy file's bytes exchanged, when the policy is ``@FILE``."""
    policy = settings.policy
    return policy.file_digest if policy is not None else None
