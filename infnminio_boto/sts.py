"""AssumeRoleWithWebIdentity: one stateless exchange of an OIDC token for S3 keys.

The request is an unsigned form POST (MinIO routes a signed one elsewhere). Answers
come in three dialects, MinIO (STS namespace, ``ErrorResponse``), Ceph RGW (no namespace,
S3-style ``Error``, nanosecond timestamps, empty 403 messages) and AWS; the parser looks
for element names without assuming a namespace or a layout. Connection errors and 5xx
answers are retried with exponential backoff and jitter; 4xx answers are final.

urllib3 (already brought by botocore) does the HTTP, xmltodict the XML. Retries are a
small loop here rather than urllib3's ``Retry``: jitter there needs urllib3 2, which
botocore does not require on Python 3.9, and the loop lets the final error say what
happened on every attempt.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Mapping, Optional, Tuple
from urllib.parse import urlencode

from .errors import StsError, TransportError, scrub
from .settings import Settings
from .temporary_credentials import TemporaryCredentials, mask, parse_timestamp
from .token import OidcToken, describe_age

__all__ = ["exchange", "build_form", "parse_response", "role_session_name_for"]

logger = logging.getLogger(__name__)

API_VERSION = "2011-06-15"
MAX_RESPONSE_BYTES = 1024 * 1024
CONNECT_TIMEOUT_CAP = 5.0
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
USER_AGENT = "infnminio-boto"

_SESSION_NAME_ALLOWED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_=,.@-")


def role_session_name_for(token: OidcToken) -> str:
    """A RoleSessionName RGW accepts (2-64 of ``[A-Za-z0-9_=,.@-]``) from the subject."""
    subject = token.subject or ""
    cleaned = "".join(c if c in _SESSION_NAME_ALLOWED else "_" for c in subject)[:64]
    return cleaned if len(cleaned) >= 2 else "infnminio-boto"


def build_form(settings: Settings, token: OidcToken) -> Dict[str, str]:
    """The form fields of the request. RoleArn is left out when none is configured."""
    form = {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": API_VERSION,
        "WebIdentityToken": token.value,
        "DurationSeconds": str(settings.duration_seconds),
        "RoleSessionName": settings.role_session_name or role_session_name_for(token),
    }
    if settings.role_arn:
        form["RoleArn"] = settings.role_arn
    return form


# ---------------------------------------------------------------------------- parsing


def _local_names(node: Any) -> Any:
    """Drop namespace prefixes and XML attributes from an xmltodict tree."""
    if isinstance(node, dict):
        result: Dict[str, Any] = {}
        for key, value in node.items():
            if key.startswith("@"):
                continue
            name = key if key == "#text" else key.rsplit(":", 1)[-1]
            result[name] = _local_names(value)
        if set(result) == {"#text"}:
            return result["#text"]
        return result
    if isinstance(node, list):
        return [_local_names(item) for item in node]
    return node


def _text(node: Any) -> Optional[str]:
    if isinstance(node, str):
        return node.strip()
    if isinstance(node, list) and node:
        return _text(node[0])
    if isinstance(node, dict):
        return _text(node.get("#text"))
    return None


def _find(node: Any, name: str, depth: int = 0) -> Any:
    """The first element called ``name`` anywhere below ``node`` (breadth first)."""
    if depth > 8:
        return None
    if isinstance(node, dict):
        if name in node:
            return node[name]
        for value in node.values():
            found = _find(value, name, depth + 1)
            if found is not None:
                return found
    elif isinstance(node, list):
        for item in node:
            found = _find(item, name, depth + 1)
            if found is not None:
                return found
    return None


def _parse_xml(body: bytes) -> Optional[Dict[str, Any]]:
    import xmltodict  # imported here: the cached credential_process path never needs it

    try:
        document = xmltodict.parse(body, disable_entities=True)
    except Exception:  # expat errors, bad encodings, entity refusals: all "not XML"
        return None
    if not isinstance(document, dict):
        return None
    return _local_names(document)


def _looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html") or b"<body" in head


def parse_response(
    status: int,
    body: bytes,
    headers: Optional[Mapping[str, str]] = None,
) -> Tuple[Optional[TemporaryCredentials], Dict[str, Optional[str]]]:
    """Parse one answer.

    Returns ``(credentials, {})`` on success, or ``(None, problem)`` where ``problem``
    has ``code``, ``message`` and ``request_id`` (any may be None) and ``kind``
    (``error``, ``html``, ``unparseable``, ``no-credentials``, ``bad-credentials``).
    Never raises.
    """
    request_id = None
    if headers:
        for header in ("x-amz-request-id", "x-amzn-requestid", "x-minio-request-id"):
            if headers.get(header):
                request_id = headers.get(header)
                break
    if _looks_like_html(body):
        return None, {"kind": "html", "code": None, "message": None, "request_id": request_id}
    document = _parse_xml(body) if body else None
    if document is None:
        kind = "unparseable"
        return None, {"kind": kind, "code": None, "message": None, "request_id": request_id}

    request_id = _text(_find(document, "RequestId")) or request_id
    error = _find(document, "Error")
    if isinstance(error, dict) or (status >= 400 and error is not None):
        error_dict = error if isinstance(error, dict) else {}
        return None, {
            "kind": "error",
            "code": _text(error_dict.get("Code")),
            "message": _text(error_dict.get("Message")),
            "request_id": _text(error_dict.get("RequestId")) or request_id,
        }
    if status >= 400:
        return None, {"kind": "error", "code": None, "message": None, "request_id": request_id}

    credentials = _find(document, "Credentials")
    if not isinstance(credentials, dict):
        return None, {
            "kind": "no-credentials",
            "code": None,
            "message": None,
            "request_id": request_id,
        }
    access_key = _text(credentials.get("AccessKeyId"))
    secret_key = _text(credentials.get("SecretAccessKey"))
    session_token = _text(credentials.get("SessionToken"))
    expiration_text = _text(credentials.get("Expiration"))
    missing = [
        name
        for name, value in (
            ("AccessKeyId", access_key),
            ("SecretAccessKey", secret_key),
            ("SessionToken", session_token),
            ("Expiration", expiration_text),
        )
        if not value
    ]
    if missing:
        return None, {
            "kind": "bad-credentials",
            "code": None,
            "message": "missing " + ", ".join(missing),
            "request_id": request_id,
        }
    try:
        expiration = parse_timestamp(expiration_text)  # type: ignore[arg-type]
    except ValueError:
        return None, {
            "kind": "bad-credentials",
            "code": None,
            "message": "Expiration is not an ISO 8601 timestamp",
            "request_id": request_id,
        }
    return (
        TemporaryCredentials(
            access_key,  # type: ignore[arg-type]
            secret_key,  # type: ignore[arg-type]
            session_token,  # type: ignore[arg-type]
            expiration,
            issued_at=datetime.now(timezone.utc).replace(microsecond=0),
        ),
        {},
    )


# ----------------------------------------------------------------------- explanations


def _token_facts(token: OidcToken) -> str:
    return (
        f"issuer {token.issuer or '(none)'}, audience "
        f"{', '.join(token.audience) or '(none)'}, subject {token.subject or '(none)'}, "
        + (
            f"exp {describe_age(token.seconds_left())}"  # type: ignore[arg-type]
            if token.seconds_left() is not None
            else "no exp claim"
        )
    )


def _explain(
    status: int,
    problem: Mapping[str, Optional[str]],
    settings: Settings,
    token: OidcToken,
    attempts: int,
) -> StsError:
    code = problem.get("code")
    server_message = scrub(problem.get("message") or "", [token.value]) or None
    request_id = problem.get("request_id")
    endpoint = settings.endpoint.url
    kind = problem.get("kind")
    said = f"HTTP {status}" + (f" {code}" if code else "")
    if server_message:
        said += f": {server_message[:300]}"
    lower_message = (server_message or "").lower()
    role = settings.role_arn or "none (no RoleArn sent)"

    if kind == "html":
        advice = (
            "it answered with an HTML page, not STS XML: the endpoint is probably wrong, or "
            "a proxy or load balancer answered instead of the object store. Check endpoint "
            "/ INFNMINIO_ENDPOINT."
        )
    elif kind == "unparseable":
        advice = (
            "its answer is not XML (empty or cut short). If this repeats, the endpoint is "
            "not an S3/STS server or something between breaks the answer."
        )
    elif kind == "no-credentials":
        advice = (
            "its answer has no Credentials element: the endpoint does not seem to speak "
            "STS AssumeRoleWithWebIdentity. Check endpoint / INFNMINIO_ENDPOINT."
        )
    elif kind == "bad-credentials":
        advice = (
            f"its Credentials are unusable ({problem.get('message')}). Report this to the "
            "storage administrators."
        )
    elif status >= 500 or code in ("InternalError", "ServiceUnavailable", "STSNotInitialized"):
        advice = (
            f"the server failed (after {attempts} attempt{'s' if attempts != 1 else ''}). "
            "Retry later; if it persists, report it to the storage administrators"
            + (f" quoting request id {request_id}" if request_id else "")
            + "."
        )
        if code == "STSNotInitialized":
            advice = "STS is not enabled on this server: ask its administrators to enable it."
    elif "expired" in lower_message or code in ("ExpiredTokenException", "ExpiredToken"):
        advice = (
            f"it says the token expired (token: {_token_facts(token)}). sts-wire refreshes "
            f"{token.path} and may not be running or may be stuck: restart it, then retry. "
            "Also check this machine's clock."
        )
    elif code in ("InvalidArgument", "InvalidParameterValue", "ValidationError") and (
        "duration" in lower_message or not server_message
    ):
        advice = (
            f"it refused the request's parameters. DurationSeconds={settings.duration_seconds} "
            "must lie between 900 and the role's MaxSessionDuration (3600 s on Ceph RGW "
            "unless the administrator raised it; at most 43200): lower duration_seconds / "
            "INFNMINIO_DURATION_SECONDS. RoleSessionName must be 2-64 characters of "
            "[A-Za-z0-9_=,.@-] (set role_session_name if the derived one is wrong)."
        )
    elif code == "MissingParameter" and "role" in lower_message:
        advice = (
            "it needs a RoleArn: set role_arn / INFNMINIO_ROLE_ARN (INFN's Ceph RGW uses "
            "arn:aws:iam:::role/IAMaccess)."
        )
    elif code in (
        "AccessDenied",
        "InvalidIdentityToken",
        "InvalidParameterValue",
        "IDPRejectedClaim",
        "InvalidClientTokenId",
    ):
        advice = (
            "it rejected the token"
            + (" without saying why (Ceph RGW never does)" if not server_message else "")
            + f". Token: {_token_facts(token)}; role sent: {role}. Likely causes: the "
            "token's issuer is not registered as an OIDC provider on this store; its "
            "audience is not one the store accepts (INFN's RGW expects 'object': with "
            "oidc-agent use --aud object); the role does not exist or its trust policy does "
            "not admit this issuer, audience or subject; the token was signed by a key the "
            "issuer no longer publishes, or expired in flight."
        )
    else:
        advice = "see the server's message; the storage administrators can look up the request id."

    message = f"The STS at {endpoint} refused AssumeRoleWithWebIdentity ({said}): {advice}"
    if request_id and "request id" not in message:
        message += f" [request id {request_id}]"
    return StsError(
        message,
        status=status,
        code=code,
        server_message=server_message,
        request_id=request_id,
        endpoint=endpoint,
    )


# ------------------------------------------------------------------------------ HTTP

_pools: Dict[Optional[str], Any] = {}


def _pool(ca_bundle: Optional[str]) -> Any:
    """One urllib3 PoolManager per CA bundle, so repeated exchanges reuse connections."""
    pool = _pools.get(ca_bundle)
    if pool is None:
        import urllib3

        if ca_bundle is None:
            # Trust what botocore trusts for the S3 calls that follow the exchange.
            from botocore.httpsession import get_cert_path

            ca_certs = get_cert_path(True)
        else:
            ca_certs = ca_bundle
        pool = urllib3.PoolManager(
            num_pools=4, maxsize=4, cert_reqs="CERT_REQUIRED", ca_certs=ca_certs
        )
        _pools[ca_bundle] = pool
    return pool


def _backoff(attempt: int) -> float:
    """Full-jitter exponential backoff: a random delay in [0, min(cap, base * 2**n)]."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2**attempt)))


def exchange(
    settings: Settings,
    token: OidcToken,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> TemporaryCredentials:
    """Trade ``token`` for temporary credentials at ``settings.endpoint``.

    Raises :class:`StsError` for an error answer, :class:`TransportError` when the
    server cannot be reached within ``settings.max_attempts`` attempts.
    """
    import urllib3

    from . import _log

    _log.ensure_configured()
    settings.check_transport()
    url = settings.endpoint.url + "/"
    body = urlencode(build_form(settings, token))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "Accept": "application/xml, text/xml",
        "User-Agent": USER_AGENT,
    }
    timeout = urllib3.Timeout(
        connect=min(CONNECT_TIMEOUT_CAP, settings.timeout), read=settings.timeout
    )
    pool = _pool(settings.ca_bundle)
    failures = []
    for attempt in range(1, settings.max_attempts + 1):
        try:
            response = pool.request(
                "POST",
                url,
                body=body,
                headers=headers,
                timeout=timeout,
                retries=False,
                redirect=False,
                preload_content=False,
            )
            try:
                payload = response.read(MAX_RESPONSE_BYTES)
            finally:
                response.release_conn()
        except urllib3.exceptions.SSLError as exc:
            raise TransportError(
                f"TLS with {settings.endpoint.url} failed: {scrub(str(exc), [token.value])}. "
                "If the server uses a private certificate authority, set ca_bundle / "
                "INFNMINIO_CA_BUNDLE to its PEM file.",
                endpoint=settings.endpoint.url,
            ) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            failures.append(_describe_transport_failure(exc))
            if attempt < settings.max_attempts:
                delay = _backoff(attempt)
                logger.warning(
                    "STS at %s unreachable (%s); attempt %d of %d, retrying in %.1fs",
                    settings.endpoint.url,
                    failures[-1],
                    attempt,
                    settings.max_attempts,
                    delay,
                )
                sleep(delay)
                continue
            raise TransportError(
                f"The STS at {settings.endpoint.url} could not be reached after {attempt} "
                f"attempt{'s' if attempt != 1 else ''} ({'; '.join(failures)}). Check the "
                "endpoint, this machine's network and proxy settings, then retry.",
                endpoint=settings.endpoint.url,
            ) from None

        status = response.status
        if 300 <= status < 400:
            location = response.headers.get("Location", "?")
            raise StsError(
                f"The STS at {settings.endpoint.url} redirected to {location[:200]}: the token "
                "is not re-sent to another address. Set endpoint / INFNMINIO_ENDPOINT to the "
                "address the object store really answers on.",
                status=status,
                endpoint=settings.endpoint.url,
            )
        credentials, problem = parse_response(status, payload, response.headers)
        if credentials is not None:
            logger.info(
                "STS exchange at %s for subject %s: access key %s valid until %s",
                settings.endpoint.url,
                token.subject or "-",
                mask(credentials.access_key),
                credentials.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            return credentials
        if status >= 500 and attempt < settings.max_attempts:
            delay = _backoff(attempt)
            logger.warning(
                "STS at %s answered HTTP %d; attempt %d of %d, retrying in %.1fs",
                settings.endpoint.url,
                status,
                attempt,
                settings.max_attempts,
                delay,
            )
            sleep(delay)
            continue
        raise _explain(status, problem, settings, token, attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _describe_transport_failure(exc: BaseException) -> str:
    """A short, secret-free phrase for one failed attempt."""
    import urllib3

    errors = urllib3.exceptions
    if isinstance(exc, errors.ReadTimeoutError):
        return "no answer within the read timeout"
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    # NewConnectionError subclasses ConnectTimeoutError: look at what it says first.
    if "Connection refused" in text:
        return "connection refused"
    if (
        "Name or service not known" in text
        or "nodename nor servname" in text
        or "Failed to resolve" in text
        or "Temporary failure in name resolution" in text
    ):
        return "host name not found"
    if isinstance(reason, errors.ConnectTimeoutError) and "timed out" in text:
        return "connection timed out"
    if isinstance(reason, (errors.ProtocolError, ConnectionError)) or isinstance(
        exc, errors.ProtocolError
    ):
        return "connection closed by the server without an answer"
    return scrub(text)[:200]
