"""The rules the fast ``credential_process`` shares with the library: the table of token
sources, and the home and cache folders. Builtin modules only: the fast path runs this
module by path; the library imports it; one copy of each rule.

:data:`KINDS` is the one table of token sources: settings (which setting names a source,
how its value is read), :func:`~infnminio_boto.sources.select` (which class reads it), the
fast path (its flags, how it names the token without reading it), ``status``/``doctor``
and the messages all read it. A new source is a module in ``sources/`` and a row here
(docs/design.md, "Where a change goes").
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
    """One kind of token source.

    ``name``: the kind (``OidcToken.kind``); ``setting``: the keyword naming it (None:
    found by the discovery order only); ``value``: how the setting's value is read
    (``path``, ``argv``, ``text``; ``function`` for a keyword no variable or flag can
    give); ``source``: ``module:Class`` under ``infnminio_boto.sources``; ``fast``: how
    the fast path names the token: :data:`READ_FILE` (the bytes of the file named),
    :data:`READ_VARIABLE` (the bytes of the variable named), :data:`NAME_SOURCE` (the
    source itself, never run there) or ``""`` (never answered there); ``keyed_on``:
    variables that make it another source (another agent); ``words``: what messages
    call it; ``expired``: what to do when it hands out an expired token; ``anyone``: a
    token anyone may have put there (one given in code): the cache keys it on the token
    itself, not only on its identity claims.
    """

    __slots__ = (
        "anyone",
        "expired",
        "fast",
        "keyed_on",
        "name",
        "setting",
        "source",
        "value",
        "words",
    )

    def __init__(self, name, setting, value, source, fast, keyed_on, words, expired,
                 anyone=False):
        self.name, self.setting, self.value, self.source = name, setting, value, source
        self.fast, self.keyed_on, self.words, self.expired = fast, keyed_on, words, expired
        self.anyone = anyone

    @property
    def variable(self):
        """Its ``INFNMINIO_*`` variable (None for a keyword only code can give)."""
        if self.setting is None or self.value == "function":
            return None
        return "INFNMINIO_" + self.setting.upper()

    @property
    def reads_content(self):
        """Whether the fast path reads the token itself (a file's, a variable's bytes)."""
        return self.fast in (READ_FILE, READ_VARIABLE)

    @property
    def here_only(self):
        """Whether only this process can read it (code it was given): another process
        (credential_process, a Dask worker) cannot."""
        return self.value == "function"

    @property
    def flag(self):
        """Its command-line flag (None when no command can give it)."""
        return None if self.variable is None else "--" + self.setting.replace("_", "-")


# The kind of a token given in code (the old InfnMinio API takes one).
GIVEN_IN_CODE = "argument"
# How the fast path names a token (Kind.fast).
READ_FILE, READ_VARIABLE, NAME_SOURCE = "read-file", "read-variable", "name-source"
_REFRESHER = (
    "Whatever refreshes it (sts-wire, oidc-agent, HTCondor's credential monitor) may not be "
    "running: restart it (or write a fresh token with oidc-token), then retry."
)
KINDS = (
    Kind("file", "token_file", "path", "file:FileSource", READ_FILE, (), "the token file",
         _REFRESHER),
    Kind("command", "token_command", "argv", "command:CommandSource", NAME_SOURCE, (),
         "the token command",
         "It must print a token valid for a while: check what it prints by running it."),
    Kind("oidc-agent", "oidc_agent_account", "text", "oidc_agent:OidcAgentSource", NAME_SOURCE,
         ("OIDC_SOCK",), "oidc-agent's account",
         "oidc-agent hands out fresh tokens: check the account with oidc-token there."),
    Kind("loader", "token_loader", "function", "loader:LoaderSource", "", (),
         "the token_loader callable", "The callable must return a token valid for a while."),
    Kind("variable", None, None, "value:VariableSource", READ_VARIABLE, (),
         "the BEARER_TOKEN variable", "Set a fresh token in it."),
    Kind(GIVEN_IN_CODE, None, None, "value:TextSource", "", (), "a token given in code",
         "Give a fresh token.", anyone=True),
)
BY_NAME = {kind.name: kind for kind in KINDS}
# The kinds a setting names, in the order the settings table lists them.
NAMED = tuple(kind for kind in KINDS if kind.setting is not None)
BY_SETTING = {kind.setting: kind for kind in NAMED}
# What :func:`explicit` gives for two settings at one level (an error the full path words).
CONFLICT = "conflict"


def explicit(given, environ):
    """The explicit token setting in force: ``(kind, value, setting, level)`` or None.

    ``given`` maps the settings given as arguments or flags to their raw values;
    ``level`` is ``"argument"`` or ``"environment"``. Two at one level give
    ``(CONFLICT, (their settings), None, level)``.
    """
    for level in ("argument", "environment"):
        chosen = []
        for kind in NAMED:
            if level == "argument":
                value = given.get(kind.setting)
            elif kind.variable is not None:
                value = (environ.get(kind.variable) or "").strip() or None
            else:
                value = None
            if value:
                chosen.append((kind.name, value, kind.setting, level))
        if len(chosen) > 1:
            return CONFLICT, tuple(setting for _, _, setting, _ in chosen), None, level
        if chosen:
            return chosen[0]
    return None
