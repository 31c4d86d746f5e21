"""The one way this package writes a file: under an ``flock``, atomically, never through a
planted link (see docs/security.md). Standard library only: the credential-process
command writes the cache with it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from typing import Iterator, Optional, Tuple

__all__ = ["locked", "replace", "private_regular"]


def private_regular(info: os.stat_result) -> bool:
    """A regular file of this user's that nobody else can write."""
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


@contextlib.contextmanager
def locked(path: str, wait: float, *, mode: int = 0o600, private: bool = False) -> Iterator[int]:
    """Hold an ``flock`` on ``path`` (created with ``mode``), waiting at most ``wait`` s;
    ``private``: a lock file not a private regular file of this user's is replaced, never
    followed. Raises ``TimeoutError`` when the wait runs out, else ``OSError``."""
    import fcntl  # not on every system: callers say what happens without it

    fd = _open_lock(path, mode, private)
    try:
        deadline, pause = time.monotonic() + wait, 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"{path} stayed locked for {wait:.0f} s") from None
                time.sleep(pause)
                pause = min(pause * 1.5, 0.1)
        yield fd
    finally:
        os.close(fd)  # releases the lock


def _open_lock(path: str, mode: int, private: bool) -> int:
    flags = os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    for _ in range(3):  # bounded: another of our processes may replace it meanwhile
        try:
            fd = os.open(path, flags, mode)
        except OSError as error:
            if not private or error.errno not in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
                raise
        else:
            if not private or private_regular(os.fstat(fd)):
                return fd
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            if os.path.isdir(path) and not os.path.islink(path):
                os.rmdir(path)
            else:
                os.unlink(path)
    raise OSError(errno.EAGAIN, "it keeps being replaced by something else", path)


def replace(
    path: str, data: bytes, *, mode: int = 0o600, owner: Optional[Tuple[int, int]] = None,
    sync_folder: bool = False,
) -> None:
    """Make ``path`` hold ``data``: a temporary file in its folder (``mode``, and ``owner``
    (uid, gid) where allowed), written, ``fsync``-ed and renamed over whatever was there
    (a planted link included). Raises ``OSError``; the file is then as it was."""
    import tempfile  # only writers pay for it

    folder, name = os.path.split(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder or ".")
    try:
        try:
            os.fchmod(fd, mode)
            if owner is not None and owner != (os.geteuid(), os.getegid()):
                try:  # only root may give a file away; a group of one's own is allowed
                    os.fchown(fd, *owner)
                except PermissionError:
                    with contextlib.suppress(PermissionError):
                        os.fchown(fd, -1, owner[1])
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if sync_folder:  # the rename itself made durable; some file systems refuse it
        with contextlib.suppress(OSError):
            folder_fd = os.open(folder or ".", os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(folder_fd)
            finally:
                os.close(folder_fd)
