#!/bin/sh
# Install the Debian packages the sandbox, the demo and the tests run, unless already
# there, in one apt-get call. Groups (all when none is given):
#   ceph        radosgw, ceph-mon, ceph-osd, ceph-common: the sandbox's Ceph RGW
#   shells      fish: the tests read `env --format fish` back in the real shell
#   oidc-agent  oidc-agent-cli (oidc-agent, oidc-gen, oidc-token, oidc-add), not the
#               oidc-agent metapackage, which pulls a desktop (xterm, GTK)
#   proxy       tinyproxy-bin: the real forwarding proxy the STS exchange is tested
#               through (the program alone: no service starts)
set -eu
groups=${*:-ceph shells oidc-agent proxy}
missing=""
need() {  # need PACKAGE PROGRAM...: the package, when one of its programs is missing
    package=$1
    shift
    for program in "$@"; do
        if ! command -v "$program" >/dev/null 2>&1; then
            missing="$missing $package"
            return
        fi
    done
}
for group in $groups; do
    case $group in
        ceph)
            need radosgw radosgw
            need ceph-mon ceph-mon monmaptool
            need ceph-osd ceph-osd
            need ceph-common ceph radosgw-admin ceph-authtool
            ;;
        shells) need fish fish ;;
        oidc-agent) need oidc-agent-cli oidc-agent oidc-gen oidc-token oidc-add ;;
        proxy) [ -x /usr/bin/tinyproxy ] || need tinyproxy-bin tinyproxy ;;
        *) echo "unknown group: $group" >&2; exit 2 ;;
    esac
done
[ -n "$missing" ] || exit 0
echo "Installing from Debian's packages:$missing" >&2
exec sh "$(dirname "$0")/apt-install.sh" $missing
