"""What every subcommand shares: exit codes (docs/cli.md), the settings flags, logging."""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any, Dict

if TYPE_CHECKING:  # argparse is imported only by the commands that build a parser
    import argparse

(EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_CONFIGURATION, EXIT_TOKEN_FILE, EXIT_STS,
 EXIT_TRANSPORT, EXIT_SANDBOX, EXIT_S3) = range(9)


def exit_code_for(error: BaseException) -> int:
    """The documented exit code of one of our exceptions."""
    from .. import errors as e

    for kind, code in ((e.ConfigurationError, EXIT_CONFIGURATION),
                       (e.MissingDependencyError, EXIT_CONFIGURATION),
                       (e.TokenSourceError, EXIT_TOKEN_FILE), (e.StsError, EXIT_STS),
                       (e.TransportError, EXIT_TRANSPORT), (e.SandboxError, EXIT_SANDBOX)):
        if isinstance(error, kind):
            return code
    return EXIT_INTERNAL


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    """A flag for every setting (from the settings table), and ``-v``."""
    from ..settings import SETTINGS_BY_NAME

    group = parser.add_argument_group("settings (a flag beats its INFNMINIO_* variable, which "
                                      "beats the endpoint's preset and the default)")
    for name, setting in SETTINGS_BY_NAME.items():
        words = f"{setting.description} [{setting.variable}; default: {setting.default_text}]"
        words = re.sub(r"\[([^][]+)\]\(([\w-]+\.md)[^)]*\)", r"\1 (docs/\2)", words)
        help_text = words.replace("`", "").replace("%", "%%")
        if setting.kind == "switch":
            if not setting.flag_value:
                help_text = f"do not {help_text}"  # the flag turns off what is on by default
            kind: Dict[str, Any] = dict(action="store_const", const=setting.flag_value)
        else:
            kind = dict(metavar=name.split("_")[-1].upper(),
                        type={"int": int, "seconds": float}.get(setting.kind, str))
        group.add_argument(setting.flag, dest=name, help=help_text, **kind)
    add_verbose_flag(parser)


def add_verbose_flag(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """``-v``, accepted before the command and after it."""
    import argparse

    default = 0 if top_level else argparse.SUPPRESS  # a subcommand's keeps an earlier -v
    parser.add_argument("-v", "--verbose", action="count", default=default,
                        help="diagnostics on stderr (-vv: debug)")


def configure_logging(verbosity: int) -> None:
    """Diagnostics to stderr only (stdout is the command's output); -1 hides warnings too.
    Without -v, set up at the first warning (logging costs the hot path milliseconds)."""
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

    return {name: getattr(args, name) for name in SETTINGS_BY_NAME
            if getattr(args, name, None) is not None}
