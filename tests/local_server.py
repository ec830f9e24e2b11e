"""A test's HTTP server served on 127.0.0.1 from a thread, and stopped at once rather than at its next poll."""

from __future__ import annotations

import contextlib
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

POLL_SECONDS = 0.02  # socketserver's default, 0.5 s, is how long shutdown() waits: half a second per server


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
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    serve(server)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop(server)
