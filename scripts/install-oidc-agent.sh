#!/bin/sh
# Install oidc-agent's command-line tools (Debian package oidc-agent-cli: oidc-agent,
# oidc-gen, oidc-token, oidc-add) for the infnminio_oidc_agent test fixture, unless
# already there. Not the `oidc-agent` metapackage: it pulls a desktop (xterm, GTK).
set -eu
if command -v oidc-agent >/dev/null 2>&1 && command -v oidc-gen >/dev/null 2>&1 \
    && command -v oidc-token >/dev/null 2>&1; then
    exit 0
fi
echo "Installing oidc-agent (oidc-agent-cli) from Debian's packages..." >&2
exec sh "$(dirname "$0")/apt-install.sh" oidc-agent-cli
