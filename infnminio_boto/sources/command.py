"""A token printed by a command: ``oidc-token --aud object infncloud``, a site's helper.

Run without a shell, once per exchange, with a timeout and bounded output; a failure
says the exit status and the end of standard error, scrubbed of anything token-like
(docs/tokens.md).
"""

from __future__ import annotations

import os
import re
import selectors
import shlex
import signal
import subprocess
import time
from typing import Any, Optional, Sequence, Tuple

from ..errors import TokenSourceError, scrub
from .discovery import source_identity
from .oidc_token import OidcToken, token_from_text

__all__ = ["CommandSource", "run_bounded", "scrub_output", "budget"]

MAX_OUTPUT_BYTES = 64 * 1024
MAX_ERROR_CHARS = 400
# Long runs of token characters: opaque access or refresh tokens that are not JWTs.
_OPAQUE = re.compile(r"[A-Za-z0-9._~+/=-]{32,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]|\x1b\[[0-9;?]*[A-Za-z]")


def scrub_output(text: str) -> str:
    """A command's error output, fit for a message: no token-like text, no control codes."""
    text = _OPAQUE.sub("<redacted>", _CONTROL.sub("", scrub(text)))
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines)[-MAX_ERROR_CHARS:]


def run_bounded(
    argv: Sequence[str], timeout: float, limit: int = MAX_OUTPUT_BYTES
) -> Tuple[int, bytes, bytes]:
    """Run ``argv`` (no shell, no stdin) for at most ``timeout`` seconds: ``(status,
    stdout, stderr)``, at most ``limit`` bytes of each (more stdout kills it). Raises
    ``OSError`` when it cannot start, ``subprocess.TimeoutExpired`` when it runs too long
    (it and its session are killed first)."""
    process = subprocess.Popen(  # in a session of its own: its children are killed with it
        list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        close_fds=True, start_new_session=True,
    )
    outputs = {process.stdout: bytearray(), process.stderr: bytearray()}
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for stream in outputs:
            selector.register(stream, selectors.EVENT_READ)  # type: ignore[arg-type]
        try:
            while selector.get_map():
                exited = process.poll() is not None
                left = deadline - time.monotonic()
                if left <= 0 and not exited:
                    raise subprocess.TimeoutExpired(list(argv), timeout)
                ready = selector.select(0 if exited else min(left, 0.25))
                if exited and not ready:
                    break  # exited, pipes drained: a background child may hold them
                for key, _ in ready:
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        continue
                    buffer = outputs[key.fileobj]  # type: ignore[index]
                    buffer += chunk
                    if len(buffer) > limit:
                        if key.fileobj is process.stdout:
                            raise _TooMuch()
                        del buffer[: len(buffer) - limit]  # keep the end of stderr
            status = process.wait(max(0.1, deadline - time.monotonic()))
        except BaseException:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                process.kill()
            process.wait()
            raise
        finally:
            for stream in outputs:
                stream.close()  # type: ignore[union-attr]
    return status, bytes(outputs[process.stdout]), bytes(outputs[process.stderr])


def budget(settings: Any) -> float:
    """How long a command or the agent may take: the STS's own timeout, at least 30 s."""
    return max(30.0, float(settings.timeout))


class _TooMuch(Exception):  # noqa: N818 - a condition turned into our error below
    pass


class CommandSource:
    """The token ``argv`` prints (``label`` and ``hint``: the oidc-agent source's words)."""

    kind = "command"

    def __init__(self, argv: Sequence[str], *, timeout: float = 30.0, why: str = "",
                 label: Optional[str] = None, hint: str = "") -> None:
        self.argv = tuple(argv)
        self.timeout = timeout
        self.why = why
        self.label = label or f"the token command `{shlex.join(self.argv)}`"
        self.hint = hint

    @classmethod
    def make(cls, value: Any, *, settings: Any, why: str, **_: Any) -> CommandSource:
        return cls(tuple(value or ()), timeout=budget(settings), why=why)

    def identity(self) -> str:
        return f"{self.kind}:{source_identity(self.kind, shlex.join(self.argv), os.environ)}"

    def describe(self) -> str:
        return self.label + (f" ({self.why})" if self.why else "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"

    def _failure(self, text: str, status: Optional[int] = None) -> TokenSourceError:
        hint = f" {self.hint}" if self.hint else ""
        label = self.label[:1].upper() + self.label[1:] if self.label.startswith("the ") else (
            self.label)  # a program's name keeps its case
        message = f"{label} {text}{hint}"
        return TokenSourceError(message, source=self.describe(), status=status)

    def read(self) -> OidcToken:
        """Run the command once: its token, expired or not. :class:`TokenSourceError` when
        it cannot start, runs over ``timeout`` s, exits non-zero, prints over 64 KiB or no
        JWT access token."""
        try:
            status, out, err = run_bounded(self.argv, self.timeout)
        except FileNotFoundError:
            raise self._failure(f"cannot run: {self.argv[0]} was not found.") from None
        except subprocess.TimeoutExpired:
            raise self._failure(f"did not finish within {self.timeout:g} s.") from None
        except _TooMuch:
            raise self._failure(
                f"printed more than {MAX_OUTPUT_BYTES // 1024} KiB: a token is far shorter."
            ) from None
        except OSError as error:
            raise self._failure(f"cannot run: {error.strerror or error}.") from None
        said = scrub_output(err.decode("utf-8", "replace"))
        if status != 0:
            ending = f": {said}" if said else " and printed nothing on standard error."
            ending += "" if ending.endswith((".", "!", "?")) else "."
            raise self._failure(f"exited with status {status}{ending}", status=status)
        text = out.decode("utf-8", "replace").strip()
        if not text:
            raise self._failure(
                "printed nothing on standard output: it must print the access token"
                + (f" (it said: {said})." if said else ".")
            )
        return token_from_text(text, origin=self.label, kind=self.kind)
