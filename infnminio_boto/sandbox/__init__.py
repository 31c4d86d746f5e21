"""A local sandbox: an OIDC issuer and a real Ceph RGW with STS, on 127.0.0.1.

``with Sandbox() as sandbox:`` starts a single-node Ceph cluster, radosgw with STS and
IAM, and an OIDC issuer; registers the issuer as OIDC provider with an ``IAMaccess``
role like INFN's; and keeps a token file that a background agent rewrites in place, as
sts-wire does. ``sandbox.settings()`` gives the keywords for
``infnminio_boto.session(**...)`` and ``sandbox.environment()`` the ``INFNMINIO_*``
variables. The same sandbox is available as pytest fixtures (see ``pytest_plugin``) and
from the command line (``infnminio-boto sandbox start|status|stop|token``).

Needs the ``sandbox`` extra (PyJWT, cryptography) and Ceph (Debian: radosgw, ceph-mon,
ceph-osd, ceph-common).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Union

from .ceph import (
    INSTALL_HINT,
    CephCluster,
    CephNotInstalledError,
    SandboxStartError,
    _alive,
    free_port,
    pid_command_line,
    stop_pid,
)

__all__ = [
    "Sandbox",
    "SandboxStartError",
    "CephNotInstalledError",
    "INSTALL_HINT",
    "default_directory",
]

ROLE_NAME = "IAMaccess"
ROLE_ARN = f"arn:aws:iam:::role/{ROLE_NAME}"
AUDIENCE = "object"
REGION = "us-east-1"
STATE_FILE = "sandbox.json"


def default_directory() -> Path:
    """Where ``infnminio-boto sandbox start`` puts its sandbox: short, one per user."""
    # /tmp keeps admin socket paths under 107 characters; start() checks ownership.
    fallback = f"/tmp/infnminio-sandbox-{os.getuid()}"  # noqa: S108
    return Path(os.environ.get("INFNMINIO_SANDBOX_DIR") or fallback)


def _compact(document: Dict[str, Any]) -> str:
    # RGW 16 does not decode '+' in IAM form bodies: no spaces in policy documents.
    return json.dumps(document, separators=(",", ":"))


class Sandbox:
    """A running (or startable) sandbox rooted in ``directory``.

    ``token_lifetime`` is the lifetime of the tokens the agent writes, which it rewrites
    every ``token_refresh_interval`` seconds, like sts-wire.
    """

    def __init__(
        self,
        directory: Union[str, Path, None] = None,
        *,
        subject: str = "sandbox-user",
        token_lifetime: int = 1200,
        token_refresh_interval: int = 300,
        watch_owner: bool = True,
    ) -> None:
        if directory is None:
            directory = tempfile.mkdtemp(prefix="imb-", dir="/tmp")
        self.directory = Path(directory)
        self.subject = subject
        self.token_lifetime = token_lifetime
        self.token_refresh_interval = token_refresh_interval
        # Stop everything if this process dies without stop(); off for `sandbox start`,
        # whose process exits at once while the sandbox lives on.
        self.watch_owner = watch_owner
        self.state: Dict[str, Any] = {}

    # ----------------------------------------------------------------- facts
    @property
    def endpoint(self) -> str:
        return self.state["endpoint"]

    @property
    def token_file(self) -> str:
        return str(self.directory / "token")

    @property
    def issuer_url(self) -> str:
        return self.state["issuer"]

    role_arn = ROLE_ARN
    region = REGION
    audience = AUDIENCE

    def settings(self) -> Dict[str, Any]:
        """Keyword settings for ``infnminio_boto.session(**sandbox.settings())``."""
        return {
            "endpoint": self.endpoint,
            "token_file": self.token_file,
            "role_arn": self.role_arn,
            "region": self.region,
        }

    def environment(self) -> Dict[str, str]:
        """The ``INFNMINIO_*`` variables that make the library work with no arguments."""
        return {
            "INFNMINIO_ENDPOINT": self.endpoint,
            "INFNMINIO_TOKEN_FILE": self.token_file,
            "INFNMINIO_ROLE_ARN": self.role_arn,
            "INFNMINIO_REGION": self.region,
            "INFNMINIO_SANDBOX_DIR": str(self.directory),
        }

    def admin_client(self, service: str = "s3") -> Any:
        """A boto3 client with the sandbox administrator's static keys (not via STS)."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            aws_access_key_id=self.state["admin_access_key"],
            aws_secret_access_key=self.state["admin_secret_key"],
            region_name=self.region,
        )

    # ---------------------------------------------------------------- tokens
    def _signing_key(self) -> Any:
        from .issuer import SigningKey

        return SigningKey.load(self.directory)

    def mint_token(
        self,
        subject: Optional[str] = None,
        *,
        audience: Union[str, Sequence[str]] = AUDIENCE,
        lifetime: float = 1200,
        issuer: Optional[str] = None,
        key: Any = None,
    ) -> str:
        """A signed access token from the sandbox issuer (or from ``key``/``issuer``)."""
        from .issuer import mint_token

        return mint_token(
            key or self._signing_key(),
            issuer or self.issuer_url,
            subject=subject or self.subject,
            audience=audience,
            lifetime=lifetime,
        )

    def write_token(self, token: Optional[str] = None) -> str:
        """Rewrite the token file in place (truncate, then write) as sts-wire does."""
        token = token or self.mint_token(lifetime=self.token_lifetime)
        write_in_place(self.token_file, token + "\n")
        return token

    # ------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 180) -> Sandbox:
        started = time.monotonic()
        self.cleanup_leftovers(self.directory)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(self.directory)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            raise SandboxStartError(
                f"{self.directory} is not a directory owned by this user: choose another "
                "directory (INFNMINIO_SANDBOX_DIR)."
            )
        os.chmod(self.directory, 0o700)
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        self.state["started_seconds"] = round(time.monotonic() - started, 1)
        self._save_state()
        return self

    def _start(self, timeout: float) -> None:
        from .issuer import SigningKey

        key = SigningKey.generate()
        key.save(self.directory)
        issuer_port = free_port()
        self.state["issuer"] = f"http://127.0.0.1:{issuer_port}"
        self.state["subject"] = self.subject
        self._save_state()
        self.write_token()
        self._start_agent(issuer_port)

        cluster = CephCluster(self.directory)
        self.state["endpoint"] = cluster.endpoint
        self._save_state()
        cluster.start(timeout=timeout)

        access_key = "SANDBOXADMIN" + secrets.token_hex(4).upper()
        secret_key = secrets.token_urlsafe(30)
        cluster.radosgw_admin(
            "user",
            "create",
            "--uid=sandbox-admin",
            "--display-name=sandbox administrator",
            f"--access-key={access_key}",
            f"--secret={secret_key}",
        )
        cluster.radosgw_admin(
            "caps",
            "add",
            "--uid=sandbox-admin",
            "--caps=oidc-provider=*;roles=*;user-policy=*;users=*",
        )
        self.state.update(admin_access_key=access_key, admin_secret_key=secret_key)
        self._save_state()
        self._register_identity_provider()

    def _start_agent(self, issuer_port: int) -> None:
        log = open(self.directory / "agent.log", "ab")
        try:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "infnminio_boto.sandbox.agent",
                    str(self.directory),
                    str(issuer_port),
                    str(self.token_refresh_interval),
                    str(self.token_lifetime),
                    str(os.getpid() if self.watch_owner else 0),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        finally:
            log.close()
        self.state["agent_pid"] = process.pid
        self._save_state()
        deadline = time.monotonic() + 15
        url = f"{self.state['issuer']}/.well-known/openid-configuration"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                try:
                    log_tail = (self.directory / "agent.log").read_text()[-1500:]
                except OSError:
                    log_tail = ""
                raise SandboxStartError(f"The sandbox OIDC issuer exited at start:\n{log_tail}")
            try:
                with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310 (loopback)
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise SandboxStartError(f"The sandbox OIDC issuer did not answer on {url} in time")

    def _register_identity_provider(self) -> None:
        iam = self.admin_client("iam")
        iam.create_open_id_connect_provider(
            Url=self.issuer_url, ClientIDList=[AUDIENCE], ThumbprintList=["0" * 40]
        )
        provider = self.issuer_url.split("://", 1)[1]
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": [f"arn:aws:iam:::oidc-provider/{provider}"]},
                    "Action": ["sts:AssumeRoleWithWebIdentity"],
                }
            ],
        }
        iam.create_role(RoleName=ROLE_NAME, Path="/", AssumeRolePolicyDocument=_compact(trust))
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::*"]}],
        }
        iam.put_role_policy(
            RoleName=ROLE_NAME, PolicyName="s3-all", PolicyDocument=_compact(policy)
        )

    def _save_state(self) -> None:
        path = self.directory / STATE_FILE
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.state, handle, indent=2)
        os.replace(temporary, path)

    @classmethod
    def attach(cls, directory: Union[str, Path, None] = None) -> Sandbox:
        """The sandbox already running in ``directory`` (default: the CLI's)."""
        sandbox = cls(directory or default_directory())
        try:
            sandbox.state = json.loads((sandbox.directory / STATE_FILE).read_text())
        except (OSError, ValueError):
            raise SandboxStartError(f"No sandbox in {sandbox.directory}") from None
        sandbox.subject = sandbox.state.get("subject", sandbox.subject)
        return sandbox

    def status(self) -> Dict[str, Any]:
        """Which processes are alive and whether radosgw answers."""
        cluster = CephCluster(self.directory)
        processes = {name: _alive(pid) for name, pid in cluster.daemon_pids().items()}
        agent = self.state.get("agent_pid")
        if agent:
            processes["agent"] = _alive(agent) and str(self.directory) in pid_command_line(agent)
        answers = False
        if "endpoint" in self.state:
            try:
                with urllib.request.urlopen(self.endpoint, timeout=2):  # noqa: S310 (loopback)
                    answers = True
            except urllib.error.HTTPError:
                answers = True
            except OSError:
                answers = False
        return {
            "directory": str(self.directory),
            "processes": processes,
            "rgw_answers": answers,
            "endpoint": self.state.get("endpoint"),
            "issuer": self.state.get("issuer"),
        }

    def sts_requests(self, settle: float = 0.0) -> int:
        """How many AssumeRoleWithWebIdentity requests radosgw has served so far.

        Counted from radosgw's access log: ``POST /`` requests not made by the sandbox
        administrator (whose IAM calls also go to ``/``). A server-side count for tests
        and benchmarks that check how many exchanges a workload causes. radosgw writes
        its log from a background thread: ``settle`` waits until the count has stayed
        the same for that many seconds (at most 10 s).
        """
        if settle > 0:
            deadline = time.monotonic() + 10
            last, since = self.sts_requests(), time.monotonic()
            while time.monotonic() < deadline and time.monotonic() - since < settle:
                time.sleep(0.2)
                now = self.sts_requests()
                if now != last:
                    last, since = now, time.monotonic()
            return last
        log = self.directory / "log" / "client.rgw.sandbox.log"
        try:
            text = log.read_text(errors="replace")
        except OSError:
            return 0
        return sum(
            1
            for line in text.splitlines()
            if '"POST / HTTP/1.1"' in line and " - sandbox-admin [" not in line
        )

    def stop(self) -> None:
        """Stop every daemon by its pid file and remove the directory."""
        self.cleanup_leftovers(self.directory)

    @staticmethod
    def cleanup_leftovers(directory: Path) -> None:
        """Stop whatever a (possibly crashed) sandbox in ``directory`` left running."""
        directory = Path(directory)
        if not os.path.lexists(directory):
            return
        if not _is_sandbox_directory(directory):
            raise SandboxStartError(
                f"{directory} exists but is not a sandbox directory (no {STATE_FILE}); it is "
                "left untouched. Choose another directory (INFNMINIO_SANDBOX_DIR)."
            )
        CephCluster(directory).stop()
        try:
            state = json.loads((directory / STATE_FILE).read_text())
        except (OSError, ValueError):
            state = {}
        agent = state.get("agent_pid")
        if agent and agent != os.getpid() and str(directory) in pid_command_line(agent):
            stop_pid(agent)
        shutil.rmtree(directory, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        if not self.state:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"Sandbox(directory={str(self.directory)!r}, endpoint={self.state.get('endpoint')!r})"
        )


def _is_sandbox_directory(directory: Path) -> bool:
    """Ours to wipe: a real directory of this user that is empty or holds sandbox files."""
    try:
        info = os.lstat(directory)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return False
    names = set(os.listdir(directory))
    return not names or STATE_FILE in names or "ceph.conf" in names or "issuer-key.pem" in names


def write_in_place(path: str, text: str) -> None:
    """Truncate then write, without a rename: exactly how sts-wire updates .token."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
