"""Keys shared by another process that holds the token file (a Dask client).

On machines without sts-wire (Dask workers on other nodes), the OIDC token must not be
copied: the client sends only the temporary keys (see :mod:`infnminio_boto.dask`).
They are kept here, per process, and :func:`~infnminio_boto.fetch.fetch_credentials`
hands them out for the settings they belong to instead of reading a token file. When
they expire and none came to replace them, the error says so and what to do. In the
client's process the source is the client's own refreshing credentials, so that every
client there uses the keys the workers get: one exchange per renewal in all.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, MutableMapping, Optional, Tuple

from .errors import SharedKeysExpiredError
from .settings import Settings
from .temporary_credentials import TemporaryCredentials, format_timestamp

if TYPE_CHECKING:  # http.server is imported only where keys are served
    from .credential_server import CredentialServer

__all__ = ["identity", "receive", "provide", "lookup", "current", "serve", "serving"]

Identity = Tuple[str, str]
_lock = threading.Lock()
_shared: Optional[Tuple[Identity, TemporaryCredentials]] = None
_source: Optional[Tuple[Identity, Callable[[], TemporaryCredentials]]] = None
_server: Optional[CredentialServer] = None
# Static keys would win over the endpoint in the SDKs' credential chains.
_COMPETING = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def identity(settings: Settings) -> Identity:
    """Which keys are which: the endpoint and the role (the client's token decides the rest)."""
    return (settings.endpoint.url, settings.role_arn or "")


def receive(owner: Identity, keys: TemporaryCredentials) -> None:
    """Keep the keys a client sent for ``owner``'s settings."""
    global _shared
    with _lock:
        _shared = (owner, keys)


def provide(owner: Identity, source: Callable[[], TemporaryCredentials]) -> None:
    """In the client's process: hand out what ``source`` gives for ``owner``'s settings."""
    global _source
    with _lock:
        _source = (owner, source)


def current() -> Optional[TemporaryCredentials]:
    """The last keys received, whatever they are for."""
    shared = _shared
    return shared[1] if shared else None


def lookup(settings: Settings) -> Optional[TemporaryCredentials]:
    """The shared keys for ``settings`` (None when none were shared for them).

    Raises :class:`SharedKeysExpiredError` when they have expired.
    """
    source, shared = _source, _shared
    if source is not None and source[0] == identity(settings):
        return source[1]()
    if shared is None or shared[0] != identity(settings):
        return None
    return usable(shared[1])


def usable(keys: TemporaryCredentials) -> TemporaryCredentials:
    """``keys``, or the error that says why expired shared keys were not replaced."""
    if keys.seconds_left() > 1:
        return keys
    raise SharedKeysExpiredError(
        f"The keys shared by the Dask client expired at {format_timestamp(keys.expiration)} "
        "and no new ones came. The client (the machine with the token file) renews and "
        "sends them while it runs: it may have closed, or lost the STS for longer than the "
        "keys live. Keep the client running (infnminio_boto.dask.share_credentials), or "
        "check it with infnminio-boto doctor there."
    )


def serve(
    fetch: Callable[[], TemporaryCredentials], environ: Optional[MutableMapping[str, str]]
) -> CredentialServer:
    """This process's credentials endpoint (one per process), announced in ``environ``.

    Its address and token go into ``environ`` as ``AWS_CONTAINER_CREDENTIALS_FULL_URI``
    and ``AWS_CONTAINER_AUTHORIZATION_TOKEN``, with the checksum settings Ceph RGW needs
    unless set; static ``AWS_*`` keys are removed from it. ``None`` changes nothing.
    """
    from .credential_server import CredentialServer
    from .upload_checksums import VARIABLES

    global _server
    with _lock:
        if _server is None:
            _server = CredentialServer(fetch).__enter__()
        else:
            _server.fetch = fetch
        server = _server
    if environ is not None:
        for name in _COMPETING:
            environ.pop(name, None)
        environ.update(server.environment())
        for name, value in VARIABLES.items():
            environ.setdefault(name, value)
    return server


def serving() -> bool:
    """Whether this process serves shared keys (storage options then leave keys out)."""
    return _server is not None


def serve_received() -> TemporaryCredentials:
    """What a worker's endpoint answers: the keys received, while they are valid."""
    keys = current()
    if keys is None:  # pragma: no cover - the endpoint starts once keys came
        raise SharedKeysExpiredError("No keys were shared with this process yet.")
    return usable(keys)
