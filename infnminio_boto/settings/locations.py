"""Where things live by default: the home directory and the cache directory.

Builtin modules only (no ``os``, no package import): the fast ``credential_process``
(:mod:`infnminio_boto.keys.fastpath`) runs this module by path, outside the
package, and the settings import it inside the package: one copy of each rule.
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


def default_token_files(environ):
    """The token files tried, in order, when none is configured."""
    # /home/.token is where sts-wire writes it on INFN's JupyterHub.
    return tuple(dict.fromkeys((join(home(environ), ".token"), "/home/.token")))
