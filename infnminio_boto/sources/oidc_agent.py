"""A token from oidc-agent, the laptop setup of INFN's object-storage guide: asked through
its ``oidc-token`` once per exchange, with the audience the store needs and a validity
that covers the exchange; an unreachable agent or a wrong audience is explained
(docs/tokens.md, "oidc-agent").
"""

from __future__ import annotations

import os
import shutil
import socket
from typing import Any, Mapping, Optional

from .._log import warn_once
from ..errors import TokenSourceError
from .command import CommandSource, budget
from .discovery import source_identity
from .oidc_token import OidcToken

__all__ = ["OidcAgentSource", "OIDC_TOKEN_PROGRAM"]

OIDC_TOKEN_PROGRAM = "oidc-token"  # noqa: S105 - a program's name, not a password
# Validity asked of the agent: enough for the exchange's attempts and the STS's clock check.
MIN_VALID_SECONDS = 120


class OidcAgentSource(CommandSource):
    """The token the user's oidc-agent gives for ``account``."""

    kind = "oidc-agent"

    def __init__(self, account: str, *, audience: Optional[str] = None,
                 min_valid: int = MIN_VALID_SECONDS, timeout: float = 30.0, why: str = "") -> None:
        aud = ["--aud", audience] if audience else []
        super().__init__(
            [OIDC_TOKEN_PROGRAM, "--time", str(int(min_valid)), *aud, account], timeout=timeout,
            why=why, label=f"oidc-token for oidc-agent's account {account!r}",
            hint=f"Check it with `oidc-token {account}`; load it with `oidc-add {account}`, "
            "or create it with oidc-gen.",
        )
        self.account = account
        self.audience = audience

    @classmethod
    def make(cls, value: Any, *, settings: Any, why: str, **_: Any) -> OidcAgentSource:
        return cls(str(value), audience=settings.audience, timeout=budget(settings), why=why)

    def identity(self) -> str:
        return f"{self.kind}:{source_identity(self.kind, self.account, os.environ)}"

    def read(self) -> OidcToken:
        """Ask the agent; :class:`TokenSourceError` when it cannot be reached or refuses."""
        if shutil.which(OIDC_TOKEN_PROGRAM) is None:
            raise TokenSourceError(
                f"oidc-agent's {OIDC_TOKEN_PROGRAM} program was not found on PATH: install "
                "oidc-agent (Debian and Ubuntu: apt install oidc-agent-cli; macOS: brew "
                "install oidc-agent).",
                source=self.describe(),
            )
        try:
            token = super().read()  # oidc-agent 5.2+ finds its service's socket by itself
        except TokenSourceError as error:
            unreachable = agent_unreachable(os.environ, self.account)
            if unreachable is None:
                raise
            raise TokenSourceError(
                f"{error} {unreachable}", source=error.source, status=error.status
            ) from None
        if self.audience and self.audience not in token.audience:
            said = self.missing_audience(token, self.audience)
            warn_once((self.account, self.audience), __name__, "%s", said)
        return token

    @staticmethod
    def missing_audience(token: OidcToken, asked: str) -> str:
        """Words for an agent's token without the audience asked for (also
        :func:`~infnminio_boto.sts.explain.explain`'s; indigo-dc/oidc-agent#569)."""
        has = ", ".join(token.audience) or "none"
        return (
            f"oidc-agent was asked for a token with audience {asked!r} (--aud {asked}) and "
            f"gave one with audience {has}: the store will refuse it. oidc-agent 5 asks with "
            "the resource parameter, which INDIGO IAM ignores unless the issuer is in legacy "
            'audience mode: add "legacy_aud_mode": true to that issuer in oidc-agent\'s '
            "issuer.config and restart the agent, or re-create the account with "
            f"`oidc-gen --aud {asked}` (indigo-dc/oidc-agent#569)."
        )


def agent_unreachable(environ: Mapping[str, str], account: str) -> Optional[str]:
    """Why no oidc-agent answers here (None: one listens, the failure is another)."""
    restart = (
        "Start it (eval `oidc-agent-service use`), in this environment too (a notebook's "
        f"kernel: set OIDC_SOCK there), and load the account: `oidc-add {account}`."
    )
    named = environ.get("OIDC_SOCK")
    if named:
        if not os.path.exists(named):
            return (
                f"OIDC_SOCK names {named}, which does not exist: the agent that made it has "
                f"stopped (restarted, or a new login). {restart}"
            )
        return None if _listens(named) else f"Nothing listens on {named} (OIDC_SOCK). {restart}"
    folder = environ.get("TMPDIR") or "/tmp"  # noqa: S108 - oidc-agent-service's rule
    default = os.path.join(folder, f"oidc-agent-service-{os.getuid()}", "oidc-agent.sock")
    return None if _listens(default) else (
        f"OIDC_SOCK is not set here and no agent listens on oidc-agent-service's socket "
        f"{default}, where oidc-agent 5.2 and later look (older ones need OIDC_SOCK). "
        + restart
    )


def _listens(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True
