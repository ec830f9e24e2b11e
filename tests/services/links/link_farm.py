"""A farm of real HTTP servers on 127.0.0.1 (one port per "host") that answers like the web does: working
pages, redirect chains, dead pages, flaky and rate-limited servers, bot walls, soft 404s and slow servers."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "faults"))

from servers import HttpServer, Reply, Request

HTML = {"Content-Type": "text/html; charset=utf-8"}


def html(title: str, heading: str | None = None, body: str = "") -> str:
    return (f"<!doctype html><html><head><title>{title}</title></head>"
            f"<body><h1>{heading or title}</h1>{body}</body></html>")


class Farm:
    """Three hosts: `site` (most routes), `other` (where things move to) and `slow`."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.other = HttpServer(self._other)
        self.site = HttpServer(self._site)

    def start(self) -> Farm:
        self.other.start()
        self.site.start()
        return self

    def close(self) -> None:
        self.site.close()
        self.other.close()

    def url(self, path: str) -> str:
        return self.site.url + path

    def _count(self, request: Request) -> int:
        with self._lock:
            self.counts[request.method + " " + request.path] += 1
            return self.counts[request.method + " " + request.path]

    def _other(self, request: Request) -> Reply:
        if request.path == "/":
            return Reply(200, html("Other Organisation: home"), HTML)
        return Reply(200, html("The moved report"), HTML)

    def _site(self, request: Request) -> Reply:
        n = self._count(request)
        path = request.path
        if path in ("/", "/index.html"):
            return Reply(200, html("Kratom Agency"), HTML)
        if path == "/ok":
            return Reply(200, html("Kratom: a specific statement"), HTML)
        if path == "/moved":  # 301 then 308, ending on another host
            return Reply(301, "", {"Location": "/moved-again"})
        if path == "/moved-again":
            return Reply(308, "", {"Location": self.other.url + "/reports/kratom"})
        if path == "/temporary":
            return Reply(302, "", {"Location": "/ok"})
        if path == "/missing":
            return Reply(404, html("Not Found"), HTML)
        if path == "/gone":
            return Reply(410, html("Gone"), HTML)
        if path == "/flaky":
            return Reply(500, "oops") if n == 1 else Reply(200, html("Back again"), HTML)
        if path == "/down":
            return Reply(503, "maintenance")
        if path == "/busy":
            return Reply(429, "", {"Retry-After": "1"}) if n == 1 else Reply(200, html("Served after waiting"), HTML)
        if path == "/busy-for-an-hour":
            return Reply(429, "", {"Retry-After": "3600"})
        if path == "/challenge":
            return Reply(403, html("Just a moment..."), {**HTML, "cf-mitigated": "challenge", "Server": "cloudflare"})
        if path == "/report.pdf":
            if request.method == "HEAD":
                return Reply(405, "")
            return Reply(200, b"%PDF-1.7\n" + b"0" * 200_000, {"Content-Type": "application/pdf"})
        if path == "/form-404":  # a real document whose title happens to contain 404
            return Reply(200, html("Form 404 instructions", "Instructions for Form 404"), HTML)
        if path == "/error-404":
            return Reply(200, html("Error 404", "Error 404"), HTML)
        if path == "/soft":
            return Reply(200, html("Page not found | Kratom Agency", "Sorry, we can't find that page"), HTML)
        if path == "/retired":  # a deep link the site now sends to its home page
            return Reply(301, "", {"Location": "/"})
        if path == "/shortlink":  # a short link to another site's home page
            return Reply(302, "", {"Location": self.other.url + "/"})
        if path == "/loop":
            return Reply(302, "", {"Location": "/loop-back"})
        if path == "/loop-back":
            return Reply(302, "", {"Location": "/loop"})
        if path == "/slow":
            return Reply(200, html("Finally"), HTML, delay=3.0)
        if path == "/big":
            return Reply(200, html("A big page", body="<p>" + "kratom " * 1_000_000 + "</p>"), HTML)
        if path.startswith("/paced/"):
            return self._paced(request)
        return Reply(404, html("Not Found"), HTML)

    def _paced(self, request: Request) -> Reply:
        """Counts how many requests are in flight at once (the reply is held for 0.15 s)."""
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            threading.Event().wait(0.15)
        finally:
            with self._lock:
                self.in_flight -= 1
        return Reply(200, html("Paced page " + request.path), HTML)
