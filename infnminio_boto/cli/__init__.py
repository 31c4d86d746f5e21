"""The ``infnminio-boto`` command.

Subcommands live in their own modules and are imported only when chosen, so that
``infnminio-boto credential-process`` answered from the cache loads neither boto3 nor
botocore nor urllib3.

Exit codes (one per error class, so scripts and SDKs can tell them apart):

====  ==========================================================================
0     success
1     unexpected internal error (a bug: please report it)
2     usage error (unknown option, missing argument)
3     configuration error (a setting, ``INFNMINIO_*`` variable or flag is invalid)
4     token file error (missing, unreadable, empty, not a JWT, or expired)
5     the STS refused the exchange (the message says why and what to do)
6     the STS could not be reached (network, TLS, timeout)
7     sandbox error (Ceph missing, a daemon failed, no sandbox running)
8     ``doctor``: a check of the S3 side failed
====  ==========================================================================
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_CONFIGURATION = 3
EXIT_TOKEN_FILE = 4
EXIT_STS = 5
EXIT_TRANSPORT = 6
EXIT_SANDBOX = 7
EXIT_S3 = 8

# subcommand -> module under infnminio_boto.cli
SUBCOMMANDS = {
    "sandbox": "sandbox",
}


def exit_code_for(error: BaseException) -> int:
    """The documented exit code of one of our exceptions."""
    from ..errors import (
        ConfigurationError,
        StsError,
        TokenFileError,
        TransportError,
    )

    if isinstance(error, ConfigurationError):
        return EXIT_CONFIGURATION
    if isinstance(error, TokenFileError):
        return EXIT_TOKEN_FILE
    if isinstance(error, StsError):
        return EXIT_STS
    if isinstance(error, TransportError):
        return EXIT_TRANSPORT
    if type(error).__name__ in ("SandboxStartError", "CephNotInstalledError"):
        return EXIT_SANDBOX
    return EXIT_INTERNAL


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    """The settings flags every command that talks to the store accepts."""
    group = parser.add_argument_group(
        "settings (default: INFNMINIO_* environment variables, then endpoint presets)"
    )
    group.add_argument("--endpoint", help="object store: host, host:port or URL")
    group.add_argument("--token-file", help="file holding the OIDC access token")
    group.add_argument("--role-arn", help="RoleArn to assume ('' sends none)")
    group.add_argument("--role-session-name", help="RoleSessionName (default: from the token)")
    group.add_argument("--duration-seconds", type=int, help="credential lifetime requested")
    group.add_argument("--region", help="S3 region name")
    group.add_argument("--ca-bundle", help="PEM file of certificate authorities to trust")


def settings_from_flags(args: argparse.Namespace) -> dict:
    names = (
        "endpoint",
        "token_file",
        "role_arn",
        "role_session_name",
        "duration_seconds",
        "region",
        "ca_bundle",
    )
    return {
        name: getattr(args, name, None) for name in names if getattr(args, name, None) is not None
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infnminio-boto",
        description="S3 credentials for INFN Cloud from the sts-wire OIDC token file.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in SUBCOMMANDS.values():
        module = importlib.import_module(f".{module_name}", __name__)
        module.add_parser(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(arguments)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("infnminio-boto: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        code = exit_code_for(error)
        if code == EXIT_INTERNAL:
            import traceback

            traceback.print_exc()
            print(
                f"infnminio-boto: internal error: {type(error).__name__}. Please report "
                "it with the traceback above.",
                file=sys.stderr,
            )
        else:
            print(f"infnminio-boto: {error}", file=sys.stderr)
        return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
