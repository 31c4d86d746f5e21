"""The sandbox's background process: the OIDC issuer plus an sts-wire stand-in.

It serves discovery and JWKS (RGW fetches them on every exchange, so the issuer must
outlive the command that started the sandbox) and the token endpoint oidc-agent uses,
and rewrites the token file in place every few minutes with a fresh token, as sts-wire
does.

With an OWNER_PID other than 0 it is also a watchdog: when that process dies without
stopping the sandbox (a test run killed mid-way), it stops the daemons and removes the
directory, so nothing is left running.

Usage: python -m infnminio_boto.sandbox.agent DIRECTORY PORT INTERVAL LIFETIME OWNER_PID.
:func:`launch_agent` starts it isolated (:func:`infnminio_boto.keys.fastpath.isolated`):
neither the working directory nor ``PYTHONPATH`` comes on ``sys.path`` (the user's
site-packages do, where ``pip install --user`` puts the package), so the agent imports
the installed package and the standard library, never a ``json.py`` or
``infnminio_boto/`` of the caller's directory; and waits until the issuer answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from ..errors import SandboxError
from .files import STATE_FILE, load_state, write_in_place
from .processes import alive


def launch_agent(
    directory: Path, issuer_port: int, *, interval: float, lifetime: int, owner_pid: int
) -> int:
    """Start the agent in the background, wait until its issuer answers; its pid."""
    from ..keys.fastpath import isolated
    from .ceph import SandboxStartError

    arguments = [str(directory), str(issuer_port), str(interval), str(lifetime), str(owner_pid)]
    command, environment = isolated(sys.executable, __name__, arguments, os.environ)
    with open(directory / "agent.log", "ab") as log:
        process = subprocess.Popen(  # see the module's docstring: isolated
            command,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    deadline = time.monotonic() + 15
    url = f"http://127.0.0.1:{issuer_port}/.well-known/openid-configuration"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            try:
                log_tail = (directory / "agent.log").read_text()[-1500:]
            except OSError:
                log_tail = ""
            raise SandboxStartError(f"The sandbox OIDC issuer exited at start:\n{log_tail}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return process.pid
        except OSError:
            time.sleep(0.1)
    raise SandboxError(f"The sandbox OIDC issuer did not answer on {url} in time")


def main(argv: list) -> int:
    from .cleanup import stop_sandbox_in
    from .grants import OidcClient, RefreshTokens
    from .issuer import IssuerServer, SigningKey, mint_token

    directory, port = Path(argv[0]), int(argv[1])
    interval, lifetime, owner = float(argv[2]), int(argv[3]), int(argv[4])
    key = SigningKey.load(directory)
    # The state is saved, the client in it, before the agent starts (Sandbox._start).
    client = OidcClient.from_state(load_state(directory))
    server = IssuerServer(
        key, port, client=client, grants=RefreshTokens(directory), lifetime=lifetime
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    next_rewrite = time.monotonic() + interval
    while True:
        time.sleep(1.0)
        if owner and not alive(owner):
            if directory.exists():
                stop_sandbox_in(directory)
            return 0
        if not directory.exists():
            return 0  # stopped by someone else
        if time.monotonic() < next_rewrite:
            continue
        next_rewrite = time.monotonic() + interval
        try:
            state = json.loads((directory / STATE_FILE).read_text())
        except (OSError, ValueError):
            continue
        token = mint_token(
            key, server.url, subject=state.get("subject", "sandbox-user"), lifetime=lifetime
        )
        write_in_place(str(directory / "token"), token + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
