"""``credential-process`` answered from the cache at the cost of an interpreter start.

The profile ``configure`` writes runs this module isolated from site-packages, through
the few-line ``fast_credential_process.py``. Builtin modules only: it finds the token's
source by the rules the full command uses (:mod:`~infnminio_boto.settings.hot_path`,
:mod:`~infnminio_boto.sources.discovery`), names the token as its row says, and prints
the *fast entry* the full command left in the cache when it is a private file of this
user's, for these flags, variables and token, and still fresh. Anything else hands over
to the full command, isolated; nothing is ever sent from here (docs/design.md,
"credential_process at the cost of an interpreter start").
"""

import sys
import time

try:  # inside the package
    from ..settings.hot_path import (
        BY_NAME,
        CONFLICT,
        KINDS,
        NAME_SOURCE,
        NAMED,
        READ_FILE,
        READ_VARIABLE,
        default_cache_dir,
        expand_user,
        explicit,
        join,
    )
    from ..sources.discovery import VARIABLES as DISCOVERY_VARIABLES
    from ..sources.discovery import locate as discover
    from ..sources.discovery import sha256, source_identity, token_digest
except ImportError:  # run by path by fast_credential_process.py, outside the package
    from discovery import VARIABLES as DISCOVERY_VARIABLES  # type: ignore[import-not-found,no-redef]
    from discovery import locate as discover  # type: ignore[import-not-found,no-redef]
    from discovery import sha256, source_identity, token_digest  # type: ignore[import-not-found,no-redef]
    from hot_path import (  # type: ignore[import-not-found,no-redef]
        BY_NAME,
        CONFLICT,
        KINDS,
        NAME_SOURCE,
        NAMED,
        READ_FILE,
        READ_VARIABLE,
        default_cache_dir,
        expand_user,
        explicit,
        join,
    )


ENTRY_FORMAT = b"2"
ENTRY_PREFIX = "fast-"
MAX_BYTES = 64 * 1024
# The switches of credential-process: every other flag takes a value (the settings
# table has exactly these two; a test keeps them in step).
SWITCH_ON = "--allow-insecure-http"
SWITCH_OFF = "--no-cache"
_FALSE = ("0", "false", "no", "off")
try:  # what os wraps, already loaded: importing os would cost most of the rest
    import posix
except ImportError:  # pragma: no cover - not POSIX: the full command answers every time
    posix = None  # type: ignore[assignment]
# The variables that can change what credential-process answers, besides INFNMINIO_*
# (BEARER_TOKEN, a secret, counts through its content's digest only).
_KEY_VARIABLES = (
    "XDG_CACHE_HOME",
    *(name for kind in KINDS for name in kind.keyed_on),
    *(name for name in DISCOVERY_VARIABLES if name != "BEARER_TOKEN"),
)
READ_VARIABLES = (*_KEY_VARIABLES, "BEARER_TOKEN")
_O_RDONLY = (
    getattr(posix, "O_RDONLY", 0)
    | getattr(posix, "O_CLOEXEC", 0)
    | getattr(posix, "O_NONBLOCK", 0)  # a FIFO must not block the open
)
_S_IFMT, _S_IFREG, _S_IFDIR = 0o170000, 0o100000, 0o040000
# The flags that say where the token comes from, and their settings' names.
_TOKEN_FLAGS = {kind.flag: kind.setting for kind in NAMED if kind.flag}


def fast_key(argv, environ, digest, policy_digest=None):
    """The entry name for these flags, variables and token (``digest``: see :func:`identity`).

    ``policy_digest`` is the SHA-256 (hex) of the policy file's bytes when the session
    policy in force is ``@FILE`` (see :func:`policy_file`): the flags and variables name
    the file, not what it says.
    """
    hashed = sha256()
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
    """The file named by the session policy in force when it is ``@FILE``, else None.

    The last ``--policy`` flag wins over ``INFNMINIO_POLICY``, as in the full command;
    the path is as given (``~`` expanded; relative to the current directory).
    """
    value = None
    for index, word in enumerate(argv):
        if word == "--policy" and index + 1 < len(argv):
            value = argv[index + 1]
        elif word.startswith("--policy="):
            value = word[len("--policy=") :]
    if value is None:
        value = environ.get("INFNMINIO_POLICY") or ""
    value = value.strip()
    if not value.startswith("@"):
        return None
    return expand_user(value[1:].strip(), environ)


def encode_entry(fresh_until, expires_at, payload):
    """An entry: the format, until when to hand it out and when the keys expire (epoch
    seconds), and the bytes to print."""
    return (
        ENTRY_FORMAT
        + b"\n"
        + str(int(fresh_until)).encode()
        + b"\n"
        + str(int(expires_at)).encode()
        + b"\n"
        + payload
    )


def decode_entry(data):
    """``(fresh_until, expires_at, payload)``, or None when ``data`` is not an entry."""
    parts = data.split(b"\n", 3)
    if len(parts) != 4 or parts[0] != ENTRY_FORMAT:
        return None
    if not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    return int(parts[1]), int(parts[2]), parts[3]


def _process_environment():
    """The variables the fast path reads, decoded as os.environ decodes them."""
    wanted = {}
    for name, value in posix.environ.items():
        text = name.decode("utf-8", "surrogateescape")
        if text.startswith("INFNMINIO_") or text in READ_VARIABLES:
            wanted[text] = value.decode("utf-8", "surrogateescape")
    return wanted


def locate(argv, environ):
    """``(kind, where, cache directory)`` for these flags and variables, or None to hand over.

    ``kind`` names a row of the token kinds' table, ``where`` is the setting's text (a
    path, a variable's name, a command line, an account): the full command's choice.
    """
    given = {}
    cache_dir = None
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
            if flag in _TOKEN_FLAGS:
                given[_TOKEN_FLAGS[flag]] = value
            elif flag == "--cache-dir":
                cache_dir = value
        index += 1
    if (environ.get("INFNMINIO_CACHE") or "").strip().lower() in _FALSE:
        return None
    chosen = explicit(given, environ)
    if chosen is not None:
        kind, where = chosen[0], chosen[1]
        if kind == CONFLICT:
            return None  # the full command says which two
        if BY_NAME[kind].fast == READ_FILE:
            where = expand_user(where, environ)
    else:
        found, _ = discover(environ)
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
        return token_digest(content)
    return source_identity(kind, where, environ)


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


def answer(argv, environ=None, now=None):
    """The bytes to print for ``credential-process ARGV``, or None to hand over."""
    if posix is None:
        return None
    environ = _process_environment() if environ is None else environ
    try:
        located = locate(argv, environ)
        if located is None:
            return None
        kind, where, cache_dir = located
        fast, content = BY_NAME[kind].fast, None
        if not fast:
            return None  # a source only the full command can read
        if fast == READ_FILE:
            content = _read(where, private=False)
        elif fast == READ_VARIABLE:
            content = environ.get(where, "").encode("utf-8", "surrogateescape")
        if fast != NAME_SOURCE and (not content or not content.strip() or len(content) > MAX_BYTES):
            return None
        directory = posix.lstat(cache_dir)
        if (
            directory.st_mode & _S_IFMT != _S_IFDIR
            or directory.st_uid != posix.getuid()
            or directory.st_mode & 0o077
        ):
            return None  # a symlink, another user's, open to others: the full command says why
        policy = policy_file(argv, environ)
        policy_digest = None
        if policy is not None:
            policy_bytes = _read(policy, private=False)
            if policy_bytes is None or len(policy_bytes) > MAX_BYTES:
                return None  # the full command says what is wrong with it
            policy_digest = sha256(policy_bytes).hexdigest()
        name = fast_key(argv, environ, identity(kind, where, environ, content), policy_digest)
        data = _read(join(cache_dir, name), private=True)
        entry = decode_entry(data) if data and len(data) <= MAX_BYTES else None
    except (OSError, ValueError):
        return None
    if entry is None or entry[0] <= (time.time() if now is None else now):
        return None
    return entry[2]


# The PYTHON* variables a process we start keeps: where the user's own site-packages
# are (a `pip install --user` of this package) and how text is encoded. The others
# (PYTHONPATH, PYTHONHOME, PYTHONSTARTUP, PYTHONINSPECT...) would make it import or run
# something other than the installed package, or wait for a terminal.
KEPT_PYTHON_VARIABLES = (
    "PYTHONUSERBASE",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPYCACHEPREFIX",
)
# -c puts the caller's directory first on sys.path, after site has run: it goes before
# anything is imported, and the module runs as `python -m` would run it.
_RUN_MODULE = (
    "import sys; del sys.path[0]; import runpy; "
    "runpy.run_module({!r}, run_name='__main__', alter_sys=True)"
)


def isolated(python, module, args, environ):
    """``(argv, environment)`` running ``module`` of the installed package with ``args``.

    Nothing from the caller's directory or ``PYTHONPATH`` is imported (``python -I`` would
    do that too, but it also hides the user's site-packages, where ``pip install --user``
    puts the package); the user's site and the rest of ``environ`` are kept.
    """
    kept = {
        name: value
        for name, value in environ.items()
        if not name.startswith("PYTHON") or name in KEPT_PYTHON_VARIABLES
    }
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
        environ = {
            name.decode("utf-8", "surrogateescape"): value.decode("utf-8", "surrogateescape")
            for name, value in posix.environ.items()
        }
        command, kept = isolated(python, "infnminio_boto", ["credential-process", *argv], environ)
        posix.execve(python, command, kept)
    view = memoryview(payload)
    while view:
        view = view[posix.write(1, view) :]
    return 0


if __name__ == "__main__":
    sys.exit(main())
