"""The ``infnminio-boto`` command (docs/cli.md; exit codes: :mod:`.common`).

Each subcommand's module is imported only when chosen, so that ``credential-process``
answered from the cache loads neither boto3 nor botocore nor urllib3.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any, Callable, List, Optional

from .common import EXIT_INTERNAL, EXIT_OK, add_verbose_flag, exit_code_for

if TYPE_CHECKING:  # argparse is imported only by the commands that build a parser
    import argparse

# subcommand -> module under infnminio_boto.cli
SUBCOMMANDS = {name: name.replace("-", "_") for name in (
    "credential-process", "configure", "env", "exec", "status", "doctor", "completion", "sandbox")}


def build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that subcommand's module is imported."""
    import argparse

    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="infnminio-boto",
        description="S3 credentials for INFN Cloud from your OIDC token (sts-wire's file on "
        "the hub, oidc-agent on a laptop, HTCondor's in a batch job), for every S3 client. "
        "Start with `infnminio-boto doctor`.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_verbose_flag(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name, module_name in SUBCOMMANDS.items():
        if only is None or name == only:
            importlib.import_module(f".{module_name}", __name__).add_parser(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    if argv is None and "_ARGCOMPLETE" in __import__("os").environ:
        # A shell's completion request (argcomplete's protocol): it exits after answering.
        from .completion import argcomplete_module

        argcomplete_module().autocomplete(build_parser())
        return EXIT_OK
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((word for word in arguments if not word.startswith("-")), None)
    credential_process = command == "credential-process" and arguments[0] == command
    if credential_process:
        # The SDKs run this on every new session: the cached answer first, then no
        # argparse parser unless the flags need one.
        from ..keys.fastpath import answer

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
    args = build_parser(only=command if command in SUBCOMMANDS else None).parse_args(arguments)
    if credential_process:
        args.argv = arguments[1:]
    return dispatch(args.handler, args)


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
            print(f"infnminio-boto: internal error: {type(error).__name__}. Please report "
                  "it with the traceback above.", file=sys.stderr)
        else:
            print(f"infnminio-boto: {error}", file=sys.stderr)
        return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
