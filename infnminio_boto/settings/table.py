"""The one table of settings: every entry point, flag, variable and document derives from it.

Each row is ``(name, kind, default, description)``: ``name`` is the keyword argument;
the environment variable is ``INFNMINIO_`` + the name in capitals; the command-line flag
is ``--`` + the name with dashes, except for the switches, whose flag sets the value
that is not the default (``--no-cache``, ``--allow-insecure-http``). ``kind`` says how
a value is read (``endpoint``, ``path``, ``text``, ``int``, ``seconds``, ``switch``);
``default`` and ``description`` are the words of the README's settings table and of
``--help``.

Plain data, no imports.
"""

SETTINGS = (
    (
        "endpoint",
        "endpoint",
        "`rgw.cloud.infn.it`",
        "object store: `host`, `host:port` or URL; https unless the URL says `http://`",
    ),
    (
        "token_file",
        "path",
        "`$HOME/.token`, then `/home/.token`",
        "file holding the access token (raw JWT, or JSON with `access_token`)",
    ),
    (
        "role_arn",
        "text",
        "from the preset",
        'RoleArn to assume; `role_arn=""` (`--role-arn ""`) sends none',
    ),
    (
        "role_session_name",
        "text",
        "derived from the token's `sub`",
        "RoleSessionName (2-64 of `[A-Za-z0-9_=,.@-]`)",
    ),
    (
        "duration_seconds",
        "int",
        "`3600`",
        "lifetime asked for: 900 up to the role's MaxSessionDuration "
        "(RGW: 3600 unless raised, at most 43200)",
    ),
    ("region", "text", "`us-east-1`", "S3 region name for signing"),
    (
        "ca_bundle",
        "path",
        "botocore's CA bundle",
        "PEM file of certificate authorities to trust (for the STS and every client)",
    ),
    (
        "allow_insecure_http",
        "switch",
        "off",
        "allow sending the token over plain http to a host that is not this machine",
    ),
    ("timeout", "seconds", "`15`", "STS read timeout in seconds (connect: at most 5)"),
    ("max_attempts", "int", "`3`", "STS attempts on connection errors and 5xx"),
    (
        "cache",
        "switch",
        "on",
        "share keys with your other processes through the on-disk cache "
        "(`0`, `--no-cache`: off)",
    ),
    (
        "cache_dir",
        "path",
        "`$XDG_CACHE_HOME/infnminio-boto` or `~/.cache/infnminio-boto`",
        "where the cache lives",
    ),
)

# The switches whose flag turns them on; every other switch is on by default and its
# flag (``--no-NAME``) turns it off.
OFF_BY_DEFAULT = ("allow_insecure_http",)


def variable(name):
    """The environment variable of a setting."""
    return "INFNMINIO_" + name.upper()


def flag(name):
    """The command-line flag of a setting."""
    dashed = name.replace("_", "-")
    for row in SETTINGS:
        if row[0] == name and row[1] == "switch" and name not in OFF_BY_DEFAULT:
            return "--no-" + dashed
    return "--" + dashed

