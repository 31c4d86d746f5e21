"""A token printed by a command: ``oidc-token --aud object infncloud``, a site's helper.

An argument list run without a shell, once per exchange, with a timeout and bounded
output; its standard output is the token (raw, or JSON with ``access_token``). A failure
is a :class:`~infnminio_boto.TokenSourceError` with the exit status and the end of its
standard error, scrubbed of anything that looks like a token.
"""

from __future__ import annotations

import os
import re
import selectors
import shlex
import subprocess
import time
from typing import Any, Mapping, Optional, Sequence, Tuple

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
    text = _CONTROL.sub("", scrub(text))
    text = _OPAQUE.sub("<redacted>", text)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    joined = " / ".join(lines)
    return joined[-MAX_ERROR_CHARS:]


def run_bounded(
    argv: Sequence[str], timeout: float, limit: int = MAX_OUTPUT_BYTES
) -> Tuple[int, bytes, bytes]:
    """Run ``argv`` (no shell, no stdin) for at most ``timeout`` seconds.

    Returns ``(status, stdout, stderr)`` with at most ``limit`` bytes of each (more
    stdout than that kills the command). Once the command has exited, what its pipes
    hold is read and the rest is not waited for: a background child it left behind may
    keep them open for ever. Raises ``OSError`` when it cannot start and
    ``subprocess.TimeoutExpired`` when it runs too long (it and what it started in its
    session are killed first).
    """
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        close_fds=True,
        start_new_session=True,  # its children can be killed with it
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
            _kill_session(process)
            raise
        finally:
            for stream in outputs:
                stream.close()  # type: ignore[union-attr]
    return status, bytes(outputs[process.stdout]), bytes(outputs[process.stderr])


def _kill_session(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Kill the command and what it started in its session, and reap the command."""
    import signal

    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        process.kill()
    process.wait()


def budget(settings: Any) -> float:
    """How long a command or the agent may take: the STS's own timeout, at least 30 s."""
    return max(30.0, float(settings.timeout))


class _TooMuch(Exception):  # noqa: N818 - a condition turned into our error below
    pass


class CommandSource:
    """The token ``argv`` prints. ``kind``, ``label`` and ``hint`` let the oidc-agent source
    reuse it with its own words."""

    kind = "command"

    def __init__(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 30.0,
        why: str = "",
        label: Optional[str] = None,
        hint: str = "",
    ) -> None:
        self.argv = tuple(argv)
        self.timeout = timeout
        self.why = why
        self.label = label or f"the token command `{shlex.join(self.argv)}`"
        self.hint = hint

    @classmethod
    def make(
        cls, value: Any, *, settings: Any, environ: Mapping[str, str], why: str, named: bool
    ) -> CommandSource:
        """The source for the ``token_command`` setting's argument list."""
        return cls(tuple(value or ()), timeout=budget(settings), why=why)

    def identity(self) -> str:
        return f"{self.kind}:{source_identity(self.kind, shlex.join(self.argv), os.environ)}"

    def describe(self) -> str:
        return self.label + (f" ({self.why})" if self.why else "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"

    def _failure(self, text: str, status: Optional[int] = None) -> TokenSourceError:
        message = f"{self.label[:1].upper()}{self.label[1:]} {text}"
        if self.hint:
            message += f" {self.hint}"
        return TokenSourceError(message, source=self.describe(), status=status)

    def read(self) -> OidcToken:
        """Run the command once and return its token, expired or not (the caller decides).

        Raises :class:`TokenSourceError` when it cannot start, runs longer than
        ``timeout`` seconds, exits with a status other than 0, prints more than 64 KiB or
        prints something that is not a JWT access token.
        """
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
            raise self._failure(f"exited with status {status}{ending}", status=status)
        text = out.decode("utf-8", "replace").strip()
        if not text:
            raise self._failure(
                "printed nothing on standard output: it must print the access token"
                + (f" (it said: {said})." if said else ".")
            )
        return token_from_text(text, origin=self.label, kind=self.kind)
