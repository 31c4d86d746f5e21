"""The standard library's socketserver: the one undocumented method overridden."""

from __future__ import annotations

from http.server import ThreadingHTTPServer
from typing import Any


class ThreadingServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` calling :meth:`request_done` once a request's connection is
    closed (``ThreadingMixIn.process_request_thread``, Python 3.9 to 3.14)."""

    daemon_threads = True

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self.request_done(request)

    def request_done(self, request: Any) -> None:
        """Called after each request's connection was closed."""
