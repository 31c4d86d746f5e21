"""Environment variables written for a shell to read, each format quoted by its own rules.

``env`` and ``sandbox start`` print variables that users feed to ``eval``, ``source``
or ``set -a; . FILE``: whatever a value holds (a quote, a backslash, ``$(...)``, a
backtick, a newline, a path from the user's settings) must come out as that value,
byte for byte, and never run. Each format has its own quoting rules:

- ``sh``: POSIX single quotes (:func:`shlex.quote`): nothing inside is special; a
  ``'`` is written as ``'\\''``. bash, dash, zsh and ksh read it alike.
- ``fish``: fish's single quotes, where a backslash escapes ``\\'`` and ``\\\\`` (and
  nothing else): POSIX quoting is wrong there (a value ending in ``\\`` reopens the
  string). Read with ``| source``.
- ``dotenv``: single quotes, read alike by ``set -a; . FILE`` in sh, python-dotenv and
  docker compose's ``env_file``. Those readers disagree about ``'`` and ``\\`` inside
  single quotes, python-dotenv expands ``${NAME}`` even there, and line-based readers
  stop at a newline, so a value holding any of those cannot be written inertly for all
  of them and is refused with :class:`ConfigurationError` (use ``sh`` or ``json``).
- ``json``: one object, for programs.

Names must be shell variable names (``[A-Za-z_][A-Za-z0-9_]*``): a name is never
quoted, so anything else would be code. No value may hold NUL (no environment can).
"""

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
        raise ConfigurationError(
            f"{name!r} is not a valid environment variable name: only letters, digits and "
            "underscores, not starting with a digit."
        )


def _check_value(name: str, value: str) -> None:
    if "\0" in value:
        raise ConfigurationError(
            f"The value for {name} holds a NUL character, which no environment variable "
            "can hold: check the setting it comes from."
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigurationError(
            f"The value for {name} holds bytes that are not UTF-8 text (a file name in "
            "another encoding?): check the setting it comes from."
        ) from None


def _fish_quote(value: str) -> str:
    # fish documents single quotes as taking `\'` and `\\` as escapes and everything else
    # literally (fish-shell docs, "Quotes"), newlines included.
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
    """``values`` as ``style`` (one of :data:`FORMATS`) would have them, no final newline.

    Raises :class:`ConfigurationError` for a name that is not a variable name, a value
    holding NUL or non-UTF-8 bytes, or (``dotenv`` only) a value no dotenv reader can
    be given inertly. Error messages name the variable, never its value (it may be a
    secret).
    """
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
