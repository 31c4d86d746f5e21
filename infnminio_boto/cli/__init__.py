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

import importlib
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

if TYPE_CHECKING:  # argparse is imported only by the commands that build a parser
    import argparse

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
    "credential-process": "credential_process",
    "configure": "configure",
    "env": "env",
    "exec": "exec",
    "status": "status",
    "doctor": "doctor",
    "completion": "completion",
    "sandbox": "sandbox",
}


def exit_code_for(error: BaseException) -> int:
    """The documented exit code of one of our exceptions."""
    from ..errors import (
        ConfigurationError,
        MissingDependencyError,
        SandboxError,
        StsError,
        TokenFileError,
        TransportError,
    )

    for kind, code in (
        (ConfigurationError, EXIT_CONFIGURATION),
        (MissingDependencyError, EXIT_CONFIGURATION),
        (TokenFileError, EXIT_TOKEN_FILE),
        (StsError, EXIT_STS),
        (TransportError, EXIT_TRANSPORT),
        (SandboxError, EXIT_SANDBOX),
    ):
        if isinstance(error, kind):
            return code
    return EXIT_INTERNAL


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    """A flag for every setting (from the settings table), and ``-v``."""
    from ..settings import SETTINGS_BY_NAME

    group = parser.add_argument_group(
        "settings (a flag beats its INFNMINIO_* variable, which beats the endpoint's preset "
        "and the default)"
    )
    for name, setting in SETTINGS_BY_NAME.items():
        words = f"{setting.description} [{setting.variable}; default: {setting.default_text}]"
        help_text = words.replace("`", "").replace("%", "%%")
        if setting.kind == "switch":
            group.add_argument(
                setting.flag,
                dest=name,
                action="store_const",
                const=setting.flag_value,
                default=None,
                help=help_text,
            )
        else:
            group.add_argument(
                setting.flag,
                dest=name,
                metavar=name.split("_")[-1].upper(),
                type={"int": int, "seconds": float}.get(setting.kind, str),
                help=help_text,
            )
    add_verbose_flag(parser)


def add_verbose_flag(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """``-v``, accepted before the command and after it."""
    import argparse

    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        # A subcommand's default must not overwrite a -v given before the command.
        default=0 if top_level else argparse.SUPPRESS,
        help="diagnostics on stderr (-vv: debug)",
    )


def configure_logging(verbosity: int) -> None:
    """Diagnostics go to stderr only; stdout belongs to the command's output.

    Without -v, logging is set up only when the first warning comes (it costs a few
    milliseconds of import time on the credential_process hot path). ``verbosity`` -1
    keeps even warnings quiet.
    """
    if verbosity <= 0:
        from .. import _log

        _log.on_first_use = lambda: _setup_logging(verbosity)
        return
    _setup_logging(verbosity)


def _setup_logging(verbosity: int) -> None:
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("infnminio-boto: %(levelname)s: %(message)s"))
    logger = logging.getLogger("infnminio_boto")
    logger.addHandler(handler)
    logger.propagate = False
    levels = {-1: logging.CRITICAL, 0: logging.WARNING, 1: logging.INFO}
    logger.setLevel(levels.get(verbosity, logging.DEBUG))


def settings_from_flags(args: Any) -> Dict[str, Any]:
    """The settings keywords the flags gave (flags not given are left out)."""
    from ..settings import SETTINGS_BY_NAME

    return {
        name: getattr(args, name)
        for name in SETTINGS_BY_NAME
        if getattr(args, name, None) is not None
    }


def build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that subcommand's module is imported."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="infnminio-boto",
        description="S3 credentials for INFN Cloud from the sts-wire OIDC token file.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_verbose_flag(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name, module_name in SUBCOMMANDS.items():
        if only is not None and name != only:
            continue
        module = importlib.import_module(f".{module_name}", __name__)
        module.add_parser(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    if argv is None and "_ARGCOMPLETE" in __import__("os").environ:
        return _complete()
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((word for word in arguments if not word.startswith("-")), None)
    if command == "credential-process" and arguments[0] == command:
        # The SDKs run this on every new session: the cached answer first, then no
        # argparse parser unless the flags need one.
        from ..fastpath import answer

        payload = answer(arguments[1:])
        if payload is not None:
            sys.stdout.buffer.write(payload)
            sys.stdout.flush()
            return EXIT_OK
        from .credential_process import fast_parse, run

        fast = fast_parse(arguments[1:])
        if fast is not None:
            fast.argv = arguments[1:]
            return dispatch(run, fast)
    parser = build_parser(only=command if command in SUBCOMMANDS else None)
    args = parser.parse_args(arguments)
    if command == "credential-process" and arguments[0] == command:
        args.argv = arguments[1:]
    return dispatch(args.handler, args)


def _complete() -> int:
    """Answer a shell's completion request (argcomplete's protocol), then exit."""
    from .completion import argcomplete_module

    argcomplete_module().autocomplete(build_parser())
    return EXIT_OK  # argcomplete exits by itself after answering


def dispatch(handler: Callable[[Any], Optional[int]], args: Any) -> int:
    """Run a command; our errors become one line on stderr and their exit code."""
    try:
        return int(handler(args) or 0)
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
