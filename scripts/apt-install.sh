#!/bin/sh
# apt-get install the given Debian packages, with sudo when not root.
set -eu
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install --no-install-recommends -y -qq "$@" >/dev/null
