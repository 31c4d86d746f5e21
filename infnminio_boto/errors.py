"""Exception classes.

Every error raised on purpose by infnminio-boto derives from :class:`InfnMinioError`,
so that one ``except`` clause catches them all, and each message says what failed and
what to do about it. Messages never contain a token, a secret key or a session token:
the values that go into them are chosen here, and server answers are scrubbed with
:func:`scrub` before they are quoted.
"""

from __future__ import annotations

# typing costs 3 ms of import time on the credential_process hot path; the
# annotations are strings (PEP 563), so the names are needed by type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable, Optional

__all__ = [
    "InfnMinioError",
    "ConfigurationError",
    "TokenSourceError",
    "TokenFileError",
    "TokenExpiredError",
    "StsError",
    "TransportError",
    "MissingDependencyError",
    "SandboxError",
    "SharedKeysExpiredError",
    "scrub",
]


class InfnMinioError(Exception):
    """Base class of every error raised by infnminio-boto."""


class ConfigurationError(InfnMinioError, ValueError):
    """A setting (argument, ``INFNMINIO_*`` variable or preset) is invalid."""


class TokenSourceError(InfnMinioError):
    """No access token could be had from its source: no source found, a token command or
    oidc-agent that failed (``status``: its exit status, when it ran), or what the source
    gave is not a JWT access token. ``source`` describes where it was looked for."""

    def __init__(
        self, message: str, *, source: Optional[str] = None, status: Optional[int] = None
    ) -> None:
        super().__init__(message)
        self.source = source
        self.status = status


class TokenFileError(TokenSourceError):
    """The OIDC token file is missing, unreadable, empty or does not hold a JWT."""

    def __init__(self, message: str, path: Optional[str] = None) -> None:
        super().__init__(message, source=path)
        self.path = path


class TokenExpiredError(TokenFileError):
    """The token file holds a JWT whose ``exp`` has passed; nothing was sent."""


class StsError(InfnMinioError):
    """The STS endpoint answered AssumeRoleWithWebIdentity with an error.

    ``status`` is the HTTP status, ``code`` the server's error code (``AccessDenied``,
    ``InvalidArgument``...), ``server_message`` what the server said (often empty on
    Ceph RGW) and ``request_id`` the id to quote to the storage administrators.
    """

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        server_message: Optional[str] = None,
        request_id: Optional[str] = None,
        endpoint: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.server_message = server_message
        self.request_id = request_id
        self.endpoint = endpoint


class TransportError(InfnMinioError):
    """The STS endpoint could not be reached: DNS, connection, TLS or a timeout."""

    def __init__(self, message: str, *, endpoint: Optional[str] = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint


class MissingDependencyError(InfnMinioError, ImportError):
    """An optional library an adapter needs is not installed; the message says which extra."""

    def __init__(self, library: str, extra: str) -> None:
        super().__init__(
            f"{library} is not installed: pip install 'infnminio-boto[{extra}]' "
            f"(or pip install {library})."
        )


class SharedKeysExpiredError(InfnMinioError):
    """A Dask worker's keys, shared by the client, expired and no new ones came."""


class SandboxError(InfnMinioError):
    """The local sandbox could not start, is not running, or cannot run here."""


# A JWT is three base64url segments; the first one always starts with "eyJ" ('{"').
_JWT_PATTERN = r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"


def scrub(text: str, secrets: Iterable[Optional[str]] = ()) -> str:
    """Return ``text`` with every given secret and anything shaped like a JWT masked.

    Used on text that came from elsewhere (a server's error message, an exception from
    the HTTP stack) before it becomes part of one of our messages.
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    import re  # compiled on first use: `import infnminio_boto` stays cheap

    return re.sub(_JWT_PATTERN, "<jwt>", text)
