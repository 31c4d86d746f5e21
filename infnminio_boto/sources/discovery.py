"""Finding the token when no setting names its source: the order of the places tried, and
the rule for a file nobody named (docs/tokens.md). Builtin modules only: the fast
``credential_process`` runs this module by path, so both are written once.
"""

import sys

try:  # what os wraps, already loaded: importing os would cost most of a fast answer
    import posix
except ImportError:  # pragma: no cover - not POSIX: only explicit settings work
    posix = None  # type: ignore[assignment]

try:  # inside the package
    from ..settings.hot_path import BY_NAME, home, join
except ImportError:  # run by path by fast_credential_process.py, outside the package
    from hot_path import BY_NAME, home, join  # type: ignore[import-not-found,no-redef]

# The variables the order reads (BEARER_TOKEN's value is a secret: only its digest keys).
VARIABLES = ("BEARER_TOKEN", "BEARER_TOKEN_FILE", "_CONDOR_CREDS", "HOME", "XDG_RUNTIME_DIR")
_S_IFMT, _S_IFREG, _S_IFDIR, _S_IFLNK = 0o170000, 0o100000, 0o040000, 0o120000
_S_ISVTX = 0o1000
# What locate() finds: the kinds of the token kinds' table, or several tokens at once.
FILE, VARIABLE, SEVERAL = BY_NAME["file"].name, BY_NAME["variable"].name, "several"


def sha256(data=b""):
    """The builtin SHA-256 (hashlib would load OpenSSL), imported on first use."""
    if sys.version_info >= (3, 12):
        from _sha2 import sha256 as builtin  # type: ignore[import-not-found]
    else:  # pragma: no cover - depends on the Python version
        from _sha256 import sha256 as builtin  # type: ignore[import-not-found]
    return builtin(data)


def token_digest(content):
    """What identifies a token's content in a fast key (its stripped bytes)."""
    return sha256(content.strip()).hexdigest()


def source_identity(kind, where, environ):
    """What names a source not read here (a command, an agent) in a fast key: ``where``,
    the variables its row is keyed on and, for a program named relative, the folder."""
    material = "\0".join([kind, where, *(environ.get(n) or "" for n in BY_NAME[kind].keyed_on)])
    program = where.split()[0] if where.split() else ""
    if "/" in program and not program.startswith(("/", "~")):
        material += "\0" + posix.getcwd()  # ./get-token in another folder: another one
    return sha256(material.encode("utf-8", "surrogateescape")).hexdigest()


def _lstat(path):
    try:
        return posix.lstat(path)
    except OSError:
        return None


def unsafe_reason(path, euid=None):
    """Why a file nobody named may not be used (None: it may): checked with the effective
    uid on the file (a symlink's target when this user owns it) and on its folder."""
    euid = posix.geteuid() if euid is None else euid
    trusted = (euid, 0)
    info = _lstat(path)
    if info is None:
        return "no such file"
    if info.st_mode & _S_IFMT == _S_IFLNK:
        if info.st_uid not in trusted:
            return "a symlink that belongs to another account"
        try:
            info = posix.stat(path)
        except OSError:
            return "a symlink to nothing"
    if info.st_mode & _S_IFMT != _S_IFREG:
        return "not a regular file"
    if info.st_uid not in trusted:
        return f"it belongs to another account (uid {info.st_uid})"
    if info.st_mode & 0o022:
        return "others can write it"
    folder = path.rpartition("/")[0] or "/"
    link = _lstat(folder)
    if link is not None and link.st_mode & _S_IFMT == _S_IFLNK:
        if link.st_uid not in trusted:  # whoever owns the link decides where it points
            return f"{folder} is a symlink that belongs to another account"
        try:
            link = posix.stat(folder)  # a $HOME or /tmp that is a link: judge its target
        except OSError:
            link = None
    if link is None:
        return "its folder cannot be read"
    sticky = link.st_mode & _S_ISVTX
    if link.st_uid not in trusted and link.st_mode & _S_IFMT == _S_IFDIR and not sticky:
        return f"{folder} belongs to another account (uid {link.st_uid})"
    if link.st_mode & 0o022 and not sticky:
        return f"others can replace it in {folder}"
    return None


def locate(environ, euid=None):
    """The first place of the order (after the explicit settings) that holds a token:
    ``(choice, tried)``; ``choice`` is ``(kind, where, why)`` (``"variable"`` and its name,
    ``"file"`` and its path, or ``"several"`` and HTCondor's paths) or None; ``tried``
    lists ``(place, what was found)`` for every place looked at."""
    if posix is None:  # pragma: no cover - not POSIX
        return None, (("the discovery order", "needs a POSIX system"),)
    euid = posix.geteuid() if euid is None else euid
    tried = []
    if (environ.get("BEARER_TOKEN") or "").strip():
        return (VARIABLE, "BEARER_TOKEN", "the BEARER_TOKEN variable"), tried
    tried.append(("BEARER_TOKEN", "not set"))
    named = (environ.get("BEARER_TOKEN_FILE") or "").strip()
    if named:
        return (FILE, named, "named by BEARER_TOKEN_FILE"), tried
    tried.append(("BEARER_TOKEN_FILE", "not set"))
    condor = (environ.get("_CONDOR_CREDS") or "").strip()
    if condor:
        try:
            found = sorted(join(condor, n) for n in posix.listdir(condor) if n.endswith(".use"))
        except OSError:
            found = None
        if found is None:
            tried.append((f"$_CONDOR_CREDS ({condor})", "not a readable folder"))
        elif len(found) > 1:
            return (SEVERAL, tuple(found), "HTCondor's credentials ($_CONDOR_CREDS)"), tried
        elif not found:
            tried.append((f"$_CONDOR_CREDS ({condor})", "holds no .use file"))
        else:
            reason = unsafe_reason(found[0], euid)
            if reason is None:
                return (FILE, found[0], "HTCondor's credentials ($_CONDOR_CREDS)"), tried
            tried.append((found[0], f"skipped: {reason}"))
    else:
        tried.append(("$_CONDOR_CREDS", "not set"))
    places = [
        (join(home(environ), ".token"), "sts-wire's file in $HOME"),
        ("/home/.token", "sts-wire's file on INFN's JupyterHub"),
    ]
    runtime = (environ.get("XDG_RUNTIME_DIR") or "").strip()
    if runtime:
        places.append((join(runtime, f"bt_u{euid}"), "WLCG's file in $XDG_RUNTIME_DIR"))
    else:
        tried.append((f"$XDG_RUNTIME_DIR/bt_u{euid}", "XDG_RUNTIME_DIR not set"))
    places.append((f"/tmp/bt_u{euid}", "WLCG's file in /tmp"))  # noqa: S108 - the standard's
    seen = set()
    for path, why in places:
        if path in seen:
            continue
        seen.add(path)
        reason = unsafe_reason(path, euid)
        if reason is None:
            return (FILE, path, why), tried
        tried.append((path, reason if reason == "no such file" else f"skipped: {reason}"))
    return None, tried
