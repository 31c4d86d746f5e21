"""Cross-process credential cache: one user's notebooks, CLI calls and workers share keys.

One private JSON file per endpoint, role, RoleSessionName, session policy and token
identity in a 0700 folder, written locked and atomically; beside them, the lifetimes a
role allows (:class:`LifetimeRecord`). Standard library only (docs/design.md, "The cache").
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import time
from typing import TYPE_CHECKING, Callable, Optional, Tuple

from .. import _files
from .._log import warn, warn_once
from ..errors import TokenExpiredError
from ..settings.hot_path import BY_NAME
from ..sources.discovery import sha256  # the builtin SHA-256: hashlib would load OpenSSL

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no shared cache (said on first use)
    fcntl = None  # type: ignore[assignment]
from ..sts.lifetimes import REFUSAL_MEMORY_SECONDS
from ..sts.temporary_credentials import TemporaryCredentials, format_timestamp, parse_timestamp
from .timing import still_usable

if TYPE_CHECKING:
    from ..settings import Settings
    from ..sources.oidc_token import OidcToken

__all__ = ["CredentialCache", "CacheUnavailable", "LifetimeRecord", "entry_key", "cached_fetch"]

ENTRY_VERSION = 1
MAX_ENTRY_BYTES = 64 * 1024
LOCK_TIMEOUT_SECONDS = 120.0
LIMITS_PREFIX = "limits-"
# DurationSeconds no STS accepts lie outside this (MinIO's maximum is 365 days).
_LIFETIME_RANGE = (900, 365 * 24 * 3600)


class CacheUnavailable(Exception):  # noqa: N818 - a condition, not an error to report
    """The cache directory cannot be trusted or created; callers go without a cache."""


def entry_key(settings: Settings, token: OidcToken) -> Optional[str]:
    """The cache entry of the keys ``token`` gets under ``settings``: a hash of the endpoint,
    role, RoleSessionName, session policy and the token's identity claims (and the token
    itself when code may hand in anyone's). None (no sharing) without ``iss`` or ``sub``."""
    identity = token.identity_digest()
    if identity is None:
        return None
    from ..sts import role_session_name_for

    session_name = settings.role_session_name or role_session_name_for(token)
    parts = [ENTRY_VERSION, settings.endpoint.url, settings.role_arn or "", session_name, identity]
    if settings.policy is not None:  # without one, the name entries had before policies
        parts.append(settings.policy.document)
    if BY_NAME[token.kind].anyone:
        parts.append(token.digest)
    return sha256(json.dumps(parts).encode()).hexdigest()[:32]


class CredentialCache:
    """The cache in ``directory`` (``Settings.cache_dir`` resolves the default)."""

    def __init__(self, directory: str) -> None:
        self.directory = os.fspath(directory)
        self._checked = False

    def check_directory(self) -> None:
        """Create the directory (0700), or check that an existing one is a private
        directory of this user's (one open to others is not used, and left as it is).
        Raises :class:`CacheUnavailable` when it cannot be trusted or created."""
        if self._checked:
            return
        created = False
        try:
            try:
                os.mkdir(self.directory, 0o700)
            except FileNotFoundError:  # the parents as usual folders; the cache itself private
                os.makedirs(os.path.dirname(os.path.abspath(self.directory)), exist_ok=True)
                os.mkdir(self.directory, 0o700)
            created = True
        except FileExistsError:
            pass
        except OSError as exc:
            raise CacheUnavailable(f"cannot create {self.directory}: {exc.strerror}") from None
        try:
            info = os.lstat(self.directory)
        except OSError as exc:
            raise CacheUnavailable(f"cannot use {self.directory}: {exc.strerror}") from None
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            raise CacheUnavailable(f"{self.directory} is not a plain directory")
        if info.st_uid != os.getuid():
            raise CacheUnavailable(f"{self.directory} belongs to another user")
        if info.st_mode & 0o077:
            if not created:
                raise CacheUnavailable(
                    f"{self.directory} is open to other users (mode "
                    f"{stat.S_IMODE(info.st_mode):o}): it is not used and left as it is; "
                    "point cache_dir / INFNMINIO_CACHE_DIR at a folder of your own, or make "
                    "this one private (chmod 700) if it is yours alone"
                )
            try:  # a umask can loosen what mkdir asked for
                os.chmod(self.directory, 0o700)
            except OSError:
                raise CacheUnavailable(f"cannot make {self.directory} private") from None
        self._checked = True

    def path_for(self, key: str) -> str:
        return os.path.join(self.directory, f"{key}.json")

    def read(self, key: str) -> Optional[TemporaryCredentials]:
        """The entry, or None when it is absent or cannot be trusted."""
        path = self.path_for(key)
        data = self._read_private(path)
        if data is None:
            return None
        try:
            document = json.loads(data)
            if document.get("Version") != ENTRY_VERSION:
                return self._untrusted(path, "unknown version")
            issued, skew = document.get("IssuedAt"), document.get("ClockSkew")
            return TemporaryCredentials(
                _text(document, "AccessKeyId"), _text(document, "SecretAccessKey"),
                _text(document, "SessionToken"), parse_timestamp(_text(document, "Expiration")),
                issued_at=parse_timestamp(issued) if isinstance(issued, str) else None,
                clock_skew=float(skew) if isinstance(skew, (int, float)) else None,
            )
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError, OverflowError):
            return self._untrusted(path, "not a valid entry")

    def _read_private(self, path: str) -> Optional[bytes]:
        """The bytes of ``path`` if a private regular file of this user's, not too large."""
        self.check_directory()
        try:
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # a FIFO must not block
            fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                warn_once(("untrusted", path), __name__,
                          "Ignoring cache entry %s: it is a symlink", path)
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return self._untrusted(path, "not a regular file")
            if info.st_uid != os.getuid():
                return self._untrusted(path, "owned by another user")
            if info.st_mode & 0o022:
                return self._untrusted(path, "writable by group or others")
            if info.st_size > MAX_ENTRY_BYTES:
                return self._untrusted(path, "too large")
            return os.read(fd, MAX_ENTRY_BYTES + 1)
        finally:
            os.close(fd)

    @staticmethod
    def _untrusted(path: str, why: str) -> None:
        warn_once(("untrusted", path, why), __name__,
                  "Ignoring cache entry %s: %s; it will be replaced", path, why)

    def write(self, key: str, credentials: TemporaryCredentials) -> None:
        self.check_directory()
        document = {**credentials.to_credential_process(), "Version": ENTRY_VERSION}
        if credentials.issued_at is not None:
            document["IssuedAt"] = format_timestamp(credentials.issued_at)
        if credentials.clock_skew is not None:  # diagnostics: Expiration is on our clock
            document["ClockSkew"] = credentials.clock_skew
        self._replace(f"{key}.json", json.dumps(document).encode())

    def write_fast(self, name: str, fresh_until: float, expires_at: float, payload: bytes) -> None:
        """Store what the fast credential-process prints (:mod:`.fastpath`) until
        ``fresh_until`` (epoch s); entries of other tokens whose keys expired are removed."""
        from .fastpath import ENTRY_PREFIX, decode_entry, encode_entry

        self.check_directory()
        self._replace(name, encode_entry(fresh_until, expires_at, payload))
        now = time.time()
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        for other in os.listdir(self.directory):
            if not other.startswith(ENTRY_PREFIX) or other == name:
                continue
            path = os.path.join(self.directory, other)
            with contextlib.suppress(OSError):
                fd = os.open(path, flags)
                try:
                    regular = stat.S_ISREG(os.fstat(fd).st_mode)
                    entry = decode_entry(os.read(fd, MAX_ENTRY_BYTES)) if regular else None
                finally:
                    os.close(fd)
                if entry is None or entry[1] <= now:
                    os.unlink(path)

    def _replace(self, name: str, data: bytes) -> None:
        _files.replace(os.path.join(self.directory, name), data)

    def retire(self, access_key: str) -> None:
        """Remove the fast entries holding the keys ``access_key`` (refused as expired)."""
        from .fastpath import ENTRY_PREFIX

        needle = json.dumps(access_key).encode()
        for name in os.listdir(self.directory):
            path = os.path.join(self.directory, name)
            if name.startswith(ENTRY_PREFIX) and needle in (self._read_private(path) or b""):
                with contextlib.suppress(OSError):
                    os.unlink(path)

    def get_or_fetch(self, key: str, fetch: Callable[[], TemporaryCredentials],
                     fresh_enough: Callable[[TemporaryCredentials], bool],
                     wait: Optional[float] = None) -> TemporaryCredentials:
        """Cached credentials if ``fresh_enough``, else fetch once for all processes,
        waiting for another process's fetch at most ``wait`` s (its worst case).

        Raises :class:`CacheUnavailable` when the lock cannot be had."""
        cached = self.read(key)
        if cached is not None and fresh_enough(cached):
            return cached
        if fcntl is None:
            raise CacheUnavailable("this system has no POSIX file locks (fcntl): each process "
                                   "exchanges the token itself")
        lock = os.path.join(self.directory, f"{key}.lock")
        try:
            with _files.locked(lock, LOCK_TIMEOUT_SECONDS if wait is None else wait, private=True):
                cached = self.read(key)  # someone may have refreshed while we waited
                if cached is not None and fresh_enough(cached):
                    return cached
                try:
                    fresh = fetch()
                except TokenExpiredError:
                    # Nothing was sent; keys that still work beat an error (README).
                    if cached is not None and still_usable(cached):
                        warn_once((self.directory, cached.access_key), __name__,
                                  "The token has expired; handing out the cached keys, which "
                                  "expire %s", format_timestamp(cached.expiration))
                        return cached
                    raise
                try:
                    self.write(key, fresh)
                except OSError as exc:
                    warn_once((self.directory, exc.errno), __name__,
                              "Could not write the credential cache in %s: %s",
                              self.directory, exc.strerror)
                return fresh
        except TimeoutError as stuck:
            cached = self.read(key)  # the holder may have written as the wait ran out
            if cached is not None and fresh_enough(cached):
                return cached
            raise CacheUnavailable(str(stuck)) from None
        except OSError as exc:
            raise CacheUnavailable(f"cannot use the lock {lock}: {exc.strerror or exc}") from None


class LifetimeRecord:
    """A :class:`~infnminio_boto.sts.LifetimeMemory` in the cache: the lifetimes a role
    allows, one ``limits-<hash>`` JSON file per endpoint and role, trusted as the entries
    are. No secret; an unusable cache means no memory."""

    def __init__(self, cache: CredentialCache) -> None:
        self.cache = cache

    @staticmethod
    def name_for(endpoint: str, role: str) -> str:
        material = json.dumps([ENTRY_VERSION, "lifetimes", endpoint, role])
        return LIMITS_PREFIX + sha256(material.encode()).hexdigest()[:32]

    def recall(self, endpoint: str, role: str) -> Tuple[Optional[int], Optional[int]]:
        path = os.path.join(self.cache.directory, self.name_for(endpoint, role))
        try:
            data = self.cache._read_private(path)
        except CacheUnavailable:
            return None, None
        if data is None:
            return None, None
        try:
            document = json.loads(data)
            fields = tuple(document.get(name) for name in ("Version", "Endpoint", "Role"))
            if fields != (ENTRY_VERSION, endpoint, role):
                raise ValueError("another record")
            refused = _lifetime(document.get("Refused"))
            refused_at = document.get("RefusedAt")
            age = time.time() - refused_at if isinstance(refused_at, int) else None
            if age is None or not -60 < age <= REFUSAL_MEMORY_SECONDS:
                refused = None  # forgotten after a day (the maximum may have been raised)
            return _lifetime(document.get("Allowed")), refused
        except (ValueError, TypeError, AttributeError, RecursionError):
            self.cache._untrusted(path, "not a valid record")
            return None, None

    def store(self, endpoint: str, role: str, *, allowed: Optional[int],
              refused: Optional[int]) -> None:
        document = {
            "Version": ENTRY_VERSION, "Endpoint": endpoint, "Role": role, "Allowed": allowed,
            "Refused": refused, "RefusedAt": int(time.time()) if refused is not None else None,
        }
        try:
            self.cache.check_directory()
            self.cache._replace(self.name_for(endpoint, role), json.dumps(document).encode())
        except (CacheUnavailable, OSError) as exc:
            warn(__name__, "Could not remember the role's lifetime in %s: %s",
                 self.cache.directory, getattr(exc, "strerror", None) or exc)


def _lifetime(value: object) -> Optional[int]:
    if value is None:
        return None
    low, high = _LIFETIME_RANGE
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError("not a lifetime")
    return value


def _text(document: dict, name: str) -> str:
    value = document[name]
    if not isinstance(value, str) or not value:
        raise ValueError(name)
    return value


def cached_fetch(cache: Optional[CredentialCache], key: str,
                 fetch: Callable[[], TemporaryCredentials],
                 fresh_enough: Callable[[TemporaryCredentials], bool],
                 wait: Optional[float] = None) -> TemporaryCredentials:
    """``cache.get_or_fetch``, or a plain fetch when the cache is unusable (said once)."""
    if cache is None:
        return fetch()
    try:
        return cache.get_or_fetch(key, fetch, fresh_enough, wait)
    except CacheUnavailable as reason:
        warn_once((cache.directory, str(reason)), __name__, "Credential cache not used: %s", reason)
        return fetch()
