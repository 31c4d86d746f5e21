"""The one table of settings: entry points, flags, variables, defaults and docs derive from it
(docs/settings.md). Each row: keyword, how a value is read, typed default (None: "none"),
words for a default worked out (``default_words``), description. Variable: ``INFNMINIO_``
+ NAME; flag: ``--`` + the dashed name (``--no-``: a switch on by default). Plain data.
"""

from __future__ import annotations

from typing import NamedTuple, Union

Default = Union[str, int, float, bool, None]


class Row(NamedTuple):
    name: str
    kind: str
    default: Default
    default_words: str
    description: str


SETTINGS = (
    Row("endpoint", "endpoint", "rgw.cloud.infn.it", "",
        "object store: `host`, `host:port` or URL; https unless the URL says `http://`"),
    Row("server_kind", "server", None, "the preset's, else `generic`",
        "kind of STS server, for the rules only it has: `rgw` (Ceph RGW), `minio`, "
        "`generic` (any other AWS-compatible STS)"),
    Row("token_file", "path", None,
        "found as [Where the token comes from](tokens.md) says",
        "file holding the access token (raw JWT, or JSON with `access_token`)"),
    Row("token_command", "argv", None, "",
        "command printing the access token (raw, or JSON with `access_token`), split as a "
        "shell would and run without one, once per exchange: `oidc-token --aud object infncloud`"),
    Row("oidc_agent_account", "text", None, "",
        "oidc-agent account to ask for the token (the agent of `OIDC_SOCK`, through its "
        "`oidc-token`)"),
    Row("audience", "text", None, "from the preset (`object` for INFN's RGW)",
        "token audience the store accepts: asked of oidc-agent, and checked by `doctor`"),
    Row("role_arn", "text", None, "from the preset",
        'RoleArn to assume; `role_arn=""` (`--role-arn ""`) sends none'),
    Row("role_session_name", "text", None, "derived from the token's `sub`",
        "RoleSessionName (2-64 of `[A-Za-z0-9_=,.@-]`)"),
    Row("duration_seconds", "int", 3600, "",
        "lifetime asked for: 900 up to the role's MaxSessionDuration "
        "(RGW: 3600 unless raised, at most 43200)"),
    Row("policy", "policy", None, "",
        "session policy: the keys may do only what it and the role both allow: "
        "`read-only`, `read-only:BUCKET`, `bucket:BUCKET`, `prefix:BUCKET/PATH`, a JSON "
        "policy document, or `@FILE` holding one (see [Least privilege](least-privilege.md))"),
    Row("region", "text", "us-east-1", "", "S3 region name for signing"),
    Row("ca_bundle", "path", None, "botocore's CA bundle",
        "PEM file of certificate authorities to trust (for the STS and every client)"),
    Row("allow_insecure_http", "switch", False, "",
        "allow sending the token over plain http to a host that is not this machine"),
    Row("timeout", "seconds", 15.0, "", "STS read timeout in seconds (connect: at most 5)"),
    Row("max_attempts", "int", 3, "", "STS attempts on connection errors and 5xx (1 to 10)"),
    Row("cache", "switch", True, "",
        "share keys with your other processes through the on-disk cache "
        "(`0`, `--no-cache`: off)"),
    Row("cache_dir", "path", None,
        "`$XDG_CACHE_HOME/infnminio-boto` or `~/.cache/infnminio-boto`", "where the cache lives"),
)


def variable(name: str) -> str:
    """The environment variable of a setting."""
    return "INFNMINIO_" + name.upper()


def flag(name: str) -> str:
    """The command-line flag of a setting."""
    row = next((row for row in SETTINGS if row.name == name), None)
    on = row is not None and row.kind == "switch" and row.default is True
    return ("--no-" if on else "--") + name.replace("_", "-")


def default_text(row: Row) -> str:
    """The README's and ``--help``'s words for the default, from the typed value."""
    if row.default_words:
        return row.default_words
    if isinstance(row.default, bool):
        return "on" if row.default else "off"
    if row.default is None:
        return "none"
    if isinstance(row.default, float) and row.default.is_integer():
        return f"`{int(row.default)}`"
    return f"`{row.default}`"


def default_of(name: str) -> Default:
    """The typed default of ``name`` (what resolution uses when nothing is given)."""
    for row in SETTINGS:
        if row.name == name:
            return row.default
    raise KeyError(name)
