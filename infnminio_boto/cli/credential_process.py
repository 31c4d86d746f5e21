"""``infnminio-boto credential-process``: the AWS credential_process protocol, one JSON
document on stdout. It leaves the fast entry :mod:`infnminio_boto.keys.fastpath` answers
from (docs/design.md, "credential_process at the cost of an interpreter start")."""

from __future__ import annotations

import json
import os
import sys
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from .common import add_settings_flags, configure_logging, settings_from_flags

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "credential-process", help="print temporary credentials as AWS credential_process JSON",
        description="Print temporary S3 credentials in the AWS credential_process format. "
        "Use it in ~/.aws/config (see `infnminio-boto configure`).",
    )
    add_settings_flags(parser)
    parser.set_defaults(handler=run)


def fast_parse(argv: List[str]) -> Optional[SimpleNamespace]:
    """This command's flags without argparse, or None (anything unusual: --help, an
    unknown or incomplete flag) to let argparse handle them."""
    from ..settings import SETTINGS_BY_NAME

    by_flag = {setting.flag: setting for setting in SETTINGS_BY_NAME.values()}
    values: Dict[str, Any] = {**dict.fromkeys(SETTINGS_BY_NAME), "verbose": 0}
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
    # Some SDKs (DuckDB's) fail on anything on stderr: warnings only with -v or on a tty.
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
    limit = (f"the token expires {describe_age(token_left)}, and MinIO caps the keys' lifetime "
             "at the token's expiry"
             if token_left is not None and token_left < settings.duration_seconds
             else "the role allows less than asked (Ceph RGW: its MaxSessionDuration)")
    print(f"infnminio-boto: note: the STS gave keys for {describe_age(lifetime)[3:]} though "
          f"duration_seconds asks {settings.duration_seconds} s: {limit}. They are handed out "
          "and renewed once per lifetime; the AWS SDKs will run credential_process on every "
          "request meanwhile (answered from the cache).", file=sys.stderr)


def _leave_fast_entry(settings: Any, argv: List[str], token: Any, fresh_until: float,
                      expires_at: float, payload: bytes) -> None:
    """Leave the entry :mod:`..keys.fastpath` will look for (same flags, variables, source)."""
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
    policy_digest = settings.policy.file_digest if settings.policy is not None else None
    try:
        key = fastpath.fast_key(argv, os.environ, identity, policy_digest)
        CredentialCache(settings.cache_dir).write_fast(key, fresh_until, expires_at, payload)
    except (CacheUnavailable, OSError):
        pass  # the regular cache entry was written, or the warning about it given
