"""Keys shared by another process that holds the token (a Dask client).

On machines without the token (Dask workers on other nodes), the OIDC token must not be
copied: the client sends only the temporary keys (see :mod:`infnminio_boto.adapters.dask`).
They are kept here, per process, and :func:`~infnminio_boto.keys.fetch.fetch_credentials`
hands them out instead of reading a token, for the settings they belong to and only to
the identity they belong to: a process that can read a token of its own hands out shared
keys only when that token has the same identity claims as the client's; one that finds no
token (the worker on another machine) takes them. When they expire and none came to
replace them, the error says so and what to do. In the client's process the source is
the client's own refreshing credentials, so that every client there with the client's
identity uses the keys the workers get: one exchange per renewal in all.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional, Tuple

from ..errors import ConfigurationError, SharedKeysExpiredError, TokenSourceError
from ..settings import Settings
from ..sources import token_source
from ..sts.temporary_credentials import TemporaryCredentials, format_timestamp

__all__ = [
    "identity", "receive", "provide", "withdraw", "lookup", "current", "usable", "serve_received"
]

# (endpoint, role): which settings the keys are for; with the token's identity digest.
Identity = Tuple[str, str]
Owner = Tuple[Identity, Optional[str]]
_lock = threading.Lock()
_shared: Optional[Tuple[Owner, TemporaryCredentials]] = None
_source: Optional[Tuple[Owner, Callable[[], TemporaryCredentials]]] = None


def identity(settings: Settings) -> Identity:
    """Which settings keys are for: the endpoint and the role."""
    return (settings.endpoint.url, settings.role_arn or "")


def owner(settings: Settings, token_identity: Optional[str]) -> Owner:
    """Whose keys: the settings' :func:`identity` and the token's identity digest
    (:meth:`~infnminio_boto.sources.oidc_token.OidcToken.identity_digest`)."""
    return (identity(settings), token_identity)


def receive(owner: Owner, keys: TemporaryCredentials) -> None:
    """Keep the keys a client sent for ``owner``."""
    global _shared
    with _lock:
        _shared = (owner, keys)


def provide(owner: Owner, source: Callable[[], TemporaryCredentials]) -> None:
    """In the client's process: hand out what ``source`` gives to ``owner``."""
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
    """The shared keys for ``settings`` (None when none were shared for them or for the
    identity of the token this process can read for ``settings``).

    Raises :class:`SharedKeysExpiredError` when they have expired.
    """
    source, shared = _source, _shared
    wanted = identity(settings)
    if source is not None and source[0][0] == wanted and _same_holder(settings, source[0]):
        return source[1]()
    if shared is None or shared[0][0] != wanted or not _same_holder(settings, shared[0]):
        return None
    return usable(shared[1])


def _same_holder(settings: Settings, keys_owner: Owner) -> bool:
    """Whether the token this process finds for ``settings`` is the keys' owner's; a
    process that finds none (a worker on another machine) counts as the owner's."""
    try:
        mine = token_source(settings).read()
    except (TokenSourceError, ConfigurationError):
        return True
    return mine.identity_digest() == keys_owner[1] and keys_owner[1] is not None


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
