"""Finding the token: the documented order of the places tried, and what identifies a source.

Builtin modules only (no ``os``, ``re`` or ``hashlib``, no package import): the fast
``credential_process`` (:mod:`infnminio_boto.keys.fastpath`) runs this module by path,
outside the package, and the token sources import it inside the package, so the order
and the ownership rule are written once.

The order (README, "Where the token comes from"):

1. an explicit setting: ``token_file``, ``token_command`` or ``oidc_agent_account`` (an
   argument or flag first, then the ``INFNMINIO_*`` variables; two at one level are an
   error) -- the settings' rule, ``settings/hot_path.py``'s ``explicit``;
2. ``BEARER_TOKEN``: the token itself (WLCG Bearer Token Discovery);
3. ``BEARER_TOKEN_FILE``: the file it names (WLCG; set but missing is an error, not a
   reason to look further: the environment chose that file);
4. ``$_CONDOR_CREDS/*.use``: the token HTCondor's credential monitor keeps fresh in a
   running job (one file: taken; several: an error naming them);
5. sts-wire's files: ``$HOME/.token``, then ``/home/.token`` (INFN's JupyterHub);
6. ``$XDG_RUNTIME_DIR/bt_u<euid>`` (WLCG);
7. ``/tmp/bt_u<euid>`` (WLCG).

A file found in steps 4 to 7 was not named by anyone: it is used only when it is a
regular file that belongs to this user (or to root, who can act as any user anyway) and
that nobody else can write, in a folder nobody else can replace it in (a sticky folder
such as /tmp counts as safe). Anything else is skipped, with the reason, so that a
``/tmp/bt_u<uid>`` planted by another account is never sent.
"""

import sys

try:  # what os wraps, already loaded: importing os would cost most of a fast answer
    import posix
except ImportError:  # pragma: no cover - not POSIX: only explicit settings work
    posix = None  # type: ignore[assignment]

try:  # inside the package
    from ..settings.hot_path import home, join
except ImportError:  # run by path by fast_credential_process.py, outside the package
    from hot_path import home, join  # type: ignore[import-not-found,no-redef]

# The variables the order reads (BEARER_TOKEN's value is a secret: only its digest is
# ever used as a key).
VARIABLES = ("BEARER_TOKEN", "BEARER_TOKEN_FILE", "_CONDOR_CREDS", "HOME", "XDG_RUNTIME_DIR")
_S_IFMT, _S_IFREG, _S_IFDIR, _S_IFLNK = 0o170000, 0o100000, 0o040000, 0o120000
_S_ISVTX = 0o1000


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
    """What names a command or oidc-agent source in a fast key, without running it.

    The command line (``where``: its words joined by NUL) or the account with the agent's
    socket (another agent, another identity possibly).
    """
    if kind == "oidc-agent":
        material = "oidc-agent\0" + where + "\0" + (environ.get("OIDC_SOCK") or "")
    else:
        material = kind + "\0" + where
        program = where.split()[0] if where.split() else ""
        if "/" in program and not program.startswith(("/", "~")):
            # ./get-token in another folder is another command
            material += "\0" + posix.getcwd()
    return sha256(material.encode("utf-8", "surrogateescape")).hexdigest()


def _lstat(path):
    try:
        return posix.lstat(path)
    except OSError:
        return None


def unsafe_reason(path, euid=None):
    """Why a file nobody named may not be used (None: it may).

    Checked on the file (and the target of a symlink that this user owns) and on its
    folder, with the user's effective uid.
    """
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
    parent = _lstat(folder)
    if parent is None:
        return "its folder cannot be read"
    if parent.st_mode & 0o022 and not parent.st_mode & _S_ISVTX:
        return f"others can replace it in {folder}"
    return None


def _condor_credentials(folder):
    """The ``*.use`` files of HTCondor's credentials folder, sorted."""
    try:
        names = posix.listdir(folder)
    except OSError:
        return None
    return sorted(join(folder, name) for name in names if name.endswith(".use"))


def locate(environ, euid=None):
    """The first place of the order (after the explicit settings) that holds a token.

    Returns ``(choice, tried)``: ``choice`` is ``(kind, where, why)`` with ``kind``
    ``"variable"`` (``where``: the variable's name) or ``"file"`` (``where``: the path),
    ``("several", paths, why)`` for HTCondor folders holding more than one token, or
    None; ``tried`` lists ``(place, what was found)`` for every place looked at.
    """
    if posix is None:  # pragma: no cover - not POSIX
        return None, (("the discovery order", "needs a POSIX system"),)
    euid = posix.geteuid() if euid is None else euid
    tried = []
    if (environ.get("BEARER_TOKEN") or "").strip():
        return ("variable", "BEARER_TOKEN", "the BEARER_TOKEN variable"), tried
    tried.append(("BEARER_TOKEN", "not set"))
    named = (environ.get("BEARER_TOKEN_FILE") or "").strip()
    if named:
        return ("file", named, "named by BEARER_TOKEN_FILE"), tried
    tried.append(("BEARER_TOKEN_FILE", "not set"))
    condor = (environ.get("_CONDOR_CREDS") or "").strip()
    if condor:
        found = _condor_credentials(condor)
        if found is None:
            tried.append((f"$_CONDOR_CREDS ({condor})", "not a readable folder"))
        elif len(found) > 1:
            return ("several", tuple(found), "HTCondor's credentials ($_CONDOR_CREDS)"), tried
        elif not found:
            tried.append((f"$_CONDOR_CREDS ({condor})", "holds no .use file"))
        else:
            reason = unsafe_reason(found[0], euid)
            if reason is None:
                return ("file", found[0], "HTCondor's credentials ($_CONDOR_CREDS)"), tried
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
            return ("file", path, why), tried
        tried.append((path, reason if reason == "no such file" else f"skipped: {reason}"))
    return None, tried
