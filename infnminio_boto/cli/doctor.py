"""``infnminio-boto doctor``: check the whole chain and say what to do where it breaks.

settings -> TLS -> token source (which, why, what was skipped) -> token claims -> STS
exchange -> clocks (this machine's against the store's) -> credential lifetime -> one S3
call -> cache (``--json``: the same checks as
one JSON array). Each line is OK, WARN or FAIL; the exit code is that of the first
failure (see ``infnminio_boto.cli``), 0 when nothing failed. The exchange always goes to the
server directly (not through the cache, which is neither read nor written), and no
secret is printed.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from .common import EXIT_S3, EXIT_TRANSPORT, add_settings_flags, exit_code_for
from .report import Report, add_report_arguments, report_policy, report_token, start

if TYPE_CHECKING:
    from ..settings import Settings


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check token file, exchange, credentials and S3, and say what to fix",
        description="Check every link of the chain: settings, token file, STS exchange, "
        "credential lifetime, one S3 call and the cache. Exits non-zero when one fails.",
    )
    add_report_arguments(parser, run)
    add_settings_flags(parser)


def run(args: argparse.Namespace) -> Report:
    from ..errors import InfnMinioError
    from ..sources.oidc_token import describe_age

    report, settings = start(args)
    if settings is None:
        return report

    source = settings.origin("endpoint", command_line=True)
    preset = (
        f"preset {settings.endpoint.host} ({settings.preset.server})"
        if settings.preset
        else "no preset"
    )
    report.ok(
        "endpoint",
        f"{settings.endpoint.url} (from {source}; {preset}); RoleArn "
        f"{settings.role_arn or 'none'} (from {settings.origin('role_arn', command_line=True)}); "
        f"duration {settings.duration_seconds} s; "
        f"region {settings.region}",
    )
    if not _check_tls(report, settings):
        return report
    report_policy(report, settings)

    # --- token source and token
    token = report_token(report, settings, strict=True)
    if token is None:
        return report

    # --- exchange
    from ..sts import exchange

    try:
        credentials = exchange(settings, token)
    except InfnMinioError as error:
        report.fail("exchange", str(error), exit_code_for(error))
        return report
    lifetime = credentials.seconds_left()
    report.ok(
        "exchange",
        f"AssumeRoleWithWebIdentity gave access key "
        f"{credentials.access_key[:4]}***, valid {describe_age(lifetime)}",
    )
    _check_clock(report, settings, credentials.clock_skew)
    issued_for = credentials.lifetime or lifetime
    if issued_for < settings.duration_seconds - 60 and issued_for >= 16 * 60:
        report.warn(
            "lifetime",
            f"the store gave keys for {int(issued_for // 60)} minutes though duration_seconds "
            f"asks {settings.duration_seconds // 60} (from "
            f"{settings.origin('duration_seconds', command_line=True)}): the role allows no "
            "more (Ceph RGW: its MaxSessionDuration, 3600 s unless raised; the library asks "
            "for that and remembers it). Lower duration_seconds / INFNMINIO_DURATION_SECONDS "
            f"to {round(issued_for / 60) * 60}, or ask the administrators to raise the role's "
            "MaxSessionDuration.",
        )
    elif lifetime < 16 * 60:
        report.warn(
            "lifetime",
            f"credentials expire {describe_age(lifetime)}: inside the "
            "AWS SDKs' 15-minute refresh window, so credential_process users would "
            "ask again on every call; raise duration_seconds to 3600",
        )
    else:
        report.ok(
            "lifetime",
            f"{int(lifetime // 60)} minutes: enough for the SDKs' 15-minute refresh window",
        )

    # --- one S3 call, one the session policy allows
    call = _s3_call(settings)
    problem = _check_s3(settings, credentials, call)
    if problem is None:
        report.ok("s3", f"{call[0]} at {settings.endpoint.url} answered")
    elif settings.policy is not None and call[0] == "ListBuckets" and not settings.policy.bucket:
        # A document of the user's own may well not allow s3:ListAllMyBuckets.
        report.warn(
            "s3",
            f"{problem} The session policy {settings.policy.name} may not allow it: the "
            "exchange worked, and what the keys may do is up to the policy.",
        )
    else:
        report.fail("s3", problem, EXIT_S3)

    # --- cache
    from ..keys.cache import CacheUnavailable, CredentialCache

    cache = CredentialCache(settings.cache_dir)
    if not settings.cache:
        report.warn(
            "cache",
            f"disabled (by {settings.origin('cache', command_line=True)}): every process "
            "exchanges the token",
        )
    else:
        try:
            cache.check_directory()
            report.ok("cache", f"{cache.directory} (private to this user)")
        except CacheUnavailable as reason:
            report.warn("cache", f"not usable ({reason}): each process will exchange the token")
    return report


def _check_clock(report: Report, settings: Settings, skew: Optional[float]) -> None:
    """This machine's clock against the store's, as measured from the exchange's answer."""
    from ..sts.clock import WARN_SECONDS, describe_skew, skew_advice

    if skew is None:
        report.ok(
            "clock",
            "the store's answer carried no Date header: its clock could not be compared "
            "with this machine's",
        )
    elif abs(skew) > WARN_SECONDS:
        report.warn("clock", skew_advice(skew, settings.endpoint.url))
    elif skew:
        report.ok(
            "clock",
            f"this machine's clock is {describe_skew(skew)} the store's; key expiry is "
            "judged by the store's clock",
        )
    else:
        report.ok("clock", "this machine's clock agrees with the store's")


def _check_tls(report: Report, settings: Settings) -> bool:
    """The scheme, and the certificate: issuer, expiry, trusted by the bundle in use."""
    from ..sts.certificate import inspect_certificate

    endpoint = settings.endpoint
    if not endpoint.secure:
        if endpoint.is_loopback:
            report.ok("tls", "plain http, to this machine only")
        else:
            report.warn("tls", "plain http over the network: the token travels unencrypted")
        return True
    if settings.ca_bundle:
        bundle = f"{settings.ca_bundle} (from {settings.origin('ca_bundle', command_line=True)})"
    else:
        bundle = "botocore's default CA bundle"
    timeout = min(5.0, settings.timeout)
    certificate = inspect_certificate(endpoint, settings.ca_bundle, timeout)
    if not certificate.trusted:
        issuer = f" (issued by {certificate.issuer})" if certificate.issuer else ""
        report.fail(
            "tls",
            f"https; the certificate of {endpoint.url}{issuer} is not trusted by {bundle}: "
            f"{certificate.problem}. If the store uses a private certificate authority, set "
            "ca_bundle / INFNMINIO_CA_BUNDLE to that authority's PEM file.",
            EXIT_TRANSPORT,
        )
        return False
    until = certificate.not_after
    days = (until - datetime.now(timezone.utc)).days if until else None
    text = (
        f"https; certificate issued by {certificate.issuer}, valid until "
        f"{until:%Y-%m-%d} ({days} days); trusted by {bundle}"
    )
    (report.warn if days is not None and days < 14 else report.ok)("tls", text)
    aws_bundle = os.environ.get("AWS_CA_BUNDLE")
    if aws_bundle and os.path.abspath(aws_bundle) != os.path.abspath(settings.ca_bundle or ""):
        if not inspect_certificate(endpoint, aws_bundle, timeout).trusted:
            report.warn(
                "tls",
                f"AWS_CA_BUNDLE={aws_bundle} is set: the AWS CLI and SDKs use it instead of "
                "the profile's ca_bundle, and it does not trust this certificate. Unset it, "
                "or add the authority to it.",
            )
    return True


def _s3_call(settings: Settings) -> Tuple[str, Dict[str, Any]]:
    """``(operation, parameters)``: ListBuckets, or for a preset limited to a bucket (and
    a prefix) a listing there, which the policy allows and ListBuckets would not be."""
    policy = settings.policy
    if policy is None or policy.bucket is None:
        return "ListBuckets", {}
    parameters: Dict[str, Any] = {"Bucket": policy.bucket, "MaxKeys": 1}
    if policy.prefix is not None:
        parameters["Prefix"] = policy.prefix + "/"
    return "ListObjectsV2", parameters


def _check_s3(settings, credentials, call=("ListBuckets", {})) -> Optional[str]:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "s3",
        endpoint_url=settings.endpoint.url,
        region_name=settings.region,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token,
        verify=settings.ca_bundle if settings.ca_bundle else True,
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 2},
            connect_timeout=5,
            read_timeout=settings.timeout,
        ),
    )
    operation, parameters = call
    method = {"ListBuckets": client.list_buckets, "ListObjectsV2": client.list_objects_v2}
    try:
        method[operation](**parameters)
    except ClientError as error:
        details: List[str] = [
            str(error.response.get("Error", {}).get("Code", "?")),
            str(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")),
        ]
        said = " ".join(d for d in details if d)
        if operation == "ListObjectsV2":
            return (
                f"ListObjectsV2 on bucket {parameters['Bucket']} (the policy's) was refused "
                f"({said}): the bucket may not exist or the role may not allow it there, or "
                "the region/endpoint is wrong."
            )
        if "RequestTimeTooSkewed" in said:
            return (
                f"{operation} was refused ({said}): this machine's clock is more than 15 "
                "minutes off the store's, and it refuses every signed request: set the "
                "clock right (NTP: timedatectl, chronyc or ntpd)."
            )
        return (
            f"ListBuckets was refused ({said}): the keys work "
            "for STS but not for S3. The role's policy may not allow s3:ListAllMyBuckets "
            "(try a bucket you own), or the region/endpoint is wrong."
        )
    except BotoCoreError as error:
        return f"{operation} failed: {error}. Check the endpoint and the network."
    return None
