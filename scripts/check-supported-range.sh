#!/bin/sh
# The supported range, as pyproject.toml declares it (run by `make test`):
#  - the core and command-line tests against the oldest boto3, botocore, urllib3 and
#    xmltodict declared, and against the newest (not the sandbox, adapter, Dask or
#    wheel-building tests: they need the extras and do not depend on these versions);
#  - an import-and-core run on the oldest (3.9) and the newest Python found here.
# Each run installs the package (not editable) into its own virtualenv under
# .venv-range and runs pytest from there, so the installed copy is what is tested.
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ROOT=$(pwd)
CORE="tests --ignore=tests/adapters --ignore=tests/test_docs.py --ignore=tests/test_packaging.py -m 'not sandbox'"
QUICK="tests/settings tests/sources tests/keys tests/sts"

oldest=$("$PY" - <<'PYTHON'
import re, tomllib
with open("pyproject.toml", "rb") as handle:
    requirements = tomllib.load(handle)["project"]["dependencies"]
print(" ".join(re.sub(r">=", "==", r.split(",")[0]) for r in requirements))
PYTHON
)

run() {
    name=$1 python=$2 tests=$3
    shift 3
    venv="$ROOT/.venv-range/$name"
    echo "== supported range: $name ($("$python" --version 2>&1); $*)"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet "$@" pytest hypothesis argcomplete
    "$venv/bin/python" -m pip install --quiet --no-deps "$ROOT"
    "$venv/bin/python" -m pip check
    (cd "$ROOT/.venv-range" && eval "'$venv/bin/python' -m pytest -q -p no:cacheprovider \
        -c '$ROOT/pyproject.toml' --rootdir '$ROOT' $(echo $tests | sed "s|tests|$ROOT/tests|g")")
}

run oldest-deps python3 "$CORE" $oldest
run newest-deps python3 "$CORE" --upgrade boto3 botocore urllib3 xmltodict

# An interpreter of that version: on PATH, or one pyenv keeps (its shims answer only for
# the selected version).
find_python() {
    for candidate in "python$1" $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$1".*/bin/"python$1" 2>/dev/null | sort -rV); do
        if "$candidate" -c pass 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
}
newest=""
for version in 3.14 3.13 3.12; do
    newest=$(find_python "$version")
    [ -n "$newest" ] && break
done
for version in 3.9 ${newest:+"${newest##*python}"}; do
    python=$(find_python "$version")
    if [ -n "$python" ]; then
        run "python$version" "$python" "$QUICK" boto3 botocore urllib3 xmltodict
    else
        echo "== supported range: no Python $version on this machine; its run is left out"
    fi
done
