"""Dask clusters across machines: the client renews the keys and sends only them (never the
token) in a worker plugin; each worker serves them on 127.0.0.1 as a credentials endpoint
that s3fs, pyarrow and boto3 read (docs/dask.md)."""

from __future__ import annotations

import logging
import os
import threading
import warnings
from functools import partial
from typing import Any, MutableMapping, Optional

from ..errors import ConfigurationError, MissingDependencyError
from ..integrations import key_server
from ..keys import shared as shared_keys
from ..keys.fetch import fetch_credentials, read_settings_token
from ..keys.refresh import RefreshingCredentials
from ..profiles.aws import competing_credentials, hide_competing_credentials
from ..settings import Policy, Settings
from ..sts.temporary_credentials import TemporaryCredentials
from . import PROCESS_ENVIRONMENT

try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:
    raise MissingDependencyError("distributed", "dask") from None

__all__ = ["share_credentials", "CredentialSharing", "SharedKeysPlugin", "PLUGIN_NAME"]

PLUGIN_NAME = "infnminio-boto-keys"
logger = logging.getLogger(__name__)


class SharedKeysPlugin(WorkerPlugin):
    """What the client sends: the temporary keys, and the settings and token identity
    (a hash of the identity claims, no secret) they belong to."""

    def __init__(self, owner: shared_keys.Owner, keys: TemporaryCredentials,
                 policy: Optional[Policy] = None) -> None:
        self.owner, self.keys, self.policy = owner, keys, policy

    def setup(self, worker: Any = None) -> None:
        if shared_keys.providing():
            return  # a worker in the client's own process: it has the client's keys
        if self.policy is not None and shared_keys.received_policy() != self.policy:
            logger.info("The keys this worker gets from its Dask client are limited by the "
                        "session policy %s", self.policy.describe())
        shared_keys.receive(self.owner, self.keys, self.policy)
        if not key_server.serving():
            key_server.serve(shared_keys.serve_received, os.environ)
            hidden = hide_competing_credentials(os.environ)  # this worker reads the client's
            if hidden:
                logger.warning("Keys shared by the Dask client: %s", hidden)

    def __repr__(self) -> str:
        return f"SharedKeysPlugin({self.keys!r})"


class CredentialSharing:
    """The client side of :func:`share_credentials`: renews, then sends, while it runs.
    ``renewals`` counts the keys sent."""

    def __init__(self, client: Any, settings: Settings,
                 environ: Optional[MutableMapping[str, str]] = None,
                 own: Optional[Settings] = None) -> None:
        self.client, self.settings, self.environ = client, settings, environ  # workers' settings
        # Its own renewals read the token file; every other client here with the same
        # settings (session policy included) reads these.
        self.refresher = RefreshingCredentials(partial(fetch_credentials, settings, shared=False))
        # This process's endpoint serves the workers' keys, unless ``own`` has another policy.
        self.own = self.refresher
        if own is not None and shared_keys.identity(own) != shared_keys.identity(settings):
            self.own = RefreshingCredentials(partial(fetch_credentials, own))
        self.renewals = 0
        self._sent: Optional[TemporaryCredentials] = None
        self.owner: shared_keys.Owner = (shared_keys.identity(settings), None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="infnminio-boto share_credentials")

    def start(self) -> CredentialSharing:
        token = read_settings_token(self.settings)  # whose keys these are (no secret kept)
        self.owner = shared_keys.owner(self.settings, token.identity_digest())
        shared_keys.provide(self.owner, self.refresher.get)
        key_server.serve(self.own.get, self.environ)
        competing = competing_credentials(self.environ or {})
        if competing:
            warnings.warn(f"{'; '.join(competing.values())}: the AWS SDKs in this process prefer "
                          "it to the credentials endpoint share_credentials() set up, so clients "
                          "without keys of their own (storage_options(keys=False), pyarrow) "
                          "would use that profile here. Unset it for this process (for example "
                          f"os.environ['{next(iter(competing))}'] = os.devnull) or remove those "
                          "credentials. The workers are set up without it.",
                          RuntimeWarning, stacklevel=3)
        try:
            self._send_if_renewed()  # the workers have keys before this returns
        except BaseException:
            self.stop()
            raise
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop renewing and sending, and this process's endpoint (the workers keep
        their keys until they expire). Done by itself when the client closes."""
        if self._stop.is_set():
            return
        self._stop.set()
        shared_keys.withdraw(self.refresher.get)
        key_server.stop_serving(self.environ, self.own.get)

    def __enter__(self) -> CredentialSharing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _send_if_renewed(self) -> None:
        keys = self.refresher.get()
        if keys != self._sent:
            plugin = SharedKeysPlugin(self.owner, keys, self.settings.policy)
            self.client.register_plugin(plugin, name=PLUGIN_NAME)
            self._sent = keys
            self.renewals += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.client.status not in ("running", "connecting"):
                self.stop()  # the client closed: the workers' keys run out
                return
            try:
                self._send_if_renewed()
            except Exception as error:
                logger.warning("Sending renewed keys failed: %s", error)
            self._stop.wait(self._pause())

    def _pause(self) -> float:
        """Look again well before the workers would need new keys."""
        keys = self._sent
        lifetime = keys.lifetime if keys is not None and keys.lifetime else 3600.0
        return max(0.5, min(30.0, lifetime / 12))


def share_credentials(client: Any, *,
                      environ: Optional[MutableMapping[str, str]] = PROCESS_ENVIRONMENT,
                      policy: Any = None, allow_insecure_comm: bool = False,
                      **settings: Any) -> CredentialSharing:
    """Keep every worker of ``client``'s cluster supplied with renewed keys, limited by
    ``policy``; ``environ`` (None: left alone) gets this process's credentials endpoint.
    Raises :class:`~infnminio_boto.ConfigurationError` for a bad setting, or a plain comm
    off this machine's loopback unless ``allow_insecure_comm=True`` (docs/dask.md)."""
    own = Settings.resolve(**settings)
    workers = own if policy is None else Settings.resolve(policy=policy, **settings)
    if not allow_insecure_comm:
        check_comm(client)
    return CredentialSharing(client, workers, environ, own=own).start()


def check_comm(client: Any) -> None:
    """Refuse plain comms that would carry the keys across the network: the client's, the
    scheduler's own address (the client's may be an ``ssh -L`` tunnel) and its workers'
    must each be TLS, in-process or on this machine's loopback."""
    first = client.scheduler.address
    info = client.scheduler_info()
    for address in [first, info.get("address"), *info.get("workers", {})]:
        if address and not _safe(address):
            scheme = address.split("://", 1)[0] if "://" in address else "tcp"
            raise ConfigurationError(
                f"The Dask cluster talks over {address}, a plain {scheme} comm to another "
                "address than this machine's loopback: the temporary keys would cross the network "
                "unencrypted (the OIDC token is never sent like that either; a loopback tunnel to "
                "the scheduler does not help, its workers talk to it in clear). Give the cluster "
                "TLS: security=Security.temporary() (from distributed.security) for a cluster "
                "started here, e.g. HTCondorCluster(..., security=Security.temporary()), or "
                "certificates as https://distributed.dask.org/en/stable/tls.html says; or pass "
                "allow_insecure_comm=True to share_credentials on a network you trust."
            )


def _safe(address: str) -> bool:
    import ipaddress

    from distributed.comm import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme in ("tls", "wss", "inproc"):  # encrypted, or never leaves this process
        return True
    host = parse_host_port(location)[0] if location else ""
    if host == "localhost":  # RFC 6761: always this machine's loopback
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: the resolver may send it anywhere
