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
from support.jwt_helpers import make_jwt

from infnminio_boto.keys.cache import (
    CacheUnavailable,
    CredentialCache,
    cached_fetch,
    entry_key,
)
from infnminio_boto.settings import Settings
from infnminio_boto.sources.oidc_token import token_from_text
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials

KEY = "a" * 32  # an entry's name; which keys get which name is tested below


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


def _key(endpoint="https://a", role_arn="arn:r", session=None, **claims):
    settings = Settings.resolve(
        endpoint=endpoint, role_arn=role_arn, role_session_name=session, environ={}
    )
    fixed = {"sub": "alice", "iss": "https://iss", "aud": "object", "lifetime": 600}
    # a token of the user's own sources (here: BEARER_TOKEN), keyed on its claims
    token = token_from_text(make_jwt(**{**fixed, **claims}), "BEARER_TOKEN", kind="variable")
    return entry_key(settings, token)


def test_entries_differ_by_every_claim_and_setting_that_decides_the_keys():
    variants = [
        {},
        {"endpoint": "https://b"},
        {"role_arn": ""},
        {"session": "other-session"},
        {"iss": "https://other-iss"},
        {"sub": "bob"},
        {"aud": "not-object"},  # Ceph RGW refuses it: it must never get object's keys
        {"aud": ["object", "extra"]},
        {"azp": "another-client"},
        {"client_id": "another-client"},
        {"scope": "openid storage.read:/"},
        {"groups": ["/cms"]},
        {"wlcg.groups": ["/atlas"]},
        {"policy": "readwrite"},  # MinIO's policy claim
        {"https://aws.amazon.com/tags": {"principal_tags": {"team": ["a"]}}},
    ]
    keys = [_key(**variant) for variant in variants]
    assert None not in keys and len(set(keys)) == len(variants)
    # What does not decide the keys does not split the cache: the token's lifetime, jti
    assert _key(lifetime=1200, jti="another") == _key()
    assert _key(scope="b a") == _key(scope="a b")  # scopes are a set


def test_a_token_given_in_code_is_keyed_on_itself_too():
    """It may be anyone's (a service passing its callers' tokens): the store judges it."""
    settings = Settings.resolve(endpoint="https://a", environ={})
    first, second = (token_from_text(make_jwt(sub="alice", jti=n)) for n in ("1", "2"))
    assert entry_key(settings, first) != entry_key(settings, second)


def test_a_token_without_issuer_or_subject_is_never_shared_through_the_cache():
    assert _key(sub=None) is None
    assert _key(iss=None) is None


def test_round_trip_with_private_permissions(cache):
    creds = make()
    cache.write(KEY, creds)
    assert cache.read(KEY) == creds
    assert cache.read(KEY).issued_at == creds.issued_at
    assert stat.S_IMODE(os.stat(cache.directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache.path_for(KEY)).st_mode) == 0o600
    leftovers = [n for n in os.listdir(cache.directory) if n.endswith(".tmp")]
    assert leftovers == []


def test_the_measured_clock_skew_travels_with_the_entry(cache):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    creds = TemporaryCredentials(
        "AK", "secret-AK", "session-AK", now + timedelta(hours=1), issued_at=now,
        clock_skew=-1200.25,
    )
    cache.write(KEY, creds)
    assert cache.read(KEY).clock_skew == -1200.25  # for diagnostics: expiry is local


def test_a_folder_it_creates_is_private_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        CredentialCache(str(tmp_path / "new" / "cache")).write(KEY, make())
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new" / "cache").st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o2775, 0o777, 0o1777, 0o755])
def test_an_existing_folder_open_to_others_is_neither_used_nor_changed(tmp_path, mode, caplog):
    """A group project folder named as the cache by mistake keeps its group access (as
    root, INFNMINIO_CACHE_DIR=/tmp would otherwise lock /tmp)."""
    directory = tmp_path / "project"
    directory.mkdir()
    os.chmod(directory, mode)
    cache = CredentialCache(str(directory))
    with pytest.raises(CacheUnavailable, match="open to other users") as info:
        cache.check_directory()
    assert str(directory) in str(info.value)
    assert stat.S_IMODE(os.stat(directory).st_mode) == mode
    fetched = cached_fetch(cache, KEY, Counter(), lambda c: True)  # works, without a cache
    assert fetched.access_key == "AK1" and os.listdir(directory) == []
    assert "not used" in caplog.text and stat.S_IMODE(os.stat(directory).st_mode) == mode


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as a second account")
def test_another_accounts_lock_file_does_not_stall_every_call(tmp_path, monkeypatch):
    """Another account planted the lock file while the folder was open, and holds an
    flock on it: the lock is replaced by one of ours, never waited on."""
    import tempfile

    from support.second_account import require_python_for_nobody

    require_python_for_nobody()

    monkeypatch.setattr("infnminio_boto.keys.cache.LOCK_TIMEOUT_SECONDS", 3)
    directory = tempfile.mkdtemp(prefix="imb-cache-", dir="/tmp")
    os.chmod(directory, 0o777)  # open, for the planting
    lock = os.path.join(directory, f"{KEY}.lock")
    holder = subprocess.Popen(
        [
            "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
            sys.executable, "-I", "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({lock!r}, os.O_RDWR | os.O_CREAT, 0o644)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        os.chmod(directory, 0o700)  # private again, the planted lock inside
        fetch = Counter()
        keys = CredentialCache(directory).get_or_fetch(KEY, fetch, lambda c: True)
        assert keys.access_key == "AK1" and fetch.calls == 1
        assert os.stat(lock).st_uid == os.getuid()  # replaced by ours
    finally:
        holder.kill()
        holder.wait()
        import shutil

        shutil.rmtree(directory, ignore_errors=True)


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


def test_a_deeply_nested_entry_is_ignored_and_replaced(cache, caplog):
    path = cache.path_for(KEY)
    cache.write(KEY, make(name="GOOD"))
    with open(path, "w") as handle:
        handle.write("[" * 5000 + "]" * 5000)  # within the size limit, deeper than json can go
    assert cache.read(KEY) is None and "not a valid entry" in caplog.text
    fetch = Counter()
    assert cache.get_or_fetch(KEY, fetch, lambda c: True).access_key == "AK1"
    assert cache.read(KEY).access_key == "AK1"  # replaced


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


def test_waiters_wait_out_a_slow_holder_instead_of_all_exchanging(
    rgw_sts, settings_for, monkeypatch
):
    """The lock wait (120 s) was shorter than a holder's worst case (about 130 s with
    retries): waiters all exchanged at once against a struggling STS."""
    from infnminio_boto.keys import cache as cache_module
    from infnminio_boto.keys import fetch as fetch_module
    from infnminio_boto.keys.fetch import fetch_credentials, holder_worst_case

    # A holder's worst case past the fixed 120 s: a wait of 120 s would not cover it.
    settings = Settings.resolve(**settings_for(rgw_sts, timeout=30, max_attempts=3))
    one_round = 3 * (5 + 30) + 2 * 20  # every attempt to its deadline, and the pauses
    assert one_round > cache_module.LOCK_TIMEOUT_SECONDS
    assert holder_worst_case(settings) >= one_round
    # The old, fixed wait, shortened, wherever the code reads it.
    monkeypatch.setattr(cache_module, "LOCK_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(fetch_module, "LOCK_TIMEOUT_SECONDS", 0.3)
    rgw_sts.exchange_delay = 1.5  # a holder slower than that
    results: list = []
    threads = [
        threading.Thread(target=lambda: results.append(fetch_credentials(settings)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 3 and len({keys.access_key for keys in results}) == 1
    assert rgw_sts.exchanges == 1


def test_an_unusable_cache_is_said_once_per_process(tmp_path, caplog):
    """"Credential cache not used" came once per exchange, and a notebook cell showed it."""
    import logging

    caplog.set_level(logging.WARNING)
    open_folder = tmp_path / "shared"
    open_folder.mkdir()
    os.chmod(open_folder, 0o777)
    fetch = Counter()
    for _ in range(3):
        cached_fetch(CredentialCache(str(open_folder)), KEY, fetch, always)
    said = [r for r in caplog.records if "Credential cache not used" in r.getMessage()]
    assert len(said) == 1


def test_a_cache_that_cannot_be_written_is_said_once_per_process(tmp_path, caplog, monkeypatch):
    """A full disk (or a read-only folder) warned at every exchange."""
    import errno
    import logging

    caplog.set_level(logging.WARNING)
    cache = CredentialCache(str(tmp_path / "cache"))

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache, "write", full)
    fetch = Counter()
    for _ in range(3):
        cached_fetch(cache, KEY, fetch, always)
    said = [r for r in caplog.records if "Could not write the credential cache" in r.getMessage()]
    assert len(said) == 1 and fetch.calls == 3


@pytest.mark.parametrize("planted", ["symlink", "fifo"])
def test_an_untrusted_entry_is_said_once_per_process(tmp_path, caplog, planted):
    """Every read of a planted entry warned until the next write replaced it."""
    import logging

    caplog.set_level(logging.WARNING)
    cache = CredentialCache(str(tmp_path / "cache"))
    cache.check_directory()
    entry = os.path.join(cache.directory, f"{KEY}.json")
    if planted == "symlink":
        os.symlink(str(tmp_path / "elsewhere.json"), entry)
    else:
        os.mkfifo(entry, 0o600)
    for _ in range(3):
        assert cache.read(KEY) is None
    said = [r for r in caplog.records if "Ignoring cache entry" in r.getMessage()]
    assert len(said) == 1
