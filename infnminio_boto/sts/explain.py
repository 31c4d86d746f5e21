"""Turning an STS refusal into a message that says what failed and what to do.

For a server that answers every token problem with an empty 403 (Ceph RGW), the message
is built from what this side knows: the token's issuer, audience, subject and expiry, and
the role sent. See docs/troubleshooting.md.
"""

from __future__ import annotations

from typing import Optional

from ..errors import StsError, scrub
from ..settings import Settings
from ..settings.hot_path import BY_NAME
from ..sources.oidc_token import OidcToken, describe_age
from .dialects import Problem
from .retry import THROTTLING_CODES

__all__ = ["explain", "token_facts"]

_SERVER_FAILURE_CODES = ("InternalError", "ServiceUnavailable", "STSNotInitialized")
_TOKEN_REJECTED_CODES = ("AccessDenied", "InvalidIdentityToken", "InvalidParameterValue",
                         "IDPRejectedClaim", "InvalidClientTokenId")
# A refused DurationSeconds: Ceph RGW's InvalidArgument (empty message: rgw_sts.cc
# validate_input; measured on 16.2.15), AWS's ValidationError ("The requested
# DurationSeconds exceeds the MaxSessionDuration set for this role.").
DURATION_CODES = ("InvalidArgument", "InvalidParameterValue", "ValidationError")
_POLICY_CODES = ("MalformedPolicyDocument", "PackedPolicyTooLarge")
_PRESETS = "read-only, bucket:NAME, read-only:NAME, prefix:NAME/PATH"


def token_facts(token: OidcToken) -> str:
    """The token's issuer, audience, subject and expiry, for messages (no secret)."""
    left = token.seconds_left()
    expiry = f"exp {describe_age(left)}" if left is not None else "no exp claim"
    return (f"issuer {token.issuer or '(none)'}, audience {', '.join(token.audience) or '(none)'}"
            f", subject {token.subject or '(none)'}, {expiry}")


def _server_side(what: str, tries: str, request_id: Optional[str]) -> str:
    quoting = f" quoting request id {request_id}" if request_id else ""
    return (f"{what} ({tries}): the fault is on the server's side. Retry later; if it persists, "
            f"report it to the storage administrators{quoting}.")


def _role_refusal(code: Optional[str], lower: str, settings: Settings) -> Optional[str]:
    """The advice when the server refused the role rather than the token, else None.
    MinIO: 400 InvalidParameterValue "... RoleARN <arn> is not defined", or "Role
    arn:minio:iam:::role/dummy-internal does not exist" when none was sent (minio/minio
    cmd/sts-handlers.go, read at 7aac2a2c)."""
    absent = "does not exist" in lower or "not found" in lower
    names_role = "rolearn" in lower or ("role" in lower and absent)
    needs_role = code == "MissingParameter" and "role" in lower
    if not (names_role or needs_role):
        return None
    if settings.role_arn and not needs_role:
        return (
            f"it does not know the role that was sent, {settings.role_arn} (from "
            f"{settings.origin('role_arn')}); the token is not the problem. A MinIO store "
            "with claim-based policies (such as minio.cloud.infn.it) needs no RoleArn: send "
            'none with role_arn="" / INFNMINIO_ROLE_ARN="" (--role-arn ""). Otherwise set '
            "role_arn / INFNMINIO_ROLE_ARN to a role the store's administrators give you."
        )
    return (
        "it needs a RoleArn and none was sent; the token is not the problem. Set role_arn / "
        "INFNMINIO_ROLE_ARN to the role the store's administrators give you (MinIO's look "
        "like arn:minio:iam:::role/...; INFN's Ceph RGW uses arn:aws:iam:::role/IAMaccess)."
    )


def _policy_refusal(code: Optional[str], settings: Settings) -> str:
    policy, named = settings.policy, "a session policy, though none was sent"
    if policy is not None:
        named = f"the session policy {policy.name} (policy, from {settings.origin('policy')})"
    if code == "PackedPolicyTooLarge":
        size = f", {policy.size} bytes compact," if policy is not None else ""
        return (
            f"it found {named}{size} too large once packed: the token is not the problem. "
            "Ceph RGW and MinIO accept at most 2048 bytes; AWS counts the session tags too. "
            "Shorten it (fewer statements, wildcards such as s3:Get* or "
            f"arn:aws:s3:::bucket/*) or use a preset ({_PRESETS})."
        )
    return (
        f"it refused {named} as malformed: the token is not the problem. Check the action "
        "names (s3:GetObject, s3:PutObject, s3:ListBucket, or wildcards such as s3:Get*), "
        "the condition keys and operators, and that resources are arn:aws:s3:::BUCKET[/KEY] "
        f"or *. Fix the document or use a preset ({_PRESETS})."
    )


def _audience_advice(settings: Settings, token: OidcToken) -> str:
    wanted = settings.audience
    if not wanted or wanted in token.audience:
        return ""
    from ..sources import source_class

    hint = getattr(source_class(token.kind), "missing_audience", None)  # its own words
    if hint is not None:
        return " " + hint(token, wanted)
    return (
        f" The store accepts audience {wanted!r} (from {settings.origin('audience')}) and this "
        f"token has {', '.join(token.audience) or 'none'}: get one with that audience "
        f"(oidc-token --aud {wanted}; sts-wire's defaults)."
    )


def _advice(
    status: int, problem: Problem, settings: Settings, token: OidcToken, attempts: int,
    said: str, code: Optional[str], request_id: Optional[str], duration: int,
) -> str:
    lower = said.lower()
    tries = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
    if code == "STSNotInitialized":
        return "STS is not enabled on this server: ask its administrators to enable it."
    if status == 429 or code in THROTTLING_CODES:
        return (
            f"it is limiting how often it is asked ({tries}): wait a minute, then retry. "
            "Processes that each exchange the token add up: with the cache on (the "
            "default; cache / INFNMINIO_CACHE) the processes of one user share keys."
        )
    if code == "IDPCommunicationError":
        return _server_side(
            f"it could not reach the token's issuer {token.issuer or '(none)'} to check it",
            tries, request_id,
        )
    if status >= 500 or code in _SERVER_FAILURE_CODES:
        page = " with an error page" if problem.kind in ("html", "unparseable") else ""
        return _server_side(f"the server failed{page}", tries, request_id)
    kinds = {
        "html": "it answered with an HTML page, not STS XML: the endpoint is probably wrong, "
        "or a proxy or load balancer answered instead of the object store. Check endpoint / "
        "INFNMINIO_ENDPOINT.",
        "unparseable": "its answer is not XML (empty or cut short). If this repeats, the "
        "endpoint is not an S3/STS server or something between breaks the answer.",
        "no-credentials": "its answer has no Credentials element: the endpoint does not seem "
        "to speak STS AssumeRoleWithWebIdentity. Check endpoint / INFNMINIO_ENDPOINT.",
        "bad-credentials": f"its Credentials are unusable ({problem.message}). Report this to "
        "the storage administrators.",
    }
    if problem.kind in kinds:
        return kinds[problem.kind]
    if code in _POLICY_CODES:
        return _policy_refusal(code, settings)
    role = _role_refusal(code, lower, settings)
    if role is not None:
        return role
    if "expired" in lower or code in ("ExpiredTokenException", "ExpiredToken"):
        return (
            f"it says the token expired (token: {token_facts(token)}). "
            f"{BY_NAME[token.kind].expired} Also check this machine's clock."
        )
    fallback = settings.server.lifetime_fallback
    if code in DURATION_CODES and ("duration" in lower or not said):
        retried = "" if duration == settings.duration_seconds else (
            f" (duration_seconds={settings.duration_seconds} was refused first, so "
            f"{duration} s, which every {settings.server.title} role allows, was tried.)"
        )
        maximum = f"{fallback} s unless raised" if fallback else "its own limit"
        return (
            f"it refused the request's parameters. DurationSeconds={duration} must lie "
            f"between 900 and the role's MaxSessionDuration ({maximum}): lower duration_seconds / "
            "INFNMINIO_DURATION_SECONDS. RoleSessionName must be 2-64 characters of "
            "[A-Za-z0-9_=,.@-] (set role_session_name if the derived one is wrong)." + retried
        )
    if code in _TOKEN_REJECTED_CODES:
        silent = settings.server.silent_refusals and not said
        return (
            "it rejected the token"
            + (f" without saying why ({settings.server.title} never does)" if silent else "")
            + f". Token: {token_facts(token)}; role sent: "
            f"{settings.role_arn or 'none (no RoleArn sent)'}." + _audience_advice(settings, token)
            + " Likely causes: the token's issuer is not registered as an OIDC provider on "
            "this store; its audience is not one the store accepts; the role does not exist "
            "or its trust policy does not admit this issuer, audience or subject; the token "
            "was signed by a key the issuer no longer publishes, or expired in flight."
        )
    return "see the server's message; the storage administrators can look up the request id."


def explain(
    status: int, problem: Problem, settings: Settings, token: OidcToken, attempts: int, *,
    duration_seconds: Optional[int] = None,
) -> StsError:
    """The :class:`StsError` for a refusal, with its advice. ``duration_seconds``: the
    DurationSeconds the refused request sent, when not the settings'. What the server said
    is scrubbed (:func:`~infnminio_boto.errors.scrub`) and bounded."""
    secrets = [token.value]
    code = scrub(problem.code, secrets, limit=64) if problem.code else None
    said = scrub(problem.message or "", secrets, limit=300)
    request_id = scrub(problem.request_id, secrets, limit=100) if problem.request_id else None
    heard = f"HTTP {status}" + (f" {code}" if code else "") + (f": {said}" if said else "")
    duration = duration_seconds or settings.duration_seconds
    advice = _advice(status, problem, settings, token, attempts, said, code, request_id, duration)
    endpoint = settings.endpoint.url
    message = f"The STS at {endpoint} refused AssumeRoleWithWebIdentity ({heard}): {advice}"
    if request_id and "request id" not in message:
        message += f" [request id {request_id}]"
    return StsError(message, status=status, code=code or None, server_message=said or None,
                    request_id=request_id or None, endpoint=endpoint)
