"""A local sandbox: an OIDC issuer and a real Ceph RGW with STS, on 127.0.0.1, over https.

``with Sandbox() as sandbox:`` starts a single-node Ceph cluster, radosgw with STS and
IAM serving https with a certificate from an authority made for this sandbox, and an
OIDC issuer; registers the issuer as OIDC provider with an ``IAMaccess`` role like
INFN's; and keeps a token file that a background agent rewrites in place, as sts-wire
does. ``sandbox.settings()`` gives the keywords for ``infnminio_boto.session(**...)``
and ``sandbox.environment()`` the ``INFNMINIO_*`` variables, the CA bundle included.
The issuer has a registered client (``sandbox.oidc_client``) and a token endpoint for
refresh tokens (``sandbox.refresh_token()``), enough for a real oidc-agent
(see ``oidc_agent``).
``Sandbox(tls=False)`` serves plain http instead. The same sandbox is available as
pytest fixtures (see ``pytest_plugin``) and from the command line
(``infnminio-boto sandbox start|status|stop|token``).

Needs the ``sandbox`` extra (PyJWT, cryptography) and Ceph (Debian: radosgw, ceph-mon,
ceph-osd, ceph-common); :func:`require` says which is missing and how to install it.
"""

from __future__ import annotations

import os
import ssl
import stat
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Union

from .agent import launch_agent
from .ceph import (
    INSTALL_HINT,
    CephCluster,
    CephNotInstalledError,
    SandboxStartError,
    SandboxUnavailableError,
)
from .cleanup import stop_sandbox_in
from .files import default_directory, load_state, save_state, write_in_place
from .grants import DEFAULT_SCOPE, OidcClient, RefreshTokens
from .iam import AUDIENCE, ROLE_ARN, create_administrator, register_issuer
from .processes import alive, free_port, pid_command_line
from .requirements import SandboxExtraMissingError, require
from .tls import TlsFiles, make_certificates

__all__ = [
    "Sandbox",
    "SandboxStartError",
    "SandboxUnavailableError",
    "SandboxExtraMissingError",
    "CephNotInstalledError",
    "OidcClient",
    "INSTALL_HINT",
    "default_directory",
    "require",
    "write_in_place",
]

REGION = "us-east-1"


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
        tls: bool = True,
    ) -> None:
        if directory is None:
            directory = tempfile.mkdtemp(prefix="imb-", dir="/tmp")
        self.directory = Path(directory).absolute()  # a later chdir must not move it
        self.subject = subject
        self.token_lifetime = token_lifetime
        self.token_refresh_interval = token_refresh_interval
        # Stop everything if this process dies without stop(); off for `sandbox start`,
        # whose process exits at once while the sandbox lives on.
        self.watch_owner = watch_owner
        self.tls = tls
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

    @property
    def ca_bundle(self) -> Optional[str]:
        """The PEM file of the sandbox's certificate authority (None over plain http)."""
        return self.state.get("ca_bundle")

    @property
    def tls_files(self) -> Optional[TlsFiles]:
        """The authority and the server's certificate and key (None over plain http)."""
        if not self.ca_bundle:
            return None
        return TlsFiles(
            ca=Path(self.ca_bundle),
            certificate=self.directory / "rgw-cert.pem",
            private_key=self.directory / "rgw-key.pem",
        )

    def ssl_context(self) -> ssl.SSLContext:
        """An SSL context that trusts the sandbox (and only it, when it serves https)."""
        return ssl.create_default_context(cafile=self.ca_bundle)

    role_arn = ROLE_ARN
    region = REGION
    audience = AUDIENCE

    def settings(self) -> Dict[str, Any]:
        """Keyword settings for ``infnminio_boto.session(**sandbox.settings())``."""
        values = {
            "endpoint": self.endpoint,
            "token_file": self.token_file,
            "role_arn": self.role_arn,
            "audience": self.audience,
            "region": self.region,
            "server_kind": "rgw",  # a real Ceph RGW: its rules apply
        }
        if self.ca_bundle:
            values["ca_bundle"] = self.ca_bundle
        return values

    def environment(self) -> Dict[str, str]:
        """The variables that make the library, and the tools of a shell, use the sandbox.

        The ``INFNMINIO_*`` variables (the sandbox's own authority in
        ``INFNMINIO_CA_BUNDLE``) and, over https, ``AWS_CA_BUNDLE``, ``SSL_CERT_FILE``,
        ``REQUESTS_CA_BUNDLE`` and ``CURL_CA_BUNDLE``, all naming one bundle in the
        sandbox directory with the authorities they named in this process's environment
        (the system's for those unset) plus the sandbox's: the AWS tools prefer
        ``AWS_CA_BUNDLE`` to a profile's ``ca_bundle``, and many shells set it.
        """
        variables = {
            "INFNMINIO_ENDPOINT": self.endpoint,
            "INFNMINIO_TOKEN_FILE": self.token_file,
            "INFNMINIO_ROLE_ARN": self.role_arn,
            "INFNMINIO_AUDIENCE": self.audience,
            "INFNMINIO_REGION": self.region,
            "INFNMINIO_SERVER_KIND": "rgw",
            "INFNMINIO_SANDBOX_DIR": str(self.directory),
        }
        if self.ca_bundle:
            from ..integrations.ca_trust import shell_bundle_variables

            variables["INFNMINIO_CA_BUNDLE"] = self.ca_bundle
            variables.update(shell_bundle_variables(self.ca_bundle, str(self.directory)))
        return variables

    def admin_client(self, service: str = "s3") -> Any:
        """A boto3 client with the sandbox administrator's static keys (not via STS)."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            aws_access_key_id=self.state["admin_access_key"],
            aws_secret_access_key=self.state["admin_secret_key"],
            region_name=self.region,
            verify=self.ca_bundle or True,
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

    @property
    def oidc_client(self) -> OidcClient:
        """The client registered at the issuer: its id and secret (for ``oidc-gen``)."""
        return self._registered_client()

    def _registered_client(self) -> OidcClient:
        client = OidcClient.from_state(self.state)
        if client is None:
            raise SandboxStartError(
                f"The sandbox in {self.directory} has no registered OIDC client (it was "
                "started by an older infnminio-boto): stop it and start it again."
            )
        return client

    def refresh_token(self, subject: Optional[str] = None, scope: str = DEFAULT_SCOPE) -> str:
        """A new refresh token the issuer's token endpoint accepts, for ``subject``.

        It is URL-safe, never expires and is not rotated on use; only a hash of it is
        stored, in the sandbox directory, where the issuer (in the agent process) looks
        it up. :meth:`revoke_refresh_token` makes the issuer refuse it.
        """
        self._registered_client()  # raises if there is none: no issuer would accept it
        return RefreshTokens(self.directory).issue(subject or self.subject, scope)

    def revoke_refresh_token(self, token: str) -> None:
        """From now on the issuer answers ``invalid_grant`` for ``token``."""
        RefreshTokens(self.directory).revoke(token)

    def write_token(self, token: Optional[str] = None) -> str:
        """Rewrite the token file in place (truncate, then write) as sts-wire does."""
        token = token or self.mint_token(lifetime=self.token_lifetime)
        write_in_place(self.token_file, token + "\n")
        return token

    # ------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 180) -> Sandbox:
        require()
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
        save_state(self.directory, self.state)
        return self

    def _start(self, timeout: float) -> None:
        from .issuer import SigningKey

        key = SigningKey.generate()
        key.save(self.directory)
        issuer_port = free_port()
        self.state["issuer"] = f"http://127.0.0.1:{issuer_port}"
        self.state["subject"] = self.subject
        client = OidcClient.new()  # the agent reads it from the state when it starts
        self.state.update(oidc_client_id=client.client_id, oidc_client_secret=client.client_secret)
        save_state(self.directory, self.state)
        self.write_token()
        self._start_agent(issuer_port)

        tls: Optional[TlsFiles] = None
        if self.tls:
            tls = make_certificates(self.directory)
            self.state["ca_bundle"] = str(tls.ca)
        cluster = CephCluster(self.directory, tls=tls)
        self.state["endpoint"] = cluster.endpoint
        save_state(self.directory, self.state)
        cluster.start(timeout=timeout)

        access_key, secret_key = create_administrator(cluster)
        self.state.update(admin_access_key=access_key, admin_secret_key=secret_key)
        save_state(self.directory, self.state)
        register_issuer(self.admin_client("iam"), self.issuer_url)

    def _start_agent(self, issuer_port: int) -> None:
        pid = launch_agent(
            self.directory,
            issuer_port,
            interval=self.token_refresh_interval,
            lifetime=self.token_lifetime,
            owner_pid=os.getpid() if self.watch_owner else 0,
        )
        self.state["agent_pid"] = pid
        save_state(self.directory, self.state)

    @classmethod
    def attach(cls, directory: Union[str, Path, None] = None) -> Sandbox:
        """The sandbox already running in ``directory`` (default: the CLI's)."""
        sandbox = cls(directory or default_directory())
        try:
            sandbox.state = load_state(sandbox.directory)
        except (OSError, ValueError):
            raise SandboxStartError(
                f"No sandbox in {sandbox.directory}: start one with "
                'eval "$(infnminio-boto sandbox start)" (the same INFNMINIO_SANDBOX_DIR).'
            ) from None
        sandbox.subject = sandbox.state.get("subject", sandbox.subject)
        sandbox.tls = bool(sandbox.state.get("ca_bundle"))
        return sandbox

    def status(self) -> Dict[str, Any]:
        """Which processes are alive and whether radosgw answers."""
        cluster = CephCluster(self.directory)
        processes = {name: alive(pid) for name, pid in cluster.daemon_pids().items()}
        agent = self.state.get("agent_pid")
        if agent:
            processes["agent"] = alive(agent) and str(self.directory) in pid_command_line(agent)
        answers = False
        if "endpoint" in self.state:
            try:
                with urllib.request.urlopen(  # noqa: S310 (loopback)
                    self.endpoint, timeout=2, context=self.ssl_context()
                ):
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
            "ca_bundle": self.ca_bundle,
        }

    def sts_requests(self, settle: float = 0.0) -> int:
        """How many AssumeRoleWithWebIdentity requests radosgw has served so far.

        Counted from radosgw's access log (see :func:`.ceph.count_sts_requests`): a
        server-side count for tests and benchmarks that check how many exchanges a
        workload causes. radosgw writes its log from a background thread: ``settle``
        waits until the count has stayed the same for that many seconds (at most 10 s).
        """
        count = CephCluster(self.directory).count_sts_requests
        last, since = count(), time.monotonic()
        deadline = since + 10
        while settle > 0 and time.monotonic() < deadline and time.monotonic() - since < settle:
            time.sleep(0.2)
            now = count()
            if now != last:
                last, since = now, time.monotonic()
        return last

    def stop(self) -> None:
        """Stop every daemon by its pid file and remove the directory."""
        self.cleanup_leftovers(self.directory)

    cleanup_leftovers = staticmethod(stop_sandbox_in)

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
