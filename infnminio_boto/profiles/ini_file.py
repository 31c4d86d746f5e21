"""Editing one section of an INI file (the AWS config, rclone's config) line by line.

configparser would drop the comments and reorder the file; here only the keys asked
for change, in that one section, and the file is replaced in one rename.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Callable, List, Mapping, Optional, Set, Tuple

__all__ = ["split_sections", "set_section", "write_atomically", "update_file"]

_HEADER = re.compile(r"^\s*\[\s*(?P<name>[^\]]+?)\s*\]\s*(?:[#;].*)?$")
_KEY = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+)\s*=\s*(?P<value>.*)$")


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
    when missing.
    """
    lines = text.splitlines(keepends=True)
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


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename, keeping its mode (0600 when new)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, temporary = tempfile.mkstemp(prefix=".config.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def update_file(path: Path, edit: Callable[[str], str], *, write: bool = True) -> Tuple[str, str]:
    """``(old, new)`` text of ``path`` under ``edit``; written when it changed and ``write``."""
    old = path.read_text() if path.exists() else ""
    new = edit(old)
    if write and new != old:
        write_atomically(path, new)
    return old, new
