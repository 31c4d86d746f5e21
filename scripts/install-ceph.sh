#!/bin/sh
# Install the Ceph daemons the sandbox runs (Debian packages), unless already there.
set -eu
if command -v radosgw >/dev/null 2>&1 && command -v ceph-mon >/dev/null 2>&1 \
    && command -v ceph-osd >/dev/null 2>&1 && command -v radosgw-admin >/dev/null 2>&1; then
    exit 0
fi
echo "Installing Ceph (radosgw, ceph-mon, ceph-osd, ceph-common) from Debian's packages..." >&2
exec sh "$(dirname "$0")/apt-install.sh" radosgw ceph-mon ceph-osd ceph-common
