"""A token from oidc-agent, the laptop setup of INFN's object-storage guide.

The agent keeps the refresh token and is the one refresher; asking it for an access
token does not start a second refresh chain. The token is asked through the agent's own
client, ``oidc-token`` (Debian's ``oidc-agent-cli``), once per exchange: with the
audience the endpoint's preset needs (INFN's Ceph RGW: ``object``) and a minimum
validity that covers the exchange. Measured with Debian's oidc-agent 4.2.6: with
``--aud`` the agent refreshes on every request; ``expires_at`` in its answer is not the
returned token's (``exp`` is read from the JWT instead).
"""

from __future__ import annotations

import os
import shutil
from typing import Optional

from ..errors import TokenSourceError
from .command import CommandSource
from .discovery import source_identity
from .oidc_token import OidcToken

__all__ = ["OidcAgentSource", "OIDC_TOKEN_PROGRAM"]

OIDC_TOKEN_PROGRAM = "oidc-token"  # noqa: S105 - a program's name, not a password
# The agent hands out tokens valid at least this long: enough for the exchange's
# attempts and the STS's own clock check.
MIN_VALID_SECONDS = 120


class OidcAgentSource(CommandSource):
    """The token the running oidc-agent (``OIDC_SOCK``) gives for ``account``."""

    kind = "oidc-agent"

    def __init__(
        self,
        account: str,
        *,
        audience: Optional[str] = None,
        min_valid: int = MIN_VALID_SECONDS,
        timeout: float = 30.0,
        why: str = "",
    ) -> None:
        argv = [OIDC_TOKEN_PROGRAM, "--time", str(int(min_valid))]
        if audience:
            argv += ["--aud", audience]
        super().__init__(
            [*argv, account],
            timeout=timeout,
            why=why,
            label=f"oidc-agent's account {account!r}",
            hint=(
                f"Check it with `oidc-token {account}`; load it with `oidc-add {account}`, "
                "or create it with oidc-gen."
            ),
        )
        self.account = account
        self.audience = audience

    def identity(self) -> str:
        return f"oidc-agent:{source_identity(self.kind, self.account, os.environ)}"

    def read(self) -> OidcToken:
        """Ask the agent; :class:`TokenSourceError` when there is no agent or it refuses."""
        if not os.environ.get("OIDC_SOCK"):
            raise TokenSourceError(
                "No oidc-agent is reachable: OIDC_SOCK is not set in this environment. Start "
                "the agent (eval `oidc-agent-service use`, or eval `oidc-agent`) and load the "
                f"account with `oidc-add {self.account}`.",
                source=self.describe(),
            )
        if shutil.which(OIDC_TOKEN_PROGRAM) is None:
            raise TokenSourceError(
                f"oidc-agent's {OIDC_TOKEN_PROGRAM} program was not found on PATH: install "
                "oidc-agent (Debian and Ubuntu: apt install oidc-agent-cli; macOS: brew "
                "install oidc-agent).",
                source=self.describe(),
            )
        return super().read()
