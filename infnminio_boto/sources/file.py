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
from typing import Any, Tuple

from ..errors import TokenFileError
from .discovery import token_digest, unsafe_reason
from .jwt import NotAJwtError, extract_jwt, parse_jwt_claims
from .oidc_token import OidcToken

__all__ = ["FileSource", "TORN_READ_PATIENCE_SECONDS", "MAX_TOKEN_BYTES"]

# sts-wire's truncate-then-write leaves the file incomplete for microseconds, not seconds.
TORN_READ_PATIENCE_SECONDS = 1.5
MAX_TOKEN_BYTES = 64 * 1024
_ODD = (
    (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
)


class _Refused(Exception):  # noqa: N818 - the end of a TokenFileError's message
    pass


def _read_once(path: str, *, named: bool) -> Tuple[str, float]:
    """One read; raises OSError as the OS reports it. O_NONBLOCK: a FIFO opens at once
    (and is refused, as is anything but a regular file, before anything is read)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            odd = next((words for test, words in _ODD if test(info.st_mode)), "not a regular file")
            raise _Refused(
                f"is {odd}, not a file. Point token_file / INFNMINIO_TOKEN_FILE at the file "
                "sts-wire writes (usually .token in sts-wire's working directory)."
            )
        if not named and (info.st_uid not in (os.geteuid(), 0) or info.st_mode & 0o022):
            raise _Refused(
                "changed while it was being read: it is no longer a file of this user's "
                "that nobody else can write, so it was not used. Name the file you trust "
                "with token_file / INFNMINIO_TOKEN_FILE."
            )
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_TOKEN_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_TOKEN_BYTES:
        raise NotAJwtError(f"it is larger than {MAX_TOKEN_BYTES // 1024} KiB")
    try:
        return data.decode("ascii"), info.st_mtime
    except UnicodeDecodeError:
        raise NotAJwtError("it holds bytes that are not ASCII (a JWT is plain ASCII)") from None


class FileSource:
    """The token in ``path``. ``named``: a person named the file (a setting or
    ``BEARER_TOKEN_FILE``), else the discovery order found it and it must stay a file of
    this user's that nobody else can write; ``why``: which, for messages."""

    kind = "file"

    def __init__(self, path: str, *, named: bool = True, why: str = "",
                 patience: float = TORN_READ_PATIENCE_SECONDS) -> None:
        self.path = path
        self.named = named
        self.why = why
        self.patience = patience

    @classmethod
    def make(cls, value: Any, *, why: str, named: bool, **_: Any) -> FileSource:
        return cls(str(value), named=named, why=why)

    def identity(self) -> str:
        return f"{self.kind}:{os.path.abspath(self.path)}"

    def describe(self) -> str:
        return f"the file {self.path}" + (f" ({self.why})" if self.why else "")

    def __repr__(self) -> str:
        return f"FileSource({self.path!r}, named={self.named})"

    def read(self) -> OidcToken:
        """The token in the file now, expired or not. :class:`~infnminio_boto.TokenFileError`
        when it is missing, not a regular file, unreadable, empty or not a JWT (an empty or
        cut-short read is first retried for ``patience`` seconds)."""
        path = self.path

        def fail(text: str) -> TokenFileError:
            return TokenFileError(f"The token file {path} {text}", path=path)

        if not self.named:
            reason = unsafe_reason(path)
            if reason is not None and reason != "no such file":
                raise fail(
                    f"was not used: {reason}. A file nobody named on this machine must be a "
                    "private file of this user's; name the one you trust with token_file / "
                    "INFNMINIO_TOKEN_FILE here."
                )
        deadline, delay = time.monotonic() + self.patience, 0.005
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
                raise fail(
                    "does not exist. Start what writes it (sts-wire, or oidc-token > file), or "
                    "point token_file / INFNMINIO_TOKEN_FILE at the file that holds your "
                    "access token."
                ) from None
            except _Refused as refused:
                raise fail(str(refused)) from None
            except PermissionError:
                raise fail(
                    "cannot be read by this user (permission denied). Fix its permissions or "
                    "run as the user that owns it."
                ) from None
            except OSError as exc:
                raise fail(f"cannot be read: {exc.strerror or exc}.") from None
            except NotAJwtError as reason:
                # Empty or cut short: sts-wire may be rewriting it. Not a torn read: at once.
                if not reason.final and time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 0.2)
                    continue
                if str(reason) == "it is empty":
                    raise fail(
                        "is empty. Whatever writes it (sts-wire) writes it when it has a "
                        "token: check that it is running and logged in."
                    ) from None
                raise fail(
                    f"does not hold a JWT access token: {reason}. It must contain only the "
                    "access token that sts-wire or oidc-token writes."
                ) from None
        digest = token_digest(content.encode("ascii"))
        return OidcToken(path, value, claims, modified, digest, self.kind, path)
