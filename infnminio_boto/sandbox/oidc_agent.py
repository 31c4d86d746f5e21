"""A real oidc-agent holding an account on the sandbox issuer, for tests.

``with start_oidc_agent(sandbox) as agent:`` starts Debian's ``oidc-agent`` (package
``oidc-agent-cli``, 4.2.6 in Debian 12) on a private socket, creates an account on the
sandbox issuer from a fresh refresh token with ``oidc-gen`` (nothing saved to disk,
no prompt, no browser), and stops the agent by its pid at the end. Code under test
reaches it through ``agent.environment`` (``OIDC_SOCK``), as it would a user's agent:
``oidc-token --aud object ACCOUNT`` prints a token RGW accepts.

How it stays unattended and leaves nothing behind (measured with 4.2.6, see
indigo-dc/oidc-agent v4.2.6 for the options):

* the socket lives in a new 0700 folder under /tmp: a UNIX socket path must fit in
  108 bytes, which a pytest ``tmp_path`` does not;
* ``--no-autoreauthenticate``: on ``invalid_grant`` the agent reports the error instead
  of starting a device flow and unloading the account;
* ``oidc-gen --prompt none`` turns a missing option into an error (without it, a
  missing ``--scope`` re-prompts forever on a closed stdin); the refresh token comes
  from the environment (``--rt-env``) and the client secret from a 0600 file (``-f``),
  so neither is on a command line; ``--no-save`` writes no account file;
* the agent daemonizes and binds its socket after the command that started it has
  exited, so the socket is polled (with a deadline) before the account is created;
* the daemon is a child of PID 1, which on some machines (containers) never reaps it:
  a stopped agent may stay a zombie, so "stopped" means gone *or* a zombie, and live
  agents are found by the pid recorded, never by name;
* its pid is recorded in the sandbox directory, so stopping the sandbox (or its
  watchdog, when the test process dies) stops the agent too.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Type

from ..errors import SandboxError, scrub
from .ceph import SandboxStartError, SandboxUnavailableError
from .iam import AUDIENCE
from .processes import alive, pid_command_line, stop_pid

__all__ = [
    "OidcAgent",
    "OidcAgentNotInstalledError",
    "require_oidc_agent",
    "start_oidc_agent",
    "stop_agents_of",
    "INSTALL_HINT",
]

REQUIRED_PROGRAMS = ("oidc-agent", "oidc-gen", "oidc-token")
INSTALL_HINT = "sudo apt-get install --no-install-recommends -y oidc-agent-cli"
AGENTS_FOLDER = "oidc-agents"  # in the sandbox directory: one file per agent, named by pid
# A user's own agent and desktop must not be reached: no GUI prompt, no other socket.
_DROPPED_VARIABLES = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "DBUS_SESSION_BUS_ADDRESS",
    "OIDC_SOCK",
    "OIDCD_PID",
)


class OidcAgentNotInstalledError(SandboxUnavailableError):
    """oidc-agent (``oidc-agent``, ``oidc-gen``, ``oidc-token``) is not installed."""


def require_oidc_agent() -> None:
    """Raise :class:`OidcAgentNotInstalledError`, naming the install command, if missing."""
    missing = [name for name in REQUIRED_PROGRAMS if shutil.which(name) is None]
    if missing:
        raise OidcAgentNotInstalledError(
            f"{', '.join(missing)} not found on PATH: install oidc-agent ({INSTALL_HINT}; "
            "in a checkout, 'make system' does it)."
        )


class OidcAgent:
    """A running oidc-agent with ``account`` loaded from the sandbox issuer.

    ``environment`` is what a process needs to reach it (``OIDC_SOCK``); ``issuer``
    is the sandbox issuer's URL; ``pid`` the agent daemon's. Stop it with :meth:`stop`
    (or use it as a context manager).
    """

    def __init__(
        self, account: str, socket_path: str, pid: int, issuer: str, home: Path, record: Path
    ) -> None:
        self.account = account
        self.socket = socket_path
        self.pid = pid
        self.issuer = issuer
        self._home = home  # the private folder holding the socket and the agent's config
        self._record = record  # its pid, in the sandbox directory

    @property
    def environment(self) -> Dict[str, str]:
        """The variables that point oidc-token, liboidcagent and the like at this agent."""
        return {"OIDC_SOCK": self.socket}

    def token(self, audience: Optional[str] = AUDIENCE, timeout: float = 30) -> str:
        """``oidc-token --aud AUDIENCE ACCOUNT``: a fresh access token from the issuer.

        Raises :class:`~infnminio_boto.errors.SandboxError` with oidc-token's message.
        """
        command = ["oidc-token", *(["--aud", audience] if audience else []), self.account]
        done = _run(command, self._environment(), timeout, "oidc-token", failure=SandboxError)
        return done.stdout.strip()

    def _environment(self) -> Dict[str, str]:
        return _agent_environment(self._home, self.environment)

    def stop(self) -> None:
        """Stop the agent (by its pid, SIGTERM then SIGKILL) and remove its folder."""
        _stop(self.pid, str(self._home))
        shutil.rmtree(self._home, ignore_errors=True)
        self._record.unlink(missing_ok=True)

    def __enter__(self) -> OidcAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"OidcAgent(account={self.account!r}, socket={self.socket!r}, pid={self.pid})"


def start_oidc_agent(
    sandbox: Any,
    account: str = "sandbox",
    *,
    refresh_token: Optional[str] = None,
    timeout: float = 30,
) -> OidcAgent:
    """Start oidc-agent and create ``account`` on ``sandbox``'s issuer.

    ``sandbox`` is a running :class:`~infnminio_boto.sandbox.Sandbox`; the account
    uses ``refresh_token`` (default: a new one from :meth:`Sandbox.refresh_token`).
    Every step waits at most ``timeout`` seconds. Raises
    :class:`OidcAgentNotInstalledError` when oidc-agent is missing and
    :class:`~infnminio_boto.sandbox.SandboxStartError` (with the tool's message) when
    a step fails; nothing is left running then.
    """
    require_oidc_agent()
    client = sandbox.oidc_client
    refresh_token = refresh_token or sandbox.refresh_token()
    # Short and private (mkdtemp makes it 0700): the socket path must fit in 108 bytes.
    home = Path(tempfile.mkdtemp(prefix="imb-oa-", dir="/tmp"))
    (home / "config").mkdir(mode=0o700)
    socket_path = str(home / "agent.sock")
    env = _agent_environment(home, {})
    pid = 0
    record: Optional[Path] = None
    try:
        started = _run(
            ["oidc-agent", f"--socket-path={socket_path}", "--json", "--no-autoreauthenticate"],
            env,
            timeout,
            "oidc-agent",
        )
        try:
            pid = int(json.loads(started.stdout)["dpid"])  # a string in 4.2.6
        except (ValueError, KeyError, TypeError):
            raise SandboxStartError(
                f"oidc-agent printed no pid (expected JSON with 'dpid'): {started.stdout!r}"
            ) from None
        record = _record(sandbox.directory, pid, home)
        _wait_for_socket(socket_path, pid, timeout)

        client_file = home / "client.json"
        fd = os.open(client_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(
                {
                    "issuer_url": sandbox.issuer_url,
                    "client_id": client.client_id,
                    "client_secret": client.client_secret,
                    "scope": "openid offline_access",
                },
                handle,
            )
        generated = _run(
            [
                "oidc-gen",
                f"--file={client_file}",  # the client secret stays off the command line
                "--rt-env",  # the refresh token too: OIDC_REFRESH_TOKEN
                "--prompt=none",
                "--no-save",
                account,
            ],
            dict(env, OIDC_SOCK=socket_path, OIDC_REFRESH_TOKEN=refresh_token),
            timeout,
            "oidc-gen",
            secrets=(refresh_token, client.client_secret),
        )
        client_file.unlink()
        if "success" not in generated.stdout:
            raise SandboxStartError(
                f"oidc-gen did not create the account {account!r} on {sandbox.issuer_url}: "
                + scrub(generated.stdout.strip(), (refresh_token, client.client_secret))
            )
        return OidcAgent(account, socket_path, pid, sandbox.issuer_url, home, record)
    except BaseException:
        if pid:
            _stop(pid, str(home))
        if record is not None:
            record.unlink(missing_ok=True)
        shutil.rmtree(home, ignore_errors=True)
        raise


def stop_agents_of(directory: Path) -> None:
    """Stop every agent :func:`start_oidc_agent` started for the sandbox in ``directory``."""
    folder = Path(directory) / AGENTS_FOLDER
    for record in folder.glob("*") if folder.is_dir() else []:
        try:
            pid, home = int(record.name), record.read_text().strip()
        except (OSError, ValueError):
            continue
        if home.startswith("/tmp/imb-oa-"):  # noqa: S108  # only a folder we made
            _stop(pid, home)
            shutil.rmtree(home, ignore_errors=True)
        record.unlink(missing_ok=True)


def _agent_environment(home: Path, extra: Dict[str, str]) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_VARIABLES}
    # oidc-gen and the agent look for their configuration in OIDC_CONFIG_DIR (if it
    # exists), then under HOME: both point into the private folder.
    env.update(HOME=str(home), OIDC_CONFIG_DIR=str(home / "config"))
    env.update(extra)
    return env


def _run(
    command: List[str],
    env: Dict[str, str],
    timeout: float,
    what: str,
    secrets: Any = (),
    failure: Type[SandboxError] = SandboxStartError,
) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(
            command,
            env=env,
            stdin=subprocess.DEVNULL,  # a prompt must fail, not wait
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise failure(f"{what} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        detail = scrub((done.stderr or done.stdout).strip(), secrets)
        raise failure(f"{what} failed (exit {done.returncode}): {detail}")
    return done


def _wait_for_socket(path: str, pid: int, timeout: float) -> None:
    """Wait until the agent answers a ``loaded_accounts`` request on its socket."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            raise SandboxStartError(f"oidc-agent (pid {pid}) exited before opening {path}")
        try:
            if _request(path, {"request": "loaded_accounts"}).get("status") == "success":
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise SandboxStartError(f"oidc-agent did not answer on {path} within {timeout:.0f} s")


def _request(path: str, message: Dict[str, Any], timeout: float = 1.0) -> Dict[str, Any]:
    """One plain-JSON request on the agent's socket (its documented IPC API)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        connection.connect(path)
        connection.sendall(json.dumps(message).encode())
        received = b""
        while True:  # one JSON object comes back; read until it parses
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
            try:
                return json.loads(received)
            except ValueError:
                continue
        return json.loads(received)


def _record(directory: Path, pid: int, home: Path) -> Path:
    folder = Path(directory) / AGENTS_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    record = folder / str(pid)
    record.write_text(str(home))
    return record


def _stop(pid: int, home: str) -> None:
    # Only the agent we started: its command line names its private folder. A zombie
    # (not reaped by PID 1) has no command line and counts as stopped.
    if alive(pid) and home in pid_command_line(pid):
        stop_pid(pid, timeout=10)
