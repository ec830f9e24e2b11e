"""A real forward proxy on 127.0.0.1 (CONNECT tunnels and plain-HTTP forwarding, threaded) in front of
origin servers on 127.0.0.1 that it knows by name, as a CI runner's proxy knows the web.

The proxy is the resolver: a name in its table goes to that origin's port, any other name cannot be
reached and gets 502 with a Proxy-Status header (RFC 9209), as Squid and Envoy answer a DNS failure. It can
also be told to answer a name with another status (503, 504), or to accept a tunnel and then reset it."""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import local_server

LOCALHOST = "127.0.0.1"
QUEUE = 1024  # the stdlib's listen backlog of 5 would refuse a fast client's connections


def page(title: str) -> str:
    return f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


class _OriginHandler(local_server.Handler):
    protocol_version = "HTTP/1.1"
    server: _OriginServer

    def _serve(self) -> None:
        reply = self.server.app(self.command, urlsplit(self.path).path)
        headers = {"Content-Type": "text/html; charset=utf-8", **reply.headers}  # the reply's own may replace it
        local_server.send_body(self, reply.body.encode("utf-8"), content_type=None, status=reply.status,
                               headers=headers, head=self.command == "HEAD")

    do_GET = do_HEAD = _serve


class _OriginServer(local_server.Server):
    request_queue_size = QUEUE
    app: Callable[[str, str], Reply]


class Origin:
    """One web site: `routes` maps a path to its reply (anything else is a 404)."""

    def __init__(self, routes: Mapping[str, Reply]) -> None:
        self.routes = dict(routes)
        self.seen: list[str] = []
        self._server = _OriginServer((LOCALHOST, 0), _OriginHandler)
        self._server.app = self._app
        self.port: int = self._server.server_address[1]
        local_server.serve(self._server)

    def _app(self, method: str, path: str) -> Reply:
        self.seen.append(f"{method} {path}")
        return self.routes.get(path, Reply(404, page("Not Found")))

    def close(self) -> None:
        local_server.stop(self._server)


class _ProxyHandler(socketserver.StreamRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        proxy = self.server.proxy
        line = self.rfile.readline(8192).decode("latin-1")
        parts = line.split()
        if len(parts) != 3:
            return
        method, target, _ = parts
        headers: list[tuple[str, str]] = []
        while (header := self.rfile.readline(8192).decode("latin-1")) not in ("\r\n", "\n", ""):
            name, _, value = header.partition(":")
            headers.append((name.strip(), value.strip()))
        if method == "CONNECT":
            host, _, port_text = target.rpartition(":")
            proxy.record(f"CONNECT {target}")
            self._tunnel(host.lower(), int(port_text or 443))
        else:
            url = urlsplit(target)
            proxy.record(f"{method} {target}")
            self._forward(method, (url.hostname or "").lower(), url.path or "/", url.query, headers)

    def _refusal(self, host: str) -> int | None:
        proxy = self.server.proxy
        if host in proxy.answers:
            return proxy.answers[host]
        return None if host in proxy.routes else 502

    def _error(self, status: int, reason: str) -> None:
        body = f"The proxy could not reach the host ({reason})".encode()
        self.wfile.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
            f"Proxy-Status: kratomref-test-proxy; error={'dns_error' if status == 502 else 'destination_unavailable'}"
            "\r\nConnection: close\r\n\r\n".encode() + body
        )

    def _upstream(self, host: str) -> socket.socket | None:
        address = self.server.proxy.routes.get(host)
        if address is None:
            return None
        try:
            return socket.create_connection(address, timeout=5)
        except OSError:
            return None

    def _reset(self) -> None:
        # SO_LINGER 0: close sends a TCP reset instead of a clean end
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def _tunnel(self, host: str, port: int) -> None:
        proxy = self.server.proxy
        if host in proxy.reset:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            self._reset()
            return
        refused = self._refusal(host)
        upstream = None if refused else self._upstream(host)
        if upstream is None:
            self._error(refused or 502, "Bad Gateway" if (refused or 502) == 502 else "Unavailable")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        ends = [self.connection, upstream]
        with upstream:
            while True:
                readable, _, _ = select.select(ends, [], [], 10)
                if not readable:
                    return
                for end in readable:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is self.connection else self.connection).sendall(data)

    def _forward(self, method: str, host: str, path: str, query: str, headers: list[tuple[str, str]]) -> None:
        proxy = self.server.proxy
        if host in proxy.reset:
            self._reset()
            return
        refused = self._refusal(host)
        upstream = None if refused else self._upstream(host)
        if upstream is None:
            self._error(refused or 502, "Bad Gateway" if (refused or 502) == 502 else "Unavailable")
            return
        kept = [(k, v) for k, v in headers if k.lower() not in ("connection", "proxy-connection", "keep-alive")]
        request = f"{method} {path}{'?' + query if query else ''} HTTP/1.1\r\n"
        request += "".join(f"{k}: {v}\r\n" for k, v in kept) + "Connection: close\r\n\r\n"
        with upstream:
            upstream.sendall(request.encode("latin-1"))
            answer = b""
            while chunk := upstream.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        lines = [h for h in head.split(b"\r\n") if not h.lower().startswith((b"connection:", b"keep-alive:"))]
        self.wfile.write(b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body)


class _ProxyServer(local_server.QuietDisconnects, socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = QUEUE
    proxy: ForwardProxy


class ForwardProxy:
    """The proxy. `routes`: name -> origin; `answers`: name -> the status to answer it with (503, 504);
    `reset`: names whose tunnel (or forwarded request) is accepted and then reset."""

    def __init__(self, routes: Mapping[str, Origin] | None = None) -> None:
        self.routes: dict[str, tuple[str, int]] = {name: (LOCALHOST, o.port) for name, o in (routes or {}).items()}
        self.answers: dict[str, int] = {}
        self.reset: set[str] = set()
        self.seen: list[str] = []
        self._lock = threading.Lock()
        self._server = _ProxyServer((LOCALHOST, 0), _ProxyHandler)
        self._server.proxy = self
        self.url = f"http://{LOCALHOST}:{self._server.server_address[1]}"
        local_server.serve(self._server)

    def record(self, what: str) -> None:
        with self._lock:
            self.seen.append(what)

    def close(self) -> None:
        self._server.shutdown()
        with contextlib.suppress(OSError):
            self._server.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening on it (bound, then released)."""
    with socket.socket() as s:
        s.bind((LOCALHOST, 0))
        port: int = s.getsockname()[1]
    return port
