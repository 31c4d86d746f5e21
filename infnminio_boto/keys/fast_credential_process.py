"""What the profile ``configure`` writes runs: ``python -I -S .../fast_credential_process.py``.

A script is compiled at every run, so this stays a few lines: it puts the folders of
:mod:`fastpath` and its builtin-only rule modules at the *end* of ``sys.path`` (no
standard module can be shadowed) and imports them by path, nothing else of the package.
"""

import sys

_package = __file__.rpartition("/")[0].rpartition("/")[0]
sys.path += [_package + "/keys", _package + "/sources", _package + "/settings"]
from fastpath import main  # type: ignore[import-not-found]  # noqa: E402  # by path, see above

sys.exit(main())
