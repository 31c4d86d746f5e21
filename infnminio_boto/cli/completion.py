"""``infnminio-boto completion bash|zsh|fish``: the shell completion script (argcomplete,
imported only then or when :func:`infnminio_boto.cli.main` answers a completion)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "completion", help="print the shell completion script (bash, zsh or fish)",
        description='Print a completion script: eval "$(infnminio-boto completion bash)".',
    )
    parser.add_argument("shell", choices=("bash", "zsh", "fish"))
    parser.set_defaults(handler=run)


def argcomplete_module():
    from ..errors import MissingDependencyError

    try:
        import argcomplete
    except ImportError:
        raise MissingDependencyError("argcomplete", "completion") from None
    return argcomplete


def run(args: argparse.Namespace) -> int:
    print(argcomplete_module().shellcode(["infnminio-boto"], shell=args.shell))
    return 0
