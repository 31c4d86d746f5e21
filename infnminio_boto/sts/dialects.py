"""Reading an AssumeRoleWithWebIdentity answer, in the dialect of any server of
:mod:`infnminio_boto.settings.servers`.

MinIO and AWS answer with the STS namespace and ``ErrorResponse`` errors; Ceph RGW with
no namespace, S3-style ``Error`` documents (whose code botocore's parser drops),
nanosecond timestamps and empty 403 messages. So elements are found by their local name
anywhere in the document. The standard library's expat checks the document first:
no document type (so no entity of any kind) and a bounded depth.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping, NamedTuple, Optional, Sequence, Tuple

from .temporary_credentials import TemporaryCredentials, parse_timestamp

__all__ = ["Problem", "parse_response", "REQUEST_ID_HEADERS"]

# How deeply elements may nest in an answer (STS answers: five levels).
MAX_XML_DEPTH = 16
REQUEST_ID_HEADERS = ("x-amz-request-id", "x-amzn-requestid", "x-minio-request-id")

# The characters each STS issues (AWS's documented patterns; Ceph RGW's
# gen_rand_alphanumeric in rgw_sts.cc and base64 session tokens, measured on 16.2.15;
# MinIO's generator and JWT session tokens): anything else (a space, a quote, "$", a
# control character) is no key, refused rather than handed to shells, files and SQL.
_LETTERS_DIGITS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_ISSUED_CHARACTERS = {
    "AccessKeyId": _LETTERS_DIGITS | frozenset("_"),
    "SecretAccessKey": _LETTERS_DIGITS | frozenset("+/=_-"),
    "SessionToken": _LETTERS_DIGITS | frozenset("+/=_-."),
}


class Problem(NamedTuple):
    """Why an answer holds no credentials: ``kind`` is ``error`` (an error document),
    ``html`` (a web page), ``unparseable`` (empty or not XML), ``no-credentials`` or
    ``bad-credentials``; the rest is what the server said, each possibly None."""

    kind: str
    code: Optional[str] = None
    message: Optional[str] = None
    request_id: Optional[str] = None


class _NotAnAnswerError(Exception):
    """Raised inside the expat pre-check: the document is not an STS answer."""


def _shallow_and_plain(body: bytes) -> bool:
    """Well-formed XML nesting at most ``MAX_XML_DEPTH`` elements, with no document type
    declaration: a streaming pass that keeps no tree (a deep document costs a counter)."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    depth = 0

    def start(_name: str, _attributes: Any) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_XML_DEPTH:
            raise _NotAnAnswerError

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    def doctype(*_args: Any) -> None:
        raise _NotAnAnswerError

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(body, True)
    except Exception:  # _NotAnAnswerError, expat errors, bad encodings: all "not an STS answer"
        return False
    return True


class _Document:
    """An answer's elements by local name (namespaces dropped), in document order."""

    def __init__(self, body: bytes) -> None:
        from xml.etree import ElementTree

        self.root = ElementTree.fromstring(body)  # noqa: S314

    def find(self, name: str, below: Any = None) -> Any:
        for element in (self.root if below is None else below).iter():
            if element.tag.rpartition("}")[2] == name:
                return element
        return None

    def text(self, name: str, below: Any = None) -> Optional[str]:
        element = self.find(name, below)
        return (element.text or "").strip() if element is not None else None


def _looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html") or b"<body" in head


def _header(headers: Optional[Mapping[str, str]], names: Sequence[str]) -> Optional[str]:
    for name in names:
        if headers and headers.get(name):
            return headers.get(name)
    return None


def parse_response(
    status: int,
    body: bytes,
    headers: Optional[Mapping[str, str]] = None,
    request_id_headers: Sequence[str] = REQUEST_ID_HEADERS,
) -> Tuple[Optional[TemporaryCredentials], Optional[Problem]]:
    """``(credentials, None)`` on success, else ``(None, problem)``. Never raises.

    ``request_id_headers`` are where the server puts a request id (its
    :class:`~infnminio_boto.settings.servers.Server`'s). Credentials holding characters
    no STS issues are a ``bad-credentials`` problem. The ``expiration`` is as the server
    sent it, on its clock: :func:`~.exchange` puts it on this machine's (:mod:`.clock`).
    """
    request_id = _header(headers, request_id_headers)
    if _looks_like_html(body):
        return None, Problem("html", request_id=request_id)
    if not body or not _shallow_and_plain(body):
        return None, Problem("unparseable", request_id=request_id)
    try:
        document = _Document(body)
    except Exception:  # what expat accepted and ElementTree does not: not an answer
        return None, Problem("unparseable", request_id=request_id)
    request_id = document.text("RequestId") or request_id
    error = document.find("Error")
    if error is not None or status >= 400:
        return None, Problem(
            "error",
            code=document.text("Code", error) if error is not None else None,
            message=(document.text("Message", error) or None) if error is not None else None,
            request_id=(document.text("RequestId", error) if error is not None else None)
            or request_id,
        )
    credentials = document.find("Credentials")
    if credentials is None:
        return None, Problem("no-credentials", request_id=request_id)
    fields = {
        name: document.text(name, credentials)
        for name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
    }
    missing = [name for name, value in fields.items() if not value]
    if missing:
        return None, Problem(
            "bad-credentials", message="missing " + ", ".join(missing), request_id=request_id
        )
    odd = [
        name
        for name, allowed in _ISSUED_CHARACTERS.items()
        if not set(fields[name]) <= allowed  # type: ignore[arg-type]
    ]
    if odd:  # never quote the values: they are (or look like) secrets
        return None, Problem(
            "bad-credentials",
            message="the server sent credentials with characters no STS issues (in "
            + ", ".join(odd) + ")",
            request_id=request_id,
        )
    try:
        expiration = parse_timestamp(fields["Expiration"])  # type: ignore[arg-type]
    except ValueError:
        return None, Problem(
            "bad-credentials", message="Expiration is not an ISO 8601 timestamp",
            request_id=request_id,
        )
    keys = TemporaryCredentials(
        fields["AccessKeyId"],  # type: ignore[arg-type]
        fields["SecretAccessKey"],  # type: ignore[arg-type]
        fields["SessionToken"],  # type: ignore[arg-type]
        expiration,
        issued_at=datetime.now(timezone.utc).replace(microsecond=0),
    )
    return keys, None
