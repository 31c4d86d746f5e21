"""A token from a callable of the user's: ``token_loader=`` (a vault, a Kubernetes secret,
a site's own script). Called each time keys are needed (once per exchange or cache
look-up, never per S3 request), never asked to refresh anything (docs/tokens.md).
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import InfnMinioError, TokenSourceError, scrub
from .oidc_token import OidcToken, token_from_text

__all__ = ["LoaderSource"]


class LoaderSource:
    """The token ``loader()`` returns, as a string (raw JWT, or JSON with ``access_token``)."""

    kind = "loader"

    def __init__(self, loader: Callable[[], str], *, why: str = "") -> None:
        self.loader = loader
        self.why = why
        name = getattr(loader, "__qualname__", None) or type(loader).__name__
        self.label = f"the token_loader {scrub(str(name), limit=80)}"

    @classmethod
    def make(cls, value: Any, *, why: str, **_: Any) -> LoaderSource:
        return cls(value, why=why)

    def identity(self) -> str:
        return f"{self.kind}:{id(self.loader):x}"

    def describe(self) -> str:
        return self.label + (f" ({self.why})" if self.why else "")

    def __repr__(self) -> str:
        return f"LoaderSource({self.label!r})"

    def read(self) -> OidcToken:
        """Call the loader once; :class:`TokenSourceError` when it raises or returns
        something that is not a JWT access token (its words scrubbed of any token)."""
        said = f"{self.label[:1].upper()}{self.label[1:]}"
        try:
            text = self.loader()
        except InfnMinioError:
            raise
        except Exception as error:
            raise TokenSourceError(
                f"{said} raised {type(error).__name__}: {scrub(str(error), limit=300)}",
                source=self.describe(),
            ) from None
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if not isinstance(text, str):
            raise TokenSourceError(
                f"{said} returned {type(text).__name__}, not the access token as a string.",
                source=self.describe(),
            )
        return token_from_text(text, origin=self.label, kind=self.kind)
