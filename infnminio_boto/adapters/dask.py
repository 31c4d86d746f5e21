"""Dask clusters across machines: the client renews the keys, every worker gets them.

Workers of dask-jobqueue (HTCondor), dask-gateway or ``SSHCluster`` run where there is no
token, and the token must not be copied there. After ``share_credentials(client)`` the
client renews keys and, at each renewal, registers a ``distributed`` worker plugin
carrying only them; each worker (later ones too) keeps them in
:mod:`infnminio_boto.keys.shared` and serves them on 127.0.0.1 as a credentials endpoint,
which s3fs, pyarrow and boto3 read and read again. How, and what each side may do:
docs/dask.md.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import warnings
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
class SharedKeysPlugin(WorkerPlugin):
    """What the client sends: the temporary keys, and the settings and token identity
    (a hash of the identity claims, no secret) they belong to."""

    def __init__(
        self,
        owner: shared_keys.Owner,
        keys: TemporaryCredentials,
        policy: Optional[Policy] = None,
    ) -> None:
        self.owner = owner
        self.keys = keys
        self.policy = policy

    def setup(self, worker: Any = None) -> None:
        if shared_keys.providing():
            return  # a worker in the client's own process: it has the client's keys
        if self.policy is not None and shared_keys.received_policy() != self.policy:
            logging.getLogger(__name__).info(
                "The keys this worker gets from its Dask client are limited by the session "
                "policy %s",
                self.policy.describe(),
            )
        shared_keys.receive(self.owner, self.keys, self.policy)
        if not key_server.serving():
            key_server.serve(shared_keys.serve_received, os.environ)
            hidden = hide_competing_credentials(os.environ)  # this worker reads the client's
            if hidden:
                logging.getLogger(__name__).warning("Keys shared by the Dask client: %s", hidden)

    def __repr__(self) -> str:
        return f"SharedKeysPlugin({self.keys!r})"


class CredentialSharing:
    """The client side of :func:`share_credentials`: renews, then sends, while it runs.

    ``renewals`` counts the keys sent (each renewal of the client's refreshing
    credentials: one exchange, or keys another process of the client's machine cached).
    """

    def __init__(
        self,
        client: Any,
        settings: Settings,
        environ: Optional[MutableMapping[str, str]] = None,
        own: Optional[Settings] = None,
    ) -> None:
        self.client = client
        self.settings = settings  # the workers' keys are made with these
        self.environ = environ
        # Its own renewals read the token file; every other client here with the same
        # settings (session policy included) reads these.
        self.refresher = RefreshingCredentials(
            functools.partial(fetch_credentials, settings, shared=False)
        )
        # What this process's endpoint serves: the workers' keys, unless the client
        # keeps keys of another session policy (``own``) for itself.
        self.own = self.refresher
        if own is not None and shared_keys.identity(own) != shared_keys.identity(settings):
            self.own = RefreshingCredentials(functools.partial(fetch_credentials, own))
        self.renewals = 0
        self._sent: Optional[TemporaryCredentials] = None
        self.owner: shared_keys.Owner = (shared_keys.identity(settings), None)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="infnminio-boto share_credentials", daemon=True
        )

    def start(self) -> CredentialSharing:
        token = read_settings_token(self.settings)  # whose keys these are (no secret kept)
        self.owner = shared_keys.owner(self.settings, token.identity_digest())
        shared_keys.provide(self.owner, self.refresher.get)
        key_server.serve(self.own.get, self.environ)
        competing = competing_credentials(self.environ or {})
        if competing:
            warnings.warn(
                f"{'; '.join(competing.values())}: the AWS SDKs in this process prefer it "
                "to the credentials endpoint share_credentials() set up, so clients without "
                "keys of their own (storage_options(keys=False), pyarrow) would use that "
                "profile here. Unset it for this process (for example "
                f"os.environ['{next(iter(competing))}'] = os.devnull) or remove those "
                "credentials. The workers are set up without it.",
                RuntimeWarning,
                stacklevel=3,
            )
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
                logging.getLogger(__name__).warning("Sending renewed keys failed: %s", error)
            self._stop.wait(self._pause())

    def _pause(self) -> float:
        """Look again well before the workers would need new keys."""
        keys = self._sent
        lifetime = keys.lifetime if keys is not None and keys.lifetime else 3600.0
        return max(0.5, min(30.0, lifetime / 12))


def share_credentials(
    client: Any,
    *,
    environ: Optional[MutableMapping[str, str]] = PROCESS_ENVIRONMENT,
    policy: Any = None,
    allow_insecure_comm: bool = False,
    **settings: Any,
) -> CredentialSharing:
    """Keep every worker of ``client``'s cluster supplied with renewed keys.

    Call it on the machine with the token, once per client. Only temporary keys leave
    this machine, and only over TLS: when the scheduler is reached over a plain comm
    (``tcp://``, ``ws://``) on an address that is not this machine's loopback, it raises
    :class:`~infnminio_boto.ConfigurationError` saying how to set up Dask's TLS, unless
    ``allow_insecure_comm=True`` (a network you trust). ``policy`` (a preset such as
    ``"read-only"``, a JSON document or ``@FILE``, see the ``policy`` setting) limits
    the workers' keys while this process keeps keys of its own settings; None gives the
    workers the same keys as this process. ``environ`` (default: this process's
    environment) gets the local credentials endpoint
    (``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and its token), serving this process's own
    keys, and the checksum settings, and loses static ``AWS_*`` keys, so that keyless
    ``storage_options()`` and pyarrow work here as on the workers; ``None`` leaves it
    alone. Returns the running :class:`CredentialSharing`; its ``stop()`` (or the end of
    a ``with`` block, or the client closing) takes all of that back. Raises
    :class:`~infnminio_boto.ConfigurationError` for a bad setting or policy.
    """
    own = Settings.resolve(**settings)
    workers = own if policy is None else Settings.resolve(policy=policy, **settings)
    if not allow_insecure_comm:
        check_comm(client)
    return CredentialSharing(client, workers, environ, own=own).start()


# Comms that never leave this process or this machine, and the encrypted one.
_SAFE_SCHEMES = ("tls", "wss", "inproc")


def check_comm(client: Any) -> None:
    """Refuse plain comms that would carry the keys across the network.

    The keys go to the scheduler and from it to every worker. The client's own comm may
    be a loopback tunnel (``ssh -L``) to a scheduler elsewhere, so the scheduler's own
    address and its workers' are looked at too: each must be TLS, in-process, or on
    this machine's loopback. Dask's TLS: https://distributed.dask.org/en/stable/tls.html
    """
    addresses = [client.scheduler.address]
    info = client.scheduler_info()
    addresses.append(info.get("address") or "")
    addresses.extend(info.get("workers", {}))
    for address in addresses:
        if address and not _safe(address):
            _refuse(address)


def _safe(address: str) -> bool:
    from distributed.comm import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme in _SAFE_SCHEMES:
        return True
    host = parse_host_port(location)[0] if location else ""
    return _is_loopback(host)


def _refuse(address: str) -> None:
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


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":  # RFC 6761: always this machine's loopback
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: the resolver may send it anywhere
