"""The sandbox's background process: the OIDC issuer plus an sts-wire stand-in.

It serves discovery and JWKS (RGW fetches them on every exchange, so the issuer must
outlive the command that started the sandbox) and rewrites the token file in place
every few minutes with a fresh token, as sts-wire does.

Usage: python -m infnminio_boto.sandbox.agent DIRECTORY PORT INTERVAL LIFETIME
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

from . import STATE_FILE, write_in_place
from .issuer import IssuerServer, SigningKey, mint_token


def main(argv: list) -> int:
    directory, port, interval, lifetime = Path(argv[0]), int(argv[1]), float(argv[2]), int(argv[3])
    key = SigningKey.load(directory)
    server = IssuerServer(key, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    while not stop.wait(interval):
        try:
            state = json.loads((directory / STATE_FILE).read_text())
        except (OSError, ValueError):
            continue
        token = mint_token(
            key, server.url, subject=state.get("subject", "sandbox-user"), lifetime=lifetime
        )
        write_in_place(str(directory / "token"), token + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
