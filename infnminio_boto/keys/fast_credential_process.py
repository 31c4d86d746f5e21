"""What the profile ``configure`` writes runs: ``python -I -S .../fast_credential_process.py``.

A script is compiled anew at every run, a module is read from its cached bytecode: so
this stays a few lines. It imports :mod:`fastpath` and the builtin-only rule modules it
uses (``settings/hot_path.py``, ``sources/discovery.py``) as top-level modules, by path
from the installed package, so that nothing else of the package (not even its
``__init__``) is loaded.
The folders go to the *end* of ``sys.path``: under ``-I`` neither the caller's
directory nor ``PYTHONPATH`` is on it, and no standard module can be shadowed.
"""

import sys

_package = __file__.rpartition("/")[0].rpartition("/")[0]
sys.path += [_package + "/keys", _package + "/sources", _package + "/settings"]
from fastpath import main  # type: ignore[import-not-found]  # noqa: E402  # by path, see above

sys.exit(main())
