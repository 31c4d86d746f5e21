"""Reading the OIDC access token that sts-wire (or oidc-agent) keeps in a file.

The file is re-read on every exchange and never written: refreshing the OIDC token is
sts-wire's job alone. sts-wire rewrites the file in place (truncate, then write), so a
read can find it empty or cut short; such reads are retried for a moment. The claims
are decoded *without* verifying the signature, only to word errors and to avoid
sending a token that has already expired: the STS server does the verification.

Standard library only: the credential-process command reads tokens without boto3.
"""

from __future__ import annotations

import os
import stat
import time
from collections import namedtuple
from datetime import datetime, timezone
from typing import Any, Mapping, Optional, Sequence, Tuple

from ..errors import TokenExpiredError, TokenFileError
from .discovery import token_digest
from .jwt import NotAJwtError, extract_jwt, parse_jwt_claims

__all__ = ["OidcToken", "read_token", "ensure_not_expired", "parse_jwt_claims", "describe_age"]

# How long a read that finds an empty or cut-short file keeps trying. sts-wire's
# truncate-then-write leaves the file incomplete for microseconds, not seconds.
TORN_READ_PATIENCE_SECONDS = 1.5
# A token this close to its exp would expire in flight: treat it as expired.
EXPIRY_LEEWAY_SECONDS = 5
MAX_TOKEN_BYTES = 64 * 1024


class OidcToken(
    namedtuple("OidcToken", "path value claims modified digest", defaults=(0.0, ""))
):
    """A JWT read from ``path``; ``repr`` shows the claims that matter, never the token.

    ``value`` is the token itself, ``claims`` its decoded (unverified) payload,
    ``modified`` the file's mtime and ``digest`` a hash of the file's content (it names
    the fast credential-process entries).
    """

    __slots__ = ()
    path: str
    value: str
    claims: Mapping[str, Any]
    modified: float
    digest: str

    @property
    def subject(self) -> Optional[str]:
        sub = self.claims.get("sub")
        return str(sub) if sub is not None else None

    @property
    def issuer(self) -> Optional[str]:
        iss = self.claims.get("iss")
        return str(iss) if iss is not None else None

    @property
    def audience(self) -> Tuple[str, ...]:
        aud = self.claims.get("aud")
        if aud is None:
            return ()
        if isinstance(aud, (list, tuple)):
            return tuple(str(a) for a in aud)
        return (str(aud),)

    @property
    def expires_at(self) -> Optional[datetime]:
        exp = self.claims.get("exp")
        if isinstance(exp, (int, float)) and not isinstance(exp, bool):
            try:
                return datetime.fromtimestamp(exp, tz=timezone.utc)
            except (OverflowError, OSError, ValueError):
                return None
        return None

    def seconds_left(self, now: Optional[float] = None) -> Optional[float]:
        expires = self.expires_at
        if expires is None:
            return None
        return expires.timestamp() - (time.time() if now is None else now)

    def describe(self, now: Optional[float] = None) -> str:
        """``subject=... issuer=... audience=... expires ...``: safe to log."""
        left = self.seconds_left(now)
        expiry = (
            "no exp claim"
            if left is None
            else (
                f"expires {_iso(self.expires_at)} ({describe_age(left)})"  # type: ignore[arg-type]
            )
        )
        return (
            f"subject={self.subject or '-'} issuer={self.issuer or '-'} "
            f"audience={','.join(self.audience) or '-'} {expiry}"
        )

    def __repr__(self) -> str:
        return f"OidcToken(path={self.path!r}, {self.describe()})"


def describe_age(seconds_left: float) -> str:
    """``in 14 minutes`` / ``12 minutes ago``."""
    amount = abs(seconds_left)
    if amount < 90:
        text = f"{round(amount)} seconds"
    elif amount < 90 * 60:
        text = f"{round(amount / 60)} minutes"
    elif amount < 48 * 3600:
        text = f"{amount / 3600:.1f} hours"
    else:
        text = f"{amount / 86400:.1f} days"
    return f"in {text}" if seconds_left >= 0 else f"{text} ago"


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _read_once(path: str) -> Tuple[str, float]:
    """One read; raises OSError as the OS reports it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(path)
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


def _locate(paths: Sequence[str], configured: bool) -> str:
    for path in paths:
        if os.path.lexists(path):
            return path
    if configured:
        raise TokenFileError(
            f"The token file {paths[0]} does not exist. Start sts-wire (or write a token "
            "there with oidc-token), or point token_file / INFNMINIO_TOKEN_FILE at the "
            "file that holds your access token.",
            path=paths[0],
        )
    raise TokenFileError(
        "No token file found; tried " + ", ".join(paths) + ". Start sts-wire (it writes "
        ".token in its working directory) or set INFNMINIO_TOKEN_FILE / token_file to "
        "the file that holds your access token.",
        path=None,
    )


def read_token(
    paths: Sequence[str],
    *,
    configured: bool = True,
    patience: float = TORN_READ_PATIENCE_SECONDS,
    check_expiry: bool = True,
) -> OidcToken:
    """Read and check the token in the first existing file of ``paths``.

    ``configured`` says whether the path was set by the user (the error then names only
    that file) or is the list of defaults. Raises :class:`TokenFileError` or
    :class:`TokenExpiredError`; never returns an expired token unless ``check_expiry``
    is false (the cache may still hold valid keys obtained with it).
    """
    path = _locate(paths, configured)
    deadline = time.monotonic() + patience
    delay = 0.005
    while True:
        try:
            content, modified = _read_once(path)
            content = content.strip()
            if not content:
                raise NotAJwtError("it is empty")
            token_text = extract_jwt(content)
            claims = parse_jwt_claims(token_text)
            break
        except FileNotFoundError:
            raise TokenFileError(
                f"The token file {path} disappeared while it was being read. Check that "
                "only sts-wire writes it, then retry.",
                path=path,
            ) from None
        except IsADirectoryError:
            raise TokenFileError(
                f"The token file {path} is a directory, not a file. Point token_file / "
                "INFNMINIO_TOKEN_FILE at the file sts-wire writes (usually .token in "
                "sts-wire's working directory).",
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
            # Empty or cut short: sts-wire may be rewriting it right now.
            if time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
                continue
            if str(reason) in ("it is empty",):
                raise TokenFileError(
                    f"The token file {path} is empty. sts-wire writes it when it has a "
                    "token: check that sts-wire is running and logged in.",
                    path=path,
                ) from None
            raise TokenFileError(
                f"The token file {path} does not hold a JWT access token: {reason}. It "
                "must contain only the access token that sts-wire or oidc-token writes.",
                path=path,
            ) from None

    token = OidcToken(
        path=path,
        value=token_text,
        claims=claims,
        modified=modified,
        digest=token_digest(content.encode("ascii")),
    )
    if check_expiry:
        ensure_not_expired(token)
    return token


def ensure_not_expired(token: OidcToken, now: Optional[float] = None) -> None:
    """Raise :class:`TokenExpiredError` if ``token`` is expired or about to be."""
    left = token.seconds_left(now)
    if left is None or left > EXPIRY_LEEWAY_SECONDS:
        return
    age = time.time() - token.modified if token.modified else None
    written = f" The file was last written {describe_age(-age)}." if age is not None else ""
    state = f"expired {describe_age(left)}" if left < 0 else f"expires {describe_age(left)}"
    raise TokenExpiredError(
        f"The token in {token.path} {state} (exp {_iso(token.expires_at)})."  # type: ignore[arg-type]
        f"{written} sts-wire refreshes this file and may not be running: restart it (or "
        "write a fresh token with oidc-token), then retry. The expired token was not sent.",
        path=token.path,
    )


def token_from_text(text: str, source: str = "the token argument") -> OidcToken:
    """An :class:`OidcToken` from a JWT given as a string rather than a file."""
    try:
        value = extract_jwt(text.strip())
        claims = parse_jwt_claims(value)
    except NotAJwtError as reason:
        raise TokenFileError(f"{source} is not a JWT access token: {reason}.", path=None) from None
    return OidcToken(
        path=source, value=value, claims=claims, modified=0.0, digest=token_digest(text.encode())
    )
