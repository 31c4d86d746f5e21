"""The IPython extension: ``%load_ext infnminio_boto`` in a notebook.

It calls :func:`~infnminio_boto.adapters.activate.activate` with the settings of the
environment (``INFNMINIO_*`` variables, else the defaults) and prints one line: the
endpoint, the libraries whose bare ``s3://`` URLs now reach it, the token's subject and
where the token came from, and when the keys expire. When the token cannot be read or
the store refuses or cannot be reached, it prints one line saying why and what to do
(on stderr), and changes nothing: no traceback. IPython counts the extension as loaded
all the same, so the line ends with the command that tries again.
``%unload_ext infnminio_boto`` undoes it; ``%reload_ext infnminio_boto`` activates
again (after the token or settings changed). For other settings, call
``infnminio_boto.activate(endpoint=..., ...)``.
"""

from __future__ import annotations

import sys
from typing import Any

from ..errors import InfnMinioError

__all__ = ["load_ipython_extension", "unload_ipython_extension", "one_line"]


def one_line(error: BaseException) -> str:
    """The error's message on one line (our messages may span several)."""
    return " ".join(str(error).split())


def load_ipython_extension(ipython: Any = None) -> None:
    """Activate, and print the one line (see the module help)."""
    from .activate import activate

    try:
        activation = activate()
    except InfnMinioError as error:
        print(
            f"infnminio-boto: not activated: {one_line(error)} "
            "(then: %reload_ext infnminio_boto)",
            file=sys.stderr,
        )
        return
    print(activation.summary())


def unload_ipython_extension(ipython: Any = None) -> None:
    """Undo the activation."""
    from .activate import deactivate

    deactivate()
