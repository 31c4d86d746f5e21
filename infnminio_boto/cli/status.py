"""``infnminio-boto status``: the settings, the token's source, claims and age, and the
cached keys, offline: a token command or oidc-agent is named, not run (docs/cli.md).
"""

from __future__ import annotations

import argparse
import os

from .common import add_settings_flags
from .report import Report, add_report_arguments, report_policy, report_token, start


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status", help="the token, its age and the cached keys, offline (nothing is sent)",
        description="Show the settings, the token file's claims and age, and the cached "
        "keys and their expiry, without sending anything.",
    )
    add_report_arguments(parser, run)
    add_settings_flags(parser)


def run(args: argparse.Namespace) -> Report:
    from ..keys.cache import CacheUnavailable, CredentialCache, entry_key
    from ..keys.timing import fresh_for_sdk
    from ..sources.oidc_token import describe_age

    report, settings = start(args)
    if settings is None:
        return report
    report.ok("settings", f"endpoint {settings.endpoint.url} (from "
              f"{settings.origin('endpoint', command_line=True)}); RoleArn "
              f"{settings.role_arn or 'none'}; cache "
              f"{settings.cache_dir if settings.cache else 'off'}")
    report_policy(report, settings)
    token = report_token(report, settings, strict=False, offline=True)
    if token is None:
        return report
    if not settings.cache:
        report.ok("cache", "off: every process exchanges the token")
        return report
    cache = CredentialCache(settings.cache_dir)
    key = entry_key(settings, token)
    if key is None:
        report.ok("cache", "this token's keys are not shared through the cache")
        return report
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
        report.ok("cache", f"keys {keys.access_key[:4]}*** for this identity, {state}, expire "
                  f"{describe_age(left)}")
    entries = sum(1 for name in names if name.endswith(".json"))
    fast = sum(1 for name in names if name.startswith("fast-"))
    report.ok("cache", f"{settings.cache_dir}: {entries} identities, {fast} fast entries")
    return report
