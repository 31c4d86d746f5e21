"""Keys shared by another process that holds the token file (a Dask client).

On machines without sts-wire (Dask workers on other nodes), the OIDC token must not be
copied: the client sends only the temporary keys (see :mod:`infnminio_boto.adapters.dask`).
They are kept here, per process, and :func:`~infnminio_boto.keys.fetch.fetch_credentials`
hands them out for the settings they belong to instead of reading a token file. When
they expire and none came to replace them, the error says so and what to do. In the
client's process the source is the client's own refreshing credentials, so that every
client there uses the keys the workers get: one exchange per renewal in all.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional, Tuple

from ..errors import SharedKeysExpiredError
from ..settings import Settings
from ..sts.temporary_credentials import TemporaryCredentials, format_timestamp

__all__ = [
    "identity", "receive", "provide", "withdraw", "lookup", "current", "usable", "serve_received"
]

Identity = Tuple[str, str]
_lock = threading.Lock()
_shared: Optional[Tuple[Identity, TemporaryCredentials]] = None
_source: Optional[Tuple[Identity, Callable[[], TemporaryCredentials]]] = None


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


def withdraw(source: Callable[[], TemporaryCredentials]) -> None:
    """Stop handing out ``source``'s keys (the sharing that provided it ended)."""
    global _source
    with _lock:
        if _source is not None and _source[1] == source:
            _source = None


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
        "keys live. Keep the client running (infnminio_boto.adapters.dask.share_credentials), or "
        "check it with infnminio-boto doctor there."
    )


def serve_received() -> TemporaryCredentials:
    """What a worker's endpoint answers: the keys received, while they are valid."""
    keys = current()
    if keys is None:  # pragma: no cover - the endpoint starts once keys came
        raise SharedKeysExpiredError("No keys were shared with this process yet.")
    return usable(keys)
