"""``infnminio-boto exec [settings] -- COMMAND ...``: a command with the keys in its environment.

Fixed keys (the command replaces this process), or with ``--server`` a credentials
endpoint the SDKs poll for renewed keys; the exit status is passed through (docs/cli.md).
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import subprocess
import sys
from typing import Dict, List

from .common import EXIT_USAGE, add_settings_flags, configure_logging, settings_from_flags


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "exec", help="run a command with the credentials and endpoint in its environment",
        description="Run COMMAND with the store's endpoint, region, CA bundle and a fresh "
        "set of keys in its environment (exit status passed through). With --server the "
        "keys are served on 127.0.0.1 instead and renewed for as long as it runs.",
        usage="%(prog)s [settings] [--server] -- COMMAND [ARGS ...]",
    )
    parser.add_argument("--server", action="store_true", help="serve renewing keys to the "
                        "command (AWS_CONTAINER_CREDENTIALS_FULL_URI, which every AWS SDK reads) "
                        "instead of putting fixed keys in its environment")
    add_settings_flags(parser)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    parser.set_defaults(handler=run)


def _child_environment(extra: Dict[str, str]) -> Dict[str, str]:
    """This environment with ``extra``, without what would make the SDKs take other keys."""
    from ..settings.aws_variables import CREDENTIALS

    return {**{k: v for k, v in os.environ.items() if k not in CREDENTIALS}, **extra}


def _cannot_run(command: List[str], error: OSError) -> int:
    print(f"infnminio-boto exec: cannot run {command[0]!r}: {error.strerror}", file=sys.stderr)
    return 127 if isinstance(error, FileNotFoundError) else 126


def run(args: argparse.Namespace) -> int:
    configure_logging(args.verbose)
    command: List[str] = args.command[1:] if args.command[:1] == ["--"] else list(args.command)
    if not command:
        print("infnminio-boto exec: no command given (infnminio-boto exec -- COMMAND ...)",
              file=sys.stderr)
        return EXIT_USAGE
    from ..keys.fetch import fetch_credentials
    from ..keys.timing import fresh_for_sdk
    from ..settings import Settings
    from .env import endpoint_variables, key_variables

    settings = Settings.resolve(command_line=True, **settings_from_flags(args))
    fetch = functools.partial(fetch_credentials, settings, fresh_enough=fresh_for_sdk)
    keys = fetch()  # errors are ours, before the command starts
    if not args.server:
        env = _child_environment(
            {**endpoint_variables(settings), **key_variables(settings, keys, "infn")}
        )
        sys.stdout.flush()
        try:
            os.execvpe(command[0], command, env)  # noqa: S606 - a list, no shell: it replaces us
        except OSError as error:
            return _cannot_run(command, error)
    from ..integrations.key_server import CredentialServer
    from ..profiles.aws import hide_competing_credentials

    with CredentialServer(fetch) as server:
        env = _child_environment({**endpoint_variables(settings), **server.environment()})
        hidden = hide_competing_credentials(env)  # what we start reads our endpoint
        if hidden:
            print(f"infnminio-boto exec: note: {hidden}.", file=sys.stderr)
        try:
            child = subprocess.Popen(command, env=env)
        except OSError as error:
            return _cannot_run(command, error)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, lambda received, _frame: child.send_signal(received))
        status = child.wait()
    return status if status >= 0 else 128 - status  # killed by a signal: as a shell says
