"""``infnminio-boto status``: what is here, without sending anything.

The settings in use, the token file and its claims and age, and the cached keys for
that identity with their expiry. Offline: no exchange, no S3 call (``doctor`` makes
those). ``--json`` gives the same lines as one JSON array.
"""

from __future__ import annotations

import argparse
import os
import time

from . import add_settings_flags, configure_logging, exit_code_for, settings_from_flags
from .report import Report


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="the token, its age and the cached keys, offline (nothing is sent)",
        description="Show the settings, the token file's claims and age, and the cached "
        "keys and their expiry, without sending anything.",
    )
    parser.add_argument("--json", action="store_true", help="one JSON array of the lines")
    add_settings_flags(parser)
    parser.set_defaults(handler=lambda args: run(args).finish())


def run(args: argparse.Namespace) -> Report:
    configure_logging(args.verbose)
    from ..cache import CacheUnavailable, CredentialCache, entry_key
    from ..errors import InfnMinioError
    from ..fetch import read_settings_token
    from ..refresh_timing import fresh_for_sdk
    from ..settings import Settings
    from ..token import describe_age

    report = Report(as_json=args.json)
    try:
        settings = Settings.resolve(**settings_from_flags(args))
    except InfnMinioError as error:
        report.fail("settings", str(error), exit_code_for(error))
        return report
    report.ok(
        "settings",
        f"endpoint {settings.endpoint.url} (from {settings.origin('endpoint', command_line=True)})"
        f"; RoleArn {settings.role_arn or 'none'}; cache "
        f"{settings.cache_dir if settings.cache else 'off'}",
    )
    try:
        token = read_settings_token(settings)
    except InfnMinioError as error:
        report.fail("token file", str(error), exit_code_for(error))
        return report
    report.ok("token file", f"{token.path}, written {describe_age(token.modified - time.time())}")
    left = token.seconds_left()
    claims = (
        f"subject {token.subject or '-'}, issuer {token.issuer or '-'}, audience "
        f"{', '.join(token.audience) or '-'}"
    )
    if left is None:
        report.ok("token", f"{claims}; no exp claim")
    elif left <= 0:
        report.warn("token", f"{claims}; expired {describe_age(left)}: is sts-wire running?")
    else:
        report.ok("token", f"{claims}; expires {describe_age(left)}")

    if not settings.cache:
        report.ok("cache", "off: every process exchanges the token")
        return report
    cache = CredentialCache(settings.cache_dir)
    key = entry_key(settings.endpoint.url, settings.role_arn, token.issuer, token.subject)
    try:
        keys = cache.read(key)
        names = os.listdir(settings.cache_dir)
    except (CacheUnavailable, OSError) as reason:
        report.warn("cache", f"{settings.cache_dir} is not usable: {reason}")
        return report
    if keys is None:
        report.ok("cache", "no keys for this identity yet: the next use exchanges the token")
    else:
        left = keys.seconds_left()
        state = "expired" if left <= 0 else ("fresh" if fresh_for_sdk(keys) else "to renew")
        report.ok(
            "cache",
            f"keys {keys.access_key[:4]}*** for this identity, {state}, expire "
            f"{describe_age(left)}",
        )
    entries = sum(1 for name in names if name.endswith(".json"))
    fast = sum(1 for name in names if name.startswith("fast-"))
    report.ok("cache", f"{settings.cache_dir}: {entries} identities, {fast} fast entries")
    return report
