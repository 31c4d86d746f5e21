"""A token kept in a file: sts-wire's ``.token``, HTCondor's ``.use`` file, WLCG's ``bt_u<uid>``.

Re-read at every exchange, never written: whoever writes it refreshes it. sts-wire
rewrites it in place, so an empty or cut-short read is retried for a moment; a FIFO, a
device or a socket is refused at once, and a file nobody named is checked again on the
opened file, so it cannot be swapped between the check and the read.
"""

from __future__ import annotations

import os
import stat
import time
from typing import Any, Mapping, Tuple

from ..errors import TokenFileError
from .discovery import token_digest, unsafe_reason
from .jwt import NotAJwtError, extract_jwt, parse_jwt_claims
from .oidc_token import OidcToken

__all__ = ["FileSource", "TORN_READ_PATIENCE_SECONDS", "MAX_TOKEN_BYTES"]

# How long a read that finds an empty or cut-short file keeps trying. sts-wire's
# truncate-then-write leaves the file incomplete for microseconds, not seconds.
TORN_READ_PATIENCE_SECONDS = 1.5
MAX_TOKEN_BYTES = 64 * 1024


class _NotRegular(Exception):  # noqa: N818 - a condition turned into our error below
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class _Unsafe(Exception):  # noqa: N818 - a condition turned into our error below
    pass


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _read_once(path: str, *, named: bool) -> Tuple[str, float]:
    """One read; raises OSError as the OS reports it.

    O_NONBLOCK makes opening a FIFO return at once (a regular file ignores it); what is
    not a regular file is refused before anything is read.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _NotRegular(_kind_of(info.st_mode))
        if not named and (info.st_uid not in (os.geteuid(), 0) or info.st_mode & 0o022):
            raise _Unsafe()
        chunks = []
        remaining = MAX_TOKEN_BYTES + 1
        while remaining > 0:
            chunk = os.read(fd, remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > MAX_TOKEN_BYTES:
        raise NotAJwtError(f"it is larger than {MAX_TOKEN_BYTES // 1024} KiB")
    try:
        return data.decode("ascii"), info.st_mtime
    except UnicodeDecodeError:
        raise NotAJwtError("it holds bytes that are not ASCII (a JWT is plain ASCII)") from None


class FileSource:
    """The token in ``path``.

    ``named`` says whether a person named the file (a setting or ``BEARER_TOKEN_FILE``)
    or the discovery order found it (then it must stay a file of this user's that nobody
    else can write); ``why`` says which, for ``doctor``, ``status`` and messages.
    """

    kind = "file"

    def __init__(
        self,
        path: str,
        *,
        named: bool = True,
        why: str = "",
        patience: float = TORN_READ_PATIENCE_SECONDS,
    ) -> None:
        self.path = path
        self.named = named
        self.why = why
        self.patience = patience

    @classmethod
    def make(
        cls, value: Any, *, settings: Any, environ: Mapping[str, str], why: str, named: bool
    ) -> FileSource:
        """The source for a setting's (or the discovery order's) path."""
        return cls(str(value), named=named, why=why)

    def identity(self) -> str:
        return f"{self.kind}:{os.path.abspath(self.path)}"

    def describe(self) -> str:
        return f"the file {self.path}" + (f" ({self.why})" if self.why else "")

    def __repr__(self) -> str:
        return f"FileSource({self.path!r}, named={self.named})"

    def read(self) -> OidcToken:
        """The token in the file now, expired or not (the caller decides).

        Raises :class:`~infnminio_boto.TokenFileError` when the file is missing, not a
        regular file, unreadable, empty or not a JWT (an empty or cut-short read is
        retried for ``patience`` seconds first: sts-wire may be rewriting it).
        """
        path = self.path
        if not self.named:
            reason = unsafe_reason(path)
            if reason is not None and reason != "no such file":
                raise TokenFileError(
                    f"The token file {path} was not used: {reason}. A file nobody named on "
                    "this machine must be a private file of this user's; name the one you "
                    "trust with token_file / INFNMINIO_TOKEN_FILE here.",
                    path=path,
                )
        deadline = time.monotonic() + self.patience
        delay = 0.005
        while True:
            try:
                content, modified = _read_once(path, named=self.named)
                content = content.strip()
                if not content:
                    raise NotAJwtError("it is empty")
                value = extract_jwt(content)
                claims = parse_jwt_claims(value)
                break
            except FileNotFoundError:
                raise TokenFileError(
                    f"The token file {path} does not exist. Start what writes it (sts-wire, "
                    "or oidc-token > file), or point token_file / INFNMINIO_TOKEN_FILE at the "
                    "file that holds your access token.",
                    path=path,
                ) from None
            except _NotRegular as odd:
                raise TokenFileError(
                    f"The token file {path} is {odd.what}, not a file. Point token_file / "
                    "INFNMINIO_TOKEN_FILE at the file sts-wire writes (usually .token in "
                    "sts-wire's working directory).",
                    path=path,
                ) from None
            except _Unsafe:
                raise TokenFileError(
                    f"The token file {path} changed while it was being read: it is no longer "
                    "a file of this user's that nobody else can write, so it was not used. "
                    "Name the file you trust with token_file / INFNMINIO_TOKEN_FILE.",
                    path=path,
                ) from None
            except PermissionError:
                raise TokenFileError(
                    f"The token file {path} cannot be read by this user (permission denied). "
                    "Fix its permissions or run as the user that owns it.",
                    path=path,
                ) from None
            except OSError as exc:
                raise TokenFileError(
                    f"The token file {path} cannot be read: {exc.strerror or exc}.", path=path
                ) from None
            except NotAJwtError as reason:
                # Empty or cut short: sts-wire may be rewriting it right now. Two tokens
                # or a bad claim are not torn reads: say so at once.
                if not reason.final and time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 0.2)
                    continue
                if str(reason) == "it is empty":
                    raise TokenFileError(
                        f"The token file {path} is empty. Whatever writes it (sts-wire) "
                        "writes it when it has a token: check that it is running and logged in.",
                        path=path,
                    ) from None
                raise TokenFileError(
                    f"The token file {path} does not hold a JWT access token: {reason}. It "
                    "must contain only the access token that sts-wire or oidc-token writes.",
                    path=path,
                ) from None
        return OidcToken(
            origin=path,
            value=value,
            claims=claims,
            modified=modified,
            digest=token_digest(content.encode("ascii")),
            kind=self.kind,
            path=path,
        )
