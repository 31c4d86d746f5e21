"""A real forwarding proxy on 127.0.0.1 for the tests: Debian's tinyproxy.

It forwards plain http requests (absolute-form ``POST http://host/``) and tunnels https
with CONNECT, as the institutional proxies of batch and HPC sites do. Its log records
every request line it receives, so a test can tell what went through it.
``scripts/install-system-packages.sh proxy`` installs it (``make test`` runs it); when CI is set a
missing tinyproxy fails the tests that need it instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

CONFIG = """\
Port {port}
Listen 127.0.0.1
Timeout 30
MaxClients 32
Allow 127.0.0.1
DisableViaHeader Yes
LogFile "{log}"
LogLevel Connect
"""
# No ConnectPort line: tinyproxy then allows CONNECT to any port (the tests' servers
# listen on random ones).


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tinyproxy_binary() -> str:
    """The tinyproxy program; the test fails under CI without it, else skips."""
    found = shutil.which("tinyproxy") or (
        "/usr/bin/tinyproxy" if os.access("/usr/bin/tinyproxy", os.X_OK) else None
    )
    if found:
        return found
    message = "tinyproxy is not installed (sh scripts/install-system-packages.sh proxy installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
    raise AssertionError("unreachable")  # pragma: no cover


class Tinyproxy:
    """``with Tinyproxy(directory) as proxy:``; ``proxy.url``, ``proxy.requests()``."""

    def __init__(self, directory: Path, basic_auth: Optional[Tuple[str, str]] = None) -> None:
        """``basic_auth`` = (user, password): the proxy asks for them (407 otherwise)."""
        self.directory = directory
        self.basic_auth = basic_auth
        self.log = directory / "tinyproxy.log"
        self.port = 0
        self._process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> List[str]:
        """The request lines the proxy received (``CONNECT host:port HTTP/1.1``...)."""
        if not self.log.exists():
            return []
        marker = "Request (file descriptor"
        lines = self.log.read_text(errors="replace").splitlines()
        return [line.split("): ", 1)[1] for line in lines if marker in line and "): " in line]

    def __enter__(self) -> Tinyproxy:
        binary = tinyproxy_binary()
        for _ in range(5):  # a port taken between the probe and the start: another one
            self.port = _free_port()
            config = self.directory / "tinyproxy.conf"
            text = CONFIG.format(port=self.port, log=self.log)
            if self.basic_auth:
                text += "BasicAuth {} {}\n".format(*self.basic_auth)
            config.write_text(text)
            self._process = subprocess.Popen(
                [binary, "-d", "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self._process.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return self
                except OSError:
                    time.sleep(0.05)
            self._stop()
        raise RuntimeError(f"tinyproxy did not start; its log: {self.log}")

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        self._process = None
