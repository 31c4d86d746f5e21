"""A local OIDC issuer: an RS256 key with a self-signed certificate, discovery, JWKS.

Ceph RGW fetches ``<iss>/.well-known/openid-configuration`` and its ``jwks_uri`` on
every exchange and insists on an ``x5c`` certificate in the key, so the key comes with
a self-signed X.509 certificate. Tokens are minted with PyJWT; keys and certificates
come from ``cryptography``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Union

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
        "client_id": "infnminio-boto-sandbox",
        "scope": "openid profile offline_access",
    }
    if extra_claims:
        claims.update(extra_claims)
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


class IssuerServer:
    """Serves discovery and JWKS for ``key`` on 127.0.0.1:``port`` in a thread."""

    def __init__(self, key: SigningKey, port: int = 0) -> None:
        self.key = key
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
            "response_types_supported": ["code", "token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def _handler(self) -> type:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/.well-known/openid-configuration":
                    body = json.dumps(outer.discovery()).encode()
                elif self.path.rstrip("/") == "/jwks":
                    body = json.dumps({"keys": [outer.key.jwk()]}).encode()
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

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
