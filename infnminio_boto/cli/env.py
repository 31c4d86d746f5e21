"""``infnminio-boto env``: credentials and endpoint as environment variables.

For the AWS SDKs and CLI, s5cmd, rclone, OpenSSL and rustls tools, and mc; the keys do
not refresh. Each value is quoted by the chosen format's rules (:mod:`.shells`; docs/cli.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Dict
from urllib.parse import quote

from ..errors import ConfigurationError
from .common import add_settings_flags, configure_logging, settings_from_flags
from .shells import FORMATS, is_name, render

if TYPE_CHECKING:
    from ..settings import Settings
    from ..sts.temporary_credentials import TemporaryCredentials


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "env",
        help="print credentials and endpoint as environment variables (AWS, s5cmd, rclone, mc)",
        description='Print credentials as environment variables: eval "$(infnminio-boto env)". '
        "They do not refresh; the Expiration is included.",
    )
    add_settings_flags(parser)
    parser.add_argument("--format", choices=FORMATS, default="sh", help='sh: eval '
                        '"$(infnminio-boto env)"; fish: infnminio-boto env --format fish | '
                        "source; dotenv: set -a; . FILE (or python-dotenv, docker compose); json")
    parser.add_argument("--mc-alias", default="infn",
                        help="alias for MC_HOST_<alias> (mc): letters, digits and underscores")
    parser.set_defaults(handler=run)


def endpoint_variables(settings: Settings) -> Dict[str, str]:
    """Where the store is and how to reach it, for every tool: no secret among them."""
    from ..integrations.ca_trust import ssl_cert_file_variables
    from ..settings.aws_variables import variables_unless_chosen

    region, url = settings.region, settings.endpoint.url
    values = {"AWS_REGION": region, "AWS_DEFAULT_REGION": region, "AWS_ENDPOINT_URL_S3": url,
              "S3_ENDPOINT_URL": url,  # s5cmd
              "RCLONE_S3_PROVIDER": settings.server.rclone_provider, "RCLONE_S3_ENV_AUTH": "true",
              "RCLONE_S3_ENDPOINT": url, "RCLONE_S3_REGION": region}
    if settings.ca_bundle:
        ca = os.path.abspath(settings.ca_bundle)
        values.update(AWS_CA_BUNDLE=ca, RCLONE_CA_CERT=ca)  # s5cmd reads AWS_CA_BUNDLE
        # OpenSSL and rustls tools (curl, polars): the system's authorities and this one.
        values.update(ssl_cert_file_variables(settings))
    # Uploads Ceph RGW accepts, unless this shell already chose otherwise.
    values.update(variables_unless_chosen(os.environ))
    return values


def key_variables(settings: Settings, credentials: TemporaryCredentials,
                  mc_alias: str) -> Dict[str, str]:
    """The keys themselves, as the AWS tools and mc read them."""
    from ..sts.temporary_credentials import format_timestamp

    endpoint = settings.endpoint
    keys = (credentials.access_key, credentials.secret_key, credentials.token)
    userinfo = ":".join(quote(part, safe="") for part in keys)
    return {"AWS_ACCESS_KEY_ID": credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_key, "AWS_SESSION_TOKEN": credentials.token,
            "AWS_CREDENTIAL_EXPIRATION": format_timestamp(credentials.expiration),
            mc_host_name(mc_alias): f"{endpoint.scheme}://{userinfo}@{endpoint.netloc}"}


def mc_host_name(alias: str) -> str:
    """``MC_HOST_<alias>``; :class:`ConfigurationError` when that is no variable name."""
    name = f"MC_HOST_{alias}"
    if not alias or not is_name(name):
        raise ConfigurationError(f"--mc-alias {alias!r} cannot be part of the variable name "
                                 "MC_HOST_<alias>: use letters, digits and underscores only (mc "
                                 "reads MC_HOST_infn for --mc-alias infn).")
    return name


def run(args: argparse.Namespace) -> int:
    configure_logging(args.verbose)
    from ..keys.fetch import fetch_credentials
    from ..keys.timing import fresh_for_sdk
    from ..settings import Settings

    mc_host_name(args.mc_alias)  # before anything is asked of the STS
    settings = Settings.resolve(command_line=True, **settings_from_flags(args))
    credentials = fetch_credentials(settings, fresh_enough=fresh_for_sdk)
    values = {**key_variables(settings, credentials, args.mc_alias), **endpoint_variables(settings)}
    sys.stdout.write(render(values, args.format) + "\n")
    return 0
