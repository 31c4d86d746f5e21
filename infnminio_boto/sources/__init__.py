"""Where the OIDC access token comes from: one small interface, several sources, one order.

A token source (as google-auth's ``SubjectTokenSupplier``, botocore's
``token_loader_cls`` or azure-identity's token-file callable) is an object with:

* ``read()`` -> :class:`OidcToken`: the token now, expired or not (the caller decides;
  an expired token is never sent). It never refreshes an OIDC token itself: sts-wire,
  oidc-agent or HTCondor's credential monitor is the one refresher.
* ``identity()`` -> str: a stable name of the source, holding no secret.
* ``describe()`` -> str: words for ``doctor``, ``status`` and error messages.
* ``kind``: ``file``, ``variable``, ``command``, ``oidc-agent`` or ``argument``.

The sources: :class:`~.file.FileSource` (``token_file``; sts-wire's ``.token``,
HTCondor's ``.use``, WLCG's ``bt_u<uid>``), :class:`~.value.VariableSource`
(``BEARER_TOKEN``), :class:`~.command.CommandSource` (``token_command``) and
:class:`~.oidc_agent.OidcAgentSource` (``oidc_agent_account``). :func:`select` applies
the settings and then the discovery order of :mod:`.discovery`; every consumer (the
exchange, the cache, the fast path, ``doctor``, ``status``, ``configure``, ``env``,
``exec``, Dask sharing) goes through it. A new source is one module here and one branch
in :func:`select`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Mapping, NamedTuple, Optional, Tuple

from ..errors import ConfigurationError, TokenSourceError
from . import discovery
from .oidc_token import OidcToken

if TYPE_CHECKING:
    from typing import Protocol

    from ..settings import Settings

    class TokenSource(Protocol):
        kind: str

        def read(self) -> OidcToken: ...

        def identity(self) -> str: ...

        def describe(self) -> str: ...

else:
    TokenSource = object

__all__ = ["TokenSource", "Selection", "select", "token_source", "OidcToken"]


class Selection(NamedTuple):
    """The outcome of :func:`select`: the source (None: none found), why it was chosen,
    and every place looked at before it with what was found there."""

    source: Optional[TokenSource]
    why: str
    tried: Tuple[Tuple[str, str], ...]


def _exchange_budget(settings: Settings) -> float:
    """How long a command or the agent may take: the STS's own timeout, at least 30 s."""
    return max(30.0, settings.timeout)


def select(
    settings: Settings,
    environ: Optional[Mapping[str, str]] = None,
    *,
    command_line: bool = False,
) -> Selection:
    """The token source for ``settings`` in this process, and how it was found.

    ``environ`` is read for the discovery order (default: this process's environment);
    ``command_line`` words an argument as its flag (``--token-file``).
    Raises :class:`~infnminio_boto.ConfigurationError` when HTCondor's credentials folder
    holds several tokens (``token_file`` chooses one).
    """
    from .command import CommandSource
    from .file import FileSource
    from .oidc_agent import OidcAgentSource
    from .value import VariableSource

    environ = os.environ if environ is None else environ
    choice = settings.token
    if choice.kind != "discover":
        setting = choice.setting or "token_file"
        why = f"set by {settings.origin(setting, command_line=command_line)}"
        if choice.kind == "file":
            # Named here: as the user said. Named on another machine (travelled with the
            # settings to a worker): under the rules of a file nobody named here.
            source = FileSource(str(choice.value), named=choice.here, why=why)
            return Selection(source, why, ())
        if choice.kind == "command":
            command = CommandSource(
                tuple(choice.value or ()), timeout=_exchange_budget(settings), why=why
            )
            return Selection(command, why, ())
        agent = OidcAgentSource(
            str(choice.value),
            audience=settings.audience,
            timeout=_exchange_budget(settings),
            why=why,
        )
        return Selection(agent, why, ())
    found, tried = discovery.locate(environ)
    if found is None:
        return Selection(None, "", tuple(tried))
    kind, where, why = found
    if kind == "several":
        listed = []
        for path in where:
            reason = discovery.unsafe_reason(path)
            listed.append(path if reason is None else f"{path} (not safe: {reason})")
        raise ConfigurationError(
            f"{why} holds {len(where)} tokens ({'; '.join(listed)}): choose one with "
            "token_file / INFNMINIO_TOKEN_FILE (the one of the service your store trusts, "
            "and a file only you can write)."
        )
    if kind == "variable":
        return Selection(VariableSource(where, environ), why, tuple(tried))
    named = why.startswith("named by")
    return Selection(FileSource(where, named=named, why=why), why, tuple(tried))


def token_source(settings: Settings, environ: Optional[Mapping[str, str]] = None) -> TokenSource:
    """The source :func:`select` finds; :class:`TokenSourceError` listing every place
    tried when there is none."""
    selection = select(settings, environ)
    if selection.source is not None:
        return selection.source
    places = "; ".join(f"{place} ({found})" for place, found in selection.tried)
    raise TokenSourceError(
        f"No access token found. Tried, in order: {places}. Start sts-wire (it writes "
        ".token in its working directory), or set token_file, token_command or "
        "oidc_agent_account (INFNMINIO_TOKEN_FILE, INFNMINIO_TOKEN_COMMAND, "
        "INFNMINIO_OIDC_AGENT_ACCOUNT); see `infnminio-boto doctor`.",
        source="the discovery order",
    )
