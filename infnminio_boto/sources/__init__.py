"""Where the OIDC access token comes from: one small interface, several sources, one order.

A token source (:class:`TokenSource`) never refreshes a token itself. Which class reads
which setting is the table of :mod:`infnminio_boto.settings.hot_path`; when no setting
names one, :mod:`.discovery` gives the order (docs/tokens.md).
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import (
    TYPE_CHECKING,
    Any,
    Mapping,
    NamedTuple,
    Optional,
    Protocol,
    Tuple,
    runtime_checkable,
)

from ..errors import ConfigurationError, TokenSourceError
from ..settings.hot_path import BY_NAME, NAMED
from . import discovery
from .oidc_token import OidcToken

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["TokenSource", "Selection", "select", "token_source", "OidcToken", "advice"]


@runtime_checkable
class TokenSource(Protocol):
    """What every token source offers: ``kind`` (its row in ``settings/hot_path.py``);
    ``read()``, the token now, expired or not, or :class:`~infnminio_boto.TokenSourceError`;
    ``identity()``, naming the source without a secret; ``describe()``, words for messages.
    """

    kind: str

    def read(self) -> OidcToken: ...

    def identity(self) -> str: ...

    def describe(self) -> str: ...


class Selection(NamedTuple):
    """The outcome of :func:`select`: the source (None: none found), why it was chosen,
    and every place looked at before it with what was found there."""

    source: Optional[TokenSource]
    why: str
    tried: Tuple[Tuple[str, str], ...]


def source_class(kind: str) -> Any:
    """The class that reads tokens of ``kind`` (its row's ``module:Class``)."""
    module, _, name = BY_NAME[kind].source.partition(":")
    return getattr(import_module(f".{module}", __name__), name)


def select(settings: Settings, environ: Optional[Mapping[str, str]] = None, *,
           command_line: bool = False) -> Selection:
    """The token source for ``settings`` in this process, and how it was found
    (``environ``: for the discovery order; ``command_line``: arguments named as flags).
    :class:`~infnminio_boto.ConfigurationError` when HTCondor's folder holds several tokens.
    """
    environ = os.environ if environ is None else environ
    choice = settings.token
    if choice.setting is not None:
        kind, where, named, tried = choice.kind, choice.value, choice.here, []
        why = f"set by {settings.origin(choice.setting, command_line=command_line)}"
    else:
        found, tried = discovery.locate(environ)
        if found is None:
            return Selection(None, "", tuple(tried))
        kind, where, why = found
        if kind == discovery.SEVERAL:
            reasons = [(path, discovery.unsafe_reason(path)) for path in where]
            listed = [p if r is None else f"{p} (not safe: {r})" for p, r in reasons]
            raise ConfigurationError(
                f"{why} holds {len(where)} tokens ({'; '.join(listed)}): choose one with "
                "token_file / INFNMINIO_TOKEN_FILE (the one of the service your store trusts, "
                "and a file only you can write)."
            )
        named = why.startswith("named by")
    source = source_class(kind).make(
        where, settings=settings, environ=environ, why=why, named=named
    )
    return Selection(source, why, tuple(tried))


def token_source(settings: Settings, environ: Optional[Mapping[str, str]] = None) -> TokenSource:
    """The source :func:`select` finds; :class:`TokenSourceError` listing every place
    tried, and what to do where this process runs, when there is none."""
    environ = os.environ if environ is None else environ
    selection = select(settings, environ)
    if selection.source is not None:
        return selection.source
    places = "; ".join(f"{place} ({found})" for place, found in selection.tried)
    raise TokenSourceError(
        f"No access token found{_on_a_worker()}. Tried, in order: {places}. {advice(environ)}",
        source="the discovery order",
    )


def advice(environ: Mapping[str, str]) -> str:
    """What to do when no token is found, for the place this process runs in."""
    settings = ", ".join(kind.setting for kind in NAMED if kind.variable)
    variables = ", ".join(kind.variable for kind in NAMED if kind.variable)
    anywhere = f"or set {settings} ({variables}); see `infnminio-boto doctor`."
    if _on_a_worker():
        return (
            "This is a Dask worker, on a machine without the token: on the client, call "
            "infnminio_boto.dask.share_credentials(client), which sends the workers keys "
            "(never the token)."
        )
    if (environ.get("_CONDOR_CREDS") or "").strip():
        return (
            "In an HTCondor job the token comes from the submit file: use_oauth_services = "
            "SERVICE (and SERVICE_oauth_resource = object); its file appears as "
            f"$_CONDOR_CREDS/SERVICE.use while the job runs; {anywhere}"
        )
    import shutil

    if environ.get("OIDC_SOCK") or shutil.which("oidc-token") is not None:
        return (
            "On a laptop with oidc-agent, name your account: oidc_agent_account / "
            f"INFNMINIO_OIDC_AGENT_ACCOUNT (`oidc-add ACCOUNT` loads it); {anywhere}"
        )
    return f"On the hub, start sts-wire (it writes .token in its working directory), {anywhere}"


def _on_a_worker() -> str:
    """`` on a Dask worker`` when this runs in a task of a Dask worker, else ``""``."""
    if "distributed" not in sys.modules:
        return ""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return ""
    return " on a Dask worker"
