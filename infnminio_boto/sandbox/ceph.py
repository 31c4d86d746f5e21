"""A throwaway single-node Ceph cluster with radosgw and STS, on 127.0.0.1.

One monitor, one OSD on memstore (RAM only), no manager, no authentication between the
daemons, pools of size 1, and radosgw with the beast frontend. Everything lives under
one short directory (admin socket paths are limited to 107 characters); every wait has a
timeout, and daemons are stopped by their pid files.

What was learned the hard way: radosgw hangs at start with ``auth none`` unless the
monitor client mode is ``crc``; the OSD's own crush update sends a zero fsid to a
monitor without auth, so the OSD is placed by hand; the STS key is exactly 16
characters.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from ..errors import SandboxError
from .ceph_config import render_config
from .processes import alive, environment_for_programs, free_port, pid_command_line, stop_pid
from .tls import TlsFiles

__all__ = [
    "CephCluster",
    "CephNotInstalledError",
    "SandboxStartError",
    "SandboxUnavailableError",
    "require_ceph",
    "free_port",
    "REQUIRED_PROGRAMS",
    "INSTALL_HINT",
]

REQUIRED_PROGRAMS = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "monmaptool")
INSTALL_HINT = (
    "sudo apt-get install --no-install-recommends -y radosgw ceph-mon ceph-osd ceph-common"
)
RGW_NAME = "client.rgw.sandbox"


class SandboxStartError(SandboxError, RuntimeError):
    """The sandbox could not start; the message says which step and where the logs are."""


class SandboxUnavailableError(SandboxStartError):
    """Something the sandbox needs is not installed; the message says how to install it."""


class CephNotInstalledError(SandboxUnavailableError):
    """A Ceph program the sandbox runs is missing."""


def missing_programs() -> List[str]:
    return [name for name in REQUIRED_PROGRAMS if shutil.which(name) is None]


def require_ceph() -> None:
    """Raise :class:`CephNotInstalledError`, saying how to install it, if Ceph is missing."""
    missing = missing_programs()
    if missing:
        raise CephNotInstalledError(
            f"Ceph is not installed (missing {', '.join(missing)}). Install it with:\n"
            f"  {INSTALL_HINT}\n(or run `make ceph` in the infnminio-boto checkout)."
        )


class CephCluster:
    """The cluster's files live in ``root``; ``start()`` brings up mon, osd and rgw."""

    def __init__(
        self,
        root: Path,
        *,
        rgw_port: Optional[int] = None,
        sts_key: Optional[str] = None,
        tls: Optional[TlsFiles] = None,
    ) -> None:
        self.root = Path(root)
        self.tls = tls
        self.conf = self.root / "ceph.conf"
        self.mon_port = free_port()
        self.rgw_port = rgw_port or free_port()
        self.sts_key = sts_key or secrets.token_hex(8)  # exactly 16 characters
        self.fsid = str(uuid.uuid4())

    # ------------------------------------------------------------------ helpers
    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    @property
    def endpoint(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.rgw_port}"

    def pid_files(self) -> List[Path]:
        return sorted(self.run_dir.glob("*.pid")) if self.run_dir.exists() else []

    def _run(self, args: Sequence[str], what: str, timeout: float = 60) -> str:
        try:
            done = subprocess.run(
                list(args),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
                env=environment_for_programs(),
            )
        except subprocess.TimeoutExpired:
            raise SandboxStartError(
                f"{what} did not finish within {timeout:.0f} s (logs in {self.log_dir})"
            ) from None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise SandboxStartError(
                f"{what} failed (exit {done.returncode}): {' / '.join(detail)} "
                f"(logs in {self.log_dir})"
            )
        return done.stdout

    def ceph(self, *args: str, timeout: float = 30, attempts: int = 5) -> str:
        """Run a ceph command, retried: without auth the client can send a command
        before it has the monitor map (a zero fsid), which the monitor refuses with
        EPERM. Every command used here is idempotent."""
        for attempt in range(1, attempts + 1):
            try:
                return self._run(
                    ["ceph", "-c", str(self.conf), "--connect-timeout", "20", *args],
                    f"ceph {' '.join(args)}",
                    timeout=timeout,
                )
            except SandboxStartError:
                if attempt == attempts:
                    raise
                time.sleep(0.5 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def radosgw_admin(self, *args: str) -> str:
        return self._run(
            ["radosgw-admin", "-c", str(self.conf), *args], f"radosgw-admin {args[0]} {args[1]}"
        )

    # -------------------------------------------------------------------- setup
    def write_config(self) -> None:
        for sub in ("run", "log", "mon", "osd", "rgw"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            render_config(
                root=self.root,
                fsid=self.fsid,
                mon_port=self.mon_port,
                frontend=self._frontend(),
                sts_key=self.sts_key,
                rgw_name=RGW_NAME,
            )
        )

    def _frontend(self) -> str:
        if self.tls is None:
            return f"beast endpoint=127.0.0.1:{self.rgw_port}"
        return (
            f"beast ssl_endpoint=127.0.0.1:{self.rgw_port} "
            f"ssl_certificate={self.tls.certificate} ssl_private_key={self.tls.private_key}"
        )

    def start(self, timeout: float = 120) -> None:
        require_ceph()
        deadline = time.monotonic() + timeout
        self.write_config()
        conf = str(self.conf)
        self._run(
            [
                "ceph-authtool",
                "--create-keyring",
                str(self.root / "keyring"),
                "--gen-key",
                "-n",
                "mon.",
            ],
            "creating the keyring",
        )
        monmap = str(self.root / "monmap")
        self._run(
            [
                "monmaptool",
                "--create",
                "--clobber",
                "--fsid",
                self.fsid,
                "--addv",
                "a",
                f"[v1:127.0.0.1:{self.mon_port}]",
                monmap,
            ],
            "monmaptool",
        )
        self._run(
            ["ceph-mon", "-c", conf, "--mkfs", "-i", "a", "--monmap", monmap], "ceph-mon --mkfs"
        )
        self._run(["ceph-mon", "-c", conf, "-i", "a"], "starting ceph-mon")
        self._wait(
            lambda: self._quiet_ok(["ceph", "-c", conf, "--connect-timeout", "5", "mon", "stat"]),
            deadline,
            "the monitor",
        )
        osd_uuid = str(uuid.uuid4())
        osd_id = self.ceph("osd", "new", osd_uuid).strip()
        (self.root / "osd" / osd_id).mkdir(parents=True, exist_ok=True)
        self.ceph("osd", "crush", "add", f"osd.{osd_id}", "1.0", "root=default", "host=sandbox")
        self._run(
            ["ceph-osd", "-c", conf, "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid],
            "ceph-osd --mkfs",
        )
        self._run(["ceph-osd", "-c", conf, "-i", osd_id], "starting ceph-osd")
        self._wait(self._osd_up, deadline, "the OSD")
        self._run(["radosgw", "-c", conf, "-n", RGW_NAME], "starting radosgw")
        self._wait(self._rgw_answers, deadline, "radosgw")

    def _quiet_ok(self, args: Sequence[str]) -> bool:
        try:
            return (
                subprocess.run(
                    list(args),
                    capture_output=True,
                    timeout=15,
                    stdin=subprocess.DEVNULL,
                    env=environment_for_programs(),
                ).returncode
                == 0
            )
        except subprocess.TimeoutExpired:
            return False

    def _osd_up(self) -> bool:
        try:
            status = self.ceph("osd", "stat", "-f", "json", attempts=1)
            return '"num_up_osds":1' in status.replace(" ", "")
        except SandboxStartError:
            return False

    def _rgw_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.rgw_port), timeout=1) as raw:
                conn = raw
                if self.tls is not None:
                    context = ssl.create_default_context(cafile=str(self.tls.ca))
                    conn = context.wrap_socket(raw, server_hostname="127.0.0.1")
                conn.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return conn.recv(12).startswith(b"HTTP/1.")
        except OSError:  # ssl.SSLError included
            return False

    def _wait(self, check, deadline: float, what: str) -> None:
        while time.monotonic() < deadline:
            if check():
                return
            for pid in self.dead_daemons():
                raise SandboxStartError(
                    f"{what} did not come up: a daemon ({pid}) exited; see {self.log_dir}"
                )
            time.sleep(0.25)
        raise SandboxStartError(f"{what} did not come up in time; see the logs in {self.log_dir}")

    def count_sts_requests(self) -> int:
        """``POST /`` requests in radosgw's access log not made by the sandbox
        administrator (whose IAM calls also go to ``/``): the STS exchanges so far."""
        try:
            text = (self.log_dir / f"{RGW_NAME}.log").read_text(errors="replace")
        except OSError:
            return 0
        return sum(
            1
            for line in text.splitlines()
            if '"POST / HTTP/1.1"' in line and " - sandbox-admin [" not in line
        )

    def dead_daemons(self) -> List[str]:
        dead = []
        for pid_file in self.pid_files():
            try:
                pid = int(pid_file.read_text().strip())
            except (OSError, ValueError):
                continue
            if not alive(pid):
                dead.append(pid_file.stem)
        return dead

    def daemon_pids(self) -> Dict[str, int]:
        pids = {}
        for pid_file in self.pid_files():
            try:
                pids[pid_file.stem] = int(pid_file.read_text().strip())
            except (OSError, ValueError):
                continue
        return pids

    def stop(self) -> None:
        """Stop radosgw first, then the OSD, then the monitor."""
        order = sorted(
            self.daemon_pids().items(),
            key=lambda item: ("rgw" not in item[0], "osd" not in item[0]),
        )
        for _name, pid in order:
            if str(self.root) in pid_command_line(pid) or not alive(pid):
                stop_pid(pid)
