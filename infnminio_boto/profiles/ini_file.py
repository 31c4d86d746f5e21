"""Editing one section of a user's INI file (the AWS config, rclone's config) safely.

Only the keys asked for change (configparser would drop comments and reorder); writes are
locked (``flock`` on ``<real file>.lock``), go through symlinks, keep mode, owner and
non-UTF-8 bytes, are atomic and replace only a regular file. I/O problems are a
:class:`~infnminio_boto.errors.ConfigurationError` naming the file (docs/design.md).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Callable, List, Mapping, Optional, Set, Tuple

from .. import _files
from ..errors import ConfigurationError, scrub

__all__ = [
    "LOCK_WAIT_SECONDS", "split_sections", "set_section", "check_name", "check_value",
    "read_text", "write_atomically", "update_file", "real_path",
]

# Our own writers hold the lock for milliseconds; a minute would mean a hung process.
LOCK_WAIT_SECONDS = 30.0
ENCODING = "utf-8"
ERRORS = "surrogateescape"  # bytes that are not UTF-8 come back as they were

_HEADER = re.compile(r"^\s*\[\s*(?P<name>[^\]]+?)\s*\]\s*(?:[#;].*)?$")
_KEY = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+)\s*=\s*(?P<value>.*)$")
# C0, DEL and C1 controls, the line and paragraph separators (str.splitlines breaks
# there), and lone surrogates: non-UTF-8 bytes, which make the file unreadable as UTF-8.
_BAD_IN_VALUE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _shown(character: str) -> str:
    """A character as a message can show it: ``"\\n"``, ``"\\x00"``, ``"]"``."""
    if 0xDC80 <= ord(character) <= 0xDCFF:  # an undecodable byte, as surrogateescape kept it
        return f"the byte \\x{ord(character) - 0xDC00:02x} (not UTF-8)"
    return f'"{repr(character)[1:-1]}"'


def check_name(kind: str, name: str, character: re.Pattern[str], rule: str, *,
               first: Optional[re.Pattern[str]] = None) -> None:
    """Raise :class:`ConfigurationError` unless each character of ``name`` matches
    ``character`` (the first: ``first``, if given); ``kind`` names what it is ("AWS profile
    name"), ``rule`` the allowed characters in words."""
    problem = "is empty" if not name else ""
    for index, char in enumerate(name):
        pattern = first if index == 0 and first is not None else character
        if not pattern.fullmatch(char):
            problem = f"has {_shown(char)} at position {index + 1}"
            break
    if not problem:
        return
    raise ConfigurationError(f"{kind} {scrub(repr(name))} {problem}: {rule}. Choose another "
                             "name; nothing was written.")


def check_value(setting: str, value: str) -> None:
    """Raise :class:`ConfigurationError` naming ``setting`` if ``value`` holds a control
    character (a newline would let the rest of the value become lines of its own)."""
    match = _BAD_IN_VALUE.search(value)
    if match is None:
        return
    shown = scrub(repr(value)) if len(value) <= 200 else "the value"
    what = _shown(match.group())
    if not "\ud800" <= match.group() <= "\udfff":  # a surrogate is a byte, not a character
        what = f"the control character {what}"
    raise ConfigurationError(
        f"{setting} {shown} has {what} at position "
        f"{match.start() + 1}, which cannot go into a config file (it would end the line "
        f"or make the file unreadable). Give {setting} without it; nothing was written."
    )


def split_sections(lines: List[str]) -> List[Tuple[Optional[str], List[str]]]:
    sections: List[Tuple[Optional[str], List[str]]] = [(None, [])]
    for line in lines:
        match = _HEADER.match(line)
        if match:
            sections.append((" ".join(match["name"].split()), [line]))
        else:
            sections[-1][1].append(line)
    return sections


def _rewrite_section(body: List[str], values: Mapping[str, str], defaults: Mapping[str, str],
                     nested: Optional[Tuple[str, str, str]]) -> List[str]:
    """``body`` (header first) with ``values`` set and ``defaults`` added where absent."""
    header, rest = body[0], body[1:]
    kept: List[str] = []
    kept_nested: List[str] = []
    present = set()
    index = 0
    while index < len(rest):
        line = rest[index]
        match = _KEY.match(line)  # top-level keys are not indented
        if match:
            present.add(match["key"])
        if match and match["key"] in values:
            index += 1
            continue
        if nested and match and match["key"] == nested[0] and not match["value"].strip():
            index += 1
            while index < len(rest) and rest[index][:1] in (" ", "\t") and rest[index].strip():
                inner = _KEY.match(rest[index].strip())
                if not (inner and inner["key"] == nested[1]):
                    kept_nested.append(rest[index].rstrip("\n"))
                index += 1
            continue
        kept.append(line)
        index += 1
    while kept and not kept[-1].strip():
        kept.pop()
    # Defaults before values: a second run keeps them where the first one put them.
    managed = [f"{key} = {value}\n" for key, value in defaults.items() if key not in present]
    managed += [f"{key} = {value}\n" for key, value in values.items()]
    if nested:
        managed.append(f"{nested[0]} =\n")
        managed.extend(f"{line}\n" for line in kept_nested)
        managed.append(f"    {nested[1]} = {nested[2]}\n")
    return [header, *kept, *managed]


def set_section(text: str, section: str, values: Mapping[str, str],
                defaults: Mapping[str, str] = {}, *, aliases: Optional[Set[str]] = None,
                nested: Optional[Tuple[str, str, str]] = None) -> str:
    """``text`` with ``[section]`` (or one of ``aliases``; created at the end if missing)
    holding ``values``, and ``defaults`` where it has no such key; ``nested`` = (key, subkey,
    value) sets one key of an indented block. All else is kept. Raises
    :class:`ConfigurationError` if the section name or a value would end its line."""
    for value_name, value in [("section name", section), *values.items(), *defaults.items()]:
        check_value(value_name, value)
    if "]" in section or "[" in section:
        raise ConfigurationError(f"section name {section!r} holds a bracket; nothing was written.")
    # Cut at "\n" only: str.splitlines also cuts at \x1c, \x85...
    lines = [line + "\n" for line in text.removesuffix("\n").split("\n")] if text else []
    aliases = aliases or {section}
    output: List[str] = []
    found = False
    for name, body in split_sections(lines):
        if name in aliases and not found:
            found = True
            trailing: List[str] = []
            while len(body) > 1 and not body[-1].strip():
                trailing.insert(0, body.pop())
            output.extend(_rewrite_section(body, values, defaults, nested))
            output.extend(trailing or ["\n"])
        else:
            output.extend(body)
    if not found:
        if output and output[-1].strip():
            output.append("\n")
        output.extend(_rewrite_section([f"[{section}]\n"], values, defaults, nested))
    while output and not output[-1].strip():
        output.pop()
    return "".join(output) + "\n"


def real_path(path: Path) -> Path:
    """The file ``path`` finally names, every symlink followed (to where it will be)."""
    return Path(os.path.realpath(os.path.expanduser(str(path))))


_ADVICE = (
    ((errno.ENOSPC, errno.EDQUOT), "free some space (or ask for more quota) and run it again"),
    ((errno.EROFS,), "the file system is read-only: point the tool at a writable file"),
    ((errno.EACCES, errno.EPERM), "check the permissions of the file and of its folder"),
    ((errno.ELOOP,), "a symlink on the way loops or a lock file is a symlink: fix it"),
)


def _failed(action: str, shown: str, error: OSError) -> ConfigurationError:
    """Our error for ``error`` met while doing ``action`` to the file ``shown``."""
    advice = next((words for codes, words in _ADVICE if error.errno in codes),
                  "fix the path or the file and run it again")
    why = error.strerror or str(error)
    return ConfigurationError(f"cannot {action} {shown}: {why}; {advice}. It was left as it was.")


def read_text(path: Path) -> str:
    """The text of ``path`` (``""`` when missing); bytes that are not UTF-8 kept.
    Raises :class:`ConfigurationError` naming the file if unreadable or not a regular file."""
    real = real_path(path)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return ""
    except OSError as error:
        raise _failed("read", _named(path, real), error) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _not_regular(path, real)
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except OSError as error:
        raise _failed("read", _named(path, real), error) from None
    finally:
        os.close(fd)
    return b"".join(chunks).decode(ENCODING, ERRORS)


def _named(path: Path, real: Path) -> str:
    """How a message names the file: the path given, and where its links lead."""
    return str(path) if Path(os.path.abspath(path)) == real else f"{path} (-> {real})"


def _not_regular(path: Path, real: Path) -> ConfigurationError:
    return ConfigurationError(
        f"{_named(path, real)} is not a regular file; point the setting at a file (or "
        "remove what is there). Nothing was written."
    )


def write_atomically(path: Path, text: str) -> None:
    """Replace the file ``path`` finally names with ``text`` (the caller holds the lock),
    keeping its mode and owner. Raises :class:`ConfigurationError` naming the file when it
    cannot be written; the file is then as it was."""
    real = real_path(path)
    before = _existing(path, real)
    try:
        real.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _files.replace(str(real), text.encode(ENCODING, ERRORS),
                       mode=stat.S_IMODE(before.st_mode) if before else 0o600,
                       owner=(before.st_uid, before.st_gid) if before else None,
                       sync_folder=True)
    except OSError as error:
        raise _failed("write", _named(path, real), error) from None


def _existing(path: Path, real: Path) -> Optional[os.stat_result]:
    """The status of ``real`` (None when missing); :class:`ConfigurationError` unless a
    regular file (a rename, as root, would replace ``/dev/null`` for the whole system)."""
    try:
        status = os.stat(real)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _failed("write", _named(path, real), error) from None
    if not stat.S_ISREG(status.st_mode):
        raise _not_regular(path, real)
    return status


def update_file(path: Path, edit: Callable[[str], str], *, write: bool = True,
                lock_wait: float = LOCK_WAIT_SECONDS) -> Tuple[str, str]:
    """``(old, new)`` text of ``path`` under ``edit``; written when it changed and ``write``,
    read, edited and written under the lock (waited for at most ``lock_wait`` s). Raises
    :class:`ConfigurationError` naming the file for any I/O problem; ``edit``'s errors pass
    through; either way nothing is written."""
    if not write:
        old = read_text(path)
        return old, edit(old)
    real = real_path(path)
    before = _existing(path, real)  # before a lock file is made beside something that is no file
    try:
        real.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise _failed("create the folder of", _named(path, real), error) from None
    mode = stat.S_IMODE(before.st_mode) & 0o666 if before else 0o600
    shown, lock = _named(path, real), f"{real}.lock"
    try:
        # Read-only and as readable as the file it guards: flock needs no write access.
        with _files.locked(lock, lock_wait, mode=mode):
            old = read_text(path)
            new = edit(old)
            if new != old:
                write_atomically(path, new)
    except TimeoutError:
        raise ConfigurationError(
            f"another process has been writing {shown} for more than {lock_wait:g} s (it "
            f"holds the lock {lock}). Wait for it to finish, or stop it, and run this "
            "again. Nothing was written."
        ) from None
    except OSError as error:
        raise _failed(f"create the lock file {lock} for", shown, error) from None
    return old, new
