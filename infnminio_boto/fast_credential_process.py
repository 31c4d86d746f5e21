"""What the profile ``configure`` writes runs: ``python -I -S .../fast_credential_process.py``.

A script is compiled anew at every run, a module is read from its cached bytecode: so
this stays a few lines and imports :mod:`fastpath` from beside it as a top-level module,
so that nothing else of the package (not even its ``__init__``) is loaded.
"""

import sys

sys.path.insert(0, __file__.rpartition("/")[0])
from fastpath import main  # type: ignore[import-not-found]  # by path, see above

sys.exit(main())
