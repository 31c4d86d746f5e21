"""A token given as a value: the ``BEARER_TOKEN`` variable (WLCG), or a JWT passed in code.
The variable is read when the token is needed, so a token never travels inside settings.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional

from ..errors import TokenSourceError
from .oidc_token import OidcToken, token_from_text

__all__ = ["VariableSource", "TextSource"]


class VariableSource:
    """The token held by the environment variable ``name`` (``BEARER_TOKEN``)."""

    kind = "variable"

    def __init__(self, name: str, environ: Optional[Mapping[str, str]] = None) -> None:
        self.name = name
        self._environ = environ

    @classmethod
    def make(cls, value: Any, *, environ: Mapping[str, str], **_: Any) -> VariableSource:
        return cls(str(value), environ)

    def identity(self) -> str:
        return f"{self.kind}:{self.name}"

    def describe(self) -> str:
        return f"the {self.name} variable"

    def __repr__(self) -> str:
        return f"VariableSource({self.name!r})"

    def read(self) -> OidcToken:
        """The token in the variable now; :class:`TokenSourceError` when unset or not a JWT."""
        environ = os.environ if self._environ is None else self._environ
        text = (environ.get(self.name) or "").strip()
        if not text:
            raise TokenSourceError(f"The {self.name} variable is empty or unset.",
                                   source=self.describe())
        return token_from_text(text, origin=self.describe(), kind=self.kind)


class TextSource:
    """A JWT given in code (the old InfnMinio API takes one). Never shown in a repr."""

    kind = "argument"

    def __init__(self, text: str, origin: str = "the token argument") -> None:
        self._token = token_from_text(text, origin=origin, kind=self.kind)

    def identity(self) -> str:
        return f"{self.kind}:{self._token.digest}"

    def describe(self) -> str:
        return self._token.origin

    def __repr__(self) -> str:
        return f"TextSource({self._token.describe()})"

    def read(self) -> OidcToken:
        return self._token
