"""The sandbox's background process: the OIDC issuer plus an sts-wire stand-in.

It serves discovery and JWKS (RGW fetches them on every exchange, so the issuer must
outlive the command that started the sandbox) and rewrites the token file in place
every few minutes with a fresh token, as sts-wire does.

With an OWNER_PID other than 0 it is also a watchdog: when that process dies without
stopping the sandbox (a test run killed mid-way), it stops the daemons and removes the
directory, so nothing is left running.

Usage: python -m infnminio_boto.sandbox.agent DIRECTORY PORT INTERVAL LIFETIME OWNER_PID
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from . import STATE_FILE, Sandbox, write_in_place
from .ceph import _alive
from .issuer import IssuerServer, SigningKey, mint_token


def main(argv: list) -> int:
    directory, port = Path(argv[0]), int(argv[1])
    interval, lifetime, owner = float(argv[2]), int(argv[3]), int(argv[4])
    key = SigningKey.load(directory)
    server = IssuerServer(key, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    next_rewrite = time.monotonic() + interval
    while True:
        time.sleep(1.0)
        if owner and not _alive(owner):
            if directory.exists():
                Sandbox.cleanup_leftovers(directory)
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
