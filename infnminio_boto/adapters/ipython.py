"""The IPython extension: ``%load_ext infnminio_boto`` activates (with ``pending=True``) and
prints one line: for whom, where, until when, or (on stderr) what fails. ``%unload_ext``
undoes it, ``%reload_ext`` activates again (docs/activate.md)."""

from __future__ import annotations

import sys
from typing import Any

from ..errors import InfnMinioError
from .activate import activate, deactivate

__all__ = ["load_ipython_extension", "unload_ipython_extension", "one_line"]


def one_line(error: BaseException) -> str:
    """The error's message on one line (our messages may span several)."""
    return " ".join(str(error).split())


def load_ipython_extension(ipython: Any = None) -> None:
    """Activate, and print the one line."""
    try:
        activation = activate(pending=True)
    except InfnMinioError as error:  # a setting: nothing can be set up
        print(f"infnminio-boto: NOT ACTIVATED: {one_line(error)} (then: %reload_ext "
              "infnminio_boto)", file=sys.stderr)
        return
    print(activation.summary(), file=sys.stderr if activation.pending else sys.stdout)


def unload_ipython_extension(ipython: Any = None) -> None:
    """Undo the activation."""
    deactivate()
