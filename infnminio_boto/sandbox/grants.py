"""The sandbox issuer's registered OIDC client and the refresh tokens it has handed out.

The issuer runs in the sandbox's background agent, a separate process, while refresh
tokens are minted by whoever holds the :class:`~infnminio_boto.sandbox.Sandbox` (a test,
a fixture): so the grants live in the sandbox directory, one file per token in a 0700
folder, named after the token's SHA-256 and holding only the subject and scope. The
token itself is never written anywhere. Tokens are URL-safe base64 (``[A-Za-z0-9_-]``):
oidc-agent 4.2.6 sends form values without URL-encoding them (``generatePostDataFromList``
in its source), so a ``+``, ``&`` or ``=`` in a token would reach the issuer mangled.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any, Dict, NamedTuple, Optional

__all__ = ["CLIENT_ID", "DEFAULT_SCOPE", "OidcClient", "Grant", "RefreshTokens"]

# Also the ``client_id`` claim of every token the sandbox mints.
CLIENT_ID = "infnminio-boto-sandbox"
DEFAULT_SCOPE = "openid profile offline_access"
GRANTS_FOLDER = "refresh-tokens"


class OidcClient(NamedTuple):
    """The confidential client registered at the sandbox issuer (client_secret_basic)."""

    client_id: str
    client_secret: str

    @classmethod
    def new(cls) -> OidcClient:
        return cls(CLIENT_ID, secrets.token_urlsafe(24))

    @classmethod
    def from_state(cls, state: Dict[str, Any]) -> Optional[OidcClient]:
        """The client saved in the sandbox state (None for a sandbox without one)."""
        secret = state.get("oidc_client_secret")
        return cls(state.get("oidc_client_id", CLIENT_ID), secret) if secret else None

    def __repr__(self) -> str:
        return f"OidcClient(client_id={self.client_id!r}, client_secret='***')"


class Grant(NamedTuple):
    """What a refresh token stands for."""

    subject: str
    scope: str


class RefreshTokens:
    """Refresh tokens issued for the sandbox's client, stored under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.folder = Path(directory) / GRANTS_FOLDER

    def _path(self, token: str) -> Path:
        return self.folder / hashlib.sha256(token.encode()).hexdigest()

    def issue(self, subject: str, scope: str = DEFAULT_SCOPE) -> str:
        """A new refresh token for ``subject`` with ``scope`` (space-separated)."""
        token = secrets.token_urlsafe(32)
        self.folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(self._path(token), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"subject": subject, "scope": scope}, handle)
        return token

    def lookup(self, token: str) -> Optional[Grant]:
        """The grant of ``token``, or None when it was never issued or was revoked."""
        try:
            record = json.loads(self._path(token).read_text())
            return Grant(str(record["subject"]), str(record["scope"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def revoke(self, token: str) -> None:
        """Forget ``token``: the issuer answers ``invalid_grant`` for it from now on."""
        try:
            self._path(token).unlink()
        except FileNotFoundError:
            pass
