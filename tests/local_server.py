"""A test's HTTP server served on 127.0.0.1 from a thread, and stopped at once rather than at its next poll."""

from __future__ import annotations

import socketserver
import threading

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
