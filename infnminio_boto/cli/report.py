"""The lines of ``doctor`` and ``status``: OK, WARN or FAIL per check, as text or JSON objects."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Tuple

from .common import EXIT_OK, EXIT_TOKEN_FILE, configure_logging, exit_code_for, settings_from_flags

if TYPE_CHECKING:
    from ..settings import Settings
    from ..sources.oidc_token import OidcToken


class Report:
    """Checks as they come: printed at once as text, or kept for one JSON document."""

    def __init__(self, *, as_json: bool = False) -> None:
        self.exit_code = EXIT_OK
        self.as_json = as_json
        self.checks: List[Dict[str, Optional[object]]] = []

    def line(self, status: str, topic: str, text: str, code: Optional[int] = None) -> None:
        self.checks.append({"check": topic, "status": status, "detail": text, "exit_code": code})
        if not self.as_json:
            print(f"{status:<4}  {topic:<12} {text}", flush=True)

    ok = functools.partialmethod(line, "OK")
    warn = functools.partialmethod(line, "WARN")

    def fail(self, topic: str, text: str, code: int) -> None:
        self.line("FAIL", topic, text, code)
        if self.exit_code == EXIT_OK:
            self.exit_code = code

    def finish(self) -> int:
        """Print the JSON document (in JSON mode) and return the exit code."""
        if self.as_json:
            sys.stdout.write(json.dumps(self.checks, indent=2) + "\n")
        return self.exit_code


def add_report_arguments(parser: argparse.ArgumentParser,
                         run: Callable[[argparse.Namespace], Report]) -> None:
    """``--json``, and a handler that prints the report and exits with its code."""
    parser.add_argument("--json", action="store_true", help="one JSON array of {check, status, "
                        "detail, exit_code} objects, for scripts and support tickets")
    parser.set_defaults(handler=lambda args: run(args).finish())


def start(args: argparse.Namespace) -> Tuple[Report, Optional[Settings]]:
    """A report, and the settings of the flags (None, with the failure reported)."""
    from ..errors import InfnMinioError
    from ..settings import Settings

    configure_logging(args.verbose)
    report = Report(as_json=args.json)
    try:
        return report, Settings.resolve(command_line=True, **settings_from_flags(args))
    except InfnMinioError as error:
        report.fail("settings", str(error), exit_code_for(error))
        return report, None


def report_token(report: Report, settings: Settings, *, strict: bool,
                 offline: bool = False) -> Optional[OidcToken]:
    """Report the token's source (and those skipped), claims, age and fit; return the
    token, or None (the failure reported). ``strict``: an expired token fails, not warns;
    ``offline``: a source that may contact someone (a command, oidc-agent) is not run."""
    import time

    from ..errors import InfnMinioError
    from ..settings.hot_path import BY_NAME, NAME_SOURCE
    from ..sources import advice, select
    from ..sources.oidc_token import EXPIRY_LEEWAY_SECONDS, describe_age

    try:
        selection = select(settings, command_line=True)
    except InfnMinioError as error:
        report.fail("token source", str(error), exit_code_for(error))
        return None
    for place, found in selection.tried:
        if found.startswith("skipped"):
            report.warn("token source", f"{place} {found}")
    source = selection.source
    if source is None:
        tried = "; ".join(f"{place} ({found})" for place, found in selection.tried)
        report.fail("token source", f"no access token found; tried, in order: {tried}. "
                    f"{advice(os.environ)}", EXIT_TOKEN_FILE)
        return None
    if offline and BY_NAME[source.kind].fast == NAME_SOURCE:
        report.ok("token source", f"{source.describe()}: not run (status sends nothing; running "
                  "it may ask the identity provider for a token): `infnminio-boto doctor` runs it")
        return None
    try:
        token = source.read()
    except InfnMinioError as error:
        report.fail("token source", str(error), exit_code_for(error))
        return None
    detail = source.describe()
    if token.path and token.modified:
        detail += f"; written {describe_age(token.modified - time.time())}"
    report.ok("token source", detail)
    if token.path and token.modified and time.time() - token.modified > 30 * 60:
        report.warn("token source", "not rewritten for over 30 minutes: sts-wire rewrites its "
                    "file every ~15 minutes, so whatever refreshes this one may not be running")
    claims = (f"subject {token.subject or '-'}, issuer {token.issuer or '-'}, audience "
              f"{', '.join(token.audience) or '-'}")
    left = token.seconds_left()
    if left is not None and left <= EXPIRY_LEEWAY_SECONDS:
        text = f"{claims}: expired {describe_age(left)}. Restart what refreshes it, then retry."
        if strict:
            report.fail("token", text, EXIT_TOKEN_FILE)
            return None
        report.warn("token", text)
    else:
        expiry = "no exp claim" if left is None else f"expires {describe_age(left)}"
        report.ok("token", f"{claims}; {expiry}")
    wanted = settings.audience
    if wanted and wanted not in token.audience:
        report.warn("token", f"{settings.endpoint.host} accepts tokens with audience '{wanted}' "
                    f"(from {settings.origin('audience', command_line=True)}) and this one has "
                    f"{', '.join(token.audience) or 'none'}: get them with `oidc-token --aud "
                    f"{wanted}` (oidc_agent_account asks for it), or sts-wire's default settings")
    if token.identity_digest() is None:
        report.warn("token", "it has no iss or sub claim: its keys cannot be told apart from "
                    "another token's, so they are never shared through the cache (every process "
                    "exchanges it)")
    return token


def report_policy(report: Report, settings: Settings) -> None:
    """The session policy in force: which, from where, what it allows, its size."""
    from ..settings.policy import MAX_POLICY_BYTES

    policy = settings.policy
    origin = settings.origin("policy", command_line=True)
    if policy is None:
        report.ok("policy", f"none (from {origin}): the keys may do all the role allows")
        return
    report.ok("policy", f"{policy.name} (from {origin}): {policy.meaning}, within what the role "
              f"allows; sent as {policy.size} of at most {MAX_POLICY_BYTES} bytes")
