"""The settings rules the fast ``credential_process`` shares: the home and cache
directories, and which explicit token setting is in force.

Builtin modules only (no ``os``, no package import): the fast ``credential_process``
(:mod:`infnminio_boto.keys.fastpath`) runs this module by path, outside the package,
and the settings import it inside the package: one copy of each rule.
"""

try:  # what os wraps, already loaded: importing os would cost most of a fast answer
    import posix
except ImportError:  # pragma: no cover - not POSIX
    posix = None  # type: ignore[assignment]


def home(environ):
    """``$HOME``, else the password database's home, as ``os.path.expanduser`` does."""
    value = environ.get("HOME")
    if value:
        return value
    import os

    return os.path.expanduser("~")


def join(directory, *names):
    """``os.path.join`` for absolute names without the os module."""
    return directory.rstrip("/") + "/" + "/".join(names)


def expand_user(path, environ):
    """``~/x`` under ``$HOME``, as ``os.path.expanduser`` does when HOME is set."""
    if path == "~" or path.startswith("~/"):
        return (home(environ).rstrip("/") + path[1:]) or "/"
    if path.startswith("~"):
        import os  # ~user: the password database

        return os.path.expanduser(path)
    return path


def default_cache_dir(environ):
    """``$XDG_CACHE_HOME/infnminio-boto``, else ``~/.cache/infnminio-boto``."""
    xdg = (environ.get("XDG_CACHE_HOME") or "").strip()
    if xdg:
        return join(xdg, "infnminio-boto")
    return join(home(environ), ".cache", "infnminio-boto")


EXPLICIT = (
    ("token_file", "file"),
    ("token_command", "command"),
    ("oidc_agent_account", "oidc-agent"),
)
# The kind :func:`explicit` gives two settings at one level (an error the full path words).
CONFLICT = "conflict"


def explicit(given, environ):
    """The explicit token setting in force: ``(kind, value, setting, level)`` or None.

    ``given`` maps the settings given as arguments or flags (names from ``EXPLICIT``) to
    their raw values; ``level`` is ``"argument"`` or ``"environment"``. Two at the same
    level give ``(CONFLICT, (their names), None, level)``.
    """
    for level, values in (("argument", given), ("environment", None)):
        chosen = []
        for name, kind in EXPLICIT:
            if values is not None:
                value = values.get(name)
            else:
                value = (environ.get("INFNMINIO_" + name.upper()) or "").strip() or None
            if value:
                chosen.append((kind, value, name, level))
        if len(chosen) > 1:
            return CONFLICT, tuple(name for _, _, name, _ in chosen), None, level
        if chosen:
            return chosen[0]
    return None
