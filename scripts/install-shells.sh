#!/bin/sh
# Install the shells whose output formats the tests read back for real (env --format
# fish): fish from Debian's packages, unless already there. bash and dash come with Debian.
set -eu
if command -v fish >/dev/null 2>&1; then
    exit 0
fi
echo "Installing fish from Debian's packages (the tests source env --format fish in it)..." >&2
exec sh "$(dirname "$0")/apt-install.sh" fish
