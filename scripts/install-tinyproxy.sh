#!/bin/sh
# Install tinyproxy (Debian), the forwarding proxy the tests send the STS exchange
# through, unless already there. tinyproxy-bin is the program alone: no service starts.
set -eu
if command -v tinyproxy >/dev/null 2>&1 || [ -x /usr/bin/tinyproxy ]; then
    exit 0
fi
echo "Installing tinyproxy from Debian's packages..." >&2
sh "$(dirname "$0")/apt-install.sh" tinyproxy-bin || exec sh "$(dirname "$0")/apt-install.sh" tinyproxy
