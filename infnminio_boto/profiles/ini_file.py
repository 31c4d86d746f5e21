"""Editing one section of a user's INI file (the AWS config, rclone's config) safely.

configparser would drop the comments and reorder the file; here only the keys asked for
change, in that one section. Every write is locked against our other writers (an
``flock`` on ``<real file>.lock``), goes through symlinks to the real file, keeps its
mode, owner and any bytes that are not UTF-8, is atomic, and refuses to replace anything
but a regular file (docs/design.md, "Files"). Any I/O problem is a
:class:`~infnminio_boto.errors.ConfigurationError` naming the file; it is then left as it was.
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
    "LOCK_WAIT_SECONDS",
    "split_sections",
    "set_section",
    "check_name",
    "check_value",
    "read_text",
    "write_atomically",
    "update_file",
    "real_path",
]

# Our own writers hold the lock for milliseconds; a minute would mean a hung process.
LOCK_WAIT_SECONDS = 30.0
ENCODING = "utf-8"
ERRORS = "surrogateescape"  # bytes that are not UTF-8 come back as they were

_HEADER = re.compile(r"^\s*\[\s*(?P<name>[^\]]+?)\s*\]\s*(?:[#;].*)?$")
_KEY = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+)\s*=\s*(?P<value>.*)$")
# C0 controls (newline, CR, NUL, tab...), DEL, C1 controls, the Unicode line and
# paragraph separators (Python's str.splitlines breaks lines there), and lone
# surrogates: bytes that were not UTF-8 (os.fsdecode keeps them so), which would make
# the whole file undecodable for the AWS CLI under a UTF-8 locale.
_BAD_IN_VALUE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _lines(text: str) -> List[str]:
    """``text`` cut after each ``\\n`` only (str.splitlines also cuts at \\x1c, \\x85...)."""
    lines = text.split("\n")
    last = lines.pop()
    return [line + "\n" for line in lines] + ([last] if last else [])


def _shown(character: str) -> str:
    """A character as a message can show it: ``"\\n"``, ``"\\x00"``, ``"]"``."""
    if 0xDC80 <= ord(character) <= 0xDCFF:  # an undecodable byte, as surrogateescape kept it
        return f"the byte \\x{ord(character) - 0xDC00:02x} (not UTF-8)"
    return f'"{repr(character)[1:-1]}"'


def _quoted(text: str) -> str:
    """``text`` with every control character escaped, and anything shaped like a JWT masked."""
    return scrub(repr(text))


def check_name(
    kind: str,
    name: str,
    character: re.Pattern[str],
    rule: str,
    *,
    first: Optional[re.Pattern[str]] = None,
) -> None:
    """Raise :class:`ConfigurationError` unless every character of ``name`` is allowed.

    ``character`` matches one allowed character, ``first`` (when given) one allowed
    first character; ``kind`` says what the name is ("AWS profile name") and ``rule``
    which characters are allowed, in words. The message shows the first bad character
    escaped, so that a newline or a tab can be seen.
    """
    problem = "is empty" if not name else ""
    for index, char in enumerate(name):
        pattern = first if index == 0 and first is not None else character
        if not pattern.fullmatch(char):
            problem = f"has {_shown(char)} at position {index + 1}"
            break
    if not problem:
        return
    raise ConfigurationError(
        f"{kind} {_quoted(name)} {problem}: {rule}. Choose another name; nothing was written."
    )


def check_value(setting: str, value: str) -> None:
    """Raise :class:`ConfigurationError` if ``value`` holds a control character.

    A newline or carriage return would end the line and let the rest of the value
    become lines of its own (other keys, other sections, or a line no reader can
    parse, after which every profile fails to load). ``setting`` names what the value
    is for (``region``, ``token_file``...); the message shows the character escaped.
    """
    match = _BAD_IN_VALUE.search(value)
    if match is None:
        return
    shown = _quoted(value) if len(value) <= 200 else "the value"
    character = match.group()
    if "\ud800" <= character <= "\udfff":  # not text: a byte that was not UTF-8
        what = _shown(character)
    else:
        what = f"the control character {_shown(character)}"
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


def _rewrite_section(
    body: List[str],
    values: Mapping[str, str],
    defaults: Mapping[str, str],
    nested: Optional[Tuple[str, str, str]],
) -> List[str]:
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


def set_section(
    text: str,
    section: str,
    values: Mapping[str, str],
    defaults: Mapping[str, str] = {},
    *,
    aliases: Optional[Set[str]] = None,
    nested: Optional[Tuple[str, str, str]] = None,
) -> str:
    """``text`` with the section ``[section]`` (or one of ``aliases``) holding ``values``.

    ``values`` replace what the section had; ``defaults`` are added only where it has no
    such key; ``nested`` = (key, subkey, value) sets one key of an indented block.
    Every other section, key and comment is kept; the section is created at the end
    when missing. Raises :class:`ConfigurationError` if a section name or value holds a
    character that would end its line (the callers check names against the reading
    tool's own rule first).
    """
    for value_name, value in [("section name", section), *values.items(), *defaults.items()]:
        check_value(value_name, value)
    if "]" in section or "[" in section:
        raise ConfigurationError(f"section name {section!r} holds a bracket; nothing was written.")
    lines = _lines(text)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    sections = split_sections(lines)
    wanted = section
    aliases = aliases or {wanted}
    output: List[str] = []
    found = False
    for name, body in sections:
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
        output.extend(_rewrite_section([f"[{wanted}]\n"], values, defaults, nested))
    while output and not output[-1].strip():
        output.pop()
    return "".join(output) + "\n"


def real_path(path: Path) -> Path:
    """The file ``path`` finally names: every symlink on the way followed.

    A link to a file not yet there resolves to where that file will be.
    """
    return Path(os.path.realpath(os.path.expanduser(str(path))))


def _failed(action: str, shown: str, error: OSError) -> ConfigurationError:
    """Our error for ``error`` met while doing ``action`` to the file ``shown``."""
    reason = error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        advice = "free some space (or ask for more quota) and run it again"
    elif error.errno == errno.EROFS:
        advice = "the file system is read-only: point the tool at a writable file"
    elif error.errno in (errno.EACCES, errno.EPERM):
        advice = "check the permissions of the file and of its folder"
    elif error.errno == errno.ELOOP:
        advice = "a symlink on the way loops or a lock file is a symlink: fix it"
    else:
        advice = "fix the path or the file and run it again"
    return ConfigurationError(
        f"cannot {action} {shown}: {reason}; {advice}. It was left as it was."
    )


def read_text(path: Path) -> str:
    """The text of ``path`` (``""`` when missing); bytes that are not UTF-8 kept.

    Raises :class:`ConfigurationError` naming the file when it cannot be read or is
    not a regular file.
    """
    real = real_path(path)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return ""
    except OSError as error:
        raise _failed("read", _named(path, real), error) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigurationError(
                f"{_named(path, real)} is not a regular file; point the setting at a "
                "file (or remove what is there). Nothing was written."
            )
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError as error:
        raise _failed("read", _named(path, real), error) from None
    finally:
        os.close(fd)
    return b"".join(chunks).decode(ENCODING, ERRORS)


def _named(path: Path, real: Path) -> str:
    """How a message names the file: the path given, and where its links lead."""
    return str(path) if Path(os.path.abspath(path)) == real else f"{path} (-> {real})"


def write_atomically(path: Path, text: str) -> None:
    """Replace the file ``path`` finally names with ``text`` (the caller holds the lock),
    keeping its mode and owner. Raises :class:`ConfigurationError` naming the file when it
    cannot be written; the file is then as it was."""
    real = real_path(path)
    before = _existing(path, real)
    try:
        real.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _files.replace(
            str(real),
            text.encode(ENCODING, ERRORS),
            mode=stat.S_IMODE(before.st_mode) if before else 0o600,
            owner=(before.st_uid, before.st_gid) if before else None,
            sync_folder=True,
        )
    except OSError as error:
        raise _failed("write", _named(path, real), error) from None


def _existing(path: Path, real: Path) -> Optional[os.stat_result]:
    """The status of the file ``real`` (``None`` when missing), which must be a regular file.

    Raises :class:`ConfigurationError` for anything else: a device such as
    ``/dev/null`` (which a rename, as root, would replace for the whole system), a
    folder, a symlink loop.
    """
    try:
        status = os.stat(real)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _failed("write", _named(path, real), error) from None
    if not stat.S_ISREG(status.st_mode):
        raise ConfigurationError(
            f"{_named(path, real)} is not a regular file; point the setting at a file (or "
            "remove what is there). Nothing was written."
        )
    return status


def update_file(
    path: Path,
    edit: Callable[[str], str],
    *,
    write: bool = True,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> Tuple[str, str]:
    """``(old, new)`` text of ``path`` under ``edit``; written when it changed and ``write``.

    With ``write`` the read, the edit and the write happen under the lock (see the
    module docstring), waited for at most ``lock_wait`` seconds. Raises
    :class:`ConfigurationError` naming the file for every I/O problem, with the file
    left untouched; errors raised by ``edit`` pass through, with nothing written.
    """
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
