"""The lines of ``doctor``: OK, WARN or FAIL per check, as text or as JSON objects."""

from __future__ import annotations

import json
import sys
from typing import Dict, List, Optional

from . import EXIT_OK


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
