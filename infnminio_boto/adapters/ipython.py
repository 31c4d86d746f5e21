"""The IPython extension: ``%load_ext infnminio_boto`` in a notebook.

It calls :func:`~infnminio_boto.adapters.activate.activate` with the environment's
settings and prints one line: for whom, where, until when. When the token or the store
fails, the libraries are set up all the same (``pending=True``), so that the next
``s3://`` call reaches the store and fails with that cause, not somewhere else, and the
line, on stderr, says so; fixing the cause is enough. ``%unload_ext`` undoes it,
``%reload_ext`` activates again.
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
        activation = activate(pending=True)
    except InfnMinioError as error:  # a setting: nothing can be set up
        print(
            f"infnminio-boto: NOT ACTIVATED: {one_line(error)} (then: %reload_ext "
            "infnminio_boto)",
            file=sys.stderr,
        )
        return
    print(activation.summary(), file=sys.stderr if activation.pending else sys.stdout)


def unload_ipython_extension(ipython: Any = None) -> None:
    """Undo the activation."""
    from .activate import deactivate

    deactivate()
