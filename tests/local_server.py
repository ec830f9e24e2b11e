"""A test's HTTP server served on 127.0.0.1 from a thread, and stopped at once rather than at its next poll."""

from __future__ import annotations

import contextlib
import socketserver
import sys
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

POLL_SECONDS = 0.02  # socketserver's default, 0.5 s, is how long shutdown() waits: half a second per server


class QuietDisconnects(socketserver.BaseServer):
    """A server mixin that says nothing when a client hangs up mid-answer (BrokenPipe, ConnectionReset,
    ConnectionAborted) and reports any other error of a handler as socketserver does.

    socketserver's report goes to sys.stderr from the handler's thread, which outlives the test that started
    it (handler threads are daemons: shutdown() and server_close() do not wait for them). A later test in the
    same process that runs a command with click's CliRunner has swapped sys.stderr for its own capture, so
    the report of a client that timed out in an earlier test ended up in that command's output."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client went away: what timeouts and interrupts do, not a fault of the handler
        super().handle_error(request, client_address)


class Server(QuietDisconnects, ThreadingHTTPServer):
    """Every test's threaded HTTP server: handler threads do not keep the process alive, and a client that
    hangs up prints nothing (see QuietDisconnects)."""

    daemon_threads = True


class Handler(BaseHTTPRequestHandler):
    """A request handler that logs no requests: its log lines, like a server's errors, go to whichever
    sys.stderr is current when they are written, maybe another test's capture."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def send_body(
    handler: BaseHTTPRequestHandler,
    body: bytes,
    content_type: str | None = "text/html; charset=utf-8",
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    head: bool = False,
) -> None:
    """Answer the request with `status` and `body`: Content-Type (none when None), then `headers`, then
    Content-Length; the body itself is left out when `head` (the answer to a HEAD request)."""
    handler.send_response(status)
    if content_type is not None:
        handler.send_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if not head:
        handler.wfile.write(body)


def serve(server: socketserver.BaseServer) -> threading.Thread:
    """Serve `server` from a daemon thread until `stop(server)`; returns the thread."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True)
    thread.start()
    return thread


def stop(server: socketserver.BaseServer) -> None:
    """Stop serving and close the listening socket."""
    server.shutdown()
    server.server_close()


@contextlib.contextmanager
def running(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server on a free port of 127.0.0.1 answering with `handler`, for the block; yields its
    base URL (http://127.0.0.1:PORT)."""
    server = Server(("127.0.0.1", 0), handler)
    serve(server)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop(server)
