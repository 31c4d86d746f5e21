"""Exception classes, and :func:`scrub` for text that came from elsewhere.

Every error raised on purpose derives from :class:`InfnMinioError`; each message says what
failed and what to do, and never holds a token or a key (see docs/security.md).
"""

from __future__ import annotations

# typing costs 3 ms of import time on the credential_process hot path: the annotations
# are strings (PEP 563), needed by type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable, Optional

__all__ = [
    "InfnMinioError", "ConfigurationError", "TokenSourceError", "TokenFileError",
    "TokenExpiredError", "StsError", "TransportError", "MissingDependencyError",
    "SandboxError", "SharedKeysExpiredError", "scrub", "install_command",
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
        self.source, self.status = source, status


class TokenFileError(TokenSourceError):
    """The OIDC token file is missing, unreadable, empty or does not hold a JWT."""

    def __init__(self, message: str, path: Optional[str] = None) -> None:
        super().__init__(message, source=path)
        self.path = path


class TokenExpiredError(TokenFileError):
    """The token file holds a JWT whose ``exp`` has passed; nothing was sent."""


class StsError(InfnMinioError):
    """The STS endpoint answered AssumeRoleWithWebIdentity with an error: ``status`` (HTTP),
    ``code`` (the server's: ``AccessDenied``, ``InvalidArgument``...), ``server_message``
    (often empty on Ceph RGW), ``request_id`` (to quote to the storage administrators)."""

    def __init__(
        self, message: str, *, status: Optional[int] = None, code: Optional[str] = None,
        server_message: Optional[str] = None, request_id: Optional[str] = None,
        endpoint: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.server_message = status, code, server_message
        self.request_id, self.endpoint = request_id, endpoint


class TransportError(InfnMinioError):
    """The STS endpoint could not be reached: DNS, connection, TLS or a timeout."""

    def __init__(self, message: str, *, endpoint: Optional[str] = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint


class MissingDependencyError(InfnMinioError, ImportError):
    """An optional library an adapter needs is not installed; the message says which extra."""

    def __init__(self, library: str, extra: str) -> None:
        super().__init__(f"{library} is not installed: {install_command(extra)}")
        self.library, self.extra = library, extra

    def __reduce__(self) -> tuple:  # pickled back from Dask workers and process pools
        return (type(self), (self.library, self.extra))


class SharedKeysExpiredError(InfnMinioError):
    """A Dask worker's keys, shared by the client, expired and no new ones came."""


class SandboxError(InfnMinioError):
    """The local sandbox could not start, is not running, or cannot run here."""


def install_command(extra: str) -> str:
    """A command that installs the ``extra`` into this environment: this interpreter's pip,
    and where the package came from, when not an index (PEP 610's ``direct_url.json``:
    a local path, an editable checkout, a VCS URL), so that it works there and with -U."""
    import json
    import shlex
    import sys
    from importlib.metadata import PackageNotFoundError, distribution

    requirement = f"infnminio-boto[{extra}]"
    try:
        direct = json.loads(distribution("infnminio-boto").read_text("direct_url.json") or "{}")
    except (PackageNotFoundError, ValueError, OSError):
        direct = {}
    url = direct.get("url") if isinstance(direct, dict) else None
    options = ""
    if isinstance(url, str):
        vcs, directory = direct.get("vcs_info"), direct.get("dir_info") or {}
        if isinstance(vcs, dict):
            revision = vcs.get("requested_revision")
            url = f"{vcs.get('vcs', 'git')}+{url}" + (f"@{revision}" if revision else "")
        if isinstance(directory, dict) and directory.get("editable") and url.startswith("file://"):
            from urllib.parse import unquote, urlsplit

            options, requirement = "-e ", f"{unquote(urlsplit(url).path)}[{extra}]"
        else:
            requirement += f" @ {url}"
    return f"{shlex.quote(sys.executable)} -m pip install {options}{shlex.quote(requirement)}"


# A JWT is three base64url segments; the first one always starts with "eyJ" ('{"').
_JWT_PATTERN = r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
# ECMA-48 sequences a terminal obeys, 7-bit (ESC ...) and 8-bit (C1): CSI; OSC, DCS, SOS,
# PM and APC strings up to BEL or ST (or the end); any other ESC sequence.
_ESCAPE_PATTERN = (
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# C0 and C1 controls, DEL, and the bidirectional overrides and isolates.
_CONTROL_PATTERN = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
_SCAN_CHARACTERS = 16 * 1024  # only the start of very long text is looked at
_FRAGMENT = 16  # a run of this many characters of a secret is masked wherever it appears
SCRUB_LIMIT = 500


def scrub(text: str, secrets: Iterable[Optional[str]] = (), limit: int = SCRUB_LIMIT) -> str:
    """Make text from elsewhere (a server's answer, a proxy's, an exception of the HTTP
    stack) safe to quote in a message, a log or an exception attribute: terminal escapes
    and control characters removed (tabs and line breaks made spaces), each given secret
    of 4+ characters masked as ``***`` (as given, URL-encoded, and any run of 16 of its
    characters), JWT-shaped text made ``<jwt>``, at most ``limit`` characters (a cut marked
    ``…``). Never raises."""
    import re  # compiled on first use: `import infnminio_boto` stays cheap

    text = str(text)[:_SCAN_CHARACTERS]
    text = re.sub(_ESCAPE_PATTERN, "", text)
    text = re.sub(_CONTROL_PATTERN, "", re.sub("[\t\n\r]", " ", text))
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = _mask(text, secret)
    text = re.sub(_JWT_PATTERN, "<jwt>", text)
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def _mask(text: str, secret: str) -> str:
    """``text`` with ``secret``, its URL-encoded forms and long pieces of them masked."""
    from itertools import groupby
    from urllib.parse import quote, quote_plus

    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    for form in forms:
        text = text.replace(form, "***")
    if len(secret) < _FRAGMENT:
        return text
    pieces = {form[i : i + _FRAGMENT] for form in forms for i in range(len(form) - _FRAGMENT + 1)}
    hidden = [False] * len(text)
    for start in range(len(text) - _FRAGMENT + 1):
        if text[start : start + _FRAGMENT] in pieces:
            hidden[start : start + _FRAGMENT] = [True] * _FRAGMENT
    runs = groupby(zip(text, hidden), key=lambda pair: pair[1])
    return "".join("***" if hide else "".join(c for c, _ in run) for hide, run in runs)
