"""Token file in, temporary credentials out: the one path every entry point takes."""

from __future__ import annotations

from .settings import Settings
from .sts import exchange
from .temporary_credentials import TemporaryCredentials
from .token import read_token

__all__ = ["fetch_credentials"]


def fetch_credentials(settings: Settings) -> TemporaryCredentials:
    """Read the token file afresh and exchange it at the configured STS."""
    token = read_token(settings.token_files, configured=settings.token_file_configured)
    return exchange(settings, token)
