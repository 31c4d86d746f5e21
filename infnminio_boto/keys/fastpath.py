"""``credential-process`` answered from the cache at the cost of an interpreter start.

Run by path (``fast_credential_process.py``) with builtin modules only: it finds the
token's source by the full command's rules and prints the *fast entry* the full command
left in the cache when it is private, for these flags, variables and token, and fresh;
anything else hands over to the full command, isolated. Nothing is sent from here
(docs/design.md, "credential_process at the cost of an interpreter start").
"""

import sys
import time

try:  # inside the package
    from ..settings import hot_path
    from ..sources import discovery
except ImportError:  # run by path by fast_credential_process.py, outside the package
    import discovery  # type: ignore[import-not-found,no-redef]
    import hot_path  # type: ignore[import-not-found,no-redef]

BY_NAME, expand_user = hot_path.BY_NAME, hot_path.expand_user
default_cache_dir = hot_path.default_cache_dir
ENTRY_FORMAT = b"2"
ENTRY_PREFIX = "fast-"
MAX_BYTES = 64 * 1024
# The switches of credential-process: every other flag takes a value (a test checks).
SWITCH_ON = "--allow-insecure-http"
SWITCH_OFF = "--no-cache"
_FALSE = ("0", "false", "no", "off")
try:  # what os wraps, already loaded: importing os would cost most of the rest
    import posix
except ImportError:  # pragma: no cover - not POSIX: the full command answers every time
    posix = None  # type: ignore[assignment]
# The variables besides INFNMINIO_* that can change the answer (BEARER_TOKEN, a secret,
# counts through its content's digest only).
_KEY_VARIABLES = ("XDG_CACHE_HOME", *(name for kind in hot_path.KINDS for name in kind.keyed_on),
                  *(name for name in discovery.VARIABLES if name != "BEARER_TOKEN"))
READ_VARIABLES = (*_KEY_VARIABLES, "BEARER_TOKEN")
_O_RDONLY = (  # O_NONBLOCK: a FIFO must not block the open
    getattr(posix, "O_RDONLY", 0) | getattr(posix, "O_CLOEXEC", 0) | getattr(posix, "O_NONBLOCK", 0)
)
_S_IFMT, _S_IFREG, _S_IFDIR = 0o170000, 0o100000, 0o040000
# The flags that say where the token comes from, and their settings' names.
_TOKEN_FLAGS = {kind.flag: kind.setting for kind in hot_path.NAMED if kind.flag}


def fast_key(argv, environ, digest, policy_digest=None):
    """The entry name for these flags, variables and token (``digest``: see :func:`identity`);
    ``policy_digest``: SHA-256 (hex) of the policy file's bytes when the policy is ``@FILE``."""
    hashed = discovery.sha256()
    for word in argv:
        hashed.update(word.encode("utf-8", "surrogateescape") + b"\0")
    hashed.update(b"\1")
    for name in sorted(environ):
        if name.startswith("INFNMINIO_") or name in _KEY_VARIABLES:
            hashed.update(f"{name}={environ[name]}".encode("utf-8", "surrogateescape") + b"\0")
    hashed.update(b"\1" + digest.encode())
    if policy_digest is not None:
        hashed.update(b"\1policy=" + policy_digest.encode())
    return ENTRY_PREFIX + hashed.hexdigest()[:32]


def policy_file(argv, environ):
    """The file of the session policy in force when it is ``@FILE`` (the last ``--policy``
    wins over ``INFNMINIO_POLICY``; ``~`` expanded), else None."""
    value = None
    for index, word in enumerate(argv):
        if word == "--policy" and index + 1 < len(argv):
            value = argv[index + 1]
        elif word.startswith("--policy="):
            value = word[len("--policy=") :]
    value = ((environ.get("INFNMINIO_POLICY") or "") if value is None else value).strip()
    return expand_user(value[1:].strip(), environ) if value.startswith("@") else None


def encode_entry(fresh_until, expires_at, payload):
    """An entry: the format, until when to hand it out and when the keys expire (epoch
    seconds), and the bytes to print."""
    return b"\n".join([ENTRY_FORMAT, str(int(fresh_until)).encode(),
                       str(int(expires_at)).encode(), payload])


def decode_entry(data):
    """``(fresh_until, expires_at, payload)``, or None when ``data`` is not an entry."""
    parts = data.split(b"\n", 3)
    if len(parts) == 4 and parts[0] == ENTRY_FORMAT and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2]), parts[3]
    return None


def _environment(wanted=None):
    """The process's variables (those ``wanted`` says), decoded as os.environ decodes them."""
    decoded = {
        name.decode("utf-8", "surrogateescape"): value.decode("utf-8", "surrogateescape")
        for name, value in posix.environ.items()
    }
    return {name: value for name, value in decoded.items() if wanted is None or wanted(name)}


def locate(argv, environ):
    """``(kind, where, cache directory)`` as the full command would choose, or None to hand
    over (``kind``: a row of the token kinds' table; ``where``: the setting's text)."""
    given, cache_dir, words = {}, None, iter(argv)
    for word in words:
        if word == SWITCH_OFF or not word.startswith("--"):
            return None  # no cache, -v, -h or something only the full command knows
        if word == SWITCH_ON:
            continue
        flag, equals, value = word.partition("=")
        if not equals and (value := next(words, None)) is None:
            return None
        if flag in _TOKEN_FLAGS:
            given[_TOKEN_FLAGS[flag]] = value
        elif flag == "--cache-dir":
            cache_dir = value
    if (environ.get("INFNMINIO_CACHE") or "").strip().lower() in _FALSE:
        return None
    chosen = hot_path.explicit(given, environ)
    if chosen is not None:
        kind, where = chosen[0], chosen[1]
        if kind == hot_path.CONFLICT:
            return None  # the full command says which two
        if BY_NAME[kind].fast == hot_path.READ_FILE:
            where = expand_user(where, environ)
    else:
        found, _ = discovery.locate(environ)
        if found is None or found[0] not in BY_NAME:
            return None
        kind, where = found[0], found[1]
    if cache_dir is None:
        cache_dir = (environ.get("INFNMINIO_CACHE_DIR") or "").strip() or None
    if cache_dir is None:
        cache_dir = default_cache_dir(environ)
    return kind, where, expand_user(cache_dir, environ)


def identity(kind, where, environ, content=None):
    """What names the token in a fast key: the digest of its content where the row reads
    it here (``content``: the bytes read), else the source itself."""
    if BY_NAME[kind].reads_content:
        return discovery.token_digest(content)
    return discovery.source_identity(kind, where, environ)


def _read(path, *, private):
    """At most MAX_BYTES + 1 bytes of a regular file (with ``private``, not a symlink, of
    this user's, not writable by others), else None."""
    fd = posix.open(path, _O_RDONLY | (posix.O_NOFOLLOW if private else 0))
    try:
        info = posix.fstat(fd)
        if info.st_mode & _S_IFMT != _S_IFREG:
            return None
        if private and (info.st_uid != posix.getuid() or info.st_mode & 0o022):
            return None
        return posix.read(fd, MAX_BYTES + 1)
    finally:
        posix.close(fd)


def answer(argv, environ=None, now=None):
    """The bytes to print for ``credential-process ARGV``, or None to hand over."""
    if posix is None:
        return None
    if environ is None:
        environ = _environment(lambda name: name.startswith("INFNMINIO_") or name in READ_VARIABLES)
    try:
        located = locate(argv, environ)
        if located is None:
            return None
        kind, where, cache_dir = located
        fast, content = BY_NAME[kind].fast, None
        if not fast:
            return None  # a source only the full command can read
        if fast == hot_path.READ_FILE:
            content = _read(where, private=False)
        elif fast == hot_path.READ_VARIABLE:
            content = environ.get(where, "").encode("utf-8", "surrogateescape")
        if fast != hot_path.NAME_SOURCE and not (content and content.strip()
                                                 and len(content) <= MAX_BYTES):
            return None
        folder = posix.lstat(cache_dir)
        if (folder.st_mode & _S_IFMT != _S_IFDIR or folder.st_uid != posix.getuid()
                or folder.st_mode & 0o077):
            return None  # a symlink, another user's, open to others: the full command says why
        policy = policy_file(argv, environ)
        policy_digest = None
        if policy is not None:
            policy_bytes = _read(policy, private=False)
            if policy_bytes is None or len(policy_bytes) > MAX_BYTES:
                return None  # the full command says what is wrong with it
            policy_digest = discovery.sha256(policy_bytes).hexdigest()
        name = fast_key(argv, environ, identity(kind, where, environ, content), policy_digest)
        data = _read(hot_path.join(cache_dir, name), private=True)
        entry = decode_entry(data) if data and len(data) <= MAX_BYTES else None
    except (OSError, ValueError):
        return None
    if entry is None or entry[0] <= (time.time() if now is None else now):
        return None
    return entry[2]


# The PYTHON* variables a process we start keeps: the user's site-packages (a `pip install
# --user` of this package) and text encoding; the others (PYTHONPATH, PYTHONSTARTUP...)
# would make it run something other than the installed package, or wait for a terminal.
KEPT_PYTHON_VARIABLES = ("PYTHONUSERBASE", "PYTHONIOENCODING", "PYTHONUTF8",
                         "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
# -c puts the caller's directory first on sys.path, after site has run: it goes before
# anything is imported, and the module runs as `python -m` would run it.
_RUN_MODULE = ("import sys; del sys.path[0]; import runpy; "
               "runpy.run_module({!r}, run_name='__main__', alter_sys=True)")


def isolated(python, module, args, environ):
    """``(argv, environment)`` running ``module`` of the installed package with ``args``:
    nothing from the caller's directory or ``PYTHONPATH``, the user's site kept (``-I``
    would hide it, and ``pip install --user`` puts the package there)."""
    kept = {name: value for name, value in environ.items()
            if not name.startswith("PYTHON") or name in KEPT_PYTHON_VARIABLES}
    return [python, "-c", _RUN_MODULE.format(module), *args], kept


def main():
    argv = sys.argv[1:]
    payload = answer(argv)
    if payload is None:
        python = sys.executable
        if not python:
            sys.stderr.write("infnminio-boto: cannot tell which Python runs this\n")
            return 1
        # The same flags to the full command, as an argument list (no shell), isolated.
        args = ["credential-process", *argv]
        command, kept = isolated(python, "infnminio_boto", args, _environment())
        posix.execve(python, command, kept)
    view = memoryview(payload)
    while view:
        view = view[posix.write(1, view) :]
    return 0


if __name__ == "__main__":
    sys.exit(main())
