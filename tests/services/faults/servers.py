"""Real servers on 127.0.0.1 for fault injection: a threaded HTTP server driven by one function, and a
raw socket server for answers no well-behaved HTTP server would give (bad status lines, resets, bombs)."""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import local_server

from kratomref.services import clock

LOCALHOST = "127.0.0.1"
# A link checker runs 32 requests at once by default; the stdlib's backlog of 5 would make a fast
# client see refused connections that are the test server's fault, not the tool's.
REQUEST_QUEUE_SIZE = 256


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # as sent: "/works?filter=..." or, to a proxy, "http://host/path"
    headers: Mapping[str, str]
    received: float = field(default_factory=lambda: clock.current().monotonic())  # the services' clock

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    # Send the headers (with the body's true length) and only the first `truncate` bytes of the body,
    # then close: a response cut off in the middle.
    truncate: int | None = None

    @property
    def data(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


def json_reply(text: str, status: int = 200, **kwargs: object) -> Reply:
    return Reply(status, text, {"Content-Type": "application/json"}, **kwargs)  # type: ignore[arg-type]


App = Callable[[Request], Reply]


class _Handler(local_server.Handler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    server: _Server

    def _serve(self) -> None:
        request = Request(self.command, self.path, {k: v for k, v in self.headers.items()})
        self.server.owner._record(request)
        reply = self.server.owner.app(request)
        if reply.delay and self.server.owner.closing.wait(reply.delay):
            return
        data = reply.data
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if "Content-Length" not in reply.headers:
            self.send_header("Content-Length", str(len(data)))
        if reply.truncate is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if reply.truncate is not None:
            self.wfile.write(data[: reply.truncate])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)

    do_GET = do_HEAD = do_POST = _serve


class _Server(local_server.Server):
    # A client that hangs up mid-answer (a timeout, an interrupt) is what these tests provoke: Server says nothing
    # of it, and still reports a handler that fails.
    request_queue_size = REQUEST_QUEUE_SIZE
    allow_reuse_address = True
    owner: HttpServer


class HttpServer:
    """A threaded HTTP/1.1 server answering every request with `app(request)`; remembers the requests."""

    def __init__(self, app: App, port: int = 0) -> None:
        self.app = app
        self.requests: list[Request] = []
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server((LOCALHOST, port), _Handler)
        self._server.owner = self
        self.port: int = self._server.server_address[1]
        self.url = f"http://{LOCALHOST}:{self.port}"

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def start(self) -> HttpServer:
        local_server.serve(self._server)
        return self

    def close(self) -> None:
        self.closing.set()
        local_server.stop(self._server)

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- Raw socket server ------------------------------------------------------------------------------

Behaviour = Callable[[socket.socket, bytes, threading.Event], None]


class RawServer:
    """Accepts connections and hands each one, with the request head it sent, to `behaviour`."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.heads: list[bytes] = []
        self.closing = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((LOCALHOST, 0))
        self._sock.listen(REQUEST_QUEUE_SIZE)
        self._sock.settimeout(0.05)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://{LOCALHOST}:{self.port}"
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                head += chunk
            self.heads.append(head)
            self.behaviour(conn, head, self.closing)
        except OSError:
            pass  # the client went away: what a fault test expects
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def start(self) -> RawServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self.closing.set()
        self._sock.close()

    def __enter__(self) -> RawServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_head(head: bytes) -> bool:
    return head.startswith(b"HEAD ")


def _send_reset(conn: socket.socket) -> None:
    """Close with a TCP RST rather than a FIN: SO_LINGER on with a zero timeout."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def reset_immediately(conn: socket.socket, head: bytes, closing: threading.Event) -> None:
    _send_reset(conn)


def reset_mid_body(conn: socket.socket, head: bytes, closing: threading.Event) -> None:
    """Promise 100 kB of HTML, send 2 kB, then reset the connection (HEAD gets its headers only)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
    if is_head(head):
        return
    conn.sendall(b"<html><head><title>Half a page</title></head><body>" + b"x" * 2000)
    time.sleep(0.05)
    _send_reset(conn)


def endless_body(conn: socket.socket, head: bytes, closing: threading.Event) -> None:
    """A 200 page with no length that never ends (until the client hangs up or the test ends)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
    if is_head(head):
        return
    conn.sendall(b"<html><head><title>Endless</title></head><body>")
    chunk = b"<p>" + b"all work and no play " * 3000 + b"</p>\n"
    while not closing.is_set():
        conn.sendall(chunk)


def never_answer(conn: socket.socket, head: bytes, closing: threading.Event) -> None:
    """Accept the connection and the request, then say nothing until the test ends."""
    closing.wait(120)


def invalid_status_line(conn: socket.socket, head: bytes, closing: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 two hundred OK\r\nContent-Length: 0\r\n\r\n")


def garbage_instead_of_http(conn: socket.socket, head: bytes, closing: threading.Event) -> None:
    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n" + bytes(range(256)) * 4)


# A gzip member that inflates to 16 MiB of zeros is about 16 kB; a gzip stream may be several members
# one after another (RFC 1952 section 2.2), so repeating it gives any ratio up to ~1000:1 for free.
BOMB_MEMBER_INFLATED = 16 * 2**20


def gzip_bomb_body(inflated: int) -> bytes:
    """An HTML page, gzip-encoded, of about `inflated` bytes once decompressed (few MB on the wire)."""
    first = gzip.compress(b"<html><head><title>Welcome</title></head><body>", 9)
    member = gzip.compress(b"\0" * BOMB_MEMBER_INFLATED, 9)
    return first + member * max(1, inflated // BOMB_MEMBER_INFLATED)


def gzip_bomb(body: bytes) -> Behaviour:
    def behave(conn: socket.socket, head: bytes, closing: threading.Event) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        )
        if not is_head(head):
            conn.sendall(body)

    return behave


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening: connecting to it is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
    return port
