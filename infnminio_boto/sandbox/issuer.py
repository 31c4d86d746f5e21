"""A local OIDC issuer: an RS256 key with a self-signed certificate, discovery, JWKS,
and a token endpoint for the refresh-token grant.

Ceph RGW fetches ``<iss>/.well-known/openid-configuration`` and its ``jwks_uri`` on
every exchange and insists on an ``x5c`` certificate in the key, so the key comes with
a self-signed X.509 certificate. Tokens are minted with PyJWT; keys and certificates
come from ``cryptography``.

The token endpoint is what oidc-agent needs (read from indigo-dc/oidc-agent v4.2.6 and
measured against Debian's 4.2.6 build): discovery with ``token_endpoint`` and
``scopes_supported``; ``POST /token`` with ``grant_type=refresh_token``, the client
authenticated by HTTP Basic (form fields are accepted too), an optional ``scope``
(a subset of the grant's) and ``audience`` (space-separated; it becomes the token's
``aud``, else the client id). Errors are OAuth 2.0 JSON (RFC 6749 section 5.2). There
is no device flow: ``/device`` answers 404, so an agent's automatic
re-authentication fails at once instead of waiting for a user.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import json
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple, Union

from .grants import CLIENT_ID, DEFAULT_SCOPE, OidcClient, RefreshTokens

__all__ = ["SigningKey", "IssuerServer", "mint_token"]

DEFAULT_AUDIENCE = "object"
DEFAULT_LIFETIME = 1200  # sts-wire's IAM tokens live 20 to 60 minutes


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class SigningKey:
    """An RSA key and its self-signed certificate, stored as PEM files in ``directory``."""

    def __init__(self, private_key: Any, certificate: Any, kid: str) -> None:
        self.private_key = private_key
        self.certificate = certificate
        self.kid = kid

    @classmethod
    def generate(cls, common_name: str = "infnminio-boto sandbox issuer") -> SigningKey:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = dt.datetime.now(dt.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate, kid=uuid.uuid4().hex[:16])

    def save(self, directory: Path) -> None:
        from cryptography.hazmat.primitives import serialization

        directory.mkdir(parents=True, exist_ok=True)
        key_path = directory / "issuer-key.pem"
        key_path.touch(mode=0o600)
        key_path.write_bytes(
            self.private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (directory / "issuer-cert.pem").write_bytes(
            self.certificate.public_bytes(serialization.Encoding.PEM)
        )
        (directory / "issuer-kid").write_text(self.kid)

    @classmethod
    def load(cls, directory: Path) -> SigningKey:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(
            (directory / "issuer-key.pem").read_bytes(), password=None
        )
        certificate = x509.load_pem_x509_certificate((directory / "issuer-cert.pem").read_bytes())
        return cls(key, certificate, (directory / "issuer-kid").read_text().strip())

    def jwk(self) -> Dict[str, Any]:
        from cryptography.hazmat.primitives import serialization

        numbers = self.private_key.public_key().public_numbers()
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
            "x5c": [base64.b64encode(der).decode()],
        }


def mint_token(
    key: SigningKey,
    issuer: str,
    *,
    subject: str = "sandbox-user",
    audience: Union[str, Sequence[str]] = DEFAULT_AUDIENCE,
    lifetime: float = DEFAULT_LIFETIME,
    scope: str = DEFAULT_SCOPE,
    extra_claims: Optional[Dict[str, Any]] = None,
) -> str:
    """An RS256 access token as INDIGO IAM issues them (negative lifetime: expired)."""
    import jwt

    now = int(time.time())
    claims: Dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience if isinstance(audience, str) else list(audience),
        "iat": now,
        "nbf": now - 60 if lifetime > 0 else now + int(lifetime) - 60,
        "exp": now + int(lifetime),
        "jti": str(uuid.uuid4()),
        "client_id": CLIENT_ID,
        "scope": scope,
    }
    if extra_claims:
        claims.update(extra_claims)
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


Answer = Tuple[int, Dict[str, Any], Dict[str, str]]  # status, JSON body, extra headers


def oauth_error(status: int, error: str, description: str) -> Answer:
    """An OAuth 2.0 error answer (RFC 6749 section 5.2)."""
    headers = {"WWW-Authenticate": 'Basic realm="sandbox"'} if status == 401 else {}
    return status, {"error": error, "error_description": description}, headers


class IssuerServer:
    """Serves discovery, JWKS and the token endpoint on 127.0.0.1:``port`` in a thread.

    ``client`` and ``grants`` (the registered client and the refresh tokens issued for
    it) enable the token endpoint; without them it answers ``invalid_client``.
    Access tokens from it live ``lifetime`` seconds.
    """

    def __init__(
        self,
        key: SigningKey,
        port: int = 0,
        *,
        client: Optional[OidcClient] = None,
        grants: Optional[RefreshTokens] = None,
        lifetime: int = DEFAULT_LIFETIME,
    ) -> None:
        self.key = key
        self.client = client
        self.grants = grants
        self.lifetime = lifetime
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: Optional[threading.Thread] = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        # No trailing slash: RGW registers the provider under exactly this string.
        return f"http://127.0.0.1:{self.port}"

    def discovery(self) -> Dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/jwks",
            "token_endpoint": f"{self.url}/token",
            "authorization_endpoint": f"{self.url}/authorize",
            # oidc-agent 4.2.6 fails without scopes_supported ("Argument is NULL in
            # function JSONArrayStringToDelimitedString").
            "scopes_supported": DEFAULT_SCOPE.split(),
            "grant_types_supported": ["refresh_token"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "scope", "client_id"],
        }

    def _client_authenticated(self, form: Dict[str, str], authorization: str) -> bool:
        if authorization[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(authorization[6:], validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
            # RFC 6749 2.3.1: both parts are form-encoded before base64.
            client_id, _, secret = (urllib.parse.unquote_plus(p) for p in decoded.partition(":"))
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return self.client is not None and (
            hmac.compare_digest(client_id.encode(), self.client.client_id.encode())
            and hmac.compare_digest(secret.encode(), self.client.client_secret.encode())
        )

    def token(self, form: Dict[str, str], authorization: str = "") -> Answer:
        """Answer a token request: ``form`` is the decoded body, ``authorization`` the header."""
        if self.client is None or self.grants is None:
            return oauth_error(401, "invalid_client", "this issuer has no registered client")
        if not self._client_authenticated(form, authorization):
            return oauth_error(401, "invalid_client", "unknown client or wrong client secret")
        if form.get("grant_type") != "refresh_token":
            return oauth_error(
                400, "unsupported_grant_type", "the sandbox issuer supports refresh_token only"
            )
        if not form.get("refresh_token"):
            return oauth_error(400, "invalid_request", "refresh_token is missing")
        grant = self.grants.lookup(form["refresh_token"])
        if grant is None:
            return oauth_error(400, "invalid_grant", "unknown or revoked refresh token")
        scope = form.get("scope", "").split() or grant.scope.split()
        if not set(scope) <= set(grant.scope.split()):
            return oauth_error(400, "invalid_scope", f"the grant's scope is {grant.scope!r}")
        audiences = form.get("audience", "").split() or [self.client.client_id]
        access_token = mint_token(
            self.key,
            self.url,
            subject=grant.subject,
            audience=audiences[0] if len(audiences) == 1 else audiences,
            lifetime=self.lifetime,
            scope=" ".join(scope),
        )
        return (
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": self.lifetime,
                "scope": " ".join(scope),
                # Not rotated: oidc-agent then rewrites nothing on each refresh.
                "refresh_token": form["refresh_token"],
            },
            {},
        )

    def _handler(self) -> type:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass  # request lines would carry nothing useful, and never a secret

            def _answer(self, status: int, body: Dict[str, Any], headers: Dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path = urllib.parse.urlsplit(self.path).path.rstrip("/")
                if path == "/.well-known/openid-configuration":
                    self._answer(200, outer.discovery(), {})
                elif path == "/jwks":
                    self._answer(200, {"keys": [outer.key.jwk()]}, {})
                else:
                    self._answer(404, {"error": "not_found"}, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, 65536)).decode("utf-8", "replace")
                if urllib.parse.urlsplit(self.path).path.rstrip("/") != "/token":
                    self._answer(404, {"error": "not_found"}, {})  # /device among them
                    return
                # parse_qsl also takes the raw spaces oidc-agent sends (scope=openid x).
                form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
                self._answer(*outer.token(form, self.headers.get("Authorization", "")))

        return Handler

    def start(self) -> IssuerServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
