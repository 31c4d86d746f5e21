"""``infnminio-boto completion bash|zsh|fish``: the shell completion script (argcomplete).

``eval "$(infnminio-boto completion bash)"`` in ~/.bashrc (zsh alike; fish:
``infnminio-boto completion fish | source``). Completion runs the command with
``_ARGCOMPLETE`` set, which :func:`infnminio_boto.cli.main` answers before anything
else; without that variable nothing of argcomplete is imported, so the credential
process stays as fast as it is.
"""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "completion",
        help="print the shell completion script (bash, zsh or fish)",
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
