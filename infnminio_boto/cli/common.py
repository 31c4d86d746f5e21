"""What every subcommand shares: exit codes, the settings flags, logging to stderr."""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any, Dict

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

def exit_code_for(error: BaseException) -> int:
    """The documented exit code of one of our exceptions."""
    from ..errors import (
        ConfigurationError,
        MissingDependencyError,
        SandboxError,
        StsError,
        TokenSourceError,
        TransportError,
    )

    for kind, code in (
        (ConfigurationError, EXIT_CONFIGURATION),
        (MissingDependencyError, EXIT_CONFIGURATION),
        (TokenSourceError, EXIT_TOKEN_FILE),
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
        words = re.sub(r"\[([^][]+)\]\(([\w-]+\.md)[^)]*\)", r"\1 (docs/\2)", words)
        help_text = words.replace("`", "").replace("%", "%%")
        if setting.kind == "switch" and not setting.flag_value:
            help_text = f"do not {help_text}"  # the flag turns off what is on by default
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


