"""``credential-process`` answered from the cache at the cost of an interpreter start.

The AWS SDKs may run ``credential_process`` for every new client, and DuckDB, pyarrow
and the AWS CLI run it in every process, so the profile ``configure`` writes runs this
module isolated from site-packages, through a three-line script beside it (a script is
compiled at every run, this module's bytecode is cached)::

    credential_process = /venv/bin/python -I -S .../infnminio_boto/fast_credential_process.py FLAGS

It imports only builtin modules (no ``re``, ``json``, ``datetime``,
``base64``, no package of ours). It answers when the *fast entry* that the full command
left in the cache directory is a private file of this user's, belongs to this very
command (the same flags, ``INFNMINIO_*`` variables and token file content) and holds
keys with more than 16 minutes left: it prints the JSON stored there. Anything else (no
entry, an expired or untrusted one, another token, ``--no-cache`` or an unusual flag,
any error) hands over to the full command (``python -m infnminio_boto
credential-process`` with the same flags), so behaviour and errors stay the full
command's. Nothing is ever sent from here, so neither is an expired token.

The full command imports the functions below to write the entries, and the defaults
of the token file and cache directory come from here too: one copy of each rule.
"""

import sys
import time

try:  # inside the package
    from ..settings.locations import default_cache_dir, default_token_files, expand_user, join
    from ..sources.discovery import sha256, token_digest
except ImportError:  # run by path by fast_credential_process.py, outside the package
    from discovery import sha256, token_digest  # type: ignore[import-not-found,no-redef]
    from locations import (  # type: ignore[import-not-found,no-redef]
        default_cache_dir,
        default_token_files,
        expand_user,
        join,
    )


ENTRY_FORMAT = b"1"
ENTRY_PREFIX = "fast-"
MAX_BYTES = 64 * 1024
# The AWS SDKs renew 15 minutes before expiry; keys handed out must outlast that by a
# minute (refresh_timing.SDK_FRESH_SECONDS, which a test keeps equal to this).
SDK_FRESH_SECONDS = 16 * 60
# The switches of credential-process: every other flag takes a value (the settings
# table has exactly these two; a test keeps them in step).
SWITCH_ON = "--allow-insecure-http"
SWITCH_OFF = "--no-cache"
_FALSE = ("0", "false", "no", "off")
try:  # what os wraps, already loaded: importing os would cost most of the rest
    import posix
except ImportError:  # pragma: no cover - not POSIX: the full command answers every time
    posix = None  # type: ignore[assignment]
# The variables that can change what credential-process answers.
_KEY_VARIABLES = ("HOME", "XDG_CACHE_HOME")
_O_RDONLY = getattr(posix, "O_RDONLY", 0) | getattr(posix, "O_CLOEXEC", 0)
_S_IFMT, _S_IFREG, _S_IFDIR = 0o170000, 0o100000, 0o040000


def fast_key(argv, environ, digest):
    """The entry name for these flags, ``INFNMINIO_*`` variables and token content."""
    hashed = sha256()
    for word in argv:
        hashed.update(word.encode("utf-8", "surrogateescape") + b"\0")
    hashed.update(b"\1")
    for name in sorted(environ):
        if name.startswith("INFNMINIO_") or name in _KEY_VARIABLES:
            hashed.update(f"{name}={environ[name]}".encode("utf-8", "surrogateescape") + b"\0")
    hashed.update(b"\1" + digest.encode())
    return ENTRY_PREFIX + hashed.hexdigest()[:32]


def encode_entry(expires_at, payload):
    """An entry: the format, the expiry in epoch seconds, the bytes to print."""
    return ENTRY_FORMAT + b"\n" + str(int(expires_at)).encode() + b"\n" + payload


def decode_entry(data):
    """``(expires_at, payload)``, or None when ``data`` is not an entry."""
    parts = data.split(b"\n", 2)
    if len(parts) != 3 or parts[0] != ENTRY_FORMAT or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[2]


def _process_environment():
    """The variables a fast key reads, decoded as os.environ decodes them."""
    wanted = {}
    for name, value in posix.environ.items():
        if name.startswith(b"INFNMINIO_") or name in (b"HOME", b"XDG_CACHE_HOME"):
            wanted[name.decode("utf-8", "surrogateescape")] = value.decode(
                "utf-8", "surrogateescape"
            )
    return wanted


def _exists(path):
    try:
        posix.lstat(path)
    except OSError:
        return False
    return True


def _locations(argv, environ):
    """``(token file, cache directory)`` from the flags and variables, or None to hand over."""
    token_file = cache_dir = None
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == SWITCH_OFF or not word.startswith("--"):
            return None  # no cache, -v, -h or something only the full command knows
        if word != SWITCH_ON:
            flag, equals, value = word.partition("=")
            if not equals:
                if index + 1 >= len(argv):
                    return None
                index += 1
                value = argv[index]
            if flag == "--token-file":
                token_file = value
            elif flag == "--cache-dir":
                cache_dir = value
        index += 1
    if (environ.get("INFNMINIO_CACHE") or "").strip().lower() in _FALSE:
        return None
    if token_file is None:
        token_file = (environ.get("INFNMINIO_TOKEN_FILE") or "").strip() or None
    if token_file is None:
        token_file = next((p for p in default_token_files(environ) if _exists(p)), None)
        if token_file is None:
            return None
    if cache_dir is None:
        cache_dir = (environ.get("INFNMINIO_CACHE_DIR") or "").strip() or None
    if cache_dir is None:
        cache_dir = default_cache_dir(environ)
    return expand_user(token_file, environ), expand_user(cache_dir, environ)


def _read(path, *, private):
    """At most MAX_BYTES + 1 bytes of a regular file; with ``private``, only of a file
    of this user's that others cannot write and that is not a symlink, else None."""
    flags = _O_RDONLY | (posix.O_NOFOLLOW if private else 0)
    fd = posix.open(path, flags)
    try:
        info = posix.fstat(fd)
        if info.st_mode & _S_IFMT != _S_IFREG:
            return None
        if private and (info.st_uid != posix.getuid() or info.st_mode & 0o022):
            return None
        return posix.read(fd, MAX_BYTES + 1)
    finally:
        posix.close(fd)


def answer(argv, environ=None):
    """The bytes to print for ``credential-process ARGV``, or None to hand over."""
    if posix is None:
        return None
    environ = _process_environment() if environ is None else environ
    try:
        located = _locations(argv, environ)
        if located is None:
            return None
        token_file, cache_dir = located
        content = _read(token_file, private=False)
        if not content or not content.strip() or len(content) > MAX_BYTES:
            return None
        directory = posix.lstat(cache_dir)
        if directory.st_mode & _S_IFMT != _S_IFDIR or directory.st_uid != posix.getuid():
            return None  # a symlink, or another user's: the full command says why
        name = fast_key(argv, environ, token_digest(content))
        data = _read(join(cache_dir, name), private=True)
        entry = decode_entry(data) if data and len(data) <= MAX_BYTES else None
    except (OSError, ValueError):
        return None
    if entry is None or entry[0] - time.time() <= SDK_FRESH_SECONDS:
        return None
    return entry[1]


def main():
    argv = sys.argv[1:]
    payload = answer(argv)
    if payload is None:
        python = sys.executable or "python3"
        # The same flags to the full command, as an argument list (no shell).
        posix.execv(python, [python, "-m", "infnminio_boto", "credential-process", *argv])
    view = memoryview(payload)
    while view:
        view = view[posix.write(1, view) :]
    return 0


if __name__ == "__main__":
    sys.exit(main())
