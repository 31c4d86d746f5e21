"""The rules the fast ``credential_process`` shares with the library: :data:`KINDS`, the
one table of token sources (read by the settings, ``sources.select``, the fast path,
``status``/``doctor`` and the messages), and the home and cache folders. Builtin modules
only: the fast path runs this module by path. A new source is a module in ``sources/``
and a row here (docs/design.md, "Extension points").
"""

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


class Kind:
    """One kind of token source: ``name`` (``OidcToken.kind``); ``setting``, the keyword
    naming it (None: only the discovery order finds it); ``value``, how it is read
    (``path``, ``argv``, ``text``; ``function``: only code can give it, so only this process
    can read it: ``here_only``); ``source``, ``module:Class`` in ``sources``; ``fast``, how
    the fast path names the token (READ_FILE, READ_VARIABLE: ``reads_content``; NAME_SOURCE;
    ``""``: never answered there); ``keyed_on``, variables that make it another source;
    ``expired``, advice for an expired token; ``anyone``: anyone may have put the token
    there (the cache keys it on the token itself); its ``variable`` and ``flag``."""

    __slots__ = ("anyone", "expired", "fast", "flag", "here_only", "keyed_on", "name",
                 "reads_content", "setting", "source", "value", "variable")

    def __init__(self, name, setting, value, source, fast, keyed_on, expired, anyone=False):
        self.name, self.setting, self.value, self.source = name, setting, value, source
        self.fast, self.keyed_on, self.expired, self.anyone = fast, keyed_on, expired, anyone
        self.here_only = value == "function"
        given = setting is not None and not self.here_only
        self.variable = "INFNMINIO_" + setting.upper() if given else None
        self.flag = "--" + setting.replace("_", "-") if given else None
        self.reads_content = fast in (READ_FILE, READ_VARIABLE)


# The kind of a token given in code (the old InfnMinio API takes one).
GIVEN_IN_CODE = "argument"
READ_FILE, READ_VARIABLE, NAME_SOURCE = "read-file", "read-variable", "name-source"
_REFRESHER = (
    "Whatever refreshes it (sts-wire, oidc-agent, HTCondor's credential monitor) may not be "
    "running: restart it (or write a fresh token with oidc-token), then retry."
)
KINDS = (
    Kind("file", "token_file", "path", "file:FileSource", READ_FILE, (), _REFRESHER),
    Kind("command", "token_command", "argv", "command:CommandSource", NAME_SOURCE, (),
         "It must print a token valid for a while: check what it prints by running it."),
    Kind("oidc-agent", "oidc_agent_account", "text", "oidc_agent:OidcAgentSource", NAME_SOURCE,
         ("OIDC_SOCK",),
         "oidc-agent hands out fresh tokens: check the account with oidc-token there."),
    Kind("loader", "token_loader", "function", "loader:LoaderSource", "", (),
         "The callable must return a token valid for a while."),
    Kind("variable", None, None, "value:VariableSource", READ_VARIABLE, (),
         "Set a fresh token in it."),
    Kind(GIVEN_IN_CODE, None, None, "value:TextSource", "", (), "Give a fresh token.",
         anyone=True),
)
BY_NAME = {kind.name: kind for kind in KINDS}
# The kinds a setting names, in the order the settings table lists them.
NAMED = tuple(kind for kind in KINDS if kind.setting is not None)
BY_SETTING = {kind.setting: kind for kind in NAMED}
# What :func:`explicit` gives for two settings at one level (an error the full path words).
CONFLICT = "conflict"


def explicit(given, environ):
    """The explicit token setting in force: ``(kind, value, setting, level)`` or None.
    ``given``: the settings given as arguments or flags, raw; ``level``: ``"argument"`` or
    ``"environment"``. Two at one level: ``(CONFLICT, (their settings), None, level)``."""
    for level in ("argument", "environment"):
        chosen = []
        for kind in NAMED:
            if level == "argument":
                value = given.get(kind.setting)
            else:
                value = kind.variable and (environ.get(kind.variable) or "").strip()
            if value:
                chosen.append((kind.name, value, kind.setting, level))
        if len(chosen) > 1:
            return CONFLICT, tuple(setting for _, _, setting, _ in chosen), None, level
        if chosen:
            return chosen[0]
    return None
