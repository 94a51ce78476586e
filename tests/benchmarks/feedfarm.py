"""A fast local feed server for the scale benchmark: any number of feeds, one process per core.

``tests/feedserver.py`` serves routes a test registers one by one from a thread per
connection; at ten thousand feeds and hundreds of polls a second it would become what
the benchmark measures. This farm generates the RSS for ``/scale-bench/feed/<n>.xml``
on first request (``feedbuilder``, a few entries, an hour apart) and keeps it, answers
from asyncio event loops in separate processes sharing one listening socket, and
honours conditional GET the way the poller uses it (``If-None-Match`` against a
per-feed ETag, ``If-Modified-Since`` against a fixed ``Last-Modified``, 304 either way).

:class:`FeedFarm` starts and stops the processes; :func:`probe` measures how many
requests a second they answer with a new connection per request, as the poller makes.

Run by :mod:`tests.benchmarks.scale`; by hand::

    .venv/bin/python -m tests.benchmarks.feedfarm serve --fd 3        # (FeedFarm passes the socket)
    .venv/bin/python -m tests.benchmarks.feedfarm probe --port 8123 --seconds 3 --feeds 10000
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.feedbuilder import items, rss

ROOT = Path(__file__).resolve().parents[2]
PATH_PREFIX = "/scale-bench/feed/"
LAST_MODIFIED = "Sun, 01 Nov 2026 00:00:00 GMT"
_FEED_PATH = re.compile(r"^/scale-bench/feed/(\d+)\.xml$")


def feed_path(number: int) -> str:
    return f"{PATH_PREFIX}{number}.xml"


def etag_for(number: int, entries: int) -> str:
    return f'"scale-{number}-{entries}"'


@functools.cache
def feed_body(number: int, entries: int) -> bytes:
    batch = items(
        entries,
        start=datetime(2026, 11, 1, tzinfo=UTC),
        gap=timedelta(hours=1),
        prefix=f"scale{number}",
    )
    return rss(batch, title=f"Scale feed {number}")


def _response(status: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers.items())]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def answer(request_head: bytes, *, entries: int) -> tuple[bytes, bool]:
    """The response bytes for one request head, and whether to close the connection."""
    lines = request_head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ", 2)
    except ValueError:
        return _response("400 Bad Request", {"Content-Type": "text/plain"}, b"bad request"), True
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
    match = _FEED_PATH.match(target.split("?", 1)[0])
    if method != "GET" or match is None:
        return _response("404 Not Found", {"Content-Type": "text/plain"}, b"not found"), close
    number = int(match.group(1))
    etag = etag_for(number, entries)
    validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
    if headers.get("if-none-match") == etag or (
        "if-none-match" not in headers and headers.get("if-modified-since") == LAST_MODIFIED
    ):
        return _response("304 Not Modified", validators, b""), close
    content_type = {"Content-Type": "application/rss+xml; charset=utf-8"}
    return _response("200 OK", {**content_type, **validators}, feed_body(number, entries)), close


async def _serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, entries: int) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            response, close = answer(head, entries=entries)
            writer.write(response)
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass  # the client closed the connection, as a poller does after each fetch
    finally:
        writer.close()


def serve(fd: int, entries: int) -> None:
    """Serve forever on the inherited listening socket ``fd`` (until SIGTERM)."""
    sock = socket.socket(fileno=fd)
    sock.setblocking(False)

    async def main() -> None:
        server = await asyncio.start_server(
            lambda r, w: _serve_connection(r, w, entries), sock=sock, backlog=4096, limit=65536
        )
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        async with server:
            await stop.wait()

    asyncio.run(main())


class FeedFarm:
    """``processes`` server processes on one listening socket on 127.0.0.1."""

    def __init__(self, *, processes: int, entries: int) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4096)
        self.port: int = self.listener.getsockname()[1]
        fd = self.listener.fileno()
        command = [sys.executable, "-m", "tests.benchmarks.feedfarm", "serve", "--fd", str(fd)]
        self.processes = [
            subprocess.Popen(
                [*command, "--entries", str(entries)],
                cwd=ROOT,
                pass_fds=[fd],
                start_new_session=True,
            )
            for _ in range(processes)
        ]

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def url(self, number: int) -> str:
        return f"http://127.0.0.1:{self.port}{feed_path(number)}"

    def wait_ready(self, timeout: float = 300) -> None:
        """Until every process answers (each has imported and entered its loop)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in self.processes):
                raise RuntimeError("a feed server process exited at start")
            if _get(self.port, feed_path(0)) == 200:
                # One process answered; the others share the socket and are a moment behind.
                time.sleep(0.5)
                return
            time.sleep(0.1)
        raise RuntimeError(f"the feed server did not answer within {timeout:g} s")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.listener.close()


def _get(port: int, path: str) -> int:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            return int(conn.recv(64).split(b" ", 2)[1])
    except (OSError, ValueError, IndexError):
        return 0


async def _probe(port: int, seconds: float, concurrency: int, feeds: int) -> dict[str, float]:
    done = 0
    failed = 0
    deadline = time.monotonic() + seconds
    rng = random.Random(5)

    async def client() -> None:
        nonlocal done, failed
        while time.monotonic() < deadline:
            path = feed_path(rng.randrange(feeds))
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
                await reader.readexactly(length)
                writer.close()
                done += 1
            except (OSError, asyncio.IncompleteReadError, AttributeError):
                failed += 1

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    return {"requests": done, "failed": failed, "seconds": elapsed, "requests_per_s": done / elapsed}


def probe(*, port: int, seconds: float = 3.0, concurrency: int = 32, feeds: int = 10_000) -> dict[str, float]:
    """Requests per second the farm answers, a new connection for each (as the poller does).

    The client is Python on the same cores, so the figure is a lower bound of what the
    server can do; the caller also reads the server's own CPU time for the same span.
    """
    return asyncio.run(_probe(port, seconds, concurrency, feeds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_args = commands.add_parser("serve")
    serve_args.add_argument("--fd", type=int, required=True)
    serve_args.add_argument("--entries", type=int, default=5)
    probe_args = commands.add_parser("probe")
    probe_args.add_argument("--port", type=int, required=True)
    probe_args.add_argument("--seconds", type=float, default=3.0)
    probe_args.add_argument("--concurrency", type=int, default=32)
    probe_args.add_argument("--feeds", type=int, default=10_000)
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.fd, args.entries)
    else:
        result = probe(port=args.port, seconds=args.seconds, concurrency=args.concurrency, feeds=args.feeds)
        print(json.dumps(result))


if __name__ == "__main__":
    main()
