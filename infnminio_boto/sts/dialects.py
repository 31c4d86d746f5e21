"""Reading an AssumeRoleWithWebIdentity answer in the dialect of any server (MinIO and AWS:
the STS namespace and ``ErrorResponse``; Ceph RGW: no namespace, S3-style ``Error``):
elements are found by local name anywhere. expat checks the document first: no document
type (so no entity of any kind) and a bounded depth. See docs/servers.md.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping, NamedTuple, Optional, Sequence, Tuple

from .temporary_credentials import TemporaryCredentials, parse_timestamp

__all__ = ["Problem", "parse_response", "REQUEST_ID_HEADERS"]

# How deeply elements may nest in an answer (STS answers: five levels).
MAX_XML_DEPTH = 16
REQUEST_ID_HEADERS = ("x-amz-request-id", "x-amzn-requestid", "x-minio-request-id")
_FIELDS = ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
# The characters each STS issues (AWS's documented patterns; Ceph RGW 16.2.15's
# gen_rand_alphanumeric and base64 session tokens; MinIO's JWT session tokens): anything
# else is no key, refused rather than handed to shells, files and SQL.
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


def _shallow_and_plain(body: bytes) -> bool:
    """Well-formed XML nesting at most ``MAX_XML_DEPTH`` elements, without a document type
    declaration: a streaming pass that keeps no tree."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    depth = 0

    def start(_name: str, _attributes: Any) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_XML_DEPTH:
            raise ValueError("too deep")

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    def doctype(*_args: Any) -> None:
        raise ValueError("a document type")

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(body, True)
    except Exception:  # those above, expat errors, bad encodings: all "not an STS answer"
        return False
    return True


def _find(below: Any, name: str) -> Any:
    """The first element named ``name`` (namespace dropped) at or under ``below``."""
    return next((e for e in below.iter() if e.tag.rpartition("}")[2] == name), None)


def _text(below: Any, name: str) -> Optional[str]:
    element = _find(below, name)
    return (element.text or "").strip() if element is not None else None


def parse_response(
    status: int,
    body: bytes,
    headers: Optional[Mapping[str, str]] = None,
    request_id_headers: Sequence[str] = REQUEST_ID_HEADERS,
) -> Tuple[Optional[TemporaryCredentials], Optional[Problem]]:
    """``(credentials, None)`` on success, else ``(None, problem)``; never raises. The
    ``expiration`` is on the server's clock (:mod:`.clock` converts it)."""
    request_id = next((headers[n] for n in request_id_headers if headers and headers.get(n)), None)
    head = body[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return None, Problem("html", request_id=request_id)
    if not body or not _shallow_and_plain(body):
        return None, Problem("unparseable", request_id=request_id)
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(body)  # noqa: S314
    except Exception:  # what expat accepted and ElementTree does not: not an answer
        return None, Problem("unparseable", request_id=request_id)
    request_id = _text(root, "RequestId") or request_id
    error = _find(root, "Error")
    if error is not None:
        said, error_id = _text(error, "Message") or None, _text(error, "RequestId")
        return None, Problem("error", _text(error, "Code"), said, error_id or request_id)
    if status >= 400:
        return None, Problem("error", request_id=request_id)
    credentials = _find(root, "Credentials")
    if credentials is None:
        return None, Problem("no-credentials", request_id=request_id)
    fields = {name: _text(credentials, name) or "" for name in _FIELDS}

    def bad(message: str) -> Tuple[None, Problem]:
        return None, Problem("bad-credentials", message=message, request_id=request_id)

    missing = [name for name in _FIELDS if not fields[name]]
    if missing:
        return bad("missing " + ", ".join(missing))
    odd = ", ".join(n for n, allowed in _ISSUED_CHARACTERS.items() if not set(fields[n]) <= allowed)
    if odd:  # never quote the values: they are (or look like) secrets
        return bad(f"the server sent credentials with characters no STS issues (in {odd})")
    try:
        expiration = parse_timestamp(fields["Expiration"])
    except ValueError:
        return bad("Expiration is not an ISO 8601 timestamp")
    keys = TemporaryCredentials(
        fields["AccessKeyId"], fields["SecretAccessKey"], fields["SessionToken"], expiration,
        issued_at=datetime.now(timezone.utc).replace(microsecond=0),
    )
    return keys, None
