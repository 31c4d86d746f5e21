"""``infnminio-boto sandbox start|status|stop|token|oidc-agent`` (docs/sandbox.md)."""

from __future__ import annotations

import argparse
import os
import sys

from .shells import render

exports = render  # the sandbox's settings as sh, fish or json read them, each value quoted


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sandbox", help="local OIDC issuer + Ceph RGW with STS, for trying and testing",
        description="A local OIDC issuer and a real Ceph RGW with STS on 127.0.0.1. "
        'Configure a shell with: eval "$(infnminio-boto sandbox start)"',
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    def action(name: str, handler: object, **kwargs: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, **kwargs)
        sub.add_argument("--dir", help="sandbox directory (default: $INFNMINIO_SANDBOX_DIR "
                         "or /tmp/infnminio-sandbox-UID)")
        sub.set_defaults(handler=handler)
        return sub

    start = action("start", run_start, help="start it; prints `export` lines on stdout")
    start.add_argument("--subject", default="sandbox-user", help="subject of the tokens")
    start.add_argument("--token-lifetime", type=int, default=1200,
                       help="lifetime of the tokens written to the token file (s)")
    start.add_argument("--refresh-interval", type=int, default=300,
                       help="how often the token file is rewritten, like sts-wire (s)")
    start.add_argument("--http", action="store_true", help="serve plain http instead of https "
                       "(default: https, with the sandbox's own CA, exported as "
                       "INFNMINIO_CA_BUNDLE)")
    start.add_argument("--format", choices=("sh", "fish", "json"), default="sh")
    action("status", run_status, help="is it running? (exit 0 if so, 7 if not)")
    action("stop", run_stop, help="stop what start started and remove its files")
    token = action("token", run_token, help="mint a fresh access token")
    token.add_argument("--subject", help="sub claim (default: the sandbox's)")
    token.add_argument("--audience", default="object", help="aud claim (default: object)")
    token.add_argument(
        "--lifetime", type=int, default=1200, help="seconds until exp (negative: already expired)"
    )
    token.add_argument("--write", action="store_true",
                       help="rewrite the sandbox token file in place instead of printing")
    agent = action(
        "oidc-agent", run_oidc_agent,
        help="start an oidc-agent with an account on the sandbox's issuer (the laptop path); "
        "prints the export line of its OIDC_SOCK",
        description='eval "$(infnminio-boto sandbox oidc-agent)" starts an oidc-agent of its '
        "own (stopped by `sandbox stop`) holding the account ACCOUNT on the sandbox's issuer; "
        "then: infnminio-boto configure --oidc-agent-account ACCOUNT.",
    )
    agent.add_argument("--account", default="sandbox", help="the account's name (default: sandbox)")
    agent.add_argument("--format", choices=("sh", "fish", "json"), default="sh")


def _note(text: str) -> None:
    print(text, file=sys.stderr)


def run_start(args: argparse.Namespace) -> int:
    from ..sandbox import Sandbox, SandboxStartError, default_directory, require

    require()  # the extra and Ceph, before anything is written
    directory = args.dir or default_directory()
    try:
        running = Sandbox.attach(directory)
        if running.status()["rgw_answers"]:
            _note(f"A sandbox is already running in {running.directory}; its settings:")
            print(exports(running.environment(), args.format))
            return 0
    except SandboxStartError:
        pass
    _note(f"Starting the sandbox in {directory} (Ceph monitor, OSD, radosgw, OIDC issuer)...")
    sandbox = Sandbox(directory, subject=args.subject, token_lifetime=args.token_lifetime,
                      token_refresh_interval=args.refresh_interval, watch_owner=False,
                      tls=not args.http)
    sandbox.start()
    _note(f"Sandbox up in {sandbox.state['started_seconds']} s: radosgw at {sandbox.endpoint}, "
          f"issuer at {sandbox.issuer_url}, token file {sandbox.token_file} "
          f"(rewritten every {args.refresh_interval} s).")
    environment = sandbox.environment()
    if sandbox.ca_bundle:
        _note(f"It serves https with a certificate from its own authority, {sandbox.ca_bundle} "
              "(INFNMINIO_CA_BUNDLE): the library, configure and env pass it on. "
              f"AWS_CA_BUNDLE, SSL_CERT_FILE, REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE name "
              f"{environment['AWS_CA_BUNDLE']}: the authorities this shell trusted, and the "
              "sandbox's.")
    _note('Use it with: eval "$(infnminio-boto sandbox start)"; stop it with: '
          "infnminio-boto sandbox stop")
    print(exports(environment, args.format))
    return 0


def run_status(args: argparse.Namespace) -> int:
    from ..sandbox import Sandbox

    status = Sandbox.attach(args.dir).status()
    print(f"directory  {status['directory']}")
    print(f"endpoint   {status['endpoint']} ({'answering' if status['rgw_answers'] else 'DOWN'})")
    print(f"issuer     {status['issuer']}")
    print(f"CA bundle  {status['ca_bundle'] or '- (plain http)'}")
    for name, alive in sorted(status["processes"].items()):
        print(f"{name:<20} {'running' if alive else 'NOT RUNNING'}")
    healthy = status["rgw_answers"] and all(status["processes"].values())
    return 0 if healthy else 7


def run_stop(args: argparse.Namespace) -> int:
    from ..integrations.ca_trust import CA_BUNDLE_VARIABLES
    from ..sandbox import Sandbox, default_directory

    directory = args.dir or default_directory()
    if not os.path.lexists(directory):
        _note(f"No sandbox in {directory}: nothing to stop.")
        return 0
    Sandbox.cleanup_leftovers(directory)
    _note(f"Sandbox in {directory} stopped and removed.")
    # The CA variables of this shell that `sandbox start` pointed into it.
    inside = os.path.join(os.path.abspath(str(directory)), "")
    stale = [name for name in CA_BUNDLE_VARIABLES
             if os.path.abspath(os.environ.get(name) or "/").startswith(inside)]
    if stale:
        _note(f"{', '.join(stale)} in this shell named a bundle in that directory, now gone: "
              "open a new shell, or set them back (unset them if they were unset before).")
    return 0


def run_token(args: argparse.Namespace) -> int:
    from ..sandbox import Sandbox

    sandbox = Sandbox.attach(args.dir)
    token = sandbox.mint_token(args.subject, audience=args.audience, lifetime=args.lifetime)
    if args.write:
        sandbox.write_token(token)
        _note(f"Wrote a fresh token to {sandbox.token_file}.")
    else:
        print(token)
    return 0


def run_oidc_agent(args: argparse.Namespace) -> int:
    from ..sandbox import Sandbox
    from ..sandbox.oidc_agent import start_oidc_agent

    agent = start_oidc_agent(Sandbox.attach(args.dir), args.account)
    _note(f"oidc-agent (pid {agent.pid}) holds the account {agent.account!r} on the sandbox's "
          f"issuer {agent.issuer}; `infnminio-boto sandbox stop` stops it. Next: "
          f"infnminio-boto configure --oidc-agent-account {agent.account}")
    print(render(agent.environment, args.format))
    return 0
