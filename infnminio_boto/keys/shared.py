"""Keys shared by another process that holds the token (a Dask client).

On a worker the client's keys are kept here and ``fetch_credentials`` hands them out
first, for the settings, session policy and token identity they belong to; in the
client's process its refresher is the source (docs/dask.md).
"""

from __future__ import annotations

import threading
from typing import Callable, List, Optional, Tuple

from ..errors import ConfigurationError, SharedKeysExpiredError, TokenSourceError
from ..settings import Policy, Settings
from ..sources import token_source
from ..sources.oidc_token import OidcToken
from ..sts.temporary_credentials import TemporaryCredentials, format_timestamp

__all__ = [
    "identity", "receive", "provide", "providing", "withdraw", "lookup", "policy_in_force",
    "received_policy", "current", "usable", "serve_received",
]

# (endpoint, role, session policy document or ""), and the token's identity digest.
Identity = Tuple[str, str, str]
Owner = Tuple[Identity, Optional[str]]
_lock = threading.Lock()
_shared: Optional[Tuple[Owner, TemporaryCredentials]] = None
_shared_policy: Optional[Policy] = None
# In a sharing client's process: each running sharing's source, the latest last.
_sources: List[Tuple[Owner, Callable[[], TemporaryCredentials]]] = []


def identity(settings: Settings) -> Identity:
    """Which settings keys are for: the endpoint, the role and the session policy."""
    policy = settings.policy.document if settings.policy is not None else ""
    return (settings.endpoint.url, settings.role_arn or "", policy)


def owner(settings: Settings, token_identity: Optional[str]) -> Owner:
    """Whose keys: the settings' :func:`identity` and the token's identity digest."""
    return (identity(settings), token_identity)


def receive(owner: Owner, keys: TemporaryCredentials, policy: Optional[Policy] = None) -> None:
    """Keep the keys a client sent for ``owner`` (made with session policy ``policy``)."""
    global _shared, _shared_policy
    with _lock:
        _shared = (owner, keys)
        _shared_policy = policy


def received_policy() -> Optional[Policy]:
    """The session policy of the keys last received (None: none, or none received)."""
    return _shared_policy


def providing() -> bool:
    """Whether this process is a sharing client's (it has keys of its own)."""
    return bool(_sources)


def provide(owner: Owner, source: Callable[[], TemporaryCredentials]) -> None:
    """In the client's process: hand out what ``source`` gives to ``owner``."""
    with _lock:
        _sources.append((owner, source))


def withdraw(source: Callable[[], TemporaryCredentials]) -> None:
    """Stop handing out ``source``'s keys (its sharing ended; others go on)."""
    with _lock:
        _sources[:] = [each for each in _sources if each[1] != source]


def current() -> Optional[TemporaryCredentials]:
    """The last keys received, whatever they are for."""
    shared = _shared
    return shared[1] if shared else None


def lookup(settings: Settings) -> Optional[TemporaryCredentials]:
    """The shared keys for ``settings``, or None (none shared for them, or for the identity
    of the token this process reads). Raises :class:`SharedKeysExpiredError` if expired."""
    source, shared = (_sources[-1] if _sources else None), _shared
    wanted = identity(settings)
    if source is not None and source[0][0] == wanted:
        # The sharing client's process: the shared keys only for the client's identity
        # (another token, or a failing source, gets its own keys or its own error).
        if _same_holder(settings, source[0], missing_is_owner=False):
            return source[1]()
    if shared is None or shared[0][0][:2] != wanted[:2]:
        return None
    asked = settings.policy
    if asked is not None and wanted[2] != shared[0][0][2]:  # keys that may do more, or other things
        if _own_token(settings) is not None:
            return None  # this process exchanges its own token, with its own policy
        raise ConfigurationError(
            f"This process has no token of its own and holds the keys its Dask client "
            f"shares, made with {_named(_shared_policy)}; this call asks for the session "
            f"policy {asked.name}, which they cannot serve. Ask for the same "
            "policy here, or share keys made with this one: "
            f"share_credentials(client, policy={asked.value!r})."
        )
    # A worker: the client's keys, unless a token of another identity can be read here.
    if not _same_holder(settings, shared[0], missing_is_owner=True):
        return None
    return usable(shared[1])


def policy_in_force(settings: Settings) -> Optional[Policy]:
    """The session policy of the keys handed out for ``settings``: theirs, else that of
    the keys a Dask client shares with this process (see :func:`lookup`)."""
    if settings.policy is not None:
        return settings.policy
    shared = _shared
    if shared is not None and shared[0][0][:2] == identity(settings)[:2]:
        return _shared_policy
    return None


def _named(policy: Optional[Policy]) -> str:
    return f"the session policy {policy.name}" if policy is not None else "no session policy"


def _own_token(settings: Settings) -> Optional[OidcToken]:
    try:
        return token_source(settings).read()
    except (TokenSourceError, ConfigurationError):
        return None


def _same_holder(settings: Settings, keys_owner: Owner, *, missing_is_owner: bool) -> bool:
    """Whether the token this process finds for ``settings`` is the keys' owner's
    (``missing_is_owner``: whether no token, as on a worker, counts as the owner's)."""
    mine = _own_token(settings)
    if mine is None:
        return missing_is_owner
    return keys_owner[1] is not None and mine.identity_digest() == keys_owner[1]


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


def serve_received() -> TemporaryCredentials:
    """What a worker's endpoint answers: the keys received, while they are valid."""
    keys = current()
    if keys is None:  # pragma: no cover - the endpoint starts once keys came
        raise SharedKeysExpiredError("No keys were shared with this process yet.")
    return usable(keys)
