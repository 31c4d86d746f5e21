"""Environment variables for a shell to read, each value quoted by the format's rules so
that it arrives byte for byte and never runs: ``sh``, ``fish``, ``dotenv`` (a value its
readers disagree on is refused), ``json`` (docs/security.md)."""

from __future__ import annotations

import json
import shlex
from typing import Mapping

from ..errors import ConfigurationError

__all__ = ["FORMATS", "check_name", "is_name", "render"]

FORMATS = ("sh", "fish", "json", "dotenv")

_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_REST = _NAME_START | frozenset("0123456789")
_CONTROL = frozenset(chr(code) for code in (*range(0x20), 0x7F))


def is_name(name: str) -> bool:
    """Whether ``name`` is a shell variable name (POSIX: letters, digits, ``_``)."""
    return bool(name) and name[0] in _NAME_START and set(name) <= _NAME_REST


def check_name(name: str) -> None:
    """Raise :class:`ConfigurationError` unless ``name`` is a shell variable name."""
    if not is_name(name):
        raise ConfigurationError(f"{name!r} is not a valid environment variable name: only "
                                 "letters, digits and underscores, not starting with a digit.")


def _check_value(name: str, value: str) -> None:
    if "\0" in value:
        raise ConfigurationError(f"The value for {name} holds a NUL character, which no "
                                 "environment variable can hold: check the setting it comes from.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigurationError(f"The value for {name} holds bytes that are not UTF-8 text (a "
                                 "file name in another encoding?): check the setting it comes "
                                 "from.") from None


def _fish_quote(value: str) -> str:
    # fish's single quotes take `\'` and `\\` as escapes, all else literally ("Quotes").
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _dotenv_quote(name: str, value: str) -> str:
    if "${" in value or any(c in _CONTROL or c in "'\\" for c in value):
        raise ConfigurationError(
            f"The value for {name} holds a quote, a backslash, a control character (a "
            "newline...) or '${', which dotenv readers (sh, python-dotenv, docker compose) "
            "do not read alike: use --format sh (set -a; . FILE reads it too) or --format "
            "json, or change the setting it comes from."
        )
    return f"'{value}'"


def render(values: Mapping[str, str], style: str) -> str:
    """``values`` as ``style`` (one of :data:`FORMATS`), no final newline. Raises
    :class:`ConfigurationError` (naming the variable, never its value) for a name that is
    no variable name, a value with NUL or non-UTF-8 text, or one dotenv can't hold."""
    if style not in FORMATS:
        raise ValueError(f"unknown format {style!r}")
    for name, value in values.items():
        check_name(name)
        _check_value(name, value)
    if style == "json":
        return json.dumps(dict(values), indent=2)
    lines = []
    for name, value in values.items():
        if style == "fish":
            # `;` keeps `eval (infnminio-boto env --format fish)` working too.
            lines.append(f"set -gx {name} {_fish_quote(value)};")
        elif style == "dotenv":
            lines.append(f"{name}={_dotenv_quote(name, value)}")
        else:
            lines.append(f"export {name}={shlex.quote(value)}")
    return "\n".join(lines)
