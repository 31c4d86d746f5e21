"""``infnminio-boto doctor``: check every link of the chain and say what to do where it breaks.

Each line is OK, WARN or FAIL; a FAIL stops only the checks that need what failed, and
the exit code is the first failure's. Nothing secret is printed (docs/troubleshooting.md).
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

from .common import EXIT_CONFIGURATION, EXIT_S3, EXIT_TRANSPORT, add_settings_flags, exit_code_for
from .report import Report, add_report_arguments, report_policy, report_token, start

if TYPE_CHECKING:
    from ..settings import Settings


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check every link (network, token, exchange, S3, cache) and say what to fix",
        description="Check every link of the chain: settings, network and TLS, token, STS "
        "exchange, credential lifetime, one S3 call and the cache; with --profile, what "
        "that AWS profile does. Exits non-zero when one fails.",
    )
    parser.add_argument("--profile", help="also check this AWS profile as the AWS CLI and SDKs "
                        "run it (its settings, when it runs infnminio-boto, are the ones checked)")
    add_report_arguments(parser, run)
    add_settings_flags(parser)


def run(args: argparse.Namespace) -> Report:
    import botocore.session

    from ..errors import InfnMinioError
    from ..integrations.botocore import missing_profile
    from ..sources.oidc_token import describe_age

    if getattr(args, "profile", None):
        _settings_of_profile(args)
    report, settings = start(args)
    if settings is None:
        return report
    origin = {name: settings.origin(name, command_line=True)
              for name in ("endpoint", "server_kind", "role_arn")}
    report.ok("endpoint", f"{settings.endpoint.url} (from {origin['endpoint']}; "
              f"{settings.server.title}, server {settings.server.name} from "
              f"{origin['server_kind']}); RoleArn {settings.role_arn or 'none'} (from "
              f"{origin['role_arn']}); duration {settings.duration_seconds} s; region "
              f"{settings.region}")
    unreachable = _check_network(report, settings)
    report_policy(report, settings)
    missing = missing_profile(botocore.session.Session())
    if missing:
        report.warn("aws profile", missing)
    token = report_token(report, settings, strict=True)
    credentials = None
    if token is not None and not unreachable:
        from ..sts import exchange

        try:
            credentials = exchange(settings, token)
        except InfnMinioError as error:
            report.fail("exchange", str(error), exit_code_for(error))
    elif token is not None:
        report.warn("exchange", f"not tried: the store cannot be reached (see {unreachable})")
    if credentials is not None:
        lifetime = credentials.seconds_left()
        report.ok("exchange", "AssumeRoleWithWebIdentity gave access key "
                  f"{credentials.access_key[:4]}***, valid {describe_age(lifetime)}")
        _check_clock(report, settings, credentials.clock_skew)
        _check_lifetime(report, settings, credentials.lifetime or lifetime, lifetime)
        call = _s3_call(settings)
        problem = _check_s3(settings, credentials, call)
        if problem is None:
            report.ok("s3", f"{call[0]} at {settings.endpoint.url} answered")
        elif settings.policy is not None and call[0] == "ListBuckets":
            report.warn("s3", f"{problem} The session policy {settings.policy.name} may not "
                        "allow it: the exchange worked, and what the keys may do is up to it.")
        else:
            report.fail("s3", problem, EXIT_S3)
    _check_cache(report, settings)
    if getattr(args, "profile", None):
        _check_profile(report, args.profile)
    return report


def _settings_of_profile(args: argparse.Namespace) -> None:
    """The flags of the profile's credential_process (ours) not given on the command line."""
    import shlex

    from ..profiles.aws import profile_config
    from ..settings import SETTINGS_BY_NAME
    from .credential_process import fast_parse

    command = str(profile_config(args.profile).get("credential_process") or "")
    words = shlex.split(command) if "infnminio_boto" in command else []
    ours = ("credential_process.py", "credential-process")
    start_at = next((i + 1 for i, word in enumerate(words) if word.endswith(ours)), None)
    flags = fast_parse(words[start_at:]) if start_at is not None else None
    for name in SETTINGS_BY_NAME if flags is not None else ():
        if getattr(flags, name) is not None and getattr(args, name, None) is None:
            setattr(args, name, getattr(flags, name))


def _check_network(report: Report, settings: Settings) -> Optional[str]:
    """The first hop and TLS: the check that failed ("network" or "tls") when the store
    cannot be reached, else None."""
    from ..sts.certificate import inspect_certificate
    from ..sts.transport import NETWORK_FAILURES, proxy_for

    endpoint = settings.endpoint
    try:
        proxy = proxy_for(endpoint.url)
    except Exception as error:  # a proxy setting no client can use
        report.fail("network", str(error), EXIT_TRANSPORT)
        return "network"
    if proxy:
        report.ok("network", f"through the proxy {proxy.split('@')[-1]} (HTTPS_PROXY/HTTP_PROXY): "
                  "the exchange below is the check")
        return None
    if not endpoint.secure:
        text = "plain http, to this machine only" if endpoint.is_loopback else (
            "plain http over the network: the token travels unencrypted")
        (report.ok if endpoint.is_loopback else report.warn)("tls", text)
        return None
    bundle = "botocore's default CA bundle"
    if settings.ca_bundle:
        bundle = f"{settings.ca_bundle} (from {settings.origin('ca_bundle', command_line=True)})"
    certificate = inspect_certificate(endpoint, settings.ca_bundle, min(5.0, settings.timeout))
    problem = certificate.problem or ""
    network = next((words for phrase, words in NETWORK_FAILURES if phrase in problem), None)
    if network is None and ("timed out" in problem or "timeout" in problem):
        network = "connection timed out"
    if not certificate.trusted and (network or problem.startswith("no TLS handshake")):
        report.fail("network", f"{endpoint.netloc} cannot be reached: {network or problem}. "
                    "Check the endpoint (endpoint / INFNMINIO_ENDPOINT), this machine's network "
                    "and DNS, and whether it needs a proxy (HTTPS_PROXY).", EXIT_TRANSPORT)
        return "network"
    if not certificate.trusted:
        issuer = f" (issued by {certificate.issuer})" if certificate.issuer else ""
        report.fail("tls", f"https; the certificate of {endpoint.url}{issuer} is not trusted by "
                    f"{bundle}: {problem}. If the store uses a private certificate authority, set "
                    "ca_bundle / INFNMINIO_CA_BUNDLE to that authority's PEM file.", EXIT_TRANSPORT)
        return "tls"
    until = certificate.not_after
    days = (until - datetime.now(timezone.utc)).days if until else None
    text = (f"https; certificate issued by {certificate.issuer}, valid until "
            f"{until:%Y-%m-%d} ({days} days); trusted by {bundle}")
    (report.warn if days is not None and days < 14 else report.ok)("tls", text)
    aws_bundle = os.environ.get("AWS_CA_BUNDLE")
    if aws_bundle and os.path.abspath(aws_bundle) != os.path.abspath(settings.ca_bundle or ""):
        if not inspect_certificate(endpoint, aws_bundle, min(5.0, settings.timeout)).trusted:
            report.warn("tls", f"AWS_CA_BUNDLE={aws_bundle} is set: the AWS CLI and SDKs use it "
                        "instead of the profile's ca_bundle, and it does not trust this "
                        "certificate. Unset it, or add the authority to it.")
    return None


def _check_clock(report: Report, settings: Settings, skew: Optional[float]) -> None:
    from ..sts.clock import WARN_SECONDS, describe_skew, skew_advice

    if skew is None:
        report.ok("clock", "the store's answer gave no trusted Date: its clock could not be "
                  "compared with this machine's")
    elif abs(skew) > WARN_SECONDS:
        report.warn("clock", skew_advice(skew, settings.endpoint.url))
    elif skew:
        report.ok("clock", f"this machine's clock is {describe_skew(skew)} the store's; key "
                  "expiry is judged by the store's clock")
    else:
        report.ok("clock", "this machine's clock agrees with the store's")


def _check_lifetime(report: Report, settings: Settings, issued_for: float, left: float) -> None:
    from ..sources.oidc_token import describe_age

    if issued_for < settings.duration_seconds - 60 and issued_for >= 16 * 60:
        report.warn("lifetime", f"the store gave keys for {int(issued_for // 60)} minutes though "
                    f"duration_seconds asks {settings.duration_seconds // 60} (from "
                    f"{settings.origin('duration_seconds', command_line=True)}): the role allows "
                    "no more (its MaxSessionDuration; the library asks for that and remembers "
                    "it). Lower duration_seconds / INFNMINIO_DURATION_SECONDS to "
                    f"{round(issued_for / 60) * 60}, or ask the administrators to raise the "
                    "role's MaxSessionDuration.")
    elif left < 16 * 60:
        report.warn("lifetime", f"credentials expire {describe_age(left)}: inside the AWS "
                    "SDKs' 15-minute refresh window, so credential_process users would ask "
                    "again on every call; raise duration_seconds to 3600")
    else:
        report.ok("lifetime", f"{int(left // 60)} minutes: enough for the SDKs' 15-minute "
                  "refresh window")


def _check_cache(report: Report, settings: Settings) -> None:
    from ..keys.cache import CacheUnavailable, CredentialCache

    if not settings.cache:
        report.warn("cache", f"disabled (by {settings.origin('cache', command_line=True)}): "
                    "every process exchanges the token")
        return
    try:
        CredentialCache(settings.cache_dir).check_directory()
        report.ok("cache", f"{settings.cache_dir} (private to this user)")
    except CacheUnavailable as reason:
        report.warn("cache", f"not usable ({reason}): each process will exchange the token")


def _s3_call(settings: Settings) -> Tuple[str, Dict[str, Any]]:
    """ListBuckets, or for a preset limited to a bucket (and a prefix) a listing there."""
    policy = settings.policy
    if policy is None or policy.bucket is None:
        return "ListBuckets", {}
    prefix = {} if policy.prefix is None else {"Prefix": policy.prefix + "/"}
    return "ListObjectsV2", {"Bucket": policy.bucket, "MaxKeys": 1, **prefix}


def _check_s3(settings: Settings, credentials: Any,
              call: Tuple[str, Dict[str, Any]]) -> Optional[str]:
    import boto3
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from ..integrations.botocore import core_session

    operation, parameters = call
    client = boto3.Session(botocore_session=core_session(botocore.session.Session)).client(
        "s3", endpoint_url=settings.endpoint.url, region_name=settings.region,
        aws_access_key_id=credentials.access_key, aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token, verify=settings.ca_bundle or True,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2},
                      connect_timeout=5, read_timeout=settings.timeout),
    )
    try:
        getattr(client, {"ListBuckets": "list_buckets"}.get(operation, "list_objects_v2"))(
            **parameters
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "?")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        said = f"{code} {status}".strip()
        if operation == "ListObjectsV2":
            return (f"ListObjectsV2 on bucket {parameters['Bucket']} (the policy's) was refused "
                    f"({said}): the bucket may not exist or the role may not allow it there.")
        if "RequestTimeTooSkewed" in said:
            return (f"{operation} was refused ({said}): this machine's clock is more than 15 "
                    "minutes off the store's: set it right (NTP: timedatectl, chronyc or ntpd).")
        return (f"ListBuckets was refused ({said}): the keys work for STS but not for S3. The "
                "role's policy may not allow s3:ListAllMyBuckets (try a bucket you own), or "
                "the region/endpoint is wrong.")
    except BotoCoreError as error:
        return f"{operation} failed: {error}. Check the endpoint and the network."
    return None


def _check_profile(report: Report, name: str) -> None:
    """What the AWS profile ``name`` does, as the AWS tools run it."""
    import boto3
    import botocore.exceptions

    from ..errors import scrub
    from ..profiles.aws import profile_config

    config = profile_config(name)
    if not config:
        report.fail("profile", f"no profile {name!r} in the AWS config files: write it with "
                    f"`infnminio-boto configure --profile {name}`", EXIT_CONFIGURATION)
        return
    endpoint = config.get("endpoint_url")
    if not endpoint:  # nothing of ours is sent to AWS to find out
        report.fail("profile", f"{name!r} has no endpoint_url: the AWS tools send its "
                    f"requests to AWS; rewrite it with `infnminio-boto configure --profile "
                    f"{name}`", EXIT_CONFIGURATION)
        return
    try:
        session = boto3.Session(profile_name=name)
        frozen = session.get_credentials().get_frozen_credentials()
        session.client("s3").list_buckets()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        refused = isinstance(error, botocore.exceptions.ClientError)
        report.fail("profile", f"{name!r}, as the AWS tools run it: {scrub(str(error))}",
                    EXIT_S3 if refused else EXIT_CONFIGURATION)
        return
    report.ok("profile", f"{name!r}: credential_process gave access key {frozen.access_key[:4]}***"
              f"; ListBuckets at {endpoint} answered")
