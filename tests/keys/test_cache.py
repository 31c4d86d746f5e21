"""The cross-process cache: permissions, atomicity, locking and every tampering case."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from infnminio_boto.keys.cache import (
    CacheUnavailable,
    CredentialCache,
    cached_fetch,
    entry_key,
)
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials

KEY = entry_key("https://s3.example.org", "arn:aws:iam:::role/R", "https://iss", "alice")


def make(lifetime: float = 3600, name: str = "AK") -> TemporaryCredentials:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return TemporaryCredentials(
        name, "secret-" + name, "session-" + name, now + timedelta(seconds=lifetime), issued_at=now
    )


class Counter:
    def __init__(self, lifetime: float = 3600, delay: float = 0.0) -> None:
        self.calls = 0
        self.lifetime = lifetime
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self) -> TemporaryCredentials:
        with self.lock:
            self.calls += 1
            n = self.calls
        time.sleep(self.delay)
        return make(self.lifetime, f"AK{n}")


def always(_creds) -> bool:
    return True


@pytest.fixture
def cache(tmp_path) -> CredentialCache:
    return CredentialCache(str(tmp_path / "cache"))


def test_keys_differ_by_endpoint_role_issuer_and_subject():
    keys = {
        entry_key("https://a", "r", "i", "s"),
        entry_key("https://b", "r", "i", "s"),
        entry_key("https://a", None, "i", "s"),
        entry_key("https://a", "r", "j", "s"),
        entry_key("https://a", "r", "i", "t"),
    }
    assert len(keys) == 5


def test_round_trip_with_private_permissions(cache):
    creds = make()
    cache.write(KEY, creds)
    assert cache.read(KEY) == creds
    assert cache.read(KEY).issued_at == creds.issued_at
    assert stat.S_IMODE(os.stat(cache.directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache.path_for(KEY)).st_mode) == 0o600
    leftovers = [n for n in os.listdir(cache.directory) if n.endswith(".tmp")]
    assert leftovers == []


def test_too_open_directory_is_made_private(tmp_path):
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o777)
    os.chmod(directory, 0o777)
    CredentialCache(str(directory)).write(KEY, make())
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700


def test_fetch_once_then_serve_from_cache(cache):
    fetch = Counter()
    first = cache.get_or_fetch(KEY, fetch, always)
    second = cache.get_or_fetch(KEY, fetch, always)
    assert first == second and fetch.calls == 1


def test_stale_entry_is_refreshed(cache):
    fetch = Counter()
    cache.write(KEY, make(lifetime=100, name="OLD"))
    fresh = cache.get_or_fetch(KEY, fetch, lambda c: c.seconds_left() > 900)
    assert fresh.access_key == "AK1"
    assert cache.read(KEY).access_key == "AK1"


def test_threads_with_an_empty_cache_fetch_once(cache):
    fetch = Counter(delay=0.2)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_fetch(KEY, fetch, always)))
        for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fetch.calls == 1
    assert len({r.access_key for r in results}) == 1


# ------------------------------------------------------------------ tampering


def tamper_and_check(cache, tamper, caplog):
    """Whatever was done to the entry, it is ignored, replaced, and nothing crashes."""
    cache.write(KEY, make(name="GOOD"))
    tamper(cache.path_for(KEY))
    assert cache.read(KEY) is None
    fetch = Counter()
    fresh = cache.get_or_fetch(KEY, fetch, always)
    assert fresh.access_key == "AK1" and fetch.calls == 1
    path = cache.path_for(KEY)
    assert not os.path.islink(path)
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    assert cache.read(KEY).access_key == "AK1"
    assert "Ignoring cache entry" in caplog.text  # and the user is told why


def test_truncated_entry(cache, caplog):
    def truncate(path):
        with open(path, "r+b") as handle:
            handle.truncate(20)

    tamper_and_check(cache, truncate, caplog)
    assert "not a valid entry" in caplog.text


def test_garbage_entry(cache, caplog):
    def garbage(path):
        with open(path, "wb") as handle:
            handle.write(os.urandom(300))

    tamper_and_check(cache, garbage, caplog)


@pytest.mark.parametrize(
    "document",
    [
        '{"Version": 1}',
        '{"Version": 2, "AccessKeyId": "a"}',
        "[1, 2]",
        "null",
        '{"Version": 1, "AccessKeyId": "a", "SecretAccessKey": "b", "SessionToken": "c", '
        '"Expiration": "yesterday"}',
        # A moment whose offset leaves datetime's range (it raised OverflowError).
        '{"Version": 1, "AccessKeyId": "a", "SecretAccessKey": "b", "SessionToken": "c", '
        '"Expiration": "9999-12-31T23:59:59-01:00"}',
    ],
)
def test_well_formed_json_that_is_not_an_entry(cache, caplog, document):
    def replace(path):
        with open(path, "w") as handle:
            handle.write(document)

    tamper_and_check(cache, replace, caplog)


def test_symlink_entry_is_never_followed_or_written_through(cache, tmp_path, caplog):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")

    def link(path):
        os.unlink(path)
        os.symlink(victim, path)

    tamper_and_check(cache, link, caplog)
    assert victim.read_text() == "precious"
    assert "symlink" in caplog.text


def test_symlinked_lock_file_is_not_followed(cache, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    cache.check_directory()
    os.symlink(victim, os.path.join(cache.directory, f"{KEY}.lock"))
    cache.get_or_fetch(KEY, Counter(), always)
    assert victim.read_text() == "precious"


def test_world_writable_entry(cache, caplog):
    tamper_and_check(cache, lambda path: os.chmod(path, 0o666), caplog)
    assert "writable by group or others" in caplog.text


def test_entry_owned_by_another_user(cache, caplog, monkeypatch):
    if os.geteuid() == 0:
        tamper_and_check(cache, lambda path: os.chown(path, 65534, 65534), caplog)
    else:  # only root can give a file away: pretend to be someone else instead
        cache.write(KEY, make(name="GOOD"))
        real_uid = os.getuid()
        monkeypatch.setattr("infnminio_boto.keys.cache.os.getuid", lambda: real_uid + 1)
        assert cache.read(KEY) is None
        monkeypatch.undo()
    assert "owned by another user" in caplog.text


def test_directory_that_is_a_symlink_or_foreign_is_not_used(tmp_path, caplog):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    os.symlink(real, link)
    with pytest.raises(CacheUnavailable, match="not a plain directory"):
        CredentialCache(str(link)).read(KEY)
    # callers then go without a cache, and say so
    fetch = Counter()
    assert cached_fetch(CredentialCache(str(link)), KEY, fetch, always).access_key == "AK1"
    assert os.listdir(real) == []
    assert "Credential cache not used" in caplog.text


# ---------------------------------------------------------------------- locks

HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)
"""


def test_lock_held_by_a_killed_process_is_not_stuck(cache):
    cache.check_directory()
    lock_path = os.path.join(cache.directory, f"{KEY}.lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, lock_path], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    waiter_result = []
    waiter = threading.Thread(
        target=lambda: waiter_result.append(cache.get_or_fetch(KEY, Counter(), always))
    )
    waiter.start()
    time.sleep(0.3)
    assert waiter_result == []  # blocked behind the holder
    holder.kill()
    holder.wait()
    waiter.join(timeout=10)
    assert waiter_result and waiter_result[0].access_key == "AK1"


def test_lock_timeout_falls_back_to_a_plain_fetch(cache, monkeypatch, caplog):
    cache.check_directory()
    lock_path = os.path.join(cache.directory, f"{KEY}.lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, lock_path], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        monkeypatch.setattr("infnminio_boto.keys.cache.LOCK_TIMEOUT_SECONDS", 0.3)
        fetch = Counter()
        started = time.monotonic()
        creds = cached_fetch(cache, KEY, fetch, always)
        assert creds.access_key == "AK1" and time.monotonic() - started < 30  # bounded, not a hang
        assert "stayed locked" in caplog.text
    finally:
        holder.kill()
        holder.wait()


def test_without_posix_locks_the_library_works_without_the_cache(cache, monkeypatch, caplog):
    monkeypatch.setattr("infnminio_boto.keys.cache.fcntl", None)
    fetch = Counter()
    assert cached_fetch(cache, KEY, fetch, always).access_key == "AK1"
    assert cached_fetch(cache, KEY, fetch, always).access_key == "AK2"  # nothing shared
    assert "no POSIX file locks" in caplog.text
