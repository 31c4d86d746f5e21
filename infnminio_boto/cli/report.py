"""The lines of ``doctor``: OK, WARN or FAIL per check, as text or as JSON objects."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Tuple

from .common import EXIT_OK, configure_logging, exit_code_for, settings_from_flags

if TYPE_CHECKING:
    from ..settings import Settings


class Report:
    """Checks as they come: printed at once as text, or kept for one JSON document."""

    def __init__(self, *, as_json: bool = False) -> None:
        self.exit_code = EXIT_OK
        self.as_json = as_json
        self.checks: List[Dict[str, Optional[object]]] = []

    def line(self, status: str, topic: str, text: str, code: Optional[int] = None) -> None:
        self.checks.append({"check": topic, "status": status, "detail": text, "exit_code": code})
        if not self.as_json:
            print(f"{status:<4}  {topic:<12} {text}", flush=True)

    def ok(self, topic: str, text: str) -> None:
        self.line("OK", topic, text)

    def warn(self, topic: str, text: str) -> None:
        self.line("WARN", topic, text)

    def fail(self, topic: str, text: str, code: int) -> None:
        self.line("FAIL", topic, text, code)
        if self.exit_code == EXIT_OK:
            self.exit_code = code

    def finish(self) -> int:
        """Print the JSON document (in JSON mode) and return the exit code."""
        if self.as_json:
            sys.stdout.write(json.dumps(self.checks, indent=2) + "\n")
        return self.exit_code


def add_report_arguments(
    parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], Report]
) -> None:
    """``--json``, and a handler that prints the report and exits with its code."""
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON array of {check, status, detail, exit_code} objects, for scripts "
        "and support tickets",
    )
    parser.set_defaults(handler=lambda args: run(args).finish())


def start(args: argparse.Namespace) -> Tuple[Report, Optional[Settings]]:
    """A report, and the settings of the flags (None, with the failure reported)."""
    from ..errors import InfnMinioError
    from ..settings import Settings

    configure_logging(args.verbose)
    report = Report(as_json=args.json)
    try:
        return report, Settings.resolve(**settings_from_flags(args))
    except InfnMinioError as error:
        report.fail("settings", str(error), exit_code_for(error))
        return report, None
